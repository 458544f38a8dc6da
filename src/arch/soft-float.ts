/**
 * IEEE 754 binary32/binary64 arithmetic as an exact soft-float on BigInt: every result is computed
 * exactly (or with a sticky bit) and rounded once, so all rounding modes, the five exception flags,
 * tininess after rounding and default NaNs are exact. Shared by the riscv64 and loongarch64 FPUs,
 * whose flag bits (NV DZ OF UF NX, high to low) and default NaNs agree; they differ in how they name
 * rounding modes and in min/max and NaN-boxing, which stay in their own files.
 */

export const NV = 16, DZ = 8, OF = 4, UF = 2, NX = 1;
export const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;

export interface Format {
  readonly mant: number; // fraction bits
  readonly expBits: number;
  readonly bias: number;
  readonly canonicalNaN: bigint;
}
export const S: Format = { mant: 23, expBits: 8, bias: 127, canonicalNaN: 0x7fc00000n };
export const D: Format = { mant: 52, expBits: 11, bias: 1023, canonicalNaN: 0x7ff8000000000000n };

export const enum Kind { Zero, Finite, Inf, QNaN, SNaN }

/** An unpacked value: for finite numbers value = (-1)^sign * sig * 2^exp exactly. */
export interface Unpacked {
  kind: Kind;
  sign: boolean;
  sig: bigint;
  exp: number;
}

