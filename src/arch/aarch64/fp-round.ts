/**
 * Exact floating-point arithmetic for the cases JS doubles cannot do: directed rounding, single and
 * half precision, fused multiply-add, and the IEEE flags. Values are unpacked from their bits into
 * sign × mantissa (BigInt) × 2^exponent, combined exactly, then rounded once by `roundToFormat`,
 * which follows the ARM ARM's FPRound (tininess before rounding, overflow by rounding mode). This is
 * the slow path: FpUnit takes it only when its double-precision fast path cannot prove the answer.
 */

export const FPSR_IOC = 1;
export const FPSR_DZC = 2;
export const FPSR_OFC = 4;
export const FPSR_UFC = 8;
export const FPSR_IXC = 16;
export const FPSR_IDC = 128;
export const FPSR_QC = 1 << 27;

/** FPCR fields the arithmetic reads. */
export const FPCR_DN = 1 << 25;
export const FPCR_FZ = 1 << 24;
export const fpcrRounding = (fpcr: number): number => (fpcr >>> 22) & 3;

/** Rounding modes: FPCR.RMode values 0..3, then ties-away (FCVTA*, FRINTA) and round-to-odd (FCVTXN). */
export const enum Rounding {
  Nearest = 0,
  PlusInf = 1,
  MinusInf = 2,
  Zero = 3,
  TiesAway = 4,
  Odd = 5,
}

/** An IEEE binary format: F fraction bits, E exponent bits. */
export interface FpFormat {
  readonly fraction: number;
  readonly exponent: number;
  readonly width: number;
}

export const HALF: FpFormat = { fraction: 10, exponent: 5, width: 16 };
export const SINGLE: FpFormat = { fraction: 23, exponent: 8, width: 32 };
export const DOUBLE: FpFormat = { fraction: 52, exponent: 11, width: 64 };

export const enum FpClass {
  Zero,
  Finite,
  Infinity,
  QuietNaN,
  SignallingNaN,
}

/** An unpacked value: for Finite, (-1)^sign × mantissa × 2^exp exactly (mantissa > 0). */
export interface Unpacked {
  cls: FpClass;
  sign: number;
  mantissa: bigint;
  exp: number;
}

/** Where the flags accumulate (the core's FPSR) and the controls (FPCR). */
export interface FpEnvironment {
  fpsr: number;
  readonly fpcr: number;
}

const bias = (f: FpFormat): number => (1 << (f.exponent - 1)) - 1;

