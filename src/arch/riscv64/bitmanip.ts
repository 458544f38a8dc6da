/** Zba, Zbb, Zbc and Zbs on 64-bit registers (rare in hot code, so plain BigInt arithmetic). */

const M64 = 0xffffffffffffffffn;

function clz(v: bigint, bits: number): bigint {
  for (let i = bits - 1; i >= 0; i--) if ((v >> BigInt(i)) & 1n) return BigInt(bits - 1 - i);
  return BigInt(bits);
}
function ctz(v: bigint, bits: number): bigint {
  for (let i = 0; i < bits; i++) if ((v >> BigInt(i)) & 1n) return BigInt(i);
  return BigInt(bits);
}
function cpop(v: bigint): bigint {
  let n = 0n;
  for (; v !== 0n; v &= v - 1n) n++;
  return n;
}
/** Carry-less product of two 64-bit values (128 bits). */
function clmul(a: bigint, b: bigint): bigint {
  let r = 0n;
  for (let i = 0n; i < 64n; i++) if ((b >> i) & 1n) r ^= a << i;
  return r;
}

function singleBit(a: bigint, f6or7: number, index: bigint): bigint {
  const bit = 1n << (index & 63n);
  switch (f6or7) {
    case 0x12: case 0x24: return a & ~bit; // bclr
    case 0x1a: case 0x34: return a ^ bit; // binv
    default: return a | bit; // bset (0x0a / 0x14)
  }
}

function rotl(v: bigint, sh: number, bits: number): bigint {
  const s = BigInt(sh % bits), w = BigInt(bits);
  const m = (1n << w) - 1n;
  v &= m;
  return s === 0n ? v : ((v << s) | (v >> (w - s))) & m;
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function ctz32(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}

/** Sets x[d] from a small non-negative count. */
function setSmall(x32: Uint32Array, d: number, v: number): void {
  x32[d * 2] = v;
  x32[d * 2 + 1] = 0;
}

/**
 * The Zbb unary operations Linux uses in hot library code (ffs/fls, strlen), on 32-bit halves.
 * Returns false for everything else.
 */
function fastUnary(x32: Uint32Array, d: number, s1: number, inst: number): boolean {
  const lo = x32[s1 * 2]!, hi = x32[s1 * 2 + 1]!;
  const opcode = inst & 0x7f;
  const f12 = inst >>> 20;
  const f3 = (inst >> 12) & 7;
  if (opcode === 0x13 && f3 === 1) {
    if (f12 === 0x600) { setSmall(x32, d, hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo)); return true; }
    if (f12 === 0x601) { setSmall(x32, d, lo !== 0 ? ctz32(lo) : 32 + ctz32(hi)); return true; }
    if (f12 === 0x602) { setSmall(x32, d, popcount32(lo) + popcount32(hi)); return true; }
    if (f12 === 0x604) { const v = (lo << 24) >> 24; x32[d * 2] = v; x32[d * 2 + 1] = v >> 31; return true; }
    if (f12 === 0x605) { const v = (lo << 16) >> 16; x32[d * 2] = v; x32[d * 2 + 1] = v >> 31; return true; }
    return false;
  }
  if (opcode === 0x13 && f3 === 5) {
    if (f12 === 0x287) {
      const orc = (w: number): number =>
        ((w & 0xff) ? 0xff : 0) | ((w & 0xff00) ? 0xff00 : 0) | ((w & 0xff0000) ? 0xff0000 : 0) | ((w >>> 24) ? 0xff000000 : 0);
      x32[d * 2] = orc(lo);
      x32[d * 2 + 1] = orc(hi);
      return true;
    }
    if (f12 === 0x6b8) {
      const swap = (w: number): number => ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
      x32[d * 2] = swap(hi);
      x32[d * 2 + 1] = swap(lo);
      return true;
    }
    return false;
  }
  if (opcode === 0x1b && f3 === 1) {
    if (f12 === 0x600) { setSmall(x32, d, Math.clz32(lo)); return true; }
    if (f12 === 0x601) { setSmall(x32, d, ctz32(lo)); return true; }
    if (f12 === 0x602) { setSmall(x32, d, popcount32(lo)); return true; }
    return false;
  }
  if (opcode === 0x3b && f3 === 4 && inst >>> 25 === 0x04 && ((inst >> 20) & 31) === 0) { setSmall(x32, d, lo & 0xffff); return true; }
  return false;
}

