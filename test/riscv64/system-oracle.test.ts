import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeStop } from '../../src/arch/cpu.js';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../../src/loader/elf.js';
import { tool } from '../helpers/fixtures.js';
import { buildProgram, PROGRAMS } from './toolchain.js';

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin';

/** The log lines the program prints: everything after OpenSBI's banner up to END. */
function logOf(text: string): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  const end = lines.indexOf('END');
  const start = lines.findIndex((l) => /^[0-9a-f]{16}$/.test(l));
  return lines.slice(start, end + 1);
}

describe('riscv64 S-mode system program against qemu-system-riscv64 + OpenSBI', () => {
  it('logs the same traps, causes, stvals, sepcs, page-table A/D bits, satp values and interrupts', () => {
    const elf = buildProgram('smode-system', readFileSync(join(PROGRAMS, 'smode-system.S'), 'utf8'), { loadAddress: 0x8020_0000 });
    // The UART goes to a file: QEMU's stdio chardev on a pipe lost output under load.
    const serial = join(dirname(elf), 'smode-system.serial');
    const q = spawnSync(tool('qemu-system-riscv64'), ['-M', 'virt', '-smp', '1', '-m', '1G', '-display', 'none', '-monitor', 'none',
      '-nic', 'none', '-serial', `file:${serial}`, '-bios', OPENSBI, '-kernel', elf], { encoding: 'utf8', timeout: 30_000 });
    const qemuOut = readFileSync(serial, 'utf8');
    const expected = logOf(qemuOut);
    expect(expected.length, `qemu: status ${q.status} ${q.signal ?? ''} ${q.error?.message ?? ''}\n${q.stderr}\n${qemuOut}`).toBeGreaterThan(40);
    expect(expected.at(-1)).toBe('END');

    const m = new BareRiscv64Machine();
    const image = loadElf(readFileSync(elf), m.memory, { machine: EM_RISCV });
    m.cpu.reset(image.entry, [0n, 0n]);
    const stop = m.runToEnd(10_000_000);
    expect(stop.kind, describeStop(stop)).toBe('system-event');
    expect(logOf(m.output())).toEqual(expected);
  });
});
