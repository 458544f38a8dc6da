/**
 * Floating point (half, single, double) over the V registers, scalar and per vector lane:
 * arithmetic, fused multiply-add, compare, min/max, conversions and FMOV, rounded per FPCR.RMode
 * with FPSR's IOC/DZC/OFC/UFC/IXC accumulated and FPCR.DN/FZ honoured.
 *
 * Lanes are addressed by their 32-bit word index in the register file (a double lane spans two
 * words). Double-precision FADD/FSUB/FMUL/FDIV/FSQRT take a fast path: the JS (round-to-nearest)
 * result plus the sign of its exact error (two-sum / Dekker two-product), which gives the IXC flag
 * and the one-ulp correction for a directed rounding mode. Everything that path cannot prove
 * (singles, halves, results near underflow or overflow, FMA, NaNs) goes through fp-round.ts.
 */
import { Reg } from './registers.js';
import {
  bitLength, defaultNaNBits, DOUBLE, exactProduct, exactSum, FpClass, fpcrRounding, FPCR_DN, FPCR_FZ, FPSR_DZC,
  FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC, HALF, infinityBits, quotient, Rounding, roundToFormat, roundToInteger, SINGLE, squareRoot,
  unpack, zeroBits, type FpFormat, type Unpacked,
} from './fp-round.js';

/** What the unit needs from the core: the flags and FPCR/FPSR. */
export interface FpCore {
  n: number;
  z: number;
  c: number;
  v: number;
  fpcr: number;
  fpsr: number;
  readonly r: BigUint64Array;
}

/** Two-operand operations (scalar opcode order, then vector-only ones). */
export const enum FpOp {
  Mul = 0, Div = 1, Add = 2, Sub = 3, Max = 4, Min = 5, MaxNum = 6, MinNum = 7, NegMul = 8,
  MulX = 9, AbsDiff = 10,
}

/** Lane compares producing an all-ones/zero mask. */
export const enum FpCompare {
  Eq = 0, Ge = 1, Gt = 2, AbsGe = 3, AbsGt = 4, Le = 5, Lt = 6,
}

/** type: 0 single, 1 double, 3 half (the A64 `ftype` field). */
const formatOf = (type: number): FpFormat => (type === 1 ? DOUBLE : type === 0 ? SINGLE : HALF);

/** Word index of lane 0 of Vn. */
export const vword = (n: number): number => 2 * (Reg.V0 + 2 * n);

const MIN_FAST = 2 ** -960;
const MAX_FAST = 2 ** 990;
const SPLITTER = 134217729; // 2^27 + 1

export class FpUnit {
  private readonly f64: Float64Array;
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly u64: BigUint64Array;
  /** Scratch for stepping a double by one ulp without BigInt. */
  private readonly sf = new Float64Array(1);
  private readonly su = new Uint32Array(this.sf.buffer);
  /** Sign of the exact error of the last fast-path result (exact − computed): -1, 0 or 1. */
  private errSign = 0;

  constructor(private readonly core: FpCore) {
    const b = core.r.buffer;
    this.f64 = new Float64Array(b);
    this.f32 = new Float32Array(b);
    this.u32 = new Uint32Array(b);
    this.u16 = new Uint16Array(b);
    this.u64 = core.r;
  }

  // --- register and lane access -----------------------------------------------------------------

  /** Value of Sn/Dn (type 0 = single, 1 = double). */
  read(type: number, n: number): number {
    return type ? this.f64[vword(n) >> 1]! : this.f32[vword(n)]!;
  }

  /** Raw bits of the lane at word w. */
  private bitsAt(type: number, w: number): bigint {
    if (type === 1) return this.u64[w >> 1]!;
    if (type === 0) return BigInt(this.u32[w]!);
    return BigInt(this.u16[2 * w]!);
  }

  private setBits(type: number, w: number, bits: bigint): void {
    if (type === 1) this.u64[w >> 1] = bits;
    else if (type === 0) this.u32[w] = Number(bits);
    else this.u16[2 * w] = Number(bits);
  }

  /** Zeroes Vd above its scalar element of `type`. */
  private clearAbove(type: number, d: number): void {
    const w = vword(d);
    if (type === 0) this.u32[w + 1] = 0;
    else if (type === 3) {
      this.u16[2 * w + 1] = 0;
      this.u32[w + 1] = 0;
    }
    this.u64[(w >> 1) + 1] = 0n;
  }

  /** Zeroes the upper 64 bits of Vd (vector forms with Q = 0). */
  clearHigh(d: number): void {
    this.u64[(vword(d) >> 1) + 1] = 0n;
  }

  private isNaNBits(type: number, w: number): boolean {
    const f = formatOf(type);
    const b = this.bitsAt(type, w);
    const expMask = ((1n << BigInt(f.exponent)) - 1n) << BigInt(f.fraction);
    return (b & expMask) === expMask && (b & ((1n << BigInt(f.fraction)) - 1n)) !== 0n;
  }

