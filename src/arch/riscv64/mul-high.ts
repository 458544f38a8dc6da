/**
 * The high 64 bits of a 64 x 64-bit product (mulh, mulhsu, mulhu) on 32-bit halves, without BigInt:
 * Linux divides by constants with mulhu (millions of times a boot), and a 128-bit BigInt product
 * allocates. The result's low half is returned and its high half left in `mulHigh[0]`, so a call
 * allocates nothing (the interpreter and compiled blocks both use it).
 */

/** The high half of the last mulHigh64 result, as int32. */
export const mulHigh = new Int32Array(1);

const TWO32 = 4294967296;

/** The high 32 bits of the unsigned 64-bit product of two 32-bit values, as int32. */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0;
  const mid1 = a1 * b0 + (lo >>> 16);
  const mid2 = a0 * b1 + (mid1 & 0xffff);
  return (a1 * b1 + Math.floor(mid1 / 65536) + Math.floor(mid2 / 65536)) | 0;
}

/**
 * Bits 64..127 of aH:aL x bH:bL; `signs` 0 = unsigned x unsigned (mulhu), 1 = signed x unsigned
 * (mulhsu), 2 = signed x signed (mulh). Returns bits 64..95; bits 96..127 go to mulHigh[0].
 */
export function mulHigh64(aL: number, aH: number, bL: number, bH: number, signs: number): number {
  // The four 32 x 32 partial products, summed column by column in doubles (exact below 2^53).
  const mid = (mulhu32(aL, bL) >>> 0) + (Math.imul(aL, bH) >>> 0) + (Math.imul(aH, bL) >>> 0);
  const upper = (Math.imul(aH, bH) >>> 0) + (mulhu32(aL, bH) >>> 0) + (mulhu32(aH, bL) >>> 0) + Math.floor(mid / TWO32);
  let lo = upper % TWO32;
  let hi = (mulhu32(aH, bH) + Math.floor(upper / TWO32)) | 0;
  // Signed operands: a negative a adds -b * 2^64 to the unsigned product (and likewise for b).
  if (signs !== 0 && aH < 0) {
    const l = lo - (bL >>> 0);
    hi = (hi - bH - (l < 0 ? 1 : 0)) | 0;
    lo = l < 0 ? l + TWO32 : l;
  }
  if (signs === 2 && bH < 0) {
    const l = lo - (aL >>> 0);
    hi = (hi - aH - (l < 0 ? 1 : 0)) | 0;
    lo = l < 0 ? l + TWO32 : l;
  }
  mulHigh[0] = hi;
  return lo | 0;
}
