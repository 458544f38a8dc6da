/**
 * Bad input at the zone level (issue 3): a riscv64 guest that cannot take its own trap (stvec = 0,
 * then an illegal instruction, or a load from outside its memory) stops with a report naming zone,
 * hart, pc, cause and address, while the process and the other zone (the heartbeat demo) keep running.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { buildProgram } from './toolchain.js';

const GUESTS = join(REPO, 'boards/guests/riscv64');

/** The demo zone0 config with its kernel replaced by an ELF built from `body` (linked at 0x9000_0000). */
function zone0With(name: string, body: string): { config: string; elf: string } {
  const elf = buildProgram(name, `  .section .text.boot, "ax"\n  .option norvc\n  .global _start\n_start:\n${body}\n`, { loadAddress: 0x9000_0000 });
  const json = JSON.parse(readFileSync(join(GUESTS, 'zone0-demo.json'), 'utf8'));
  json.kernel_filepath = elf;
  const config = join(mkdtempSync(join(tmpdir(), 'rv64-guest-error-')), `${name}.json`);
  writeFileSync(config, JSON.stringify(json));
  return { config, elf };
}

/** The address of `symbol` in `elf`, by binutils' nm. */
function symbol(elf: string, name: string): bigint {
  const line = execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith(` ${name}`));
  if (line === undefined) throw new Error(`no symbol ${name} in ${elf}`);
  return BigInt(`0x${line.split(' ')[0]}`);
}

async function until(predicate: () => boolean, what: string, ms: number, text: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output:\n${text()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a riscv64 guest that cannot handle its trap', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  const cases = [
    {
      name: 'illegal',
      // A few instructions run, then an all-ones word: illegal, stval = the instruction bits.
      body: '  csrw stvec, zero\n  li t0, 5\n  addi t0, t0, 1\nfault:\n  .word 0xffffffff\n  j .',
      cause: 'illegal instruction',
      address: 0xffff_ffffn,
    },
    {
      name: 'outside',
      // 0x8000_0000 is RAM of the board but not of zone0 (its RAM starts at 0x8300_0000): a load access fault.
      body: '  csrw stvec, zero\n  li t0, 0x80000000\nfault:\n  ld t1, 8(t0)\n  j .',
      cause: 'load access fault',
      address: 0x8000_0008n,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: zone0 is stopped with zone, hart, pc, cause and address; zoneR keeps beating`, async () => {
      const { config, elf } = zone0With(`guest-error-${c.name}`, c.body);
      const pc = symbol(elf, 'fault');
      let out = '';
      const log: string[] = [];
      instance = await launch({
        board: 'qemu-virt-riscv64',
        zones: [config, join(GUESTS, 'zoneR-heartbeat.json')],
        gdbBasePort: false,
        output: (t) => (out += t),
        log: (l) => log.push(l),
      });
      const zone0 = instance.hypervisor.zone(0)!;
      await until(() => zone0.state === 'crashed', 'zone0 to crash', 10_000, () => `${out}\n${log.join('\n')}`);
      expect(zone0.crash).toEqual({ zone: 0, vcpu: 0, pc, cause: c.cause, address: c.address });
      const line = `crashed: vCPU 0 (CPU 0) pc 0x${pc.toString(16)}: ${c.cause} at 0x${c.address.toString(16)}`;
      expect(log.some((l) => l.startsWith('zone 0 ') && l.endsWith(line)), log.join('\n')).toBe(true);
      // The other zone and the process go on: zoneR prints its banner, then heartbeats from its timer.
      const zoneR = instance.hypervisor.zone(1)!;
      await until(() => /heartbeat 1\b/.test(out), 'a zoneR heartbeat', 20_000, () => out);
      expect(zoneR.state).toBe('running');
      expect(zone0.state).toBe('crashed');
    }, 40_000);
  }
});
