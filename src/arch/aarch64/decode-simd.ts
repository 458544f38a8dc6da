/**
 * Advanced SIMD and floating-point decoding: LD1-LD4/ST1-ST4 (multiple and single structures,
 * LDnR), three-same/three-different/two-misc/across-lanes/by-element integer and FP ops (vector
 * and scalar, saturating forms included), DUP/INS/UMOV/SMOV, MOVI/MVNI/ORR/BIC immediates, shifts
 * by immediate (with the fixed-point conversions), EXT, TBL/TBX, ZIP/UZP/TRN, and scalar FP
 * arithmetic, FMA, compare, select, conversions and FMOV. Lane work happens in SimdUnit (integer),
 * SimdFp (vector FP) and FpUnit (every FP lane). Not decoded (UNDEFINED): the crypto extension
 * (AES, SHA, 64-bit PMULL; not advertised), half-precision arithmetic (FEAT_FP16; not advertised).
 */
import { bits, body, condition, setW, setX, W, X, type Emitted, type Site } from './emit.js';
import { Reg } from './registers.js';

const V = (n: number): number => Reg.V0 + 2 * n;

export function translateSimd(insn: number, site: Site): Emitted | undefined {
  siteK = site.k;
  if (((insn >>> 28) & 0xf) === 0x1 || ((insn >>> 28) & 0xf) === 0x9) return floatingPoint(insn, site);
  if ((insn & 0x9f200400) === 0x0e200400) return threeSame(insn);
  if ((insn & 0x9f3e0c00) === 0x0e200800) return twoMisc(insn);
  if ((insn & 0x9f3e0c00) === 0x0e300800) return acrossLanes(insn);
  if ((insn & 0x9fe08400) === 0x0e000400) return copy(insn);
  if ((insn & 0x9ff80400) === 0x0f000400) return modifiedImmediate(insn);
  if ((insn & 0x9f800400) === 0x0f000400) return shiftImmediate(insn);
  if ((insn & 0xbfe08400) === 0x2e000000) {
    const q = (insn >>> 30) & 1;
    const idx = bits(insn, 14, 11);
    if (!q && idx >= 8) return undefined;
    return body(`m.simd.ext(${insn & 31},${bits(insn, 9, 5)},${bits(insn, 20, 16)},${idx},${q});`);
  }
  if ((insn & 0xbfe08c00) === 0x0e000000 || (insn & 0xbfe08c00) === 0x0e001000) {
    const len = bits(insn, 14, 13) + 1;
    return body(`m.simd.table(${insn & 31},${bits(insn, 9, 5)},${len},${bits(insn, 20, 16)},${(insn >>> 30) & 1},${(insn >>> 12) & 1 ? 'true' : 'false'});`);
  }
  if ((insn & 0xbf208c00) === 0x0e000800) {
    const op = bits(insn, 14, 12);
    const size = bits(insn, 23, 22);
    if ((op & 3) === 0 || (size === 3 && !((insn >>> 30) & 1))) return undefined;
    return body(`if(!m.simd.permute(${op},${size},${(insn >>> 30) & 1},${insn & 31},${bits(insn, 9, 5)},${bits(insn, 20, 16)}))m.undefinedInstruction(${siteK},${insn >>> 0});`);
  }
  if ((insn & 0x9f200c00) === 0x0e200000) {
    return body(orUndefined(`m.simd.threeDifferent(${bits(insn, 15, 12)},${(insn >>> 29) & 1},${bits(insn, 23, 22)},${(insn >>> 30) & 1},${insn & 31},${bits(insn, 9, 5)},${bits(insn, 20, 16)})`, insn, siteK));
  }
  if ((insn & 0xdf800400) >>> 0 === 0x5f000400 && bits(insn, 22, 19) !== 0) {
    const op = bits(insn, 15, 11);
    if (op === 0x1c || op === 0x1f) {
      return body(orUndefined(`m.simdFp.fixedPoint(${op},${(insn >>> 29) & 1},${bits(insn, 22, 19)},${bits(insn, 18, 16)},0,${insn & 31},${bits(insn, 9, 5)},true)`, insn, siteK));
    }
    return body(orUndefined(`m.simd.scalarShift(${bits(insn, 15, 11)},${(insn >>> 29) & 1},${bits(insn, 22, 19)},${bits(insn, 18, 16)},${insn & 31},${bits(insn, 9, 5)})`, insn, siteK));
  }
  if ((insn & 0xdf3e0c00) >>> 0 === 0x5e200800) return scalarTwoMisc(insn);
  if ((insn & 0xdf200400) >>> 0 === 0x5e200400) return scalarThreeSame(insn);
  if ((insn & 0xdf3e0c00) >>> 0 === 0x5e300800 && (insn >>> 29) & 1) {
    return body(orUndefined(`m.simdFp.scalarPairwise(${bits(insn, 16, 12)},${bits(insn, 23, 23)},${bits(insn, 22, 22)},${insn & 31},${bits(insn, 9, 5)})`, insn, siteK));
  }
  if ((insn & 0x9f000400) >>> 0 === 0x0f000000) return byElement(insn, false);
  if ((insn & 0xdf000400) >>> 0 === 0x5f000000) return byElement(insn, true);
  if ((insn >>> 0) === ((0x5ef1b800 | (insn & 0x3ff)) >>> 0)) return body(`m.simd.addPairScalar(${insn & 31},${bits(insn, 9, 5)});`);
  if ((insn & 0xffe0fc00) >>> 0 === 0x5e000400) return scalarDup(insn);
  return undefined;
}