export function executeBitmanip(x: BigUint64Array, d: number, s1: number, s2: number, inst: number, x32?: Uint32Array): void {
  if (x32 !== undefined && fastUnary(x32, d, s1, inst)) return;
  const a = x[s1]!;
  const b = x[s2]!;
  const opcode = inst & 0x7f;
  const f3 = (inst >> 12) & 7;
  const f7 = inst >>> 25;
  const f12 = inst >>> 20;
  const shamt = (inst >> 20) & 63;
  let r: bigint;
  if (opcode === 0x13) {
    const f6 = inst >>> 26;
    if (f3 === 5 && f6 === 0x12) r = (a >> BigInt(shamt)) & 1n; // bexti
    else if (f3 === 1 && (f6 === 0x12 || f6 === 0x1a || f6 === 0x0a)) r = singleBit(a, f6, BigInt(shamt));
    else if (f3 === 1) {
      r = f12 === 0x600 ? clz(a, 64) : f12 === 0x601 ? ctz(a, 64) : f12 === 0x602 ? cpop(a)
        : f12 === 0x604 ? BigInt.asIntN(8, a) : BigInt.asIntN(16, a);
    } else if (f12 === 0x287) {
      r = 0n;
      for (let i = 0n; i < 64n; i += 8n) if ((a >> i) & 0xffn) r |= 0xffn << i;
    } else if (f12 === 0x6b8) {
      r = 0n;
      for (let i = 0n; i < 64n; i += 8n) r |= ((a >> i) & 0xffn) << (56n - i);
    } else {
      r = rotl(a, 64 - shamt, 64); // rori
    }
  } else if (opcode === 0x1b) {
    if (f3 === 1) {
      if (inst >>> 26 === 0x02) r = (a & 0xffffffffn) << BigInt(shamt); // slli.uw
      else {
        const w = a & 0xffffffffn;
        r = f12 === 0x600 ? clz(w, 32) : f12 === 0x601 ? ctz(w, 32) : cpop(w);
      }
    } else {
      r = BigInt.asIntN(32, rotl(a, 32 - (shamt & 31), 32)); // roriw
    }
  } else if (opcode === 0x33) {
    if (f7 === 0x20) r = f3 === 7 ? a & ~b : f3 === 6 ? a | ~b : ~(a ^ b);
    else if (f7 === 0x10) r = (a << BigInt(f3 >> 1)) + b; // sh1add/sh2add/sh3add
    else if (f7 === 0x05 && f3 <= 3) {
      const p = clmul(a, b);
      r = f3 === 1 ? p : f3 === 3 ? p >> 64n : p >> 63n; // clmul / clmulh / clmulr
    } else if (f7 === 0x24 && f3 === 5) r = (a >> (b & 63n)) & 1n; // bext
    else if (f7 === 0x24 || f7 === 0x34 || f7 === 0x14) r = singleBit(a, f7, b);
    else if (f7 === 0x05) {
      const sa = BigInt.asIntN(64, a), sb = BigInt.asIntN(64, b);
      r = f3 === 4 ? (sa < sb ? a : b) : f3 === 5 ? (a < b ? a : b) : f3 === 6 ? (sa > sb ? a : b) : (a > b ? a : b);
    } else {
      r = f3 === 1 ? rotl(a, Number(b & 63n), 64) : rotl(a, 64 - Number(b & 63n), 64);
    }
  } else {
    // 0x3b
    if (f7 === 0x04) r = f3 === 0 ? (a & 0xffffffffn) + b : a & 0xffffn; // add.uw / zext.h
    else if (f7 === 0x10) r = ((a & 0xffffffffn) << BigInt(f3 >> 1)) + b; // shNadd.uw
    else r = BigInt.asIntN(32, f3 === 1 ? rotl(a, Number(b & 31n), 32) : rotl(a, 32 - Number(b & 31n), 32));
  }
  x[d] = r & M64;
}
