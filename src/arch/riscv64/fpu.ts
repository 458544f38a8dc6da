/**
 * F and D: an exact soft-float on BigInt (every result is computed exactly, or with a sticky bit,
 * then rounded once), so all five rounding modes, the five flags, tininess after rounding, canonical
 * NaNs and NaN boxing follow the RISC-V spec. FP is off the interpreter's hot path.
 */

import {
  add, classify, compare, convert, D, div, DZ, fma, fromInt, infBits, isNaN_, Kind, minMax, mul, NV, NX, OF, RDN, RMM, RNE,
  RTZ, RUP, S, signBit, sqrt, toInt, UF, unpack, zeroBits, type Format, type Unpacked,
} from '../soft-float.js';

/** What the F/D executor needs from the hart. */
export interface FpState {
  readonly x: BigUint64Array;
  readonly fb: BigUint64Array;
  fflags: number;
  frm: number;
  markFpDirty(): void;
}

const BOX = 0xffffffff00000000n;

/** The single-precision bits of an F register: a value not NaN-boxed reads as the canonical NaN. */
function readS(h: FpState, r: number): bigint {
  const v = h.fb[r]!;
  return (v & BOX) === BOX ? v & 0xffffffffn : S.canonicalNaN;
}

function readF(h: FpState, r: number, f: Format): bigint {
  return f === S ? readS(h, r) : h.fb[r]!;
}

function writeF(h: FpState, r: number, f: Format, bits: bigint): void {
  h.fb[r] = f === S ? BOX | bits : bits;
  h.markFpDirty();
}

function writeX(h: FpState, r: number, v: bigint): void {
  if (r !== 0) h.x[r] = BigInt.asUintN(64, v);
}

const fl = { v: 0 };

/** Executes one F/D instruction (OP-FP or the fused multiply-adds). Returns false for an illegal encoding. */
export function executeFp(h: FpState, inst: number): boolean {
  const opcode = inst & 0x7f;
  const rd = (inst >> 7) & 31;
  const rmField = (inst >> 12) & 7;
  const rs1 = (inst >> 15) & 31;
  const rs2 = (inst >> 20) & 31;
  const fmt = (inst >>> 25) & 3;
  if (fmt > 1) return false;
  const f = fmt === 0 ? S : D;
  const rm = rmField === 7 ? h.frm : rmField;
  const roundingUsed = (): boolean => rm <= 4;
  fl.v = 0;
  if (opcode !== 0x53) {
    if (!roundingUsed()) return false;
    const rs3 = inst >>> 27;
    const a = unpack(readF(h, rs1, f), f);
    const b = unpack(readF(h, rs2, f), f);
    const c = unpack(readF(h, rs3, f), f);
    const negP = opcode === 0x4b || opcode === 0x4f;
    const negC = opcode === 0x47 || opcode === 0x4f;
    if (negP && !isNaN_(a)) a.sign = !a.sign;
    if (negC && !isNaN_(c)) c.sign = !c.sign;
    writeF(h, rd, f, fma(a, b, c, f, rm, fl));
    h.fflags |= fl.v;
    return true;
  }
  const funct5 = inst >>> 27;
  const ab = readF(h, rs1, f);
  const a = unpack(ab, f);
  switch (funct5) {
    case 0x00: case 0x01: case 0x02: case 0x03: {
      if (!roundingUsed()) return false;
      const bb = readF(h, rs2, f);
      const b = unpack(bb, f);
      let r: bigint;
      if (funct5 === 0) r = add(a, b, f, rm, fl);
      else if (funct5 === 1) {
        if (!isNaN_(b)) b.sign = !b.sign;
        r = add(a, b, f, rm, fl);
      } else if (funct5 === 2) r = mul(a, b, f, rm, fl);
      else r = div(a, b, f, rm, fl);
      writeF(h, rd, f, r);
      break;
    }
    case 0x0b:
      if (rs2 !== 0 || !roundingUsed()) return false;
      writeF(h, rd, f, sqrt(a, f, rm, fl));
      break;
    case 0x04: {
      if (rmField > 2) return false;
      const bb = readF(h, rs2, f);
      const sb = signBit(f);
      const sign = rmField === 0 ? bb & sb : rmField === 1 ? ~bb & sb : (ab ^ bb) & sb;
      writeF(h, rd, f, (ab & ~sb) | sign);
      return true;
    }
    case 0x05: {
      if (rmField > 1) return false;
      const bb = readF(h, rs2, f);
      writeF(h, rd, f, minMax(a, unpack(bb, f), ab, bb, f, rmField === 1, fl));
      break;
    }
    case 0x08: {
      // fcvt.s.d (fmt S, rs2 = 1) or fcvt.d.s (fmt D, rs2 = 0)
      if (!roundingUsed()) return false;
      const from = rs2 === 1 ? D : rs2 === 0 ? S : undefined;
      if (from === undefined || from === f) return false;
      writeF(h, rd, f, convert(unpack(readF(h, rs1, from), from), f, rm, fl));
      break;
    }
    case 0x14: {
      if (rmField > 2) return false;
      const b = unpack(readF(h, rs2, f), f);
      let r = 0n;
      if (isNaN_(a) || isNaN_(b)) {
        if (rmField !== 2 || a.kind === Kind.SNaN || b.kind === Kind.SNaN) fl.v |= NV;
      } else {
        const c = compare(a, b);
        r = (rmField === 2 ? c === 0 : rmField === 1 ? c < 0 : c <= 0) ? 1n : 0n;
      }
      writeX(h, rd, r);
      break;
    }
    case 0x18: {
      if (rs2 > 3 || !roundingUsed()) return false;
      const bits = rs2 < 2 ? 32 : 64;
      const v = toInt(a, bits, (rs2 & 1) === 0, rm, fl);
      writeX(h, rd, bits === 32 ? BigInt.asIntN(32, v) : v);
      break;
    }
    case 0x1a: {
      if (rs2 > 3 || !roundingUsed()) return false;
      const raw = h.x[rs1]! & (rs1 === 0 ? 0n : 0xffffffffffffffffn);
      const v = rs2 === 0 ? BigInt.asIntN(32, raw) : rs2 === 1 ? BigInt.asUintN(32, raw) : rs2 === 2 ? BigInt.asIntN(64, raw) : raw;
      writeF(h, rd, f, fromInt(v, f, rm, fl));
      break;
    }
    case 0x1c:
      if (rs2 !== 0) return false;
      if (rmField === 0) writeX(h, rd, f === S ? BigInt.asIntN(32, h.fb[rs1]! & 0xffffffffn) : h.fb[rs1]!);
      else if (rmField === 1) writeX(h, rd, BigInt(classify(a, f)));
      else return false;
      return true;
    case 0x1e:
      if (rs2 !== 0 || rmField !== 0) return false;
      writeF(h, rd, f, f === S ? h.x[rs1]! & 0xffffffffn : h.x[rs1]!);
      return true;
    default:
      return false;
  }
  if (fl.v !== 0) {
    h.fflags |= fl.v;
    h.markFpDirty();
  }
  return true;
}