/** Unpacks raw bits; with FPCR.FZ a subnormal input reads as zero and sets IDC (not for half precision). */
export function unpack(bits: bigint, f: FpFormat, env: FpEnvironment): Unpacked {
  const F = BigInt(f.fraction);
  const sign = Number((bits >> BigInt(f.width - 1)) & 1n);
  const e = Number((bits >> F) & ((1n << BigInt(f.exponent)) - 1n));
  const frac = bits & ((1n << F) - 1n);
  const maxE = (1 << f.exponent) - 1;
  if (e === maxE) {
    if (frac === 0n) return { cls: FpClass.Infinity, sign, mantissa: 0n, exp: 0 };
    const quiet = (frac >> (F - 1n)) & 1n;
    return { cls: quiet ? FpClass.QuietNaN : FpClass.SignallingNaN, sign, mantissa: frac, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { cls: FpClass.Zero, sign, mantissa: 0n, exp: 0 };
    if (f !== HALF && (env.fpcr & FPCR_FZ) !== 0) {
      env.fpsr |= FPSR_IDC;
      return { cls: FpClass.Zero, sign, mantissa: 0n, exp: 0 };
    }
    return { cls: FpClass.Finite, sign, mantissa: frac, exp: 1 - bias(f) - f.fraction };
  }
  return { cls: FpClass.Finite, sign, mantissa: frac | (1n << F), exp: e - bias(f) - f.fraction };
}

export const infinityBits = (sign: number, f: FpFormat): bigint =>
  (BigInt(sign) << BigInt(f.width - 1)) | (((1n << BigInt(f.exponent)) - 1n) << BigInt(f.fraction));

export const zeroBits = (sign: number, f: FpFormat): bigint => BigInt(sign) << BigInt(f.width - 1);

export const defaultNaNBits = (f: FpFormat): bigint => infinityBits(0, f) | (1n << BigInt(f.fraction - 1));

const maxNormalBits = (sign: number, f: FpFormat): bigint => infinityBits(sign, f) - 1n;

export function bitLength(v: bigint): number {
  // Hex length gives the bit length within 4; refine from the top digit.
  const hex = v.toString(16);
  const top = parseInt(hex[0]!, 16);
  return 4 * (hex.length - 1) + (32 - Math.clz32(top));
}

/**
 * ARM FPRound of (-1)^sign × mantissa × 2^exp (mantissa > 0, exact) to format f under `mode`,
 * accumulating UFC/OFC/IXC into env.fpsr. FPCR.FZ flushes tiny results to zero (UFC only).
 */
export function roundToFormat(sign: number, mantissa: bigint, exp: number, f: FpFormat, mode: Rounding, env: FpEnvironment): bigint {
  const F = f.fraction;
  const minExp = 1 - bias(f);
  const top = exp + bitLength(mantissa) - 1; // exponent of the leading bit
  if (top < minExp && f !== HALF && (env.fpcr & FPCR_FZ) !== 0) {
    env.fpsr |= FPSR_UFC;
    return zeroBits(sign, f);
  }
  const tiny = top < minExp;
  const lsb = (tiny ? minExp : top) - F; // exponent of the result's last place
  const shift = lsb - exp;
  let intMant: bigint;
  /** 0 exact, 1 below half an ulp, 2 exactly half, 3 above half. */
  let error = 0;
  if (shift > 0) {
    const s = BigInt(shift);
    intMant = mantissa >> s;
    const rest = mantissa & ((1n << s) - 1n);
    if (rest !== 0n) {
      const half = 1n << (s - 1n);
      error = rest < half ? 1 : rest === half ? 2 : 3;
    }
  } else {
    intMant = mantissa << BigInt(-shift);
  }
  if (tiny && error !== 0) env.fpsr |= FPSR_UFC;
  let roundUp: boolean;
  let overflowToInf: boolean;
  switch (mode) {
    case Rounding.Nearest:
      roundUp = error === 3 || (error === 2 && (intMant & 1n) === 1n);
      overflowToInf = true;
      break;
    case Rounding.TiesAway:
      roundUp = error >= 2;
      overflowToInf = true;
      break;
    case Rounding.PlusInf:
      roundUp = error !== 0 && sign === 0;
      overflowToInf = sign === 0;
      break;
    case Rounding.MinusInf:
      roundUp = error !== 0 && sign === 1;
      overflowToInf = sign === 1;
      break;
    default:
      roundUp = false;
      overflowToInf = false;
  }
  if (roundUp) intMant += 1n;
  else if (mode === Rounding.Odd && error !== 0) intMant |= 1n;
  // Subnormal: the field is intMant itself (a carry into 2^F makes it the smallest normal).
  // Normal: biased exponent above the fraction; a carry to 2^(F+1) bumps the exponent.
  let biased = tiny ? 0 : top + bias(f);
  if (!tiny && intMant === 1n << BigInt(F + 1)) {
    intMant >>= 1n;
    biased++;
  }
  if (biased >= (1 << f.exponent) - 1) {
    env.fpsr |= FPSR_OFC | FPSR_IXC;
    return overflowToInf ? infinityBits(sign, f) : maxNormalBits(sign, f);
  }
  if (error !== 0) env.fpsr |= FPSR_IXC;
  const field = tiny ? intMant : (BigInt(biased) << BigInt(F)) | (intMant & ((1n << BigInt(F)) - 1n));
  return (BigInt(sign) << BigInt(f.width - 1)) | field;
}

/** Exact sum of two finite-or-zero unpacked values as (sign, mantissa, exp); mantissa 0 for an exact zero. */
export function exactSum(a: Unpacked, b: Unpacked): Unpacked {
  if (a.cls === FpClass.Zero) return b;
  if (b.cls === FpClass.Zero) return a;
  const e = Math.min(a.exp, b.exp);
  const ma = a.mantissa << BigInt(a.exp - e);
  const mb = b.mantissa << BigInt(b.exp - e);
  const s = (a.sign ? -ma : ma) + (b.sign ? -mb : mb);
  if (s === 0n) return { cls: FpClass.Zero, sign: 0, mantissa: 0n, exp: 0 };
  return { cls: FpClass.Finite, sign: s < 0n ? 1 : 0, mantissa: s < 0n ? -s : s, exp: e };
}

/** Exact product of two finite-or-zero values. */
export function exactProduct(a: Unpacked, b: Unpacked): Unpacked {
  const sign = a.sign ^ b.sign;
  if (a.cls === FpClass.Zero || b.cls === FpClass.Zero) return { cls: FpClass.Zero, sign, mantissa: 0n, exp: 0 };
  return { cls: FpClass.Finite, sign, mantissa: a.mantissa * b.mantissa, exp: a.exp + b.exp };
}

/** a / b (both finite, b non-zero) with enough quotient bits for any format and a sticky bit. */
export function quotient(a: Unpacked, b: Unpacked): Unpacked {
  const sign = a.sign ^ b.sign;
  if (a.cls === FpClass.Zero) return { cls: FpClass.Zero, sign, mantissa: 0n, exp: 0 };
  const k = Math.max(0, 60 + bitLength(b.mantissa) - bitLength(a.mantissa));
  const num = a.mantissa << BigInt(k);
  const q = num / b.mantissa;
  const sticky = num % b.mantissa !== 0n ? 1n : 0n;
  return { cls: FpClass.Finite, sign, mantissa: (q << 1n) | sticky, exp: a.exp - b.exp - k - 1 };
}

/** Square root of a positive finite value, with enough bits and a sticky bit. */
export function squareRoot(a: Unpacked): Unpacked {
  let m = a.mantissa;
  let e = a.exp;
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  const k = Math.max(0, 60 - (bitLength(m) >> 1));
  m <<= BigInt(2 * k);
  const s = isqrt(m);
  const sticky = s * s !== m ? 1n : 0n;
  return { cls: FpClass.Finite, sign: 0, mantissa: (s << 1n) | sticky, exp: e / 2 - k - 1 };
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * Rounds a finite value to an integer (FRINT*, FCVT*): returns the integer as a BigInt with the
 * value's sign, and whether it differed from the value.
 */
export function roundToInteger(v: Unpacked, mode: Rounding): { value: bigint; inexact: boolean } {
  if (v.cls === FpClass.Zero) return { value: 0n, inexact: false };
  if (v.exp >= 0) {
    const x = v.mantissa << BigInt(v.exp);
    return { value: v.sign ? -x : x, inexact: false };
  }
  const s = BigInt(-v.exp);
  let int = v.mantissa >> s;
  const rest = v.mantissa & ((1n << s) - 1n);
  if (rest === 0n) return { value: v.sign ? -int : int, inexact: false };
  const half = 1n << (s - 1n);
  let up: boolean;
  switch (mode) {
    case Rounding.Nearest: up = rest > half || (rest === half && (int & 1n) === 1n); break;
    case Rounding.TiesAway: up = rest >= half; break;
    case Rounding.PlusInf: up = v.sign === 0; break;
    case Rounding.MinusInf: up = v.sign === 1; break;
    case Rounding.Odd: up = (int & 1n) === 0n; break;
    default: up = false;
  }
  if (up) int += 1n;
  return { value: v.sign ? -int : int, inexact: true };
}
