/**
 * mulh/mulhsu/mulhu on 32-bit halves (src/arch/riscv64/mul-high.ts) against BigInt's exact 128-bit
 * products, on edge values (0, 1, -1, the extremes of each half) and a seeded spread of random ones.
 */
import { describe, expect, it } from 'vitest';
import { mulHigh, mulHigh64 } from '../../src/arch/riscv64/mul-high.js';
import { Rng } from './random-program.js';

const EDGES = [0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
  0xffffffffffffffffn, 0xfffffffffffffffen, 0x123456789abcdef0n, 0x8000000000000001n, 0x00000000ffffffffn, 0xffffffff00000000n];

function reference(a: bigint, b: bigint, signs: number): bigint {
  const sa = signs === 0 ? a : BigInt.asIntN(64, a);
  const sb = signs === 2 ? BigInt.asIntN(64, b) : b;
  return BigInt.asUintN(64, (sa * sb) >> 64n);
}

function ours(a: bigint, b: bigint, signs: number): bigint {
  const lo = mulHigh64(Number(a & 0xffffffffn), Number(BigInt.asIntN(32, a >> 32n)), Number(b & 0xffffffffn),
    Number(BigInt.asIntN(32, b >> 32n)), signs);
  return (BigInt(mulHigh[0]! >>> 0) << 32n) | BigInt(lo >>> 0);
}

describe('riscv64 high multiply on 32-bit halves', () => {
  it('matches the exact product on edge values and 20,000 random pairs, for mulhu, mulhsu and mulh', () => {
    const rng = new Rng(16);
    const pairs: [bigint, bigint][] = EDGES.flatMap((a) => EDGES.map((b) => [a, b] as [bigint, bigint]));
    for (let k = 0; k < 20_000; k++) pairs.push([rng.u64(), rng.u64()]);
    for (const signs of [0, 1, 2]) {
      for (const [a, b] of pairs) {
        expect(ours(a, b, signs), `signs ${signs}: 0x${a.toString(16)} * 0x${b.toString(16)}`).toBe(reference(a, b, signs));
      }
    }
  });
});
