/**
 * Random riscv64 instruction sequences for the qemu-riscv64 (user mode) oracle. The program loads
 * every register from a table, runs the random body, dumps x1..x31, f0..f31, fcsr and its data area
 * at gp, then write(1, gp, DUMP_BYTES) and exit(0). Both emulators run the same ELF.
 */

export const DUMP_BYTES = 2048;
/** Offsets from gp: integer dump, FP dump, fcsr, then the data area the body loads from and stores to. */
const FP_DUMP = 256, FCSR_DUMP = 512, DATA = 1024, DATA_END = 2048;

export class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  u64(): bigint {
    return (BigInt(Math.floor(this.next() * 2 ** 32)) << 32n) | BigInt(Math.floor(this.next() * 2 ** 32));
  }
}

const SPECIAL = [0n, 1n, 2n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn, 0x80000000n,
  0x7fffffffn, 0xffffffff80000000n, 63n, 31n, 32n, 64n, 0xfffffffffffff800n];

function value(r: Rng): bigint {
  const k = r.int(4);
  if (k === 0) return r.pick(SPECIAL);
  if (k === 1) return BigInt.asUintN(64, BigInt(r.int(4096)) - 2048n);
  return r.u64();
}

/** Interesting doubles and floats, as raw bit patterns (floats NaN-boxed or deliberately not). */
const FP_SPECIAL = [0n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n,
  0x7ff8000000000000n, 0x7ff4000000000000n, 0x0000000000000001n, 0x000fffffffffffffn, 0x7fefffffffffffffn, 0x4000000000000000n,
  0x3fe0000000000000n, 0x43e0000000000000n, 0xc3e0000000000000n, 0x41e0000000000000n,
  0xffffffff00000000n, 0xffffffff80000000n, 0xffffffff3f800000n, 0xffffffffbf800000n, 0xffffffff7f800000n, 0xffffffffff800000n,
  0xffffffff7fc00000n, 0xffffffff7fa00000n, 0xffffffff00000001n, 0xffffffff007fffffn, 0xffffffff7f7fffffn, 0xffffffff4f000000n,
  0xffffffffcf000000n, 0xffffffff5f000000n, 0x000000003f800000n];

function fpValue(r: Rng): bigint {
  const k = r.int(5);
  if (k === 0) return r.pick(FP_SPECIAL);
  if (k === 1) return 0xffffffff00000000n | BigInt(Math.floor(r.next() * 2 ** 32));
  if (k === 2) {
    // a "normal" float in a moderate range, boxed
    const f = new Float32Array([(r.next() - 0.5) * 10 ** (r.int(12) - 6)]);
    return 0xffffffff00000000n | BigInt(new Uint32Array(f.buffer)[0]!);
  }
  if (k === 3) {
    const d = new Float64Array([(r.next() - 0.5) * 10 ** (r.int(40) - 20)]);
    return new BigUint64Array(d.buffer)[0]!;
  }
  return r.u64();
}

const X = (n: number): string => `x${n}`;
const F = (n: number): string => `f${n}`;
/** Destinations and sources: every register but gp (x3, the dump base) and tp (x4, address temporary). */
const REGS = [0, 1, 2, ...Array.from({ length: 27 }, (_, i) => i + 5)];

const R_OPS = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'addw', 'subw', 'sllw', 'srlw', 'sraw',
  'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'mulw', 'divw', 'divuw', 'remw', 'remuw'];
const ZB_R = ['sh1add', 'sh2add', 'sh3add', 'add.uw', 'sh1add.uw', 'sh2add.uw', 'sh3add.uw', 'andn', 'orn', 'xnor', 'min', 'max',
  'minu', 'maxu', 'rol', 'ror', 'rolw', 'rorw', 'bclr', 'bext', 'binv', 'bset', 'clmul', 'clmulh', 'clmulr'];
const ZB_UNARY = ['clz', 'ctz', 'cpop', 'clzw', 'ctzw', 'cpopw', 'sext.b', 'sext.h', 'zext.h', 'rev8', 'orc.b'];
const I_OPS = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw'];
const SHIFT_OPS: [string, number][] = [['slli', 64], ['srli', 64], ['srai', 64], ['slliw', 32], ['srliw', 32], ['sraiw', 32],
  ['rori', 64], ['roriw', 32], ['slli.uw', 64], ['bclri', 64], ['bexti', 64], ['binvi', 64], ['bseti', 64]];
const LOADS: [string, number][] = [['lb', 1], ['lbu', 1], ['lh', 2], ['lhu', 2], ['lw', 4], ['lwu', 4], ['ld', 8]];
const STORES: [string, number][] = [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];
const AMOS = ['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu'];