  private isSignalling(type: number, w: number): boolean {
    const f = formatOf(type);
    return this.isNaNBits(type, w) && ((this.bitsAt(type, w) >> BigInt(f.fraction - 1)) & 1n) === 0n;
  }

  private laneIsNaN(type: number, w: number): boolean {
    if (type === 1) return Number.isNaN(this.f64[w >> 1]);
    return this.isNaNBits(type, w);
  }

  private invalid(): void {
    this.core.fpsr |= FPSR_IOC;
  }

  private get mode(): Rounding {
    return fpcrRounding(this.core.fpcr);
  }

  /** ARM FPProcessNaNs: the first signalling NaN operand, else the first quiet one, made quiet (or the default NaN with FPCR.DN). */
  private propagateNaN(type: number, dw: number, a: number, b = -1, c = -1): void {
    let pick = -1;
    for (const w of [a, b, c]) if (w >= 0 && this.isSignalling(type, w)) { pick = w; break; }
    if (pick >= 0) this.invalid();
    else for (const w of [a, b, c]) if (w >= 0 && this.isNaNBits(type, w)) { pick = w; break; }
    const f = formatOf(type);
    const out = this.core.fpcr & FPCR_DN ? defaultNaNBits(f) : this.bitsAt(type, pick) | (1n << BigInt(f.fraction - 1));
    this.setBits(type, dw, out);
  }

  private defaultNaN(type: number, dw: number): void {
    this.invalid();
    this.setBits(type, dw, defaultNaNBits(formatOf(type)));
  }

  private unpackAt(type: number, w: number): Unpacked {
    return unpack(this.bitsAt(type, w), formatOf(type), this.core);
  }

  /** Rounds an exact result into the lane; an exact zero takes `zeroSign`. */
  private store(type: number, dw: number, v: Unpacked, zeroSign: number): void {
    const f = formatOf(type);
    if (v.cls === FpClass.Zero) this.setBits(type, dw, zeroBits(zeroSign, f));
    else this.setBits(type, dw, roundToFormat(v.sign, v.mantissa, v.exp, f, this.mode, this.core));
  }

  // --- the double-precision fast path -------------------------------------------------------------

  private static split(x: number): number {
    const c = SPLITTER * x;
    return c - (c - x);
  }

  /** Exact error of the product p = fl(a × b) (valid away from overflow and underflow). */
  private static productError(a: number, b: number, p: number): number {
    const ah = FpUnit.split(a), al = a - ah;
    const bh = FpUnit.split(b), bl = b - bh;
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  }

  /** Applies the error sign to a round-to-nearest result for the current mode; notes IXC. */
  private directed(v: number): number {
    const s = this.errSign;
    if (s === 0) return v;
    this.core.fpsr |= FPSR_IXC;
    const mode = this.mode;
    if (mode === Rounding.Nearest) return v;
    // Move one ulp away from zero (up) or towards it (down), as the mode and error direction say.
    let away: boolean;
    if (mode === Rounding.PlusInf) { if (s < 0) return v; away = v > 0; }
    else if (mode === Rounding.MinusInf) { if (s > 0) return v; away = v < 0; }
    else { if ((s > 0) === (v > 0)) return v; away = false; }
    this.sf[0] = v;
    const su = this.su;
    if (away) {
      su[0] = (su[0]! + 1) >>> 0;
      if (su[0] === 0) su[1] = su[1]! + 1;
    } else {
      if (su[0] === 0) su[1] = su[1]! - 1;
      su[0] = (su[0]! - 1) >>> 0;
    }
    return this.sf[0]!;
  }

  /** FADD/FSUB/FMUL/FDIV/FNMUL on doubles when every value is normal and far from the limits. */
  private fastDouble(op: number, a: number, b: number): number | undefined {
    if (this.core.fpcr & FPCR_FZ) return undefined;
    const ma = Math.abs(a), mb = Math.abs(b);
    let v: number;
    switch (op) {
      case FpOp.Add: case FpOp.Sub: {
        if (!(ma <= MAX_FAST && mb <= MAX_FAST)) return undefined;
        const y = op === FpOp.Add ? b : -b;
        v = a + y;
        if (v === 0) return undefined; // the sign of an exact zero depends on the mode
        const bb = v - a;
        const err = (a - (v - bb)) + (y - bb);
        this.errSign = err > 0 ? 1 : err < 0 ? -1 : 0;
        return this.directed(v);
      }
      case FpOp.Mul: case FpOp.NegMul: {
        v = a * b;
        const mv = Math.abs(v);
        if (!(ma <= MAX_FAST && mb <= MAX_FAST && mv >= MIN_FAST && mv <= MAX_FAST)) return undefined;
        const err = FpUnit.productError(a, b, v);
        this.errSign = err > 0 ? 1 : err < 0 ? -1 : 0;
        v = this.directed(v);
        return op === FpOp.NegMul ? -v : v;
      }
      case FpOp.Div: {
        v = a / b;
        const mv = Math.abs(v);
        if (!(ma >= MIN_FAST && ma <= MAX_FAST && mb >= MIN_FAST && mb <= MAX_FAST && mv >= MIN_FAST && mv <= MAX_FAST)) return undefined;
        // a − v·b exactly: v·b = p + e, a − p is exact (Sterbenz), its sign then that of the quotient error.
        const p = v * b;
        const rem = (a - p) - FpUnit.productError(v, b, p);
        const s = rem > 0 ? 1 : rem < 0 ? -1 : 0;
        this.errSign = b < 0 ? -s : s;
        return this.directed(v);
      }
      default: return undefined;
    }
  }