/** Helper call that raises UNDEFINED when the unit rejects the encoding. */
const orUndefined = (call: string, insn: number, k: number): string => `if(!${call})m.undefinedInstruction(${k},${insn >>> 0});`;

let siteK = 0;

function threeSame(insn: number): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const u = (insn >>> 29) & 1;
  const size = bits(insn, 23, 22);
  const m = bits(insn, 20, 16);
  const op = bits(insn, 15, 11);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (op === 0x03) {
    // Bitwise: straight on the 64-bit halves.
    const lo = (r: number): string => `r[${V(r)}]`;
    const hi = (r: number): string => `r[${V(r) + 1}]`;
    const f = (a: string, b: string, dd: string): string => {
      if (!u) return [`${a}&${b}`, `${a}&~${b}`, `${a}|${b}`, `${a}|~${b}`][size]!;
      return [`${a}^${b}`, `(${dd}&${a})|(~${dd}&${b})`, `(${b}&${a})|(~${b}&${dd})`, `(~${b}&${a})|(${b}&${dd})`][size]!;
    };
    const loE = f(lo(n), lo(m), lo(d));
    const hiE = q ? f(hi(n), hi(m), hi(d)) : '0n';
    return body(`s[4]=${loE};s[5]=${hiE};r[${V(d)}]=s[4];r[${V(d) + 1}]=s[5];`);
  }
  if (op >= 0x18) return body(orUndefined(`m.simdFp.threeSame(${op},${u},${size >> 1},${size & 1},${q},${d},${n},${m},false)`, insn, siteK));
  if (size === 3 && !q) return undefined;
  return body(orUndefined(`m.simd.threeSame(${op},${u},${size},${q},${d},${n},${m})`, insn, siteK));
}

/** Floating-point two-register-misc opcodes (FCMxx #0 and FABS/FNEG need size bit 1). */
const isFpTwoMisc = (op: number, size: number): boolean => (op >= 0x0c && op <= 0x0f ? (size & 2) !== 0 : op >= 0x16);

/** Scalar three same: saturating add/subtract (any size), 64-bit compares/shifts/add/sub, and the FP forms. */
function scalarThreeSame(insn: number): Emitted | undefined {
  const u = (insn >>> 29) & 1;
  const size = bits(insn, 23, 22);
  const m = bits(insn, 20, 16);
  const op = bits(insn, 15, 11);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (op >= 0x18) return body(orUndefined(`m.simdFp.threeSame(${op},${u},${size >> 1},${size & 1},0,${d},${n},${m},true)`, insn, siteK));
  const anySize = op === 0x01 || op === 0x05 || op === 0x09 || op === 0x0b || (op === 0x16 && (size === 1 || size === 2));
  const doubleOnly = op === 0x06 || op === 0x07 || op === 0x08 || op === 0x0a || op === 0x10 || op === 0x11;
  if (!anySize && !(doubleOnly && size === 3)) return undefined;
  return body(orUndefined(`m.simd.threeSame(${op},${u},${size},0,${d},${n},${m},1)`, insn, siteK));
}