export function unpack(bits: bigint, f: Format): Unpacked {
  const mantMask = (1n << BigInt(f.mant)) - 1n;
  const expMax = (1 << f.expBits) - 1;
  const sign = ((bits >> BigInt(f.mant + f.expBits)) & 1n) === 1n;
  const e = Number((bits >> BigInt(f.mant)) & BigInt(expMax));
  const frac = bits & mantMask;
  if (e === expMax) {
    if (frac === 0n) return { kind: Kind.Inf, sign, sig: 0n, exp: 0 };
    const quiet = ((frac >> BigInt(f.mant - 1)) & 1n) === 1n;
    return { kind: quiet ? Kind.QNaN : Kind.SNaN, sign, sig: 0n, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { kind: Kind.Zero, sign, sig: 0n, exp: 0 };
    return { kind: Kind.Finite, sign, sig: frac, exp: 1 - f.bias - f.mant };
  }
  return { kind: Kind.Finite, sign, sig: frac | (1n << BigInt(f.mant)), exp: e - f.bias - f.mant };
}

export const signBit = (f: Format): bigint => 1n << BigInt(f.mant + f.expBits);
export const infBits = (f: Format, sign: boolean): bigint => (sign ? signBit(f) : 0n) | (BigInt((1 << f.expBits) - 1) << BigInt(f.mant));
export const maxFinite = (f: Format, sign: boolean): bigint => infBits(f, sign) - 1n;
export const zeroBits = (f: Format, sign: boolean): bigint => (sign ? signBit(f) : 0n);

export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Whether to add one unit in the last place when `rem` (of `shift` dropped bits, plus sticky) is cut off. */
export function roundUp(kept: bigint, rem: bigint, shift: number, sticky: boolean, sign: boolean, rm: number): boolean {
  if (rem === 0n && !sticky) return false;
  const half = shift > 0 ? 1n << BigInt(shift - 1) : 0n;
  switch (rm) {
    case RNE:
      if (shift === 0) return false; // only sticky bits below: less than half
      return rem > half || (rem === half && (sticky || (kept & 1n) === 1n));
    case RMM:
      return shift > 0 && rem >= half;
    case RDN: return sign;
    case RUP: return !sign;
    default: return false;
  }
}

/**
 * Rounds (-1)^sign * (sig + sticky·ε) * 2^exp to the format, raising flags. `sticky` means the exact
 * value lies strictly above sig * 2^exp (callers supply enough bits that the cut lies above them).
 */
export function roundPack(sign: boolean, sig: bigint, exp: number, sticky: boolean, f: Format, rm: number, fl: { v: number }): bigint {
  if (sig === 0n) {
    if (!sticky) return zeroBits(f, sign);
    sig = 1n; exp -= 64; // far below the format's range: only sticky matters
  }
  const p = f.mant + 1;
  const emin = 1 - f.bias;
  const msb = exp + bitLength(sig) - 1;
  // Tininess after rounding: round to p bits with an unbounded exponent and see whether it stays below 2^emin.
  let tiny = false;
  if (msb < emin) tiny = true;
  if (msb === emin - 1) {
    const sh = bitLength(sig) - p;
    if (sh > 0) {
      const kept = sig >> BigInt(sh);
      const rem = sig & ((1n << BigInt(sh)) - 1n);
      if (roundUp(kept, rem, sh, sticky, sign, rm) && kept + 1n === 1n << BigInt(p)) tiny = false;
    }
  }
  const q = Math.max(msb - f.mant, emin - f.mant); // exponent of the last kept bit
  const shift = q - exp;
  let kept: bigint;
  let inexact: boolean;
  let qe = q;
  if (shift > 0) {
    kept = sig >> BigInt(shift);
    const rem = sig & ((1n << BigInt(shift)) - 1n);
    inexact = rem !== 0n || sticky;
    if (roundUp(kept, rem, shift, sticky, sign, rm)) kept += 1n;
  } else {
    kept = sig << BigInt(-shift);
    inexact = sticky;
    if (sticky && roundUp(kept, 0n, 0, true, sign, rm)) kept += 1n;
  }
  if (kept === 1n << BigInt(p)) {
    kept >>= 1n;
    qe += 1;
  }
  if (inexact) fl.v |= NX;
  if (tiny && inexact) fl.v |= UF;
  const hidden = 1n << BigInt(f.mant);
  if (kept >= hidden) {
    const biased = qe + f.mant + f.bias;
    if (biased >= (1 << f.expBits) - 1) {
      fl.v |= OF | NX;
      const toInf = rm === RNE || rm === RMM || (rm === RUP && !sign) || (rm === RDN && sign);
      return toInf ? infBits(f, sign) : maxFinite(f, sign);
    }
    return zeroBits(f, sign) | (BigInt(biased) << BigInt(f.mant)) | (kept - hidden);
  }
  return zeroBits(f, sign) | kept;
}

export const isNaN_ = (u: Unpacked): boolean => u.kind === Kind.QNaN || u.kind === Kind.SNaN;

/** Exact signed sum of two finite-or-zero values, rounded once. */
export function addExact(a: Unpacked, b: Unpacked, f: Format, rm: number, fl: { v: number }): bigint {
  if (a.kind === Kind.Zero && b.kind === Kind.Zero) {
    const sign = a.sign === b.sign ? a.sign : rm === RDN;
    return zeroBits(f, sign);
  }
  if (a.kind === Kind.Zero) return roundPack(b.sign, b.sig, b.exp, false, f, rm, fl);
  if (b.kind === Kind.Zero) return roundPack(a.sign, a.sig, a.exp, false, f, rm, fl);
  const e = Math.min(a.exp, b.exp);
  // Keep the alignment shift bounded: a far smaller operand only contributes a sticky bit.
  const limit = Math.max(a.exp + bitLength(a.sig), b.exp + bitLength(b.sig)) - 2 * (f.mant + 4) - 8;
  let sticky = false;
  let av = a, bv = b;
  let base = e;
  if (e < limit) {
    base = limit;
    const squash = (u: Unpacked): Unpacked => {
      if (u.exp >= limit) return u;
      const sh = limit - u.exp;
      const kept = u.sig >> BigInt(sh);
      if ((kept << BigInt(sh)) !== u.sig) sticky = true;
      return { ...u, sig: kept, exp: limit };
    };
    av = squash(a);
    bv = squash(b);
  }
  let sa = av.sig << BigInt(av.exp - base);
  let sb = bv.sig << BigInt(bv.exp - base);
  if (av.sign) sa = -sa;
  if (bv.sign) sb = -sb;
  // The squashed operand's lost bits move the value slightly toward that operand's sign: model as
  // one extra low bit, doubled so the sum stays exact.
  if (sticky) {
    const small = a.exp + bitLength(a.sig) < b.exp + bitLength(b.sig) ? a : b;
    sa *= 4n; sb *= 4n; base -= 2;
    const tweak = small.sign ? -1n : 1n;
    const sum = sa + sb + tweak;
    return roundPack(sum < 0n, sum < 0n ? -sum : sum, base, false, f, rm, fl);
  }
  const sum = sa + sb;
  if (sum === 0n) return zeroBits(f, rm === RDN);
  return roundPack(sum < 0n, sum < 0n ? -sum : sum, base, false, f, rm, fl);
}

export function nanResult(f: Format, fl: { v: number }, ...xs: Unpacked[]): bigint {
  if (xs.some((u) => u.kind === Kind.SNaN)) fl.v |= NV;
  return f.canonicalNaN;
}

export function add(a: Unpacked, b: Unpacked, f: Format, rm: number, fl: { v: number }): bigint {
  if (isNaN_(a) || isNaN_(b)) return nanResult(f, fl, a, b);
  if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
    if (a.kind === Kind.Inf && b.kind === Kind.Inf && a.sign !== b.sign) { fl.v |= NV; return f.canonicalNaN; }
    return infBits(f, a.kind === Kind.Inf ? a.sign : b.sign);
  }
  return addExact(a, b, f, rm, fl);
}