  private fastSqrt(a: number): number | undefined {
    if (this.core.fpcr & FPCR_FZ || !(a >= MIN_FAST && a <= MAX_FAST)) return undefined;
    const v = Math.sqrt(a);
    const p = v * v;
    const rem = (a - p) - FpUnit.productError(v, v, p);
    this.errSign = rem > 0 ? 1 : rem < 0 ? -1 : 0;
    return this.directed(v);
  }

  // --- lane operations ------------------------------------------------------------------------------

  /** One lane of a two-operand operation: Vd[dw] = op(Vn[aw], Vm[bw]). */
  laneArith(op: FpOp, type: number, dw: number, aw: number, bw: number): void {
    if (type === 1) {
      const a = this.f64[aw >> 1]!, b = this.f64[bw >> 1]!;
      const v = this.fastDouble(op, a, b);
      if (v !== undefined) {
        this.f64[dw >> 1] = v;
        return;
      }
    }
    const aNaN = this.laneIsNaN(type, aw), bNaN = this.laneIsNaN(type, bw);
    if (aNaN || bNaN) {
      // FMAXNM/FMINNM: a quiet NaN against a number gives the number.
      if ((op === FpOp.MaxNum || op === FpOp.MinNum) && aNaN !== bNaN && !this.isSignalling(type, aNaN ? aw : bw)) {
        this.setBits(type, dw, this.bitsAt(type, aNaN ? bw : aw));
        return;
      }
      this.propagateNaN(type, dw, aw, bw);
      // FABD takes the absolute value of whatever FSUB gave, FNMUL negates what FMUL gave: NaNs included.
      if (op === FpOp.AbsDiff) this.laneSign(type, dw, dw, false);
      else if (op === FpOp.NegMul) this.laneSign(type, dw, dw, true);
      return;
    }
    const f = formatOf(type);
    const a = this.unpackAt(type, aw);
    let b = this.unpackAt(type, bw);
    const aInf = a.cls === FpClass.Infinity, bInf = b.cls === FpClass.Infinity;
    const aZero = a.cls === FpClass.Zero, bZero = b.cls === FpClass.Zero;
    switch (op) {
      case FpOp.Max: case FpOp.Min: case FpOp.MaxNum: case FpOp.MinNum: {
        const cmp = compareUnpacked(a, b);
        const max = op === FpOp.Max || op === FpOp.MaxNum;
        let takeA: boolean;
        if (cmp === 0) takeA = max ? a.sign === 0 : a.sign === 1; // ±0: max is +0, min is -0
        else takeA = max ? cmp > 0 : cmp < 0;
        // FZ may have flushed an input: write the (flushed) value, not the raw operand.
        const pick = takeA ? a : b;
        if (pick.cls === FpClass.Zero) this.setBits(type, dw, zeroBits(pick.sign, f));
        else this.setBits(type, dw, this.bitsAt(type, takeA ? aw : bw));
        return;
      }
      case FpOp.Add: case FpOp.Sub: case FpOp.AbsDiff: {
        if (op !== FpOp.Add) b = { ...b, sign: b.sign ^ 1 };
        let sign: number;
        if (aInf || bInf) {
          if (aInf && bInf && a.sign !== b.sign) return this.defaultNaN(type, dw);
          sign = aInf ? a.sign : b.sign;
          this.setBits(type, dw, infinityBits(op === FpOp.AbsDiff ? 0 : sign, f));
          return;
        }
        const s = exactSum(a, b);
        const zeroSign = aZero && bZero && a.sign === b.sign ? a.sign : this.mode === Rounding.MinusInf ? 1 : 0;
        this.store(type, dw, s, zeroSign);
        // FABD: the absolute value of the rounded difference.
        if (op === FpOp.AbsDiff) this.setBits(type, dw, this.bitsAt(type, dw) & ((1n << BigInt(f.width - 1)) - 1n));
        return;
      }
      case FpOp.Mul: case FpOp.NegMul: case FpOp.MulX: {
        const sign = a.sign ^ b.sign ^ (op === FpOp.NegMul ? 1 : 0);
        if ((aInf && bZero) || (aZero && bInf)) {
          if (op === FpOp.MulX) this.setBits(type, dw, (BigInt(sign) << BigInt(f.width - 1)) | (BigInt((1 << (f.exponent - 1))) << BigInt(f.fraction))); // ±2.0
          else this.defaultNaN(type, dw);
          if (op === FpOp.NegMul) this.laneSign(type, dw, dw, true);
          return;
        }
        if (aInf || bInf) {
          this.setBits(type, dw, infinityBits(sign, f));
          return;
        }
        const p = exactProduct(a, b);
        if (op === FpOp.NegMul && p.cls === FpClass.Finite) {
          // FNMUL negates the rounded product.
          const bits = roundToFormat(p.sign, p.mantissa, p.exp, f, this.mode, this.core);
          this.setBits(type, dw, bits ^ (1n << BigInt(f.width - 1)));
          return;
        }
        this.store(type, dw, p, sign);
        return;
      }
      case FpOp.Div: {
        const sign = a.sign ^ b.sign;
        if ((aInf && bInf) || (aZero && bZero)) return this.defaultNaN(type, dw);
        if (aInf || bZero) {
          if (!aInf) this.core.fpsr |= FPSR_DZC;
          this.setBits(type, dw, infinityBits(sign, f));
          return;
        }
        if (bInf || aZero) {
          this.setBits(type, dw, zeroBits(sign, f));
          return;
        }
        this.store(type, dw, quotient(a, b), sign);
        return;
      }
    }
  }

