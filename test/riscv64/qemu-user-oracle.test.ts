import { describe, expect, it } from 'vitest';
import { StopReason } from '../../src/arch/cpu.js';
import { randomProgram } from './random-program.js';
import { buildProgram } from './toolchain.js';
import { describeDifferences, runOnOurCore, runUnderQemuUser } from './user-oracle.js';

/** Random instruction sequences, assembled by binutils, run by qemu-riscv64 and by our core: every register must match. */
function compare(seed: number, integer: boolean, fp: boolean, length: number): void {
  const elf = buildProgram(`random-${integer ? 'i' : ''}${fp ? 'f' : ''}-${seed}`, randomProgram(seed, { integer, fp, length }));
  const expected = runUnderQemuUser(elf);
  const ours = runOnOurCore(elf);
  expect(ours.stop, `seed ${seed}: ${ours.cause}`).toBe(StopReason.GuestError);
  expect(ours.cause).toBe('environment call from U-mode');
  expect(describeDifferences(expected, ours.dump), `seed ${seed}`).toEqual([]);
}

describe('riscv64 against qemu-riscv64 (user mode), random programs', () => {
  it('integer, M, A, Zba/Zbb and compressed instructions', () => {
    for (let seed = 1; seed <= 16; seed++) compare(seed, true, false, 400);
  });
  it('F and D in every rounding mode, with flags, NaN boxing and conversions', () => {
    for (let seed = 101; seed <= 116; seed++) compare(seed, false, true, 400);
  });
  it('integer and FP mixed', () => {
    for (let seed = 201; seed <= 206; seed++) compare(seed, true, true, 500);
  });
});