/** By element (vector or scalar): FMUL/FMLA/FMLS/FMULX, and vector MUL/MLA/MLS. */
function byElement(insn: number, scalar: boolean): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const u = (insn >>> 29) & 1;
  const size = bits(insn, 23, 22);
  const l = (insn >>> 21) & 1;
  const mBit = (insn >>> 20) & 1;
  const rm = bits(insn, 19, 16);
  const op = bits(insn, 15, 12);
  const h = (insn >>> 11) & 1;
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (op === 0x1 || op === 0x5 || op === 0x9) {
    if (!(size & 2) || (op !== 0x9 && u)) return undefined;
    const sz = size & 1;
    if (sz && l) return undefined;
    const index = sz ? h : (h << 1) | l;
    const kind = op === 0x9 ? (u ? 3 : 0) : op === 0x1 ? 1 : 2;
    return body(orUndefined(`m.simdFp.byElement(${kind},${sz},${scalar ? 0 : q},${d},${n},${(mBit << 4) | rm},${index},${scalar})`, insn, siteK));
  }
  if (scalar || (size !== 1 && size !== 2)) return undefined;
  const index = size === 1 ? (h << 2) | (l << 1) | mBit : (h << 1) | l;
  const m = size === 1 ? rm : (mBit << 4) | rm;
  if ([0x2, 0x3, 0x6, 0x7, 0xa, 0xb, 0xc, 0xd].includes(op)) {
    return body(orUndefined(`m.simd.byElementWide(${op},${u},${size},${q},${d},${n},${m},${index})`, insn, siteK));
  }
  const integer = op === 0x8 ? !u : (op === 0x0 || op === 0x4) && u === 1;
  if (!integer) return undefined;
  const kind = op === 0x8 ? 0 : op === 0x0 ? 1 : 2;
  return body(`m.simd.byElement(${kind},${size},${q},${d},${n},${m},${index});`);
}

function twoMisc(insn: number): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const u = (insn >>> 29) & 1;
  const size = bits(insn, 23, 22);
  const op = bits(insn, 16, 12);
  if (isFpTwoMisc(op, size)) return body(orUndefined(`m.simdFp.twoMisc(${op},${u},${size >> 1},${size & 1},${q},${insn & 31},${bits(insn, 9, 5)},false)`, insn, siteK));
  return body(orUndefined(`m.simd.twoMisc(${op},${u},${size},${q},${insn & 31},${bits(insn, 9, 5)})`, insn, siteK));
}

function acrossLanes(insn: number): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const u = (insn >>> 29) & 1;
  const size = bits(insn, 23, 22);
  const op = bits(insn, 16, 12);
  if (u && (op === 0x0c || op === 0x0f)) return body(orUndefined(`m.simdFp.acrossLanes(${op},${size >> 1},${size & 1},${q},${insn & 31},${bits(insn, 9, 5)})`, insn, siteK));
  return body(orUndefined(`m.simd.acrossLanes(${op},${u},${size},${q},${insn & 31},${bits(insn, 9, 5)})`, insn, siteK));
}

function copy(insn: number): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const op = (insn >>> 29) & 1;
  const imm5 = bits(insn, 20, 16);
  const imm4 = bits(insn, 14, 11);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  const size = imm5 & 1 ? 0 : imm5 & 2 ? 1 : imm5 & 4 ? 2 : imm5 & 8 ? 3 : -1;
  if (size < 0) return undefined;
  const esize = 8 << size;
  const index = imm5 >> (size + 1);
  if (op === 1) {
    // INS (element): Vd.T[index] = Vn.T[imm4 >> size]
    return body(`m.simd.insert(${d},${index},${esize},m.simd.lane(${n},${imm4 >> size},${esize}));`);
  }
  switch (imm4) {
    case 0: return size === 3 && !q ? undefined : body(`m.simd.dupElement(${n},${index},${esize},${q},${d});`);
    case 1: return size === 3 && !q ? undefined : body(`m.simd.dupGeneral(${X(n)},${esize},${q},${d});`);
    case 3: return body(`m.simd.insert(${d},${index},${esize},${X(n)});`);
    case 5: { // SMOV
      if (size === 3 || (size === 2 && !q)) return undefined;
      const v = `BigInt.asIntN(${esize},m.simd.lane(${n},${index},${esize}))`;
      return body(q ? setX(d, v) : setW(d, `Number(BigInt.asUintN(32,${v}))`));
    }
    case 7: { // UMOV / MOV
      if ((size === 3) !== (q === 1)) return undefined;
      return body(q ? setX(d, `m.simd.get64(${n},${index})`) : setW(d, `m.simd.get(${n},${index},${esize})`));
    }
    default: return undefined;
  }
}