  /**
   * One lane of a fused multiply-add: Vd[dw] = acc + n × m exactly rounded once, with the operands
   * negated first as FMSUB (n), FNMADD (acc, n) and FNMSUB (acc) say.
   */
  laneFused(negAcc: boolean, negProduct: boolean, type: number, dw: number, nw: number, mw: number, aw: number): void {
    const f = formatOf(type);
    const signBit = 1n << BigInt(f.width - 1);
    // The negations flip sign bits before anything else (NaNs included), as the ARM pseudocode does.
    const accBits = this.bitsAt(type, aw) ^ (negAcc ? signBit : 0n);
    const nBits = this.bitsAt(type, nw) ^ (negProduct ? signBit : 0n);
    const mBits = this.bitsAt(type, mw);
    const acc = unpack(accBits, f, this.core);
    const x = unpack(nBits, f, this.core);
    const y = unpack(mBits, f, this.core);
    const isNaN = (u: Unpacked) => u.cls === FpClass.QuietNaN || u.cls === FpClass.SignallingNaN;
    const infTimesZero = (x.cls === FpClass.Infinity && y.cls === FpClass.Zero) || (x.cls === FpClass.Zero && y.cls === FpClass.Infinity);
    if (isNaN(acc) || isNaN(x) || isNaN(y)) {
      if (acc.cls === FpClass.QuietNaN && infTimesZero) return this.defaultNaN(type, dw);
      let pick: bigint | undefined;
      for (const [u, b] of [[acc, accBits], [x, nBits], [y, mBits]] as const) if (u.cls === FpClass.SignallingNaN) { pick = b; break; }
      if (pick !== undefined) this.invalid();
      else for (const [u, b] of [[acc, accBits], [x, nBits], [y, mBits]] as const) if (u.cls === FpClass.QuietNaN) { pick = b; break; }
      this.setBits(type, dw, this.core.fpcr & FPCR_DN ? defaultNaNBits(f) : pick! | (1n << BigInt(f.fraction - 1)));
      return;
    }
    if (infTimesZero) return this.defaultNaN(type, dw);
    const productInf = x.cls === FpClass.Infinity || y.cls === FpClass.Infinity;
    const productSign = x.sign ^ y.sign;
    if (productInf || acc.cls === FpClass.Infinity) {
      if (productInf && acc.cls === FpClass.Infinity && productSign !== acc.sign) return this.defaultNaN(type, dw);
      this.setBits(type, dw, infinityBits(productInf ? productSign : acc.sign, f));
      return;
    }
    const p = exactProduct(x, y);
    const s = exactSum(acc, p);
    const zeroSign = acc.cls === FpClass.Zero && p.cls === FpClass.Zero && acc.sign === p.sign ? acc.sign : this.mode === Rounding.MinusInf ? 1 : 0;
    this.store(type, dw, s, zeroSign);
  }