const RM = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'dyn'];
const FP_BIN = ['fadd', 'fsub', 'fmul', 'fdiv'];
const FP_FMA = ['fmadd', 'fmsub', 'fnmsub', 'fnmadd'];
const FP_NORM = ['fmin', 'fmax', 'fsgnj', 'fsgnjn', 'fsgnjx'];
const FP_CMP = ['feq', 'flt', 'fle'];

export interface ProgramOptions {
  integer: boolean;
  fp: boolean;
  length: number;
}

function intInstruction(r: Rng, lines: string[], labels: { n: number }): void {
  const rd = X(r.pick(REGS)), rs1 = X(r.pick(REGS)), rs2 = X(r.pick(REGS));
  const k = r.int(100);
  if (k < 30) lines.push(`${r.pick(R_OPS)} ${rd}, ${rs1}, ${rs2}`);
  else if (k < 40) lines.push(`${r.pick(I_OPS)} ${rd}, ${rs1}, ${r.int(4096) - 2048}`);
  else if (k < 48) {
    const [op, w] = r.pick(SHIFT_OPS);
    lines.push(`${op} ${rd}, ${rs1}, ${r.int(w)}`);
  } else if (k < 53) lines.push(`${r.pick(ZB_R)} ${rd}, ${rs1}, ${rs2}`);
  else if (k < 57) lines.push(`${r.pick(ZB_UNARY)} ${rd}, ${rs1}`);
  else if (k < 60) lines.push(r.int(2) ? `lui ${rd}, ${r.int(1 << 20)}` : `auipc ${rd}, ${r.int(1 << 20)}`);
  else if (k < 70) {
    const [op, size] = r.pick(LOADS);
    const aligned = r.int(4) !== 0;
    const off = DATA + (aligned ? r.int((DATA_END - DATA) / size) * size : r.int(DATA_END - DATA - 8));
    lines.push(`${op} ${rd}, ${off}(gp)`);
  } else if (k < 78) {
    const [op, size] = r.pick(STORES);
    const aligned = r.int(4) !== 0;
    const off = DATA + (aligned ? r.int((DATA_END - DATA) / size) * size : r.int(DATA_END - DATA - 8));
    lines.push(`${op} ${rs2}, ${off}(gp)`);
  } else if (k < 86) {
    // forward branch over 1..3 instructions (never a loop)
    const l = labels.n++;
    lines.push(`${r.pick(BRANCHES)} ${rs1}, ${rs2}, L${l}`);
    const n = 1 + r.int(3);
    for (let i = 0; i < n; i++) lines.push(`${r.pick(I_OPS)} ${X(r.pick(REGS))}, ${X(r.pick(REGS))}, ${r.int(4096) - 2048}`);
    lines.push(`L${l}:`);
  } else if (k < 89) {
    const l = labels.n++;
    lines.push(`jal ${rd}, L${l}`, `addi ${X(r.pick(REGS))}, ${rs1}, 1`, `L${l}:`);
  } else if (k < 91) {
    // jalr through tp to a label: rd gets the return address
    const l = labels.n++;
    lines.push(`la tp, L${l}`, `jalr ${rd}, 0(tp)`, `addi ${X(r.pick(REGS))}, ${rs1}, 1`, `L${l}:`);
  } else if (k < 97) {
    const wide = r.int(2) === 1;
    const size = wide ? 8 : 4;
    lines.push(`addi tp, gp, ${DATA + r.int((DATA_END - DATA) / size) * size}`);
    lines.push(`${r.pick(AMOS)}.${wide ? 'd' : 'w'}${r.pick(['', '.aq', '.rl', '.aqrl'])} ${rd}, ${rs2}, (tp)`);
  } else {
    const wide = r.int(2) === 1;
    const sfx = wide ? 'd' : 'w';
    const size = wide ? 8 : 4;
    lines.push(`addi tp, gp, ${DATA + r.int((DATA_END - DATA) / size) * size}`);
    lines.push(`lr.${sfx} ${rd}, (tp)`, `sc.${sfx} ${X(r.pick(REGS))}, ${rs2}, (tp)`);
  }
}