function scalarDup(insn: number): Emitted | undefined {
  const imm5 = bits(insn, 20, 16);
  const size = imm5 & 1 ? 0 : imm5 & 2 ? 1 : imm5 & 4 ? 2 : imm5 & 8 ? 3 : -1;
  if (size < 0 || bits(insn, 14, 11) !== 0) return undefined;
  const esize = 8 << size;
  const d = insn & 31;
  return body(`m.simd.dupGeneral(m.simd.lane(${bits(insn, 9, 5)},${imm5 >> (size + 1)},${esize}),${esize},0,${d});r[${V(d)}]=r[${V(d)}]&${esize === 64 ? '0xffffffffffffffffn' : `${(1n << BigInt(esize)) - 1n}n`};`);
}

/** Scalar two-register misc: integer compares with zero, ABS/NEG on D; FP<->integer conversions in V registers. */
function scalarTwoMisc(insn: number): Emitted | undefined {
  const u = (insn >>> 29) & 1;
  const size = bits(insn, 23, 22);
  const op = bits(insn, 16, 12);
  const d = insn & 31;
  const n = bits(insn, 9, 5);
  if (isFpTwoMisc(op, size)) return body(orUndefined(`m.simdFp.twoMisc(${op},${u},${size >> 1},${size & 1},0,${d},${n},true)`, insn, siteK));
  return body(orUndefined(`m.simd.scalarTwoMisc(${op},${u},${size},${d},${n})`, insn, siteK));
}

/** AdvSIMDExpandImm for MOVI/MVNI/ORR/BIC (op, cmode, abcdefgh) → 64-bit pattern and action. */
function modifiedImmediate(insn: number): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const op = (insn >>> 29) & 1;
  const cmode = bits(insn, 15, 12);
  const imm8 = (bits(insn, 18, 16) << 5) | bits(insn, 9, 5);
  const d = insn & 31;
  const rep = (v: bigint, w: number): bigint => {
    let out = 0n;
    for (let i = 0; i < 64; i += w) out |= v << BigInt(i);
    return out;
  };
  const i8 = BigInt(imm8);
  let pattern: bigint;
  let kind: 'mov' | 'orr' | 'bic' = 'mov';
  let invert = false;
  if (cmode < 8) {
    pattern = rep(i8 << BigInt(8 * (cmode >> 1)), 32);
    if (cmode & 1) kind = op ? 'bic' : 'orr';
    else invert = op === 1;
  } else if (cmode < 12) {
    pattern = rep(i8 << BigInt(8 * ((cmode >> 1) & 1)), 16);
    if (cmode & 1) kind = op ? 'bic' : 'orr';
    else invert = op === 1;
  } else if (cmode === 12 || cmode === 13) {
    const ones = cmode === 12 ? 0xffn : 0xffffn;
    pattern = rep((i8 << BigInt(cmode === 12 ? 8 : 16)) | ones, 32);
    invert = op === 1;
  } else if (cmode === 14 && !op) {
    pattern = rep(i8, 8);
  } else if (cmode === 14 && op) {
    pattern = 0n;
    for (let b = 0; b < 8; b++) if ((imm8 >> b) & 1) pattern |= 0xffn << BigInt(8 * b);
  } else if (cmode === 15 && !op) {
    // FMOV Vd.4S/2S, #imm (single-precision pattern)
    const a = (imm8 >> 7) & 1, b = (imm8 >> 6) & 1;
    const f32 = (a << 31) | ((b ? 0 : 1) << 30) | ((b ? 0x1f : 0) << 25) | ((imm8 & 0x3f) << 19);
    pattern = rep(BigInt(f32 >>> 0), 32);
  } else if (cmode === 15 && op && q) {
    const a = BigInt((imm8 >> 7) & 1), b = BigInt((imm8 >> 6) & 1);
    pattern = (a << 63n) | ((b ^ 1n) << 62n) | ((b ? 0xffn : 0n) << 54n) | (BigInt(imm8 & 0x3f) << 48n);
  } else return undefined;
  if (invert) pattern = BigInt.asUintN(64, ~pattern);
  return body(`m.simd.immediate('${kind}',0x${pattern.toString(16)}n,${q},${d});`);
}