  /**
   * FRECPS (rsqrt false: 2 − n × m) and FRSQRTS (rsqrt true: (3 − n × m) / 2), fused and rounded
   * once; ∞ × 0 gives exactly 2.0 / 1.5 without raising Invalid.
   */
  laneStep(rsqrt: boolean, type: number, dw: number, aw: number, bw: number): void {
    const f = formatOf(type);
    const signBit = 1n << BigInt(f.width - 1);
    const aBits = this.bitsAt(type, aw) ^ signBit; // operand 1 negated first, NaNs included
    const x = unpack(aBits, f, this.core);
    const y = this.unpackAt(type, bw);
    const nan = (u: Unpacked) => u.cls === FpClass.QuietNaN || u.cls === FpClass.SignallingNaN;
    if (nan(x) || nan(y)) {
      const pick = x.cls === FpClass.SignallingNaN ? aBits : y.cls === FpClass.SignallingNaN ? this.bitsAt(type, bw) : nan(x) ? aBits : this.bitsAt(type, bw);
      if (x.cls === FpClass.SignallingNaN || y.cls === FpClass.SignallingNaN) this.invalid();
      this.setBits(type, dw, this.core.fpcr & FPCR_DN ? defaultNaNBits(f) : pick | (1n << BigInt(f.fraction - 1)));
      return;
    }
    const constant: Unpacked = { cls: FpClass.Finite, sign: 0, mantissa: rsqrt ? 3n : 1n, exp: rsqrt ? -1 : 1 }; // 1.5 or 2
    const xInf = x.cls === FpClass.Infinity, yInf = y.cls === FpClass.Infinity;
    if ((xInf && y.cls === FpClass.Zero) || (x.cls === FpClass.Zero && yInf)) {
      this.setBits(type, dw, roundToFormat(0, constant.mantissa, constant.exp, f, Rounding.Nearest, { fpsr: 0, fpcr: 0 }));
      return;
    }
    if (xInf || yInf) return this.setBits(type, dw, infinityBits(x.sign ^ y.sign, f));
    const addend: Unpacked = rsqrt ? { ...constant, mantissa: 3n, exp: 0 } : constant;
    const s = exactSum(addend, exactProduct(x, y));
    if (rsqrt && s.cls === FpClass.Finite) s.exp -= 1; // the halving is exact before the one rounding
    this.store(type, dw, s, this.mode === Rounding.MinusInf ? 1 : 0);
  }

  /**
   * FRECPE (rsqrt false) and FRSQRTE (rsqrt true) of one single/double lane: the ARM ARM's 8-bit
   * estimates, exponent and special cases included.
   */
  laneEstimate(rsqrt: boolean, type: number, dw: number, aw: number): void {
    const f = formatOf(type);
    if (this.laneIsNaN(type, aw)) return this.propagateNaN(type, dw, aw);
    const a = this.unpackAt(type, aw);
    const bits = this.bitsAt(type, aw);
    const F = BigInt(f.fraction);
    if (a.cls === FpClass.Zero) {
      this.core.fpsr |= FPSR_DZC;
      return this.setBits(type, dw, infinityBits(a.sign, f));
    }
    if (rsqrt && a.sign) return this.defaultNaN(type, dw);
    if (a.cls === FpClass.Infinity) return this.setBits(type, dw, zeroBits(rsqrt ? 0 : a.sign, f));
    // The fraction as 52 bits (singles padded), and the biased exponent.
    let fraction = (bits & ((1n << F) - 1n)) << (52n - F);
    let exp = Number((bits >> F) & ((1n << BigInt(f.exponent)) - 1n));
    const top = 1n << 51n;
    const mask52 = (1n << 52n) - 1n;
    let estimate: number;
    let resultExp: number;
    if (!rsqrt) {
      const tinyLimit = type ? -1024 : -128;
      const magnitudeTop = a.exp + bitLength(a.mantissa); // |a| < 2^magnitudeTop
      if (magnitudeTop <= tinyLimit) {
        const mode = this.mode;
        const toInf = mode === Rounding.Nearest || (mode === Rounding.PlusInf && a.sign === 0) || (mode === Rounding.MinusInf && a.sign === 1);
        this.core.fpsr |= FPSR_OFC | FPSR_IXC;
        return this.setBits(type, dw, toInf ? infinityBits(a.sign, f) : infinityBits(a.sign, f) - 1n);
      }
      if (this.core.fpcr & FPCR_FZ && magnitudeTop > (type ? 1022 : 126)) {
        this.core.fpsr |= FPSR_UFC;
        return this.setBits(type, dw, zeroBits(a.sign, f));
      }
      if (exp === 0) {
        if ((fraction & top) === 0n) {
          exp = -1;
          fraction = (fraction << 2n) & mask52;
        } else fraction = (fraction << 1n) & mask52;
      }
      const scaled = Number((1n << 8n) | (fraction >> 44n));
      resultExp = (type ? 2045 : 253) - exp;
      estimate = recipEstimate(scaled);
    } else {
      if (exp === 0) {
        while ((fraction & top) === 0n) {
          fraction = (fraction << 1n) & mask52;
          exp -= 1;
        }
        fraction = (fraction << 1n) & mask52;
      }
      const scaled = (exp & 1) === 0 ? Number((1n << 8n) | (fraction >> 44n)) : Number((1n << 7n) | (fraction >> 45n));
      resultExp = Math.floor(((type ? 3068 : 380) - exp) / 2);
      estimate = rsqrtEstimate(scaled);
    }
    let out = BigInt(estimate & 0xff) << 44n; // 52-bit fraction
    if (resultExp === 0) out = (1n << 51n) | (out >> 1n);
    else if (resultExp === -1) {
      out = (1n << 50n) | (out >> 2n);
      resultExp = 0;
    }
    const sign = rsqrt ? 0 : a.sign;
    this.setBits(type, dw, (BigInt(sign) << BigInt(f.width - 1)) | (BigInt(resultExp) << F) | (out >> (52n - F)));
  }

