/**
 * The shared bare-metal bench program (programs/bench-aarch64.S), built for a small ITERS, run to PSCI
 * SYSTEM_OFF on our core and on qemu-system-aarch64: same CKSUM line, and the exact instruction count
 * measured with QEMU's -singlestep exec log (fixtures.md: 11·N + 2930). bench/aarch64.ts times both.
 */
import { describe, expect, it } from 'vitest';
import { Stops, type RunResult } from '../../src/arch/cpu.js';
import { errorOf } from '../helpers/run-result.js';
import { buildBenchAarch64, runBenchOnQemu } from '../../bench/aarch64.js';
import { loadElf, makeZone } from './test-host.js';
import { tool } from '../helpers/fixtures.js';

export function buildBench(iters: number): string {
  tool('aarch64-linux-gnu-gcc');
  tool('qemu-system-aarch64');
  return buildBenchAarch64(iters);
}

describe('bench-aarch64 program', () => {
  it('prints the reference CKSUM and powers off via PSCI after 11*N+2930 instructions', () => {
    const iters = 1000;
    const elf = buildBench(iters);
    const z = makeZone();
    const { entry, symbols } = loadElf(z.memory, elf);
    z.cpu.reset(entry, []);
    let r: RunResult;
    do r = z.cpu.run(1_000_000);
    while (r === Stops.budget);
    expect(errorOf(r)).toBeUndefined();
    expect(r.kind).toBe('system-event');
    expect(z.host.events).toEqual(['off']);
    expect(z.uart.text().trim()).toBe(runBenchOnQemu(elf).output.trim());
    expect(z.uart.text().trim()).toBe('CKSUM a=000000000007a314 b=00000000000328f0 m=0000000000088740');
    expect(z.cpu.retired).toBe(11 * iters + 2930);
    expect(symbols.get('bench_done')).toBeDefined();
  });
});
