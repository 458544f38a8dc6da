import {
  add, classify, compare, convert, D, div, fma, fromInt, infBits, isNaN_, Kind, mul, NV, RDN, RNE, RTZ, RUP, S, sqrt,
  toInt, unpack, zeroBits, type Format, type Unpacked,
} from '../soft-float.js';

/**
 * The F/D instructions that are not loads or stores (Reference Manual vol. 1, chapter 3), on the
 * shared exact soft-float. FCSR0 holds Enables[4:0], RM[9:8], Flags[20:16] and Cause[28:24]; an
 * arithmetic instruction sets Cause to the exceptions it raised, and either traps (FPE) when one of
 * them is enabled or accumulates them into Flags. The manual leaves the upper half of a register
 * written with a single-precision or word result undefined; this core writes what QEMU's LA464
 * does: single results NaN-boxed (frint.s and fclass excepted), word integers sign-extended.
 */
export interface FpHost {
  readonly x: BigUint64Array;
  readonly fb: BigUint64Array;
  /** Condition flags FCC0..7 (0 or 1). */
  readonly fcc: Uint8Array;
  fcsr: number;
}

export const enum FpResult { Ok, Illegal, Exception }

/** LoongArch RM (RNE, RZ, RP, RM) to the soft-float's rounding modes. */
const ROUNDING = [RNE, RTZ, RUP, RDN];
const BOX = 0xffffffff00000000n;
const fl = { v: 0 };

/** FCSR views movgr2fcsr/movfcsr2gr address as fcsr0..fcsr3. */
export const FCSR_MASKS = [0x1f1f031f, 0x1f, 0x1f1f0000, 0x300];

const readF = (h: FpHost, r: number, f: Format): bigint => (f === S ? h.fb[r]! & 0xffffffffn : h.fb[r]!);
const writeF = (h: FpHost, r: number, f: Format, bits: bigint): void => {
  h.fb[r] = f === S ? BOX | bits : bits;
};
const writeX = (h: FpHost, r: number, v: bigint): void => {
  if (r !== 0) h.x[r] = BigInt.asUintN(64, v);
};

/** Ends an arithmetic instruction: Cause, then FPE or Flags. */
function finish(h: FpHost, flags: number): FpResult {
  h.fcsr = (h.fcsr & ~(0x1f << 24)) | (flags << 24);
  if ((flags & h.fcsr & 0x1f) !== 0) return FpResult.Exception;
  h.fcsr |= flags << 16;
  return FpResult.Ok;
}

function minMaxNum(a: Unpacked, b: Unpacked, ab: bigint, bb: bigint, f: Format, max: boolean, byMagnitude: boolean): bigint {
  if (a.kind === Kind.SNaN || b.kind === Kind.SNaN) { fl.v |= NV; return f.canonicalNaN; }
  if (isNaN_(a) && isNaN_(b)) return f.canonicalNaN;
  if (isNaN_(a)) return bb;
  if (isNaN_(b)) return ab;
  let c: number;
  if (byMagnitude) {
    c = compare({ ...a, sign: false }, { ...b, sign: false });
    if (c === 0) c = compare(a, b);
  } else {
    c = compare(a, b);
  }
  if (c === 0) return a.sign === b.sign ? ab : (max ? (a.sign ? bb : ab) : (a.sign ? ab : bb));
  return (c < 0) === max ? bb : ab;
}

/** fclass bits: sNaN, qNaN, then -inf, -normal, -subnormal, -zero, +inf, +normal, +subnormal, +zero. */
function loongClass(u: Unpacked, f: Format): number {
  const c = classify(u, f); // riscv order: -inf -norm -sub -0 +0 +sub +norm +inf sNaN qNaN
  const map: Array<[number, number]> = [[0, 2], [1, 3], [2, 4], [3, 5], [4, 9], [5, 8], [6, 7], [7, 6], [8, 0], [9, 1]];
  for (const [from, to] of map) if (c === 1 << from) return 1 << to;
  return 0;
}

/** Integer result of ftint*: NaN gives 0, out of range saturates, as the LA464 does. */
function ftint(u: Unpacked, bits: 32 | 64, rm: number): bigint {
  const v = toInt(u, bits, true, rm, fl);
  return isNaN_(u) ? 0n : v;
}