  /** FRECPX: the sign and inverted exponent of one lane, fraction zero (NaNs propagate, zero/subnormal → max exponent). */
  laneRecipExponent(type: number, dw: number, aw: number): void {
    if (this.laneIsNaN(type, aw)) return this.propagateNaN(type, dw, aw);
    const f = formatOf(type);
    const bits = this.bitsAt(type, aw);
    const F = BigInt(f.fraction);
    const expMask = (1n << BigInt(f.exponent)) - 1n;
    const exp = (bits >> F) & expMask;
    this.unpackAt(type, aw); // FPCR.FZ notes IDC for a subnormal input
    const outExp = exp === 0n ? expMask - 1n : exp ^ expMask;
    this.setBits(type, dw, (bits & (1n << BigInt(f.width - 1))) | (outExp << F));
  }

  /** FSQRT of one lane. */
  laneSqrt(type: number, dw: number, aw: number): void {
    if (type === 1) {
      const v = this.fastSqrt(this.f64[aw >> 1]!);
      if (v !== undefined) {
        this.f64[dw >> 1] = v;
        return;
      }
    }
    if (this.laneIsNaN(type, aw)) return this.propagateNaN(type, dw, aw);
    const a = this.unpackAt(type, aw);
    const f = formatOf(type);
    if (a.cls === FpClass.Zero) return this.setBits(type, dw, zeroBits(a.sign, f));
    if (a.sign) return this.defaultNaN(type, dw);
    if (a.cls === FpClass.Infinity) return this.setBits(type, dw, infinityBits(0, f));
    this.store(type, dw, squareRoot(a), 0);
  }

  /** FRINT* of one lane: rmode 0 N, 1 P, 2 M, 3 Z, 4 A; `exact` (FRINTX) raises IXC when it changed the value. */
  laneRoundIntegral(type: number, dw: number, aw: number, rmode: number, exact: boolean): void {
    if (this.laneIsNaN(type, aw)) return this.propagateNaN(type, dw, aw);
    const a = this.unpackAt(type, aw);
    const f = formatOf(type);
    if (a.cls === FpClass.Infinity) return this.setBits(type, dw, infinityBits(a.sign, f));
    if (a.cls === FpClass.Zero) return this.setBits(type, dw, zeroBits(a.sign, f));
    const { value, inexact } = roundToInteger(a, rmode);
    if (inexact && exact) this.core.fpsr |= FPSR_IXC;
    if (value === 0n) return this.setBits(type, dw, zeroBits(a.sign, f));
    const mag = value < 0n ? -value : value;
    this.setBits(type, dw, roundToFormat(a.sign, mag, 0, f, Rounding.Nearest, { fpsr: 0, fpcr: 0 }));
  }

  /** FABS / FNEG of one lane (sign bit only, NaNs untouched otherwise). */
  laneSign(type: number, dw: number, aw: number, negate: boolean): void {
    const f = formatOf(type);
    const bit = 1n << BigInt(f.width - 1);
    const b = this.bitsAt(type, aw);
    this.setBits(type, dw, negate ? b ^ bit : b & ~bit);
  }

  /** Lane compare to an all-ones / zero mask; `zero` compares against +0.0. */
  laneCompare(kind: FpCompare, type: number, dw: number, aw: number, bw: number, zero: boolean): void {
    const f = formatOf(type);
    const aNaN = this.laneIsNaN(type, aw), bNaN = !zero && this.laneIsNaN(type, bw);
    let result = false;
    if (aNaN || bNaN) {
      // EQ signals only for signalling NaNs; the ordered compares for any NaN.
      if (kind !== FpCompare.Eq || this.isSignalling(type, aw) || (!zero && this.isSignalling(type, bw))) this.invalid();
    } else {
      let a = this.unpackAt(type, aw);
      let b: Unpacked = zero ? { cls: FpClass.Zero, sign: 0, mantissa: 0n, exp: 0 } : this.unpackAt(type, bw);
      if (kind === FpCompare.AbsGe || kind === FpCompare.AbsGt) {
        a = { ...a, sign: 0 };
        b = { ...b, sign: 0 };
      }
      const c = compareUnpacked(a, b);
      switch (kind) {
        case FpCompare.Eq: result = c === 0; break;
        case FpCompare.Ge: case FpCompare.AbsGe: result = c >= 0; break;
        case FpCompare.Gt: case FpCompare.AbsGt: result = c > 0; break;
        case FpCompare.Le: result = c <= 0; break;
        default: result = c < 0;
      }
    }
    this.setBits(type, dw, result ? (1n << BigInt(f.width)) - 1n : 0n);
  }

