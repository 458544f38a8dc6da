/**
 * Random unprivileged A64 test programs for the qemu-aarch64 oracle: registers and a data buffer
 * start from seeded random values, a random instruction sequence runs, then every register, NZCV
 * and the buffer are stored at `dump` (sp) and written to stdout with the Linux write syscall.
 */
import { mulberry32 } from '../helpers/prng.js';

export const prng = mulberry32;

/** Data registers the sequence may write (x26 index scratch, x27/x28 buffer pointers are reserved). */
const DATA = [...Array.from({ length: 26 }, (_, i) => i), 29, 30];
export const BUFFER_BYTES = 512;
export const VREG_BYTES = 512;

export interface Generator {
  readonly rnd: () => number;
  pick<T>(a: readonly T[]): T;
  int(n: number): number;
}

function generator(seed: number): Generator {
  const rnd = prng(seed);
  return { rnd, pick: (a) => a[Math.floor(rnd() * a.length)]!, int: (n) => Math.floor(rnd() * n) };
}

const CONDS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al'];
const LOGIC_IMM64 = ['0xff', '0xff00', '0x5555555555555555', '0xfffffffffffffff0', '0x7ffffffffffffffe', '0xf0f0f0f0f0f0f0f0', '0x1', '0x8000000000000000', '0xffff0000ffff', '0x3ffc'];
const LOGIC_IMM32 = ['0xff', '0xff00', '0x55555555', '0xfffffff0', '0x7ffffffe', '0xf0f0f0f0', '0x1', '0x80000000', '0x3ffc'];

function integerInstruction(g: Generator): string {
  const x = (): string => `x${g.pick(DATA)}`;
  const w = (): string => `w${g.pick(DATA)}`;
  const sf = g.rnd() < 0.6;
  const r = sf ? x : w;
  const bitsN = sf ? 64 : 32;
  const sh = (): string => g.pick(['lsl', 'lsr', 'asr']);
  const k = g.int(40);
  switch (k) {
    case 0: return `${g.pick(['add', 'sub', 'adds', 'subs'])} ${r()}, ${r()}, #${g.int(4096)}${g.rnd() < 0.3 ? ', lsl #12' : ''}`;
    case 1: return `${g.pick(['add', 'sub', 'adds', 'subs'])} ${r()}, ${r()}, ${r()}, ${sh()} #${g.int(bitsN)}`;
    case 2: return sf
      ? `${g.pick(['add', 'sub', 'adds', 'subs'])} ${x()}, ${x()}, ${g.pick([`w${g.pick(DATA)}, ${g.pick(['uxtb', 'uxth', 'uxtw', 'sxtb', 'sxth', 'sxtw'])}`, `x${g.pick(DATA)}, ${g.pick(['uxtx', 'sxtx'])}`])} #${g.int(5)}`
      : `${g.pick(['add', 'sub', 'adds', 'subs'])} ${w()}, ${w()}, ${w()}, ${g.pick(['uxtb', 'uxth', 'sxtb', 'sxth', 'uxtw', 'sxtw'])} #${g.int(5)}`;
    case 3: return `${g.pick(['and', 'orr', 'eor', 'ands'])} ${r()}, ${r()}, #${g.pick(sf ? LOGIC_IMM64 : LOGIC_IMM32)}`;
    case 4: return `${g.pick(['and', 'orr', 'eor', 'ands', 'bic', 'orn', 'eon', 'bics'])} ${r()}, ${r()}, ${r()}, ${g.pick(['lsl', 'lsr', 'asr', 'ror'])} #${g.int(bitsN)}`;
    case 5: return `${g.pick(['movz', 'movn', 'movk'])} ${r()}, #${g.int(65536)}, lsl #${16 * g.int(sf ? 4 : 2)}`;
    case 6: {
      const lsb = g.int(bitsN);
      const width = 1 + g.int(bitsN - lsb);
      return `${g.pick(['ubfx', 'sbfx', 'bfxil', 'ubfiz', 'sbfiz', 'bfi'])} ${r()}, ${r()}, #${lsb}, #${width}`;
    }
    case 7: return `${g.pick(['lsl', 'lsr', 'asr', 'ror'])} ${r()}, ${r()}, #${g.int(bitsN)}`;
    case 8: return `extr ${r()}, ${r()}, ${r()}, #${g.int(bitsN)}`;
    case 9: return `${g.pick(['csel', 'csinc', 'csinv', 'csneg'])} ${r()}, ${r()}, ${r()}, ${g.pick(CONDS)}`;
    case 10: return `${g.pick(['cset', 'csetm'])} ${r()}, ${g.pick(CONDS.slice(0, 14))}`;
    case 11: return `${g.pick(['ccmp', 'ccmn'])} ${r()}, #${g.int(32)}, #${g.int(16)}, ${g.pick(CONDS)}`;
    case 12: return `${g.pick(['ccmp', 'ccmn'])} ${r()}, ${r()}, #${g.int(16)}, ${g.pick(CONDS)}`;
    case 13: return `${g.pick(['adc', 'adcs', 'sbc', 'sbcs'])} ${r()}, ${r()}, ${r()}`;
    case 14: return `${g.pick(['mul', 'mneg'])} ${r()}, ${r()}, ${r()}`;
    case 15: return `${g.pick(['madd', 'msub'])} ${r()}, ${r()}, ${r()}, ${r()}`;
    case 16: return `${g.pick(['smaddl', 'umaddl', 'smsubl', 'umsubl'])} ${x()}, ${w()}, ${w()}, ${x()}`;
    case 17: return `${g.pick(['smulh', 'umulh'])} ${x()}, ${x()}, ${x()}`;
    case 18: return `${g.pick(['udiv', 'sdiv'])} ${r()}, ${r()}, ${r()}`;
    case 19: return `${g.pick(['lslv', 'lsrv', 'asrv', 'rorv'])} ${r()}, ${r()}, ${r()}`;
    case 20: return `${g.pick(sf ? ['rbit', 'rev', 'rev16', 'rev32', 'clz', 'cls'] : ['rbit', 'rev', 'rev16', 'clz', 'cls'])} ${r()}, ${r()}`;
    case 21: return g.rnd() < 0.5
      ? `${g.pick(['crc32b', 'crc32h', 'crc32w', 'crc32cb', 'crc32ch', 'crc32cw'])} ${w()}, ${w()}, ${w()}`
      : `${g.pick(['crc32x', 'crc32cx'])} ${w()}, ${w()}, ${x()}`;
    case 22: return `${g.pick(['sxtb', 'sxth', 'uxtb', 'uxth'])} ${w()}, ${w()}`;
    case 23: return `${g.pick(['sxtb', 'sxth', 'sxtw'])} ${x()}, ${w()}`;
    case 24: return `${g.pick(['cmp', 'cmn', 'tst'])} ${r()}, ${r()}`;
    case 25: return `${g.pick(['neg', 'negs', 'ngc', 'ngcs', 'mvn'])} ${r()}, ${r()}`;
    case 26: return `${g.pick(['smull', 'umull', 'smnegl', 'umnegl'])} ${x()}, ${w()}, ${w()}`;
    case 27: return `mov ${r()}, ${r()}`;
    case 28: return `cinc ${r()}, ${r()}, ${g.pick(CONDS.slice(0, 14))}`;
    default: return memoryInstruction(g);
  }
}