function roundToIntegral(u: Unpacked, f: Format, rm: number, bits: bigint): bigint {
  if (isNaN_(u)) { if (u.kind === Kind.SNaN) fl.v |= NV; return f.canonicalNaN; }
  if (u.kind !== Kind.Finite || u.exp >= 0) return bits;
  const sh = -u.exp;
  const kept = sh > 200 ? 0n : u.sig >> BigInt(sh);
  const rem = sh > 200 ? u.sig : u.sig & ((1n << BigInt(sh)) - 1n);
  if (rem === 0n) return bits;
  fl.v |= 1;
  const half = sh > 200 ? 0n : 1n << BigInt(sh - 1);
  let up: boolean;
  switch (rm) {
    case RNE: up = sh <= 200 && (rem > half || (rem === half && (kept & 1n) === 1n)); break;
    case RUP: up = !u.sign; break;
    case RDN: up = u.sign; break;
    default: up = false;
  }
  const mag = kept + (up ? 1n : 0n);
  if (mag === 0n) return zeroBits(f, u.sign);
  const flags = fl.v;
  const r = fromInt(u.sign ? -mag : mag, f, RNE, fl);
  fl.v = flags;
  return r;
}

/** Executes one FP instruction other than loads/stores; EUEN.FPE is checked by the caller. */
export function executeFp(h: FpHost, inst: number): FpResult {
  const u = inst >>> 0;
  const fd = u & 31, fj = (u >>> 5) & 31, fk = (u >>> 10) & 31, fa = (u >>> 15) & 31;
  const rm = ROUNDING[(h.fcsr >>> 8) & 3]!;
  fl.v = 0;
  const top8 = u >>> 24;
  if (top8 === 0x08) {
    // fmadd/fmsub/fnmadd/fnmsub .s/.d: 0000 1000 nnff
    const sel = (u >>> 20) & 0xf;
    const f = (sel & 3) === 1 ? S : (sel & 3) === 2 ? D : undefined;
    if (f === undefined) return FpResult.Illegal;
    const negProduct = (sel & 8) !== 0, subtract = (sel & 4) !== 0;
    // The negations are applied before rounding, so directed rounding sees the final sign.
    const a0 = unpack(readF(h, fj, f), f), b = unpack(readF(h, fk, f), f);
    const c0 = unpack(readF(h, fa, f), f);
    const a = negProduct && !isNaN_(a0) ? { ...a0, sign: !a0.sign } : a0;
    const c = subtract !== negProduct && !isNaN_(c0) ? { ...c0, sign: !c0.sign } : c0;
    writeF(h, fd, f, fma(a, b, c, f, rm, fl));
    return finish(h, fl.v);
  }
  if ((u >>> 20) === 0x0c1 || (u >>> 20) === 0x0c2) {
    // fcmp.cond.s/d cd, fj, fk
    if (((u >>> 3) & 3) !== 0) return FpResult.Illegal;
    const f = (u >>> 20) === 0x0c1 ? S : D;
    const cond = (u >>> 15) & 31;
    if ((cond >> 1) & ~0xf || [9, 11, 13, 14, 15].includes(cond >> 1)) return FpResult.Illegal;
    const a = unpack(readF(h, fj, f), f), b = unpack(readF(h, fk, f), f);
    const un = isNaN_(a) || isNaN_(b);
    if (a.kind === Kind.SNaN || b.kind === Kind.SNaN || (un && (cond & 1) !== 0)) fl.v |= NV;
    const c = un ? 2 : compare(a, b);
    const p = cond >> 1;
    const result = ((p & 1) !== 0 && c === -1) || ((p & 2) !== 0 && c === 0) || ((p & 4) !== 0 && un) || ((p & 8) !== 0 && (c === -1 || c === 1));
    const res = finish(h, fl.v);
    if (res === FpResult.Ok) h.fcc[u & 7] = result ? 1 : 0;
    return res;
  }
  if ((u >>> 18) === 0x340) {
    // fsel fd, fj, fk, ca
    h.fb[fd] = h.fcc[(u >>> 15) & 7] ? h.fb[fk]! : h.fb[fj]!;
    return FpResult.Ok;
  }
  const major = u >>> 15; // 0000 00010000 ooooo (arithmetic) or 0000 00010001 ooooo (the rest)
  const fOf = (bit: number): Format | undefined => (bit === 1 ? S : bit === 2 ? D : undefined);
  if ((major >>> 5) === 0x10) {
    // Three-operand arithmetic: 0000 00010000 ooooo, low 2 bits of ooooo select s/d.
    const minor = major & 31;
    const f = fOf(minor & 3);
    if (f === undefined) return FpResult.Illegal;
    const ab = readF(h, fj, f), bb = readF(h, fk, f);
    const a = unpack(ab, f), b = unpack(bb, f);
    let r: bigint;
    switch (minor >> 2) {
      case 0: r = add(a, b, f, rm, fl); break;
      case 1: r = add(a, { ...b, sign: b.kind === Kind.QNaN || b.kind === Kind.SNaN ? b.sign : !b.sign }, f, rm, fl); break;
      case 2: r = mul(a, b, f, rm, fl); break;
      case 3: r = div(a, b, f, rm, fl); break;
      case 4: r = minMaxNum(a, b, ab, bb, f, true, false); break;
      case 5: r = minMaxNum(a, b, ab, bb, f, false, false); break;
      case 6: r = minMaxNum(a, b, ab, bb, f, true, true); break;
      case 7: r = minMaxNum(a, b, ab, bb, f, false, true); break;
      default: return FpResult.Illegal;
    }
    writeF(h, fd, f, r);
    return finish(h, fl.v);
  }
  if ((major >>> 5) !== 0x11) return FpResult.Illegal;
  const sub = (u >>> 10) & 31;
  const row = major & 0x7ff;
  switch (row) {
    case 0x221: case 0x222: { // fscaleb.s/d
      const f = row === 0x221 ? S : D;
      const a = unpack(readF(h, fj, f), f);
      const n = Number(BigInt.asIntN(f === S ? 32 : 64, readF(h, fk, f)));
      if (isNaN_(a)) { writeF(h, fd, f, convert(a, f, rm, fl)); return finish(h, fl.v); }
      const scaled = a.kind === Kind.Finite ? convert({ ...a, exp: a.exp + Math.max(-4000, Math.min(4000, n)) }, f, rm, fl) : readF(h, fj, f);
      writeF(h, fd, f, scaled);
      return finish(h, fl.v);
    }
    case 0x225: case 0x226: { // fcopysign.s/d
      const f = row === 0x225 ? S : D;
      const sign = infBits(f, true) ^ infBits(f, false);
      writeF(h, fd, f, (readF(h, fj, f) & ~sign) | (readF(h, fk, f) & sign));
      return FpResult.Ok;
    }
    case 0x228: return unary(h, sub, fd, fj, rm);
    case 0x229: return move(h, sub, fd, fj);
    case 0x232: case 0x234: case 0x235: case 0x236: case 0x23a: case 0x23c:
      return conversion(h, row, sub, fd, fj, rm);
    default:
      return FpResult.Illegal;
  }
}

