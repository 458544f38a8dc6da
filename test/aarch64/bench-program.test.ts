/**
 * The shared bare-metal bench program (fixtures/bench/bench-aarch64.S), built with the project's
 * build.sh for a small ITERS, run to PSCI SYSTEM_OFF; its CKSUM line is checked against the C
 * reference model built from fixtures/bench/ref-model.c (an independent oracle).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StopReason } from '../../src/arch/cpu.js';
import { loadElf, makeZone } from './test-host.js';
import { tool } from '../helpers/fixtures.js';

const BENCH = '/work/shared/fixtures/bench';

export function buildBench(iters: number): string {
  tool('aarch64-linux-gnu-gcc');
  const dir = mkdtempSync(join(tmpdir(), 'a64bench-'));
  execFileSync('bash', [join(BENCH, 'build.sh'), String(iters), dir], { stdio: 'ignore' });
  return join(dir, `bench-aarch64-n${iters}.elf`);
}

function referenceLine(iters: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'a64ref-'));
  execFileSync('cc', ['-O2', '-o', join(dir, 'ref'), join(BENCH, 'ref-model.c')]);
  return execFileSync(join(dir, 'ref'), [String(iters)], { encoding: 'utf8' }).trim();
}

describe('bench-aarch64 program', () => {
  it('prints the reference CKSUM and powers off via PSCI after 11*N+2930 instructions', () => {
    const iters = 1000;
    const elf = buildBench(iters);
    const z = makeZone();
    const { entry, symbols } = loadElf(z.memory, elf);
    z.cpu.reset(entry, []);
    let r: StopReason;
    do r = z.cpu.run(1_000_000);
    while (r === StopReason.Budget);
    expect(z.cpu.lastError).toBeUndefined();
    expect(r).toBe(StopReason.SystemEvent);
    expect(z.host.events).toEqual(['off']);
    expect(z.uart.text().trim()).toBe(referenceLine(iters));
    expect(z.uart.text().trim()).toBe('CKSUM a=000000000007a314 b=00000000000328f0 m=0000000000088740');
    expect(z.cpu.retired).toBe(11 * iters + 2930);
    expect(symbols.get('bench_done')).toBeDefined();
  });
});
