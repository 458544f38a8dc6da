/**
 * Oracle: programs/system.S (exceptions, EL0, stage-1 MMU, AT, DC ZVA, exclusives) runs bare metal at
 * EL1 on qemu-system-aarch64 (virt, cortex-a53) and on our core; both must print the same text.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Stops, type RunResult } from '../../src/arch/cpu.js';
import { tool } from '../helpers/fixtures.js';
import { buildProgram, loadElf, makeZone } from './test-host.js';

export function runQemuSystem(elf: string): string {
  // The UART goes to a file: QEMU's stdio chardev on a pipe lost output under load (riscv64 did the same).
  const serial = join(mkdtempSync(join(tmpdir(), 'aarch64-system-')), 'serial');
  execFileSync(
    tool('qemu-system-aarch64'),
    ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '1G', '-display', 'none', '-serial', `file:${serial}`, '-monitor', 'none', '-nic', 'none', '-no-reboot', '-kernel', elf],
    { stdio: 'ignore', timeout: 60_000 },
  );
  return readFileSync(serial, 'latin1');
}

export function runOurs(elf: string, budget = 10_000_000): { text: string; reason: RunResult } {
  const z = makeZone(0x4000_0000, 0x100_0000);
  const { entry } = loadElf(z.memory, elf);
  z.cpu.reset(entry, []);
  let reason: RunResult;
  let spent = 0;
  do {
    reason = z.cpu.run(100_000);
    spent += 100_000;
  } while (reason === Stops.budget && spent < budget);
  if (reason.kind === 'guest-error') throw new Error(`${reason.report.cause} at 0x${reason.report.pc.toString(16)}\n${z.uart.text()}`);
  return { text: z.uart.text(), reason };
}

describe('system program against qemu-system-aarch64', () => {
  it('prints the same exceptions, faults, translations and EL0 traps', () => {
    const elf = buildProgram('system');
    const expected = runQemuSystem(elf);
    expect(expected).toContain('bye');
    const ours = runOurs(elf);
    expect(ours.text).toBe(expected);
    expect(ours.reason.kind).toBe('system-event');
  });
});