  /** SCVTF/UCVTF of an integer (already sign- or zero-extended to a BigInt) with `fbits` fraction bits. */
  laneFromInteger(type: number, dw: number, x: bigint, fbits: number): void {
    if (type === 1 && fbits === 0 && x <= 0x20000000000000n && x >= -0x20000000000000n) {
      this.f64[dw >> 1] = Number(x); // exact
      return;
    }
    const f = formatOf(type);
    if (x === 0n) return this.setBits(type, dw, zeroBits(0, f));
    const neg = x < 0n;
    this.setBits(type, dw, roundToFormat(neg ? 1 : 0, neg ? -x : x, -fbits, f, this.mode, this.core));
  }

  /**
   * FCVT*S/U to an integer of `bits` bits with `fbits` fraction bits: rounding 0 N, 1 P, 2 M, 3 Z,
   * 4 A; saturating (IOC), NaN → 0 (IOC), IXC when inexact. Returns the two's-complement bits.
   */
  laneToInteger(type: number, aw: number, rmode: number, signed: boolean, bits: number, fbits: number): bigint {
    if (this.laneIsNaN(type, aw)) {
      this.invalid();
      return 0n;
    }
    const a = this.unpackAt(type, aw);
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
    let v: bigint;
    let inexact = false;
    if (a.cls === FpClass.Infinity) v = a.sign ? min - 1n : max + 1n;
    else {
      const r = roundToInteger(a.cls === FpClass.Finite ? { ...a, exp: a.exp + fbits } : a, rmode);
      v = r.value;
      inexact = r.inexact;
    }
    if (v > max || v < min) {
      this.invalid();
      v = v > max ? max : min;
    } else if (inexact) this.core.fpsr |= FPSR_IXC;
    return BigInt.asUintN(bits, v);
  }

  /** FCVT between precisions for one lane (from/to: 0 single, 1 double, 3 half); mode defaults to FPCR's. */
  laneConvert(from: number, to: number, dw: number, aw: number, mode: Rounding = this.mode): void {
    const src = formatOf(from), dst = formatOf(to);
    const a = this.unpackAt(from, aw);
    switch (a.cls) {
      case FpClass.QuietNaN: case FpClass.SignallingNaN: {
        if (a.cls === FpClass.SignallingNaN) this.invalid();
        if (this.core.fpcr & FPCR_DN) return this.setBits(to, dw, defaultNaNBits(dst));
        // Keep the sign and the top of the payload, quietened.
        const shift = dst.fraction - src.fraction;
        const payload = shift >= 0 ? a.mantissa << BigInt(shift) : a.mantissa >> BigInt(-shift);
        return this.setBits(to, dw, infinityBits(a.sign, dst) | payload | (1n << BigInt(dst.fraction - 1)));
      }
      case FpClass.Infinity: return this.setBits(to, dw, infinityBits(a.sign, dst));
      case FpClass.Zero: return this.setBits(to, dw, zeroBits(a.sign, dst));
      default: this.setBits(to, dw, roundToFormat(a.sign, a.mantissa, a.exp, dst, mode, this.core));
    }
  }

  // --- scalar instructions -------------------------------------------------------------------------

  /** FMUL FDIV FADD FSUB FMAX FMIN FMAXNM FMINNM FNMUL (opcode 0..8). */
  dp2(op: number, type: number, d: number, n: number, m: number): void {
    this.laneArith(op, type, vword(d), vword(n), vword(m));
    this.clearAbove(type, d);
  }

  /** FMADD FMSUB FNMADD FNMSUB (o1:o0): fused, rounded once. */
  dp3(kind: number, type: number, d: number, n: number, m: number, a: number): void {
    const negAcc = kind === 2 || kind === 3;
    const negProduct = kind === 1 || kind === 2;
    this.laneFused(negAcc, negProduct, type, vword(d), vword(n), vword(m), vword(a));
    this.clearAbove(type, d);
  }

  /** FMOV FABS FNEG FSQRT, FCVT to another precision, FRINT* (opcode bits 20:15); false when unallocated. */
  dp1(op: number, type: number, d: number, n: number): boolean {
    const dw = vword(d), nw = vword(n);
    if (type === 3 && op !== 4 && op !== 5) return false; // half precision: conversions only
    switch (op) {
      case 0: this.setBits(type, dw, this.bitsAt(type, nw)); break;
      case 1: this.laneSign(type, dw, nw, false); break;
      case 2: this.laneSign(type, dw, nw, true); break;
      case 3: this.laneSqrt(type, dw, nw); break;
      case 4: case 5: case 7: {
        const to = op === 4 ? 0 : op === 5 ? 1 : 3;
        if (to === type) return false;
        this.laneConvert(type, to, dw, nw);
        this.clearAbove(to, d);
        return true;
      }
      default:
        if (op >= 8 && op <= 15 && op !== 13) {
          const r = op - 8; // N P M Z A - X I
          const mode = r >= 6 ? this.mode : r;
          this.laneRoundIntegral(type, dw, nw, mode, r === 6);
          break;
        }
        return false;
    }
    this.clearAbove(type, d);
    return true;
  }