/** 0000 00010001 01000 sssss: fabs, fneg, flogb, fclass, fsqrt, frecip, frsqrt. */
function unary(h: FpHost, sub: number, fd: number, fj: number, rm: number): FpResult {
  const f = (sub & 3) === 1 ? S : (sub & 3) === 2 ? D : undefined;
  if (f === undefined) return FpResult.Illegal;
  const bits = readF(h, fj, f);
  const a = unpack(bits, f);
  const sign = infBits(f, true) ^ infBits(f, false);
  const one = unpack(f === S ? 0x3f800000n : 0x3ff0000000000000n, f);
  switch (sub >> 2) {
    case 0: writeF(h, fd, f, bits & ~sign); return FpResult.Ok; // fabs
    case 1: writeF(h, fd, f, bits ^ sign); return FpResult.Ok; // fneg
    case 2: { // flogb
      let r: bigint;
      if (isNaN_(a)) r = convert(a, f, rm, fl);
      else if (a.kind === Kind.Inf) r = infBits(f, false);
      else if (a.kind === Kind.Zero) { fl.v |= 8; r = infBits(f, true); }
      else if (a.sign) { fl.v |= NV; r = f.canonicalNaN; }
      else r = fromInt(BigInt(a.exp + a.sig.toString(2).length - 1), f, rm, fl);
      writeF(h, fd, f, r);
      return finish(h, fl.v);
    }
    case 3: h.fb[fd] = BigInt(loongClass(a, f)); return FpResult.Ok; // fclass: a plain integer
    case 4: writeF(h, fd, f, sqrt(a, f, rm, fl)); return finish(h, fl.v);
    case 5: writeF(h, fd, f, div(one, a, f, rm, fl)); return finish(h, fl.v);
    case 6: writeF(h, fd, f, div(one, unpack(sqrt(a, f, rm, fl), f), f, rm, fl)); return finish(h, fl.v);
    default: return FpResult.Illegal;
  }
}

