/**
 * A run's life: empty image paths mean "none", and a run ends once every zone has stopped, with the
 * exit status the guests' requests carried (SBI SRST's reset_reason, the board finisher's code).
 * The guests are riscv64 programs assembled by GNU as, run by launch() and by the `hvisor run` command.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { runCommand } from '../../src/cli/commands/run.js';
import { launch, type Instance } from '../../src/cli/launch.js';
import { loadZoneConfig } from '../../src/config/zone-config.js';
import { readZoneImages } from '../../src/hypervisor/lifecycle/zone-images.js';
import { assembleRiscv } from '../hypervisor/riscv-asm.js';
import { riscvZone } from '../hypervisor/riscv-test-zones.js';

const ZONE0_RAM = 0x8300_0000;
const ZONE1_RAM = 0x1_0000_0000;
/** QEMU virt's sifive,test finisher (the board's syscon-poweroff regmap). */
const FINISHER = 0x10_0000;

/** SBI SRST system_reset(shutdown, reason) after `spins` loop turns. */
const srstShutdown = (reason: number, spins = 0) => `
  .globl _start
_start:
  li t0, ${spins}
1: beqz t0, 2f
  addi t0, t0, -1
  j 1b
2: li a7, 0x53525354
  li a6, 0
  li a0, 0
  li a1, ${reason}
  ecall
  j .
`;

const finisherFail = (code: number) => `
  .globl _start
_start:
  li t0, ${FINISHER}
  li t1, ${(code << 16) | 0x3333}
  sw t1, 0(t0)
  j .
`;

const spin = '  .globl _start\n_start:\n  j _start\n';

interface ZoneSpec {
  id: number;
  cpus: number[];
  ram: number;
  source: string;
  io?: { base: number; size: number }[];
  extra?: Record<string, unknown>;
}

/** Addresses as hvisor-tool configs write them: its cJSON reads JSON numbers above 2^31 - 1 as 2^31 - 1. */
const hex = (n: number) => `0x${n.toString(16)}`;

function writeZone(dir: string, z: ZoneSpec): string {
  const elf = assembleRiscv(z.source, z.ram + 0x10_0000, `zone${z.id}`);
  return riscvZone(dir, `zone${z.id}.json`, {
    name: `zone${z.id}`,
    zone_id: z.id,
    cpus: z.cpus,
    memory_regions: [
      { type: 'ram', physical_start: hex(z.ram), virtual_start: hex(z.ram), size: '0x1000000' },
      ...(z.io ?? []).map((w) => ({ type: 'io', physical_start: hex(w.base), virtual_start: hex(w.base), size: hex(w.size) })),
    ],
    kernel_filepath: elf,
    kernel_load_paddr: hex(z.ram + 0x10_0000),
    dtb_load_paddr: hex(z.ram),
    entry_point: hex(z.ram + 0x10_0000),
    ...z.extra,
  });
}

describe('run life', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('empty kernel_filepath and initrd_filepath load no image (dtb_filepath "" still generates the device tree)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-life-'));
    const file = writeZone(dir, { id: 1, cpus: [3], ram: ZONE1_RAM, source: spin, extra: { kernel_filepath: '', initrd_filepath: '', initrd_load_paddr: hex(ZONE1_RAM + 0x80_0000) } });
    const config = loadZoneConfig(file);
    expect(config.initrdFilepath).toBeUndefined();
    expect(readZoneImages(config)).toEqual([]);
  });

  it('ends when every zone has stopped: SRST shutdown with reason "system failure" gives exit status 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-life-'));
    const zones = [
      // An empty initrd path beside an initrd address: no initrd, not EISDIR.
      writeZone(dir, { id: 0, cpus: [0], ram: ZONE0_RAM, source: srstShutdown(1, 20_000), extra: { initrd_filepath: '', initrd_load_paddr: hex(ZONE0_RAM + 0x80_0000) } }),
      writeZone(dir, { id: 1, cpus: [3], ram: ZONE1_RAM, source: srstShutdown(0) }),
    ];
    instance = await launch({ board: 'qemu-virt-riscv64', zones, gdbBasePort: false, output: () => {}, log: () => {} });
    const end = await instance.stopped;
    expect(end.status).toBe(1);
    expect(end.reason).toBe('every zone has stopped: zone 0 stopped (exit status 1), zone 1 stopped');
    expect(instance.hypervisor.list().map((z) => [z.id, z.state, z.exitStatus])).toEqual([[0, 'stopped', 1], [1, 'stopped', 0]]);
  });

  it('a guest\'s write to the board finisher powers the board off with its code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-life-'));
    const zones = [
      writeZone(dir, { id: 0, cpus: [0], ram: ZONE0_RAM, source: finisherFail(7), io: [{ base: FINISHER, size: 0x1000 }] }),
      writeZone(dir, { id: 1, cpus: [3], ram: ZONE1_RAM, source: spin }),
    ];
    instance = await launch({ board: 'qemu-virt-riscv64', zones, gdbBasePort: false, output: () => {}, log: () => {} });
    const end = await instance.stopped;
    expect(end.status).toBe(7);
    expect(end.reason).toMatch(/^the board powered off with code 7: zone 0 stopped \(exit status 7\), zone 1 stopped \(exit status 7\)$/);
  });

  it('`hvisor run --seconds N` returns once its zones have stopped, with their exit status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-life-'));
    const zones = [
      writeZone(dir, { id: 0, cpus: [0], ram: ZONE0_RAM, source: srstShutdown(1) }),
      writeZone(dir, { id: 1, cpus: [3], ram: ZONE1_RAM, source: srstShutdown(0) }),
    ];
    const before = process.exitCode;
    try {
      await yargs(['run', ...zones.flatMap((z) => ['--zone', z]), '--no-gdb', '--control', join(dir, 'control.sock'), '--seconds', '600'])
        .command(runCommand).strict().fail((msg, err) => {
          throw err ?? new Error(msg);
        }).parseAsync();
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = before;
    }
    // Had the stop not ended it, --seconds 600 would outlast the test's timeout.
  }, 120_000);
});
