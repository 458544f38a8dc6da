import { describe, expect, it } from 'vitest';
import { DUMP_BYTES, randomProgram } from './random-program.js';
import { buildProgram } from './toolchain.js';
import { describeDifferences, runOnOurCore, runUnderQemuUser } from './user-oracle.js';

/** Random instruction sequences, assembled by binutils, run by qemu-riscv64 and by our core: every register must match. */
function compare(seed: number, integer: boolean, fp: boolean, length: number, cases: number): void {
  const elf = buildProgram(`random-${integer ? 'i' : ''}${fp ? 'f' : ''}-${seed}`, randomProgram(seed, { integer, fp, length }, cases));
  const expected = runUnderQemuUser(elf);
  expect(expected.length).toBe(cases * DUMP_BYTES);
  const ours = runOnOurCore(elf);
  expect(ours.problem).toBeUndefined();
  expect(ours.dumps.length).toBe(cases);
  ours.dumps.forEach((dump, c) => {
    const diffs = describeDifferences(expected.subarray(c * DUMP_BYTES, (c + 1) * DUMP_BYTES), dump);
    expect(diffs, `seed ${seed}, case ${c}`).toEqual([]);
  });
}

describe('riscv64 against qemu-riscv64 (user mode), random programs', () => {
  it('integer, M, A, Zba/Zbb/Zbc/Zbs and compressed instructions', () => {
    for (let seed = 1; seed <= 2; seed++) compare(seed, true, false, 400, 16);
  });
  it('F and D in every rounding mode, with flags, NaN boxing and conversions', () => {
    for (let seed = 101; seed <= 102; seed++) compare(seed, false, true, 400, 16);
  });
  it('integer and FP mixed', () => {
    compare(201, true, true, 500, 8);
  });
});