function shiftImmediate(insn: number): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const u = (insn >>> 29) & 1;
  const immh = bits(insn, 22, 19);
  const immb = bits(insn, 18, 16);
  const op = bits(insn, 15, 11);
  if (immh & 8 && !q && op !== 0x10 && op !== 0x14) return undefined;
  if (op === 0x1c || op === 0x1f) return body(orUndefined(`m.simdFp.fixedPoint(${op},${u},${immh},${immb},${q},${insn & 31},${bits(insn, 9, 5)},false)`, insn, siteK));
  return body(orUndefined(`m.simd.shiftImmediate(${op},${u},${immh},${immb},${q},${insn & 31},${bits(insn, 9, 5)})`, insn, siteK));
}

// --- scalar floating point --------------------------------------------------------------------------

function floatingPoint(insn: number, site: Site): Emitted | undefined {
  const type = bits(insn, 23, 22);
  const d = insn & 31;
  const n = bits(insn, 9, 5);
  const m = bits(insn, 20, 16);
  // FMOV/convert between general and FP registers: sf 0 0 11110 type 1 rmode opcode 000000
  if ((insn & 0x7f20fc00) === 0x1e200000) return generalConvert(insn);
  if ((insn & 0xff000000) >>> 0 === 0x1f000000) {
    if (type > 1) return undefined;
    const kind = ((insn >>> 20) & 2) | ((insn >>> 15) & 1);
    return body(`m.fp.dp3(${kind},${type},${d},${n},${m},${bits(insn, 14, 10)});`);
  }
  if ((insn & 0x7f200000) === 0x1e000000) return fixedPointConvert(insn);
  if ((insn & 0xff200000) >>> 0 !== 0x1e200000 || type === 2) return undefined;
  if ((insn & 0x7c00) === 0x4000) {
    // Half precision (type 3) only as an FCVT source; dp1 rejects the rest.
    const op = bits(insn, 20, 15);
    return body(orUndefined(`m.fp.dp1(${op},${type},${d},${n})`, insn, site.k));
  }
  if (type > 1) return undefined;
  if ((insn & 0xfc07) === 0x2000) {
    const opc = bits(insn, 4, 3);
    return body(`m.fp.compare(${type},${n},${m},${(opc & 1) === 1},${(opc & 2) === 2});`);
  }
  switch ((insn >>> 10) & 3) {
    case 2: {
      const op = bits(insn, 15, 12);
      if (op > 8) return undefined;
      return body(`m.fp.dp2(${op},${type},${d},${n},${m});`);
    }
    case 3: return body(`m.fp.select(${type},${d},${n},${m},${condition(bits(insn, 15, 12))});`);
    case 1: {
      // FCCMP / FCCMPE
      const nzcv = insn & 15;
      return body(`if(${condition(bits(insn, 15, 12))})m.fp.compare(${type},${n},${m},false,${(insn >>> 4) & 1 ? 'true' : 'false'});else m.setNzcv(${nzcv});`);
    }
    default:
      if ((insn & 0x1fe0) === 0x1000) return body(`m.fp.moveImmediate(${type},${d},${bits(insn, 20, 13)});`);
      return undefined;
  }
}