function fpInstruction(r: Rng, lines: string[]): void {
  const fd = F(r.int(32)), fs1 = F(r.int(32)), fs2 = F(r.int(32)), fs3 = F(r.int(32));
  const xd = X(r.pick(REGS)), xs = X(r.pick(REGS));
  const p = r.pick(['s', 'd']);
  const rm = r.pick(RM);
  const k = r.int(100);
  if (k < 25) lines.push(`${r.pick(FP_BIN)}.${p} ${fd}, ${fs1}, ${fs2}, ${rm}`);
  else if (k < 35) lines.push(`${r.pick(FP_FMA)}.${p} ${fd}, ${fs1}, ${fs2}, ${fs3}, ${rm}`);
  else if (k < 40) lines.push(`fsqrt.${p} ${fd}, ${fs1}, ${rm}`);
  else if (k < 50) lines.push(`${r.pick(FP_NORM)}.${p} ${fd}, ${fs1}, ${fs2}`);
  else if (k < 56) lines.push(`${r.pick(FP_CMP)}.${p} ${xd}, ${fs1}, ${fs2}`);
  else if (k < 59) lines.push(`fclass.${p} ${xd}, ${fs1}`);
  else if (k < 70) {
    const it = r.pick(['w', 'wu', 'l', 'lu']);
    lines.push(`fcvt.${it}.${p} ${xd}, ${fs1}, ${rm}`);
  } else if (k < 78) {
    const it = r.pick(['w', 'wu', 'l', 'lu']);
    // int32 to double is exact: binutils takes no rounding mode there
    lines.push(p === 'd' && (it === 'w' || it === 'wu') ? `fcvt.d.${it} ${fd}, ${xs}` : `fcvt.${p}.${it} ${fd}, ${xs}, ${rm}`);
  } else if (k < 83) lines.push(p === 's' ? `fcvt.s.d ${fd}, ${fs1}, ${rm}` : `fcvt.d.s ${fd}, ${fs1}`);
  else if (k < 88) lines.push(r.pick([`fmv.x.w ${xd}, ${fs1}`, `fmv.x.d ${xd}, ${fs1}`, `fmv.w.x ${fd}, ${xs}`, `fmv.d.x ${fd}, ${xs}`]));
  else if (k < 93) {
    const size = p === 'd' ? 8 : 4;
    const off = DATA + r.int((DATA_END - DATA) / size) * size;
    lines.push(r.int(2) ? `fl${p === 'd' ? 'd' : 'w'} ${fd}, ${off}(gp)` : `fs${p === 'd' ? 'd' : 'w'} ${fs1}, ${off}(gp)`);
  } else if (k < 96) lines.push(`fsrmi ${xd}, ${r.int(5)}`);
  else lines.push(r.pick([`frflags ${xd}`, `fsflags ${xd}, ${xs}`, `frcsr ${xd}`, `csrrs ${xd}, fflags, x0`]));
}

/**
 * `cases` independent random cases in one program (one assembler and QEMU run for all of them): each
 * loads every register from its own table, runs its body and writes its dump; the data area carries over.
 */
export function randomProgram(seed: number, options: ProgramOptions, cases = 1): string {
  const r = new Rng(seed);
  const data = Array.from({ length: (DATA_END - DATA) / 8 }, () => (r.int(3) === 0 ? fpValue(r) : value(r)));
  const labels = { n: 0 };
  const out: string[] = ['  .section .text.boot, "ax"', '  .global _start', '_start:'];
  const tables: string[] = [];
  for (let c = 0; c < cases; c++) {
    const init = Array.from({ length: 32 }, () => value(r));
    const finit = Array.from({ length: 32 }, () => fpValue(r));
    const body: string[] = [];
    for (let i = 0; i < options.length; i++) {
      if (options.fp && (!options.integer || r.int(2) === 0)) fpInstruction(r, body);
      else intInstruction(r, body, labels);
    }
    out.push('  la gp, dump');
    if (options.fp) {
      out.push(`  la tp, finit${c}`);
      for (let i = 0; i < 32; i++) out.push(`  fld f${i}, ${i * 8}(tp)`);
      out.push('  fscsr x0');
    }
    out.push(`  la tp, init${c}`);
    for (const n of REGS) if (n !== 0) out.push(`  ld x${n}, ${n * 8}(tp)`);
    out.push(...body.map((l) => (l.endsWith(':') ? l : `  ${l}`)));
    for (const n of REGS) if (n !== 0) out.push(`  sd x${n}, ${n * 8}(gp)`);
    if (options.fp) {
      for (let i = 0; i < 32; i++) out.push(`  fsd f${i}, ${FP_DUMP + i * 8}(gp)`);
      out.push('  frcsr t0', `  sd t0, ${FCSR_DUMP}(gp)`);
    }
    out.push('  li a0, 1', '  mv a1, gp', `  li a2, ${DUMP_BYTES}`, '  li a7, 64', '  ecall');
    tables.push(`init${c}:`, ...init.map((v) => `  .dword 0x${v.toString(16)}`));
    tables.push(`finit${c}:`, ...finit.map((v) => `  .dword 0x${v.toString(16)}`));
  }
  out.push('  li a0, 0', '  li a7, 93', '  ecall');
  out.push('  .section .data', '  .balign 4096', 'dump:', `  .space ${DATA}`);
  for (const v of data) out.push(`  .dword 0x${v.toString(16)}`);
  out.push(...tables);
  return out.join('\n') + '\n';
}