  /** FCMP/FCMPE (with #0.0 when zero is set). */
  compare(type: number, n: number, m: number, zero: boolean, signalAll: boolean): void {
    const nw = vword(n), mw = vword(m);
    const c = this.core;
    const aNaN = this.laneIsNaN(type, nw), bNaN = !zero && this.laneIsNaN(type, mw);
    if (aNaN || bNaN) {
      if (signalAll || this.isSignalling(type, nw) || (!zero && this.isSignalling(type, mw))) this.invalid();
      c.n = 0; c.z = 0; c.c = 1; c.v = 1;
      return;
    }
    const a = this.unpackAt(type, nw);
    const b: Unpacked = zero ? { cls: FpClass.Zero, sign: 0, mantissa: 0n, exp: 0 } : this.unpackAt(type, mw);
    const r = compareUnpacked(a, b);
    if (r === 0) { c.n = 0; c.z = 1; c.c = 1; c.v = 0; }
    else if (r < 0) { c.n = 1; c.z = 0; c.c = 0; c.v = 0; }
    else { c.n = 0; c.z = 0; c.c = 1; c.v = 0; }
  }

  select(type: number, d: number, n: number, m: number, cond: boolean): void {
    this.setBits(type, vword(d), this.bitsAt(type, vword(cond ? n : m)));
    this.clearAbove(type, d);
  }

  /** FMOV (immediate): VFPExpandImm of imm8. */
  moveImmediate(type: number, d: number, imm8: number): void {
    const sign = imm8 >> 7 ? -1 : 1;
    const cd = (imm8 >> 4) & 3;
    const e = (imm8 >> 6) & 1 ? cd - 3 : cd + 1;
    const mant = 1 + (imm8 & 15) / 16;
    const v = sign * mant * 2 ** e;
    const w = vword(d);
    if (type === 1) this.f64[w >> 1] = v;
    else this.f32[w] = v;
    this.clearAbove(type, d);
  }

  /** SCVTF/UCVTF from a general register value (fbits > 0: fixed point). */
  fromInteger(type: number, d: number, value: bigint, signed: boolean, bits: number, fbits = 0): void {
    const x = signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
    this.laneFromInteger(type, vword(d), x, fbits);
    this.clearAbove(type, d);
  }

  /** FCVT{N,P,M,Z,A}{S,U} (and fixed-point FCVTZ*): rounding 0 N, 1 P, 2 M, 3 Z, 4 A. */
  toInteger(type: number, n: number, rmode: number, signed: boolean, bits: number, fbits = 0): bigint {
    return this.laneToInteger(type, vword(n), rmode, signed, bits, fbits);
  }
}

/** ARM RecipEstimate: a in [256, 512) (0.5 ≤ x < 1 in 1/512 steps) → 1/x in [256, 512). */
export function recipEstimate(a: number): number {
  const odd = a * 2 + 1;
  const b = Math.floor(2 ** 19 / odd);
  return (b + 1) >> 1;
}

/** ARM RecipSqrtEstimate: a in [128, 512) → 1/sqrt(x) in [256, 512). */
export function rsqrtEstimate(a: number): number {
  const x = a < 256 ? a * 2 + 1 : (((a >> 1) << 1) + 1) * 2;
  let b = 512;
  while (x * (b + 1) * (b + 1) < 2 ** 28) b++;
  return (b + 1) >> 1;
}

/** Orders two non-NaN values: -1, 0, 1 (±0 equal). */
function compareUnpacked(a: Unpacked, b: Unpacked): number {
  const mag = (u: Unpacked): number => (u.cls === FpClass.Zero ? 0 : u.cls === FpClass.Infinity ? 2 : 1);
  const ma = mag(a), mb = mag(b);
  const sa = ma === 0 ? 0 : a.sign ? -1 : 1;
  const sb = mb === 0 ? 0 : b.sign ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  // Same sign, both non-zero: compare magnitudes, then flip for negatives.
  let c: number;
  if (ma !== mb) c = ma < mb ? -1 : 1;
  else if (ma === 2) c = 0;
  else c = compareMagnitude(a, b);
  return sa < 0 ? -c : c;
}

function compareMagnitude(a: Unpacked, b: Unpacked): number {
  const ta = a.exp + bitLength(a.mantissa), tb = b.exp + bitLength(b.mantissa);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const e = Math.min(a.exp, b.exp);
  const x = a.mantissa << BigInt(a.exp - e), y = b.mantissa << BigInt(b.exp - e);
  return x < y ? -1 : x > y ? 1 : 0;
}