/** SCVTF/UCVTF/FCVTZS/FCVTZU (scalar, fixed-point): sf 0 0 11110 type 0 rmode opcode scale Rn Rd. */
function fixedPointConvert(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const type = bits(insn, 23, 22);
  const rmode = bits(insn, 20, 19);
  const opcode = bits(insn, 18, 16);
  const scale = bits(insn, 15, 10);
  const d = insn & 31;
  const n = bits(insn, 9, 5);
  const fbits = 64 - scale;
  if (type > 1 || (!sf && scale < 32)) return undefined;
  const width = sf ? 64 : 32;
  if (rmode === 0 && (opcode === 2 || opcode === 3)) return body(`m.fp.fromInteger(${type},${d},${X(n)},${opcode === 2},${width},${fbits});`);
  if (rmode === 3 && (opcode === 0 || opcode === 1)) {
    const v = `m.fp.toInteger(${type},${n},3,${opcode === 0},${width},${fbits})`;
    return body(sf ? setX(d, v) : setW(d, `Number(${v})`));
  }
  return undefined;
}

function generalConvert(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const type = bits(insn, 23, 22);
  const rmode = bits(insn, 20, 19);
  const opcode = bits(insn, 18, 16);
  const d = insn & 31;
  const n = bits(insn, 9, 5);
  const bitsN = sf ? 64 : 32;
  if (opcode === 6 || opcode === 7) {
    // FMOV between general and FP registers
    if (rmode === 1 && type === 2 && sf) {
      return body(opcode === 6 ? setX(d, `r[${V(n) + 1}]`) : `r[${V(d) + 1}]=${X(n)};`);
    }
    if (rmode !== 0 || (sf ? type !== 1 : type !== 0)) return undefined;
    if (opcode === 6) return body(sf ? setX(d, `r[${V(n)}]`) : setW(d, `r32[${2 * V(n)}]`));
    return body(sf ? `r[${V(d)}]=${X(n)};r[${V(d) + 1}]=0n;` : `r32[${2 * V(d)}]=${W(n)};r32[${2 * V(d) + 1}]=0;r[${V(d) + 1}]=0n;`);
  }
  if (type > 1) return undefined;
  if (rmode === 0 && (opcode === 2 || opcode === 3)) {
    return body(`m.fp.fromInteger(${type},${d},${X(n)},${opcode === 2},${bitsN});`);
  }
  // FCVT{N,P,M,Z}{S,U} (rmode 0..3 with opcode 0/1) and FCVTA{S,U} (rmode 0, opcode 4/5)
  let round: number;
  if (opcode === 0 || opcode === 1) round = rmode;
  else if (rmode === 0 && (opcode === 4 || opcode === 5)) round = 4;
  else return undefined;
  const signed = (opcode & 1) === 0;
  const v = `m.fp.toInteger(${type},${n},${round},${signed},${bitsN})`;
  return body(sf ? setX(d, v) : setW(d, `Number(${v}&0xffffffffn)`));
}

// --- SIMD loads and stores ------------------------------------------------------------------------

export function translateSimdLoadStore(insn: number, site: Site): Emitted | undefined {
  if ((insn & 0xbf9f0000) >>> 0 === 0x0d000000 || (insn & 0xbf800000) >>> 0 === 0x0d800000) return singleStructure(insn, site);
  // LD1-LD4/ST1-ST4 (multiple structures), no offset or post-index: 0 Q 0011000 L 000000 opcode size Rn Rt
  const post = (insn & 0xbfa00000) >>> 0 === 0x0c800000;
  if ((insn & 0xbfbf0000) >>> 0 !== 0x0c000000 && !post) return undefined;
  const q = (insn >>> 30) & 1;
  const load = (insn >>> 22) & 1;
  const opcode = bits(insn, 15, 12);
  const size = bits(insn, 11, 10);
  const n = bits(insn, 9, 5);
  const t = insn & 31;
  const k = site.k;
  const regsByOpcode: Record<number, number> = { 7: 1, 10: 2, 6: 3, 2: 4 };
  const selemByOpcode: Record<number, number> = { 8: 2, 4: 3, 0: 4 };
  const count = regsByOpcode[opcode];
  const selem = selemByOpcode[opcode];
  let code = `s[3]=r[${n}];`;
  let bytes: number;
  if (count !== undefined) {
    // LD1/ST1 of whole registers: straight 64-bit transfers.
    for (let i = 0; i < count; i++) {
      const v = V((t + i) % 32);
      if (load) code += `m.ld64(${Reg.Tmp0},${k});s[3]=s[3]+8n;` + (q ? `m.ld64(${v + 1},${k});s[3]=s[3]+8n;` : `r[${v + 1}]=0n;`) + `r[${v}]=r[${Reg.Tmp0}];`;
      else code += `m.st64(${v},${k});s[3]=s[3]+8n;` + (q ? `m.st64(${v + 1},${k});s[3]=s[3]+8n;` : '');
    }
    bytes = count * (q ? 16 : 8);
  } else if (selem !== undefined) {
    // LD2-LD4/ST2-ST4: the interleaved bytes pass through the structure scratch (all loads before any register changes).
    if (size === 3 && !q) return undefined;
    bytes = selem * (q ? 16 : 8);
    const chunks = bytes / 8;
    if (load) {
      for (let i = 0; i < chunks; i++) code += `m.ld64(${Reg.StructTmp + i},${k});s[3]=s[3]+8n;`;
      code += `m.simd.deinterleave(${t},${selem},${8 << size},${q});`;
    } else {
      code += `m.simd.interleave(${t},${selem},${8 << size},${q});`;
      for (let i = 0; i < chunks; i++) code += `m.st64(${Reg.StructTmp + i},${k});s[3]=s[3]+8n;`;
    }
  } else return undefined;
  if (post) {
    const m = bits(insn, 20, 16);
    code += m === 31 ? `r[${n}]=r[${n}]+${bytes}n;` : `r[${n}]=r[${n}]+r[${m}];`;
  }
  return body(code);
}