/** 0000 00010001 01001 sssss: fmov, movgr2fr, movfr2gr, FCSR and FCC moves. */
function move(h: FpHost, sub: number, fd: number, fj: number): FpResult {
  const rd = fd, rj = fj;
  switch (sub) {
    case 0x05: h.fb[fd] = BOX | (h.fb[fj]! & 0xffffffffn); return FpResult.Ok; // fmov.s
    case 0x06: h.fb[fd] = h.fb[fj]!; return FpResult.Ok; // fmov.d
    case 0x09: h.fb[fd] = (h.fb[fd]! & BOX) | (h.x[rj]! & 0xffffffffn); return FpResult.Ok; // movgr2fr.w
    case 0x0a: h.fb[fd] = h.x[rj]!; return FpResult.Ok; // movgr2fr.d
    case 0x0b: h.fb[fd] = (h.fb[fd]! & 0xffffffffn) | (h.x[rj]! << 32n); return FpResult.Ok; // movgr2frh.w
    case 0x0d: writeX(h, rd, BigInt.asIntN(32, h.fb[fj]!)); return FpResult.Ok; // movfr2gr.s
    case 0x0e: writeX(h, rd, h.fb[fj]!); return FpResult.Ok; // movfr2gr.d
    case 0x0f: writeX(h, rd, BigInt.asIntN(32, h.fb[fj]! >> 32n)); return FpResult.Ok; // movfrh2gr.s
    case 0x10: { // movgr2fcsr fcsrN, rj
      if (fd > 3) return FpResult.Illegal;
      const m = FCSR_MASKS[fd]!;
      h.fcsr = (h.fcsr & ~m) | (Number(h.x[rj]! & 0xffffffffn) & m);
      return FpResult.Ok;
    }
    case 0x12: { // movfcsr2gr rd, fcsrN
      if (fj > 3) return FpResult.Illegal;
      writeX(h, rd, BigInt(h.fcsr & FCSR_MASKS[fj]!));
      return FpResult.Ok;
    }
    case 0x14: h.fcc[fd & 7] = Number(h.fb[fj]! & 1n); return FpResult.Ok; // movfr2cf
    case 0x15: h.fb[fd] = BigInt(h.fcc[fj & 7]!); return FpResult.Ok; // movcf2fr
    case 0x16: h.fcc[fd & 7] = Number(h.x[rj]! & 1n); return FpResult.Ok; // movgr2cf
    case 0x17: writeX(h, rd, BigInt(h.fcc[fj & 7]!)); return FpResult.Ok; // movcf2gr
    default: return FpResult.Illegal;
  }
}

/** fcvt, ftint*, ffint*, frint. */
function conversion(h: FpHost, row: number, sub: number, fd: number, fj: number, rm: number): FpResult {
  if (row === 0x232) {
    if (sub === 0x06) writeF(h, fd, S, convert(unpack(h.fb[fj]!, D), S, rm, fl)); // fcvt.s.d
    else if (sub === 0x09) writeF(h, fd, D, convert(unpack(h.fb[fj]! & 0xffffffffn, S), D, rm, fl)); // fcvt.d.s
    else return FpResult.Illegal;
    return finish(h, fl.v);
  }
  if (row === 0x23a) { // ffint
    const map: Record<number, [Format, 32 | 64]> = { 0x04: [S, 32], 0x06: [S, 64], 0x08: [D, 32], 0x0a: [D, 64] };
    const m = map[sub];
    if (m === undefined) return FpResult.Illegal;
    const v = m[1] === 32 ? BigInt.asIntN(32, h.fb[fj]!) : BigInt.asIntN(64, h.fb[fj]!);
    writeF(h, fd, m[0], fromInt(v, m[0], rm, fl));
    return finish(h, fl.v);
  }
  if (row === 0x23c) { // frint
    const f = sub === 0x11 ? S : sub === 0x12 ? D : undefined;
    if (f === undefined) return FpResult.Illegal;
    const bits = readF(h, fj, f);
    h.fb[fd] = roundToIntegral(unpack(bits, f), f, rm, bits); // not NaN-boxed, even for frint.s
    return finish(h, fl.v);
  }
  // ftint: row 0x234 rm (RDN), 0x234|upper rp; 0x235 rz / rne; 0x236 current mode.
  const from = (sub & 3) === 1 ? S : (sub & 3) === 2 ? D : undefined;
  const to: 32 | 64 | undefined = (sub & 0xc) === 0 ? 32 : (sub & 0xc) === 8 ? 64 : undefined;
  if (from === undefined || to === undefined) return FpResult.Illegal;
  const upper = (sub & 0x10) !== 0;
  let mode: number;
  if (row === 0x234) mode = upper ? RUP : RDN;
  else if (row === 0x235) mode = upper ? RNE : RTZ;
  else if (!upper) mode = rm;
  else return FpResult.Illegal;
  const v = ftint(unpack(readF(h, fj, from), from), to, mode);
  h.fb[fd] = BigInt.asUintN(64, v); // a word result is sign-extended, not NaN-boxed
  return finish(h, fl.v);
}
