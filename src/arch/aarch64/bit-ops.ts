/** Bit manipulation on 32-bit halves (RBIT, REV*, CLS) without BigInt. */

export function rbit32(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  return bswap32(x);
}

export function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Byte swap inside each 16-bit half. */
export function rev16(x: number): number {
  return (((x & 0x00ff00ff) << 8) | ((x >>> 8) & 0x00ff00ff)) >>> 0;
}

/** Count of leading bits equal to the sign bit, not counting the sign bit itself. */
export function cls32(x: number): number {
  return Math.clz32((x ^ (x >> 31)) >>> 0) - 1;
}

export function cls64(lo: number, hi: number): number {
  const sign = hi >> 31;
  const h = (hi ^ sign) >>> 0;
  if (h !== 0) return Math.clz32(h) - 1;
  return 31 + Math.clz32((lo ^ sign) >>> 0);
}