export function mul(a: Unpacked, b: Unpacked, f: Format, rm: number, fl: { v: number }): bigint {
  if (isNaN_(a) || isNaN_(b)) return nanResult(f, fl, a, b);
  const sign = a.sign !== b.sign;
  if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
    if (a.kind === Kind.Zero || b.kind === Kind.Zero) { fl.v |= NV; return f.canonicalNaN; }
    return infBits(f, sign);
  }
  if (a.kind === Kind.Zero || b.kind === Kind.Zero) return zeroBits(f, sign);
  return roundPack(sign, a.sig * b.sig, a.exp + b.exp, false, f, rm, fl);
}

export function fma(a: Unpacked, b: Unpacked, c: Unpacked, f: Format, rm: number, fl: { v: number }): bigint {
  if (isNaN_(a) || isNaN_(b)) return nanResult(f, fl, a, b, c);
  const psign = a.sign !== b.sign;
  const pInf = a.kind === Kind.Inf || b.kind === Kind.Inf;
  const pZero = a.kind === Kind.Zero || b.kind === Kind.Zero;
  if (pInf && pZero) { fl.v |= NV; return f.canonicalNaN; }
  if (isNaN_(c)) return nanResult(f, fl, c);
  if (pInf) {
    if (c.kind === Kind.Inf && c.sign !== psign) { fl.v |= NV; return f.canonicalNaN; }
    return infBits(f, psign);
  }
  if (c.kind === Kind.Inf) return infBits(f, c.sign);
  const p: Unpacked = pZero ? { kind: Kind.Zero, sign: psign, sig: 0n, exp: 0 } : { kind: Kind.Finite, sign: psign, sig: a.sig * b.sig, exp: a.exp + b.exp };
  return addExact(p, c, f, rm, fl);
}

export function div(a: Unpacked, b: Unpacked, f: Format, rm: number, fl: { v: number }): bigint {
  if (isNaN_(a) || isNaN_(b)) return nanResult(f, fl, a, b);
  const sign = a.sign !== b.sign;
  if (a.kind === Kind.Inf) {
    if (b.kind === Kind.Inf) { fl.v |= NV; return f.canonicalNaN; }
    return infBits(f, sign);
  }
  if (b.kind === Kind.Inf) return zeroBits(f, sign);
  if (b.kind === Kind.Zero) {
    if (a.kind === Kind.Zero) { fl.v |= NV; return f.canonicalNaN; }
    fl.v |= DZ;
    return infBits(f, sign);
  }
  if (a.kind === Kind.Zero) return zeroBits(f, sign);
  const k = Math.max(0, f.mant + 4 + bitLength(b.sig) - bitLength(a.sig));
  const num = a.sig << BigInt(k);
  const quo = num / b.sig;
  return roundPack(sign, quo, a.exp - b.exp - k, quo * b.sig !== num, f, rm, fl);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: Unpacked, f: Format, rm: number, fl: { v: number }): bigint {
  if (isNaN_(a)) return nanResult(f, fl, a);
  if (a.kind === Kind.Zero) return zeroBits(f, a.sign);
  if (a.sign) { fl.v |= NV; return f.canonicalNaN; }
  if (a.kind === Kind.Inf) return infBits(f, false);
  let sig = a.sig;
  let exp = a.exp;
  if (exp & 1) { sig <<= 1n; exp -= 1; }
  const want = 2 * (f.mant + 4);
  const k = Math.max(0, Math.ceil((want - bitLength(sig)) / 2));
  sig <<= BigInt(2 * k);
  const root = isqrt(sig);
  return roundPack(false, root, exp / 2 - k, root * root !== sig, f, rm, fl);
}