const VT = ['8b', '16b', '4h', '8h', '2s', '4s', '2d'];
const VT_NO2D = ['8b', '16b', '4h', '8h', '2s', '4s'];

/** Advanced SIMD and scalar FP instructions (values that stay bit-exact between QEMU and us). */
function simdInstruction(g: Generator): string {
  const v = (): number => g.int(32);
  const x = (): string => `x${g.pick(DATA)}`;
  const w = (): string => `w${g.pick(DATA)}`;
  const k = g.int(46);
  switch (k) {
    case 43: case 44: {
      // Structure loads/stores: LDn/STn of whole registers, one lane, or load-and-replicate.
      const nregs = 1 + g.int(4);
      const first = g.int(33 - nregs);
      const list = (t: string): string => `{${Array.from({ length: nregs }, (_, i) => `v${first + i}.${t}`).join(', ')}}`;
      const o = 16 * g.int(27);
      const base = `add x27, x28, #${o}\n`;
      const [et, lanes, eb] = g.pick([['b', 16, 1], ['h', 8, 2], ['s', 4, 4], ['d', 2, 8]] as const);
      const post = (bytes: number): string => (g.rnd() < 0.5 ? `, #${bytes}` : '');
      return g.pick([
        (() => { const t = g.pick(nregs === 1 ? VT : ['8b', '16b', '4h', '8h', '2s', '4s', '2d']); const q = t === '16b' || t === '8h' || t === '4s' || t === '2d'; return `${base}${g.pick(['ld', 'st'])}${nregs} ${list(t)}, [x27]${post(nregs * (q ? 16 : 8))}`; })(),
        `${base}${g.pick(['ld', 'st'])}${nregs} ${list(et)}[${g.int(lanes)}], [x27]${post(nregs * eb)}`,
        (() => { const t = g.pick(VT); const [, , b] = ({ '8b': [0, 0, 1], '16b': [0, 0, 1], '4h': [0, 0, 2], '8h': [0, 0, 2], '2s': [0, 0, 4], '4s': [0, 0, 4], '2d': [0, 0, 8] } as const)[t as '8b']; return `${base}ld${nregs}r ${list(t)}, [x27]${post(nregs * b)}`; })(),
      ]);
    }
    case 36: {
      const t = g.pick(['2s', '4s', '2d']);
      const op = g.pick(['fadd', 'fsub', 'fmul', 'fdiv', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'fmla', 'fmls', 'fmulx', 'fabd', 'faddp', 'fmaxp',
        'fminp', 'fmaxnmp', 'fminnmp', 'fcmeq', 'fcmge', 'fcmgt', 'facge', 'facgt', 'frecps', 'frsqrts']);
      return `${op} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`;
    }
    case 37: {
      const t = g.pick(['2s', '4s', '2d']);
      return g.pick([
        `${g.pick(['fabs', 'fneg', 'fsqrt', 'frintn', 'frintp', 'frintm', 'frintz', 'frinta', 'frintx', 'frinti', 'fcvtns', 'fcvtps', 'fcvtms', 'fcvtzs',
          'fcvtas', 'fcvtnu', 'fcvtpu', 'fcvtmu', 'fcvtzu', 'fcvtau', 'scvtf', 'ucvtf', 'frecpe', 'frsqrte'])} v${v()}.${t}, v${v()}.${t}`,
        `${g.pick(['urecpe', 'ursqrte'])} v${v()}.${g.pick(['2s', '4s'])}, %`.replace(/v(\d+)\.(\w+), %$/, (_m, a, t2) => `v${a}.${t2}, v${v()}.${t2}`),
        `${g.pick(['frecpe', 'frsqrte', 'frecpx'])} ${g.pick(['s', 'd'])}${v()}, %`.replace(/(\w)(\d+), %$/, (_m, p, a) => `${p}${a}, ${p}${v()}`),
        `${g.pick(['fcmgt', 'fcmge', 'fcmeq', 'fcmle', 'fcmlt'])} v${v()}.${t}, v${v()}.${t}, #0.0`,
        g.pick([`fcvtl v${v()}.4s, v${v()}.4h`, `fcvtl2 v${v()}.4s, v${v()}.8h`, `fcvtl v${v()}.2d, v${v()}.2s`, `fcvtl2 v${v()}.2d, v${v()}.4s`,
          `fcvtn v${v()}.4h, v${v()}.4s`, `fcvtn2 v${v()}.8h, v${v()}.4s`, `fcvtn v${v()}.2s, v${v()}.2d`, `fcvtn2 v${v()}.4s, v${v()}.2d`,
          `fcvtxn v${v()}.2s, v${v()}.2d`, `fcvtxn2 v${v()}.4s, v${v()}.2d`, `fcvtxn s${v()}, d${v()}`]),
        `${g.pick(['fcvtzs', 'fcvtzu', 'fcvtns', 'fcvtau', 'scvtf', 'ucvtf'])} ${g.pick(['s', 'd'])}${v()}, %`.replace(/(\w)(\d+), %$/, (_m, p, a) => `${p}${a}, ${p}${v()}`),
        `${g.pick(['fcmgt', 'fcmeq', 'fcmlt'])} ${g.pick(['s', 'd'])}${v()}, %, #0.0`.replace(/(\w)(\d+), %/, (_m, p, a) => `${p}${a}, ${p}${v()}`),
      ]);
    }
    case 38: {
      const [t, e] = g.pick([['2s', 32], ['4s', 32], ['2d', 64]] as const);
      return g.pick([
        `${g.pick(['scvtf', 'ucvtf', 'fcvtzs', 'fcvtzu'])} v${v()}.${t}, v${v()}.${t}, #${1 + g.int(e)}`,
        `${g.pick(['scvtf', 'ucvtf', 'fcvtzs', 'fcvtzu'])} d${v()}, d${v()}, #${1 + g.int(64)}`,
        `${g.pick(['scvtf', 'ucvtf'])} ${g.pick(['s', 'd'])}${v()}, ${g.rnd() < 0.5 ? `${x()}, #${1 + g.int(64)}` : `${w()}, #${1 + g.int(32)}`}`,
        `${g.pick(['fcvtzs', 'fcvtzu'])} ${g.rnd() < 0.5 ? `${x()}, ${g.pick(['s', 'd'])}${v()}, #${1 + g.int(64)}` : `${w()}, ${g.pick(['s', 'd'])}${v()}, #${1 + g.int(32)}`}`,
      ]);
    }
    case 39: {
      const t = g.pick(VT);
      const tn = g.pick(VT_NO2D);
      const [nn, ww] = g.pick([['8b', '8h'], ['4h', '4s'], ['2s', '2d']]);
      const [nn2, ww2] = g.pick([['16b', '8h'], ['8h', '4s'], ['4s', '2d']]);
      const sc = g.pick(['b', 'h', 's', 'd']);
      return g.pick([
        `${g.pick(['sqadd', 'uqadd', 'sqsub', 'uqsub', 'sshl', 'ushl', 'srshl', 'urshl'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`,
        `${g.pick(['shadd', 'uhadd', 'srhadd', 'urhadd', 'shsub', 'uhsub', 'sabd', 'uabd', 'saba', 'uaba', 'mla', 'mls'])} v${v()}.${tn}, v${v()}.${tn}, v${v()}.${tn}`,
        `${g.pick(['sqxtn', 'uqxtn', 'sqxtun'])} v${v()}.${nn}, v${v()}.${ww}`,
        `${g.pick(['sqxtn2', 'uqxtn2', 'sqxtun2'])} v${v()}.${nn2}, v${v()}.${ww2}`,
        `${g.pick(['sqabs', 'sqneg'])} v${v()}.${t}, v${v()}.${t}`,
        `${g.pick(['sqadd', 'uqadd', 'sqsub', 'uqsub'])} ${sc}${v()}, ${sc}${v()}, ${sc}${v()}`.replace(/^(\w+) (\w)(\d+), \w(\d+), \w(\d+)$/, (_m, o, p, a, b, c) => `${o} ${p}${a}, ${p}${b}, ${p}${c}`),
        `${g.pick(['add', 'sub', 'cmgt', 'cmhi', 'cmge', 'cmhs', 'cmeq', 'cmtst', 'sshl', 'ushl', 'srshl', 'urshl', 'sqshl', 'uqrshl'])} d${v()}, d${v()}, d${v()}`,
        `${g.pick(['sqshl', 'uqshl', 'sqrshl', 'uqrshl'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`,
        (() => { const h = g.pick(['4h', '8h', '2s', '4s']); return `${g.pick(['sqdmulh', 'sqrdmulh'])} v${v()}.${h}, v${v()}.${h}, v${v()}.${h}`; })(),
        `${g.pick(['sqdmulh', 'sqrdmulh'])} ${g.pick(['h', 's'])}${v()}, %`.replace(/(\w)(\d+), %$/, (_m, p, a) => `${p}${a}, ${p}${v()}, ${p}${v()}`),
        `pmul v${v()}.16b, v${v()}.16b, v${v()}.16b`,
        (() => { const [a, b] = g.pick([['4h', '8b'], ['8h', '16b'], ['2s', '4h'], ['4s', '8h'], ['2d', '4s']]); return `${g.pick(['sadalp', 'uadalp'])} v${v()}.${a}, v${v()}.${b}`; })(),
        `${g.pick(['suqadd', 'usqadd'])} v${v()}.${t}, v${v()}.${t}`,
      ]);
    }
    case 45: {
      const [t, e] = g.pick([['16b', 8], ['8h', 16], ['4s', 32], ['2d', 64], ['8b', 8], ['2s', 32]] as const);
      const [nn, ww, ne] = g.pick([['8b', '8h', 8], ['4h', '4s', 16], ['2s', '2d', 32], ['16b', '8h', 8], ['8h', '4s', 16], ['4s', '2d', 32]] as const);
      const two = nn === '16b' || nn === '8h' || nn === '4s' ? '2' : '';
      return g.pick([
        `${g.pick(['srshr', 'urshr', 'srsra', 'ursra'])} v${v()}.${t}, v${v()}.${t}, #${1 + g.int(e)}`,
        `${g.pick(['sqshl', 'uqshl', 'sqshlu'])} v${v()}.${t}, v${v()}.${t}, #${g.int(e)}`,
        `${g.pick(['rshrn', 'sqshrn', 'uqshrn', 'sqrshrn', 'uqrshrn', 'sqshrun', 'sqrshrun'])}${two} v${v()}.${nn}, v${v()}.${ww}, #${1 + g.int(ne)}`,
      ]);
    }
    case 40: return g.pick([
      `${g.pick(['fmul', 'fmla', 'fmls', 'fmulx'])} v${v()}.4s, v${v()}.4s, v${v()}.s[${g.int(4)}]`,
      `${g.pick(['fmul', 'fmla', 'fmls', 'fmulx'])} v${v()}.2d, v${v()}.2d, v${v()}.d[${g.int(2)}]`,
      `${g.pick(['fmul', 'fmla', 'fmls', 'fmulx'])} ${g.rnd() < 0.5 ? `s${v()}, s${v()}, v${v()}.s[${g.int(4)}]` : `d${v()}, d${v()}, v${v()}.d[${g.int(2)}]`}`,
      `${g.pick(['mul', 'mla', 'mls'])} v${v()}.8h, v${v()}.8h, v${g.int(16)}.h[${g.int(8)}]`,
      `${g.pick(['mul', 'mla', 'mls'])} v${v()}.2s, v${v()}.2s, v${v()}.s[${g.int(4)}]`,
      `${g.pick(['smull', 'umull', 'smlal', 'umlal', 'smlsl', 'umlsl', 'sqdmull', 'sqdmlal', 'sqdmlsl'])}${g.pick(['', '2'])} v${v()}.4s, v${v()}.%, v${g.int(16)}.h[${g.int(8)}]`.replace(/2 (v\d+\.4s, v\d+)\.%/, '2 $1.8h').replace('.%', '.4h'),
      `${g.pick(['smull', 'umull', 'smlal', 'sqdmull', 'sqdmlsl'])}${g.pick(['', '2'])} v${v()}.2d, v${v()}.%, v${v()}.s[${g.int(4)}]`.replace(/2 (v\d+\.2d, v\d+)\.%/, '2 $1.4s').replace('.%', '.2s'),
      `${g.pick(['sqdmulh', 'sqrdmulh'])} v${v()}.${g.pick(['4h', '8h'])}, %`.replace(/v(\d+)\.(\w+), %$/, (_m, a, t2) => `v${a}.${t2}, v${v()}.${t2}, v${g.int(16)}.h[${g.int(8)}]`),
      `${g.pick(['sqdmulh', 'sqrdmulh'])} v${v()}.${g.pick(['2s', '4s'])}, %`.replace(/v(\d+)\.(\w+), %$/, (_m, a, t2) => `v${a}.${t2}, v${v()}.${t2}, v${v()}.s[${g.int(4)}]`),
      `${g.pick(['fmaxv', 'fminv', 'fmaxnmv', 'fminnmv'])} s${v()}, v${v()}.4s`,
      `${g.pick(['faddp', 'fmaxp', 'fminp', 'fmaxnmp', 'fminnmp'])} ${g.rnd() < 0.5 ? `d${v()}, v${v()}.2d` : `s${v()}, v${v()}.2s`}`,
      `${g.pick(['fabd', 'fmulx', 'fcmeq', 'fcmge', 'fcmgt', 'facge', 'facgt', 'frecps', 'frsqrts'])} ${g.pick(['s', 'd'])}${v()}, %`.replace(/(\w)(\d+), %$/, (_m, p, a) => `${p}${a}, ${p}${v()}, ${p}${v()}`),
    ]);
    case 41: {
      // Scalar FP on raw register contents (NaNs, subnormals, infinities included).
      const p = g.pick(['s', 'd']);
      return g.pick([
        `${g.pick(['fadd', 'fsub', 'fmul', 'fdiv', 'fnmul', 'fmax', 'fminnm'])} ${p}${v()}, ${p}${v()}, ${p}${v()}`,
        `${g.pick(['fmadd', 'fmsub', 'fnmadd', 'fnmsub'])} ${p}${v()}, ${p}${v()}, ${p}${v()}, ${p}${v()}`,
        `${g.pick(['fsqrt', 'frintx', 'frinti', 'fabs'])} ${p}${v()}, ${p}${v()}`,
        `fcvt ${g.pick(['h', p === 's' ? 'd' : 's'])}${v()}, ${p}${v()}`,
        `fcvt ${p}${v()}, h${v()}`,
        `${g.pick(['fcmp', 'fcmpe'])} ${p}${v()}, ${p}${v()}`,
        `${g.pick(['fcvtzs', 'fcvtns', 'fcvtau', 'fcvtmu'])} ${g.pick([x(), w()])}, ${p}${v()}`,
      ]);
    }
    case 42: {
      // A new FPCR: rounding mode, sometimes default NaN or flush-to-zero.
      const fpcr = (g.int(4) << 22) | (g.rnd() < 0.2 ? 1 << 25 : 0) | (g.rnd() < 0.15 ? 1 << 24 : 0);
      return `mov x26, #${fpcr >>> 16}\nlsl x26, x26, #16\nmsr fpcr, x26`;
    }
    case 34: {
      const [l, nn] = g.pick([['8h', '8b'], ['4s', '4h'], ['2d', '2s']]);
      const [l2, nn2] = g.pick([['8h', '16b'], ['4s', '8h'], ['2d', '4s']]);
      return g.pick([
        `${g.pick(['uaddl', 'saddl', 'usubl', 'ssubl', 'umull', 'smull', 'umlal', 'smlal', 'umlsl', 'smlsl', 'sabal', 'uabal', 'sabdl', 'uabdl'])} v${v()}.${l}, v${v()}.${nn}, v${v()}.${nn}`,
        (() => { const [a, b] = g.pick([['4s', '4h'], ['2d', '2s']]); return `${g.pick(['sqdmlal', 'sqdmlsl', 'sqdmull'])} v${v()}.${a}, v${v()}.${b}, v${v()}.${b}`; })(),
        (() => { const [a, b] = g.pick([['4s', '8h'], ['2d', '4s']]); return `${g.pick(['sqdmlal2', 'sqdmlsl2', 'sqdmull2'])} v${v()}.${a}, v${v()}.${b}, v${v()}.${b}`; })(),
        `${g.pick(['pmull v%.8h, v%.8b, v%.8b', 'pmull2 v%.8h, v%.16b, v%.16b'])}`.replace(/%/g, () => `${v()}`),
        `${g.pick(['uaddl2', 'saddl2', 'umull2', 'smull2'])} v${v()}.${l2}, v${v()}.${nn2}, v${v()}.${nn2}`,
        `${g.pick(['uaddw', 'saddw', 'usubw', 'ssubw'])} v${v()}.${l}, v${v()}.${l}, v${v()}.${nn}`,
        `${g.pick(['addhn', 'subhn'])} v${v()}.${nn}, v${v()}.${l}, v${v()}.${l}`,
        `${g.pick(['addhn2', 'subhn2'])} v${v()}.${nn2}, v${v()}.${l2}, v${v()}.${l2}`,
      ]);
    }
    case 35: return g.pick([
      `${g.pick(['ushr', 'sshr', 'usra', 'ssra', 'sri'])} d${v()}, d${v()}, #${1 + g.int(64)}`,
      `${g.pick(['shl', 'sli'])} d${v()}, d${v()}, #${g.int(64)}`,
      `${g.pick(['cmge', 'cmgt', 'cmeq', 'cmle', 'cmlt'])} d${v()}, d${v()}, #0`,
      `${g.pick(['abs', 'neg'])} d${v()}, d${v()}`,
      `${g.pick(['scvtf', 'ucvtf'])} ${g.pick(['d', 's'])}${v()}, ${g.pick(['d', 's'])}${v()}`.replace(/(\w)(\d+), (\w)(\d+)$/, (_m, a, b, _c, e) => `${a}${b}, ${a}${e}`),
      `scvtf d${v()}, ${x()}\n${g.pick(['fcvtzs', 'fcvtzu'])} d${v()}, d${v()}`,
    ]);
    case 0: return `${g.pick(['and', 'orr', 'eor', 'bic', 'orn', 'bsl', 'bit', 'bif'])} v${v()}.${g.pick(['8b', '16b'])}, v${v()}.${'16b'}, v${v()}.16b`.replace(/v(\d+)\.8b, v(\d+)\.16b, v(\d+)\.16b/, 'v$1.8b, v$2.8b, v$3.8b');
    case 1: { const t = g.pick(VT); return `${g.pick(['add', 'sub', 'cmeq', 'cmhi', 'cmhs', 'cmgt', 'cmge', 'cmtst'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; }
    case 2: { const t = g.pick(VT_NO2D); return `${g.pick(['umax', 'umin', 'smax', 'smin', 'umaxp', 'uminp', 'smaxp', 'sminp', 'addp', 'mul'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; }
    case 3: { const t = g.pick(VT); return `${g.pick(['cmeq', 'cmgt', 'cmge', 'cmle', 'cmlt'])} v${v()}.${t}, v${v()}.${t}, #0`; }
    case 4: { const t = g.pick(VT); return `${g.pick(['abs', 'neg'])} v${v()}.${t}, v${v()}.${t}`; }
    case 5: { const t = g.pick(['8b', '16b', '4h', '8h', '2s', '4s']); return `rev64 v${v()}.${t}, v${v()}.${t}`; }
    case 6: { const t = g.pick(['8b', '16b', '4h', '8h']); return `rev32 v${v()}.${t}, v${v()}.${t}`; }
    case 7: { const t = g.pick(['8b', '16b']); return `${g.pick(['rev16', 'cnt', 'not', 'rbit'])} v${v()}.${t}, v${v()}.${t}`; }
    case 8: { const t = g.pick(VT_NO2D); return `${g.pick(['clz', 'cls'])} v${v()}.${t}, v${v()}.${t}`; }
    case 9: { const [a, b] = g.pick([['8b', '8h'], ['4h', '4s'], ['2s', '2d']]); return `xtn v${v()}.${a}, v${v()}.${b}`; }
    case 10: { const [a, b] = g.pick([['16b', '8h'], ['8h', '4s'], ['4s', '2d']]); return `xtn2 v${v()}.${a}, v${v()}.${b}`; }
    case 11: { const [a, b] = g.pick([['4h', '8b'], ['8h', '16b'], ['2s', '4h'], ['4s', '8h'], ['2d', '4s']]); return `${g.pick(['uaddlp', 'saddlp'])} v${v()}.${a}, v${v()}.${b}`; }
    case 12: { const [r, t] = g.pick([['b', '16b'], ['b', '8b'], ['h', '8h'], ['h', '4h'], ['s', '4s']]); return `${g.pick(['uminv', 'umaxv', 'sminv', 'smaxv', 'addv'])} ${r}${v()}, v${v()}.${t}`; }
    case 13: { const [r, t] = g.pick([['h', '16b'], ['s', '8h'], ['d', '4s']]); return `${g.pick(['uaddlv', 'saddlv'])} ${r}${v()}, v${v()}.${t}`; }
    case 14: return g.pick([`dup v${v()}.16b, ${w()}`, `dup v${v()}.8h, ${w()}`, `dup v${v()}.4s, ${w()}`, `dup v${v()}.2d, ${x()}`, `dup v${v()}.8b, ${w()}`]);
    case 15: return g.pick([`dup v${v()}.16b, v${v()}.b[${g.int(16)}]`, `dup v${v()}.4s, v${v()}.s[${g.int(4)}]`, `dup v${v()}.2d, v${v()}.d[${g.int(2)}]`, `dup v${v()}.4h, v${v()}.h[${g.int(8)}]`]);
    case 16: return g.pick([`mov v${v()}.s[${g.int(4)}], ${w()}`, `mov v${v()}.d[${g.int(2)}], ${x()}`, `mov v${v()}.b[${g.int(16)}], v${v()}.b[${g.int(16)}]`, `mov v${v()}.h[${g.int(8)}], ${w()}`]);
    case 17: return g.pick([`umov ${w()}, v${v()}.b[${g.int(16)}]`, `umov ${w()}, v${v()}.h[${g.int(8)}]`, `mov ${w()}, v${v()}.s[${g.int(4)}]`, `mov ${x()}, v${v()}.d[${g.int(2)}]`, `smov ${x()}, v${v()}.h[${g.int(8)}]`, `smov ${w()}, v${v()}.b[${g.int(16)}]`, `smov ${x()}, v${v()}.s[${g.int(4)}]`]);
    case 18: return g.pick([`movi v${v()}.16b, #${g.int(256)}`, `movi v${v()}.2d, #0xff00ff0000ffff00`, `movi d${v()}, #0x00ff00ff00ff00ff`, `mvni v${v()}.4s, #${g.int(256)}, lsl #${8 * g.int(4)}`, `orr v${v()}.4s, #${g.int(256)}, lsl #${8 * g.int(4)}`, `bic v${v()}.8h, #${g.int(256)}, lsl #${8 * g.int(2)}`, `movi v${v()}.4s, #${g.int(256)}, msl #${g.pick([8, 16])}`, `fmov v${v()}.4s, #${g.pick(['1.5', '-2.0', '0.125', '31.0'])}`, `fmov v${v()}.2d, #${g.pick(['1.5', '-2.0', '0.125', '31.0'])}`]);
    case 19: { const [t, e] = g.pick([['16b', 8], ['8h', 16], ['4s', 32], ['2d', 64], ['8b', 8], ['2s', 32]] as const); return `${g.pick(['ushr', 'sshr', 'usra', 'ssra', 'sri'])} v${v()}.${t}, v${v()}.${t}, #${1 + g.int(e)}`; }
    case 20: { const [t, e] = g.pick([['16b', 8], ['8h', 16], ['4s', 32], ['2d', 64], ['4h', 16]] as const); return `${g.pick(['shl', 'sli'])} v${v()}.${t}, v${v()}.${t}, #${g.int(e)}`; }
    case 21: { const [a, b, e] = g.pick([['8b', '8h', 8], ['4h', '4s', 16], ['2s', '2d', 32]] as const); return `shrn v${v()}.${a}, v${v()}.${b}, #${1 + g.int(e)}`; }
    case 22: { const [a, b, e] = g.pick([['16b', '8h', 8], ['8h', '4s', 16], ['4s', '2d', 32]] as const); return `shrn2 v${v()}.${a}, v${v()}.${b}, #${1 + g.int(e)}`; }
    case 23: { const [a, b, e] = g.pick([['8h', '8b', 8], ['4s', '4h', 16], ['2d', '2s', 32]] as const); return `${g.pick(['ushll', 'sshll'])} v${v()}.${a}, v${v()}.${b}, #${g.int(e)}`; }
    case 24: { const [a, b] = g.pick([['8h', '16b'], ['4s', '8h'], ['2d', '4s']]); return `${g.pick(['uxtl2', 'sxtl2'])} v${v()}.${a}, v${v()}.${b}`; }
    case 25: return g.rnd() < 0.5 ? `ext v${v()}.16b, v${v()}.16b, v${v()}.16b, #${g.int(16)}` : `ext v${v()}.8b, v${v()}.8b, v${v()}.8b, #${g.int(8)}`;
    case 26: { const b = g.int(31); return `${g.pick(['tbl', 'tbx'])} v${v()}.${g.pick(['16b', '8b'])}, {v${b}.16b${g.rnd() < 0.5 ? `, v${b + 1}.16b` : ''}}, v${v()}.${'16b'}`.replace(/(\.8b, \{[^}]*\}, v\d+)\.16b/, '$1.8b'); }
    case 27: { const t = g.pick(VT); return `${g.pick(['zip1', 'zip2', 'uzp1', 'uzp2', 'trn1', 'trn2'])} v${v()}.${t}, v${v()}.${t}, v${v()}.${t}`; }
    case 28: return g.pick([`addp d${v()}, v${v()}.2d`, `mov d${v()}, v${v()}.d[${g.int(2)}]`, `mov s${v()}, v${v()}.s[${g.int(4)}]`]);
    case 29: return g.pick([`fmov d${v()}, ${x()}`, `fmov ${x()}, d${v()}`, `fmov s${v()}, ${w()}`, `fmov ${w()}, s${v()}`, `fmov ${x()}, v${v()}.d[1]`, `fmov v${v()}.d[1], ${x()}`]);
    case 30: {
      // FP on values converted from integers (no NaN payloads to disagree about)
      const [a, b, c] = [v(), v(), v()];
      const p = g.pick(['d', 's']);
      return `scvtf ${p}${a}, ${g.pick([x(), w()])}\nucvtf ${p}${b}, ${w()}\n${g.pick(['fadd', 'fsub', 'fmul', 'fdiv', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'fnmul'])} ${p}${c}, ${p}${a}, ${p}${b}`;
    }
    case 31: {
      const [a, b] = [v(), v()];
      const p = g.pick(['d', 's']);
      return `scvtf ${p}${a}, ${w()}\nscvtf ${p}${b}, ${x()}\n${g.pick(['fcmp', 'fcmpe'])} ${p}${a}, ${p}${b}\nfcsel ${p}${v()}, ${p}${a}, ${p}${b}, ${g.pick(CONDS.slice(0, 14))}`;
    }
    case 32: {
      const a = v();
      const p = g.pick(['d', 's']);
      const q = p === 'd' ? 's' : 'd';
      return `scvtf ${p}${a}, ${x()}\nfmov ${p}${v()}, #${g.pick(['0.5', '-3.25', '10.0'])}\n${g.pick(['fabs', 'fneg', 'fsqrt', 'frintn', 'frintp', 'frintm', 'frintz', 'frinta'])} ${p}${v()}, ${p}${a}\nfcvt ${q}${v()}, ${p}${a}\n${g.pick(['fcvtzs', 'fcvtzu', 'fcvtns', 'fcvtms', 'fcvtps', 'fcvtas'])} ${g.pick([x(), w()])}, ${p}${a}`;
    }
    default: {
      const r = g.int(31);
      const o = 16 * g.int(28);
      return g.pick([`ld1 {v${r}.16b}, [x28]`, `add x27, x28, #${o}\nld1 {v${r}.16b, v${r + 1}.16b}, [x27], #32`, `add x27, x28, #${o}\nst1 {v${r}.2d}, [x27]`,
        `ldr q${r}, [x28, #${o}]`, `str q${r}, [x28, #${o}]`, `ldp q${r}, q${(r + 3) % 32}, [x28, #${o}]`, `ldr d${r}, [x28, #${o}]`, `str s${r}, [x28, #${o + 4}]`,
        `add x27, x28, #${o}\nst1 {v${r}.8b, v${r + 1}.8b}, [x27], #16`, `ldr b${r}, [x28, #${o + 3}]`, `ldr h${r}, [x28, #${o + 2}]`]);
    }
  }
}

/** Two different data registers (pair loads of one register are UNPREDICTABLE). */
function two(g: Generator): [number, number] {
  const a = g.pick(DATA);
  let b = g.pick(DATA);
  while (b === a) b = g.pick(DATA);
  return [a, b];
}

function memoryInstruction(g: Generator): string {
  const x = (): string => `x${g.pick(DATA)}`;
  const w = (): string => `w${g.pick(DATA)}`;
  const k = g.int(12);
  const off = (scale: number, max: number): number => g.int(max) * scale;
  switch (k) {
    case 0: return `${g.pick(['ldr', 'str'])} ${x()}, [x28, #${off(8, 60)}]`;
    case 1: return `${g.pick(['ldr', 'str', 'ldrb', 'strb', 'ldrh', 'strh', 'ldrsb', 'ldrsh'])} ${w()}, [x28, #${off(4, 100)}]`;
    case 2: return `${g.pick(['ldrsb', 'ldrsh', 'ldrsw'])} ${x()}, [x28, #${off(4, 100)}]`;
    case 3: return `${g.pick(['ldur', 'stur'])} ${g.rnd() < 0.5 ? x() : w()}, [x28, #${g.int(200) + 1}]`;
    case 4: {
      const imm = (g.int(16) - 8) * 8;
      return `add x27, x28, #256\n${g.pick(['ldr', 'str'])} ${x()}, [x27, #${imm}]${g.rnd() < 0.5 ? '!' : ''}`;
    }
    case 5: return `add x27, x28, #256\n${g.pick(['ldr', 'str', 'ldrb', 'strh'])} ${w()}, [x27], #${(g.int(16) - 8) * 4}`;
    case 6: { const [a, b] = two(g); return `${g.pick(['ldp', 'stp'])} x${a}, x${b}, [x28, #${off(8, 30)}]`; }
    case 7: { const [a, b] = two(g); return `add x27, x28, #256\n${g.pick(['ldp', 'stp'])} w${a}, w${b}, [x27, #${(g.int(16) - 8) * 4}]!`; }
    case 8: return `and x26, ${x()}, #0xf8\n${g.pick(['ldr', 'str'])} ${x()}, [x28, x26${g.rnd() < 0.5 ? '' : ', lsl #0'}]`;
    case 9: return `and x26, ${x()}, #0x3c\n${g.pick(['ldr', 'str'])} ${w()}, [x28, w26, uxtw #${g.pick([0, 2])}]`;
    case 10: {
      const o = off(8, 30);
      return `add x27, x28, #${o}\nldxr ${x()}, [x27]\nstxr w26, ${x()}, [x27]`;
    }
    default: {
      const o = off(8, 30);
      const op = g.pick(['ldadd', 'ldclr', 'ldeor', 'ldset', 'ldsmax', 'ldsmin', 'ldumax', 'ldumin', 'swp', 'ldaddal', 'swpal']);
      return g.rnd() < 0.2 ? `add x27, x28, #${o}\ncas ${x()}, ${x()}, [x27]` : `add x27, x28, #${o}\n${op} ${x()}, ${x()}, [x27]`;
    }
  }
}

/** A branch over one instruction, so both paths get exercised. */
function branchy(g: Generator, label: number): string {
  const x = `x${g.pick(DATA)}`;
  const branch = g.pick([`b.${g.pick(CONDS.slice(0, 14))}`, `cbz ${x},`, `cbnz ${x},`, `tbz ${x}, #${g.int(64)},`, `tbnz ${x}, #${g.int(64)},`]);
  return `${branch} ${label}f\n${integerInstruction(g)}\n${label}:`;
}

export function randomProgram(seed: number, length: number, simd = false): string {
  const g = generator(seed);
  const init: string[] = [];
  for (let i = 0; i < 31; i++) {
    const v = g.rnd() < 0.15 ? g.pick([0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn, 0x80000000n])
      : (BigInt(Math.floor(g.rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(g.rnd() * 2 ** 32));
    init.push(`.quad 0x${v.toString(16)}`);
  }
  const buf: string[] = [];
  for (let i = 0; i < BUFFER_BYTES / 8; i++) buf.push(`.quad 0x${((BigInt(Math.floor(g.rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(g.rnd() * 2 ** 32))).toString(16)}`);
  const nzcv = g.int(16) << 28;
  // Instructions last, so a shorter program with the same seed is a prefix (for bisecting).
  const lines: string[] = [];
  for (let i = 0; i < length; i++) lines.push(simd && g.rnd() < 0.6 ? simdInstruction(g) : g.rnd() < 0.12 ? branchy(g, 1 + (i % 9)) : integerInstruction(g));
  return `
    .text
    .global _start
_start:
    adr x0, dump
    mov sp, x0
    adr x0, init
    ldp x2, x3, [x0, #16]
    ldp x4, x5, [x0, #32]
    ldp x6, x7, [x0, #48]
    ldp x8, x9, [x0, #64]
    ldp x10, x11, [x0, #80]
    ldp x12, x13, [x0, #96]
    ldp x14, x15, [x0, #112]
    ldp x16, x17, [x0, #128]
    ldp x18, x19, [x0, #144]
    ldp x20, x21, [x0, #160]
    ldp x22, x23, [x0, #176]
    ldp x24, x25, [x0, #192]
    ldp x29, x30, [x0, #232]
    adr x28, buf
${Array.from({ length: 16 }, (_, i) => `    ldp q${2 * i}, q${2 * i + 1}, [x28, #${32 * i}]`).join('\n')}
    mov x27, x28
    mov x26, #0
    mov x1, #${nzcv >>> 16}
    lsl x1, x1, #16
    msr nzcv, x1
    ldp x0, x1, [x0]
${lines.join('\n')}
    .global dump_regs
dump_regs:
    stp x0, x1, [sp, #0]
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    str x30, [sp, #240]
    mrs x0, nzcv
    mrs x1, fpsr
    orr x0, x0, x1, lsl #32
    str x0, [sp, #248]
${Array.from({ length: 16 }, (_, i) => `    stp q${2 * i}, q${2 * i + 1}, [sp, #${256 + 32 * i}]`).join('\n')}
    .global dump_done
dump_done:
    mov x0, #1
    adr x1, dump
    mov x2, #${256 + VREG_BYTES + BUFFER_BYTES}
    mov x8, #64
    svc #0
    mov x0, #0
    mov x8, #93
    svc #0
    .data
    .balign 16
init:
${init.join('\n')}
    .balign 16
dump:
    .space ${256 + VREG_BYTES}
buf:
${buf.join('\n')}
`;
}
