/**
 * FpUnit on values whose IEEE 754 answers are known exactly: one third in each FPCR rounding mode,
 * overflow and underflow at the format limits, the sign of an exact zero, a fused multiply-add
 * that differs from the unfused one, and the flags each leaves in FPSR. (The lockstep and the
 * qemu-aarch64 oracle check the same unit against QEMU on random operands.)
 */
import { describe, expect, it } from 'vitest';
import { FpUnit, vword } from '../../src/arch/aarch64/fp-unit.js';
import { FPSR_DZC, FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC } from '../../src/arch/aarch64/fp-round.js';
import { Reg } from '../../src/arch/aarch64/registers.js';

function unit() {
  const core = { n: 0, z: 0, c: 0, v: 0, fpcr: 0, fpsr: 0, r: new BigUint64Array(Reg.Count) };
  const fp = new FpUnit(core);
  const f64 = new Float64Array(core.r.buffer);
  const setD = (n: number, v: number) => { f64[vword(n) >> 1] = v; };
  const bitsD = (n: number) => core.r[vword(n) >> 1]!;
  const setS = (n: number, bits: number) => { core.r[vword(n) >> 1] = BigInt(bits); };
  const bitsS = (n: number) => Number(core.r[vword(n) >> 1]! & 0xffffffffn);
  const mode = (rmode: number) => { core.fpcr = rmode << 22; core.fpsr = 0; };
  return { core, fp, setD, bitsD, setS, bitsS, mode };
}

const FDIV = 1, FADD = 2, FSUB = 3, FMUL = 0;
const MAX_DOUBLE = 0x7fefffffffffffffn;

describe('FpUnit rounding and flags', () => {
  it('rounds 1/3 per FPCR.RMode (double and single) and flags it inexact', () => {
    const { core, fp, setD, bitsD, setS, bitsS, mode } = unit();
    const expectD = [0x3fd5555555555555n, 0x3fd5555555555556n, 0x3fd5555555555555n, 0x3fd5555555555555n];
    const expectS = [0x3eaaaaab, 0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa]; // 1/3 = 0x3eaaaaaa|aaa…: RN rounds up
    for (let rm = 0; rm < 4; rm++) {
      mode(rm);
      setD(1, 1); setD(2, 3);
      fp.dp2(FDIV, 1, 0, 1, 2);
      expect(bitsD(0)).toBe(expectD[rm]);
      setS(1, 0x3f800000); setS(2, 0x40400000);
      fp.dp2(FDIV, 0, 3, 1, 2);
      expect(bitsS(3)).toBe(expectS[rm]);
      expect(core.fpsr).toBe(FPSR_IXC);
    }
    mode(2);
    setD(1, -1); setD(2, 3);
    fp.dp2(FDIV, 1, 0, 1, 2);
    expect(bitsD(0)).toBe(0xbfd5555555555556n); // towards minus infinity: larger magnitude
  });

  it('overflows to infinity or the largest normal as the mode says, with OFC and IXC', () => {
    const { core, fp, setD, bitsD, mode } = unit();
    for (const [rm, bits] of [[0, 0x7ff0000000000000n], [1, 0x7ff0000000000000n], [2, MAX_DOUBLE], [3, MAX_DOUBLE]] as const) {
      mode(rm);
      core.r[vword(1) >> 1] = MAX_DOUBLE;
      setD(2, 2);
      fp.dp2(FMUL, 1, 0, 1, 2);
      expect(bitsD(0)).toBe(bits);
      expect(core.fpsr).toBe(FPSR_OFC | FPSR_IXC);
    }
  });

  it('underflows the smallest subnormal halved: zero (ties to even) or the subnormal, UFC and IXC; exact subnormals raise nothing', () => {
    const { core, fp, bitsD, mode } = unit();
    for (const [rm, bits] of [[0, 0n], [1, 1n], [2, 0n], [3, 0n]] as const) {
      mode(rm);
      core.r[vword(1) >> 1] = 1n; // 2^-1074
      core.r[vword(2) >> 1] = 0x3fe0000000000000n; // 0.5
      fp.dp2(FMUL, 1, 0, 1, 2);
      expect(bitsD(0)).toBe(bits);
      expect(core.fpsr).toBe(FPSR_UFC | FPSR_IXC);
    }
    mode(0);
    core.r[vword(1) >> 1] = 2n;
    core.r[vword(2) >> 1] = 0x3fe0000000000000n;
    fp.dp2(FMUL, 1, 0, 1, 2);
    expect(bitsD(0)).toBe(1n);
    expect(core.fpsr).toBe(0);
  });

  it('gives x − x as +0, but −0 when rounding towards minus infinity', () => {
    const { fp, setD, bitsD, mode } = unit();
    for (const [rm, bits] of [[0, 0n], [1, 0n], [2, 0x8000000000000000n], [3, 0n]] as const) {
      mode(rm);
      setD(1, 1.5); setD(2, 1.5);
      fp.dp2(FSUB, 1, 0, 1, 2);
      expect(bitsD(0)).toBe(bits);
      setD(2, -1.5);
      fp.dp2(FADD, 1, 3, 1, 2);
      expect(bitsD(3)).toBe(bits);
    }
  });

  it('fuses FMADD: 0.1 × 10 − 1 is 2^-54, not the 0 of a rounded product', () => {
    const { core, fp, setD, bitsD, mode } = unit();
    mode(0);
    setD(1, 0.1); setD(2, 10); setD(3, -1);
    fp.dp3(0, 1, 0, 1, 2, 3); // FMADD d0, d1, d2, d3
    expect(bitsD(0)).toBe(0x3c90000000000000n); // 2^-54
    expect(core.fpsr).toBe(0); // exact
    fp.dp2(FMUL, 1, 4, 1, 2);
    fp.dp2(FADD, 1, 4, 4, 3);
    expect(bitsD(4)).toBe(0n);
  });

  it('raises DZC for x/0 and IOC for 0/0 and the square root of −1', () => {
    const { core, fp, setD, bitsD, mode } = unit();
    mode(0);
    setD(1, -2); setD(2, 0);
    fp.dp2(FDIV, 1, 0, 1, 2);
    expect(bitsD(0)).toBe(0xfff0000000000000n);
    expect(core.fpsr).toBe(FPSR_DZC);
    setD(1, 0);
    fp.dp2(FDIV, 1, 0, 1, 2);
    expect(bitsD(0)).toBe(0x7ff8000000000000n); // default NaN
    expect(core.fpsr).toBe(FPSR_DZC | FPSR_IOC);
    mode(0);
    setD(1, -1);
    expect(fp.dp1(3, 1, 0, 1)).toBe(true); // FSQRT
    expect(bitsD(0)).toBe(0x7ff8000000000000n);
    expect(core.fpsr).toBe(FPSR_IOC);
  });
});