/** The core's load/store helper for an element of `bytes` bytes. */
const ACCESS: Record<number, [string, string]> = { 1: ['ld8', 'st8'], 2: ['ld16', 'st16'], 4: ['ld32', 'st32'], 8: ['ld64', 'st64'] };

/**
 * LD1-LD4 / ST1-ST4 (single structure: one lane of 1-4 consecutive registers) and LD1R-LD4R
 * (load and replicate): 0 Q 0011010 L R 00000 opcode S size Rn Rt, or 0011011 with Rm (post-index).
 */
function singleStructure(insn: number, site: Site): Emitted | undefined {
  const q = (insn >>> 30) & 1;
  const load = (insn >>> 22) & 1;
  const r = (insn >>> 21) & 1;
  const opcode = bits(insn, 15, 13);
  const s = (insn >>> 12) & 1;
  const size = bits(insn, 11, 10);
  const n = bits(insn, 9, 5);
  const t = insn & 31;
  const post = (insn >>> 23) & 1;
  const selem = (((opcode & 1) << 1) | r) + 1;
  let scale = opcode >> 1;
  let index = 0;
  let replicate = false;
  switch (scale) {
    case 0: index = (q << 3) | (s << 2) | size; break;
    case 1: if (size & 1) return undefined; index = (q << 2) | (s << 1) | (size >> 1); break;
    case 2:
      if (size & 2) return undefined;
      if (size & 1) {
        if (s) return undefined;
        scale = 3;
        index = q;
      } else index = (q << 1) | s;
      break;
    default:
      if (!load || s) return undefined;
      scale = size;
      replicate = true;
  }
  const ebytes = 1 << scale;
  const esize = 8 * ebytes;
  const k = site.k;
  const [ld, st] = ACCESS[ebytes]!;
  let code = '';
  for (let e = 0; e < selem; e++) {
    const v = (t + e) % 32;
    code += `s[3]=r[${n}]+${e * ebytes}n;`;
    if (!load) code += `r[${Reg.Tmp0}]=m.simd.lane(${v},${index},${esize});m.${st}(${Reg.Tmp0},${k});`;
    else if (replicate) code += `m.${ld}(${Reg.Tmp0},${k});m.simd.dupGeneral(r[${Reg.Tmp0}],${esize},${q},${v});`;
    else code += `m.${ld}(${Reg.Tmp0},${k});m.simd.insert(${v},${index},${esize},r[${Reg.Tmp0}]);`;
  }
  if (post) {
    const m = bits(insn, 20, 16);
    code += m === 31 ? `r[${n}]=r[${n}]+${selem * ebytes}n;` : `r[${n}]=r[${n}]+r[${m}];`;
  }
  return body(code);
}