/** fmin/fmax: -0 < +0; one NaN gives the other operand; NV for signaling NaNs. */
export function minMax(a: Unpacked, b: Unpacked, ab: bigint, bb: bigint, f: Format, max: boolean, fl: { v: number }): bigint {
  if (a.kind === Kind.SNaN || b.kind === Kind.SNaN) fl.v |= NV;
  if (isNaN_(a) && isNaN_(b)) return f.canonicalNaN;
  if (isNaN_(a)) return bb;
  if (isNaN_(b)) return ab;
  const c = compare(a, b);
  if (c === 0) return a.sign === b.sign ? ab : (max ? (a.sign ? bb : ab) : (a.sign ? ab : bb));
  return (c < 0) === max ? bb : ab;
}

/** Total order of two non-NaN values: -1, 0, 1 (zeros equal). */
export function compare(a: Unpacked, b: Unpacked): number {
  const val = (u: Unpacked): [number, bigint, number] => {
    if (u.kind === Kind.Zero) return [0, 0n, 0];
    const s = u.sign ? -1 : 1;
    if (u.kind === Kind.Inf) return [s * 2, 0n, 0];
    return [s, u.sig, u.exp];
  };
  const [ca, sa, ea] = val(a);
  const [cb, sb, eb] = val(b);
  if (ca !== cb) return ca < cb ? -1 : 1;
  if (Math.abs(ca) !== 1) return 0;
  // Same sign, both finite non-zero: compare magnitudes exactly.
  const e = Math.min(ea, eb);
  const ma = sa << BigInt(ea - e), mb = sb << BigInt(eb - e);
  const mag = ma === mb ? 0 : ma < mb ? -1 : 1;
  return ca < 0 ? -mag : mag;
}

export function classify(u: Unpacked, f: Format): number {
  switch (u.kind) {
    case Kind.Inf: return u.sign ? 1 << 0 : 1 << 7;
    case Kind.Zero: return u.sign ? 1 << 3 : 1 << 4;
    case Kind.SNaN: return 1 << 8;
    case Kind.QNaN: return 1 << 9;
    default: {
      const sub = u.sig < 1n << BigInt(f.mant);
      return u.sign ? (sub ? 1 << 2 : 1 << 1) : (sub ? 1 << 5 : 1 << 6);
    }
  }
}

/** fcvt to an integer type: round, saturate, NV for NaN/out of range, NX when inexact. */
export function toInt(u: Unpacked, bits: 32 | 64, signed: boolean, rm: number, fl: { v: number }): bigint {
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (isNaN_(u)) { fl.v |= NV; return max; }
  if (u.kind === Kind.Inf) { fl.v |= NV; return u.sign ? min : max; }
  if (u.kind === Kind.Zero) return 0n;
  let mag: bigint;
  let inexact = false;
  if (u.exp >= 0) {
    mag = u.exp > 80 ? 1n << 80n : u.sig << BigInt(u.exp);
  } else {
    const sh = -u.exp;
    const kept = sh > 200 ? 0n : u.sig >> BigInt(sh);
    const rem = sh > 200 ? u.sig : u.sig & ((1n << BigInt(sh)) - 1n);
    inexact = rem !== 0n;
    mag = kept;
    if (sh > 200) {
      if (roundUp(0n, 1n, 2, false, u.sign, rm)) mag = 1n; // far below one half
    } else if (roundUp(kept, rem, sh, false, u.sign, rm)) mag += 1n;
  }
  const v = u.sign ? -mag : mag;
  if (v > max || v < min) { fl.v |= NV; return u.sign ? min : max; }
  if (inexact) fl.v |= NX;
  return v;
}

export function fromInt(v: bigint, f: Format, rm: number, fl: { v: number }): bigint {
  if (v === 0n) return 0n;
  const sign = v < 0n;
  return roundPack(sign, sign ? -v : v, 0, false, f, rm, fl);
}

export function convert(u: Unpacked, to: Format, rm: number, fl: { v: number }): bigint {
  if (isNaN_(u)) return nanResult(to, fl, u);
  if (u.kind === Kind.Inf) return infBits(to, u.sign);
  if (u.kind === Kind.Zero) return zeroBits(to, u.sign);
  return roundPack(u.sign, u.sig, u.exp, false, to, rm, fl);
}

