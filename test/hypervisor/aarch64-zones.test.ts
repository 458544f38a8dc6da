import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { aarch64Factories } from '../../src/hypervisor/zone/arch-factories.js';
import { loadZoneConfig, zoneConfigFromJson } from '../../src/config/zone-config.js';

const configs = join(import.meta.dirname, 'configs');

/** Assembles with GNU as and returns the flat binary (objcopy -O binary). */
function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'a64-'));
  writeFileSync(join(dir, 'p.s'), source);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'p.o'), join(dir, 'p.s')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'p.o'), join(dir, 'p.bin')]);
  return new Uint8Array(readFileSync(join(dir, 'p.bin')));
}

// zone0 (root): asks hvisor for the zone list with HVC #0x4856 (x0 = 4, x1 = buffer, x2 = count),
// keeps the count, then counts forever.
const ROOT = `
  .globl _start
_start:
  mov x0, #4
  ldr x1, =0x41000000
  mov x2, #4
  hvc #0x4856
  ldr x9, =0x41100000
  str x0, [x9]
1:ldr x1, [x9, #8]
  add x1, x1, #1
  str x1, [x9, #8]
  b 1b
  .ltorg
`;

// zone1 (hvisor-tool's qemu-aarch64 zone1, CPUs 2 and 3): PSCI CPU_ON of CPU 3 (MPIDR 3) at
// \`second\` with context 0x77; once vCPU 1 has reported, a probe of zone0's RAM with no exception vectors.
const ZONE1 = `
  .globl _start
_start:
  ldr x0, =0xc4000003
  mov x1, #3
  adr x2, second
  mov x3, #0x77
  hvc #0
  ldr x9, =0x50100000
  str x0, [x9]
wait:
  ldr x11, [x9, #8]
  cbz x11, wait
  ldr x10, =0x41100010
probe:
  str x0, [x10]
  b .
second:
  ldr x9, =0x50100000
  str x0, [x9, #8]
  b .
  .ltorg
`;

/** hvisor-tool's QEMU zone0 running ROOT and its zone1 running `zone1Source`, on the GICv3 virt board. */
function rootAndZone1(zone1Source: string) {
  const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
  const { createCpu, createIrqchip } = aarch64Factories('gicv3');
  const log: string[] = [];
  const hv = new Hypervisor({ machine, createCpu, createIrqchip, timerFrequency: 62_500_000, log: (l) => log.push(l) });
  const root = zoneConfigFromJson(JSON.parse(readFileSync(join(configs, 'qemu-aarch64-zone0.json'), 'utf8')), 'zone0.json');
  hv.startZone(root, [{ name: 'root', paddr: 0x40400000, data: assemble(ROOT) }]);
  const z1 = loadZoneConfig(join(configs, 'qemu-aarch64-zone1_linux_with_pci.json'));
  hv.startZone(z1, [{ name: 'zone1', paddr: 0x50400000, data: assemble(zone1Source) }]);
  return { machine, hv, log };
}

describe('zones on real aarch64 cores, QEMU virt GICv3 board from its device tree', () => {
  it('HVC zone list from zone0, PSCI CPU_ON by physical MPIDR in zone1, a probe of zone0 stops only zone1', () => {
    const { machine, hv, log } = rootAndZone1(ZONE1);
    for (let i = 0; i < 10; i++) hv.scheduler.runRound();

    expect(machine.physical.read(0x41100000, 8)).toBe(2n); // zone list: two zones
    expect(Buffer.from(machine.physical.readDebug(0x41000010, 10)).toString()).toBe('root-linux');
    expect(machine.physical.read(0x50100000, 8)).toBe(0n); // PSCI_SUCCESS
    expect(machine.physical.read(0x50100008, 8)).toBe(0x77n); // vCPU 1 (CPU 3) started with x0 = context
    const zone1 = hv.zone(1)!;
    expect(zone1.state).toBe('crashed');
    expect(zone1.crash!.address).toBe(0x41100010n);
    expect(machine.physical.read(0x41100010, 8)).toBe(0n);
    expect(log.some((l) => /^zone 1 \(linux2\): stage-2 fault: vCPU 0 pc 0x[0-9a-f]+ write of 8 bytes at 0x41100010$/.test(l))).toBe(true);
    const count = machine.physical.read(0x41100008, 8)!;
    hv.scheduler.runRound();
    expect(machine.physical.read(0x41100008, 8)!).toBeGreaterThan(count);
    expect(hv.list().map((z) => [z.id, z.state])).toEqual([[0, 'running'], [1, 'crashed']]);
  });

  // Bad input (issue 4): a guest with no exception vectors that takes an exception is stopped with a
  // report naming zone, vCPU, pc and the decoded ESR (and the address); the other zone keeps counting.
  const faults = [
    { name: 'an undefined instruction', body: 'nop\n  nop\n  .word 0', cause: /^undefined instruction 0x00000000 \(ESR 0x2000000\) at EL1 with no exception vector \(VBAR_EL1 = 0x0\)$/, address: undefined },
    { name: 'an alignment fault (LDXR)', body: 'movz x0, #0x5010, lsl #16\n  add x0, x0, #1\n  ldxr x1, [x0]', cause: /^ESR 0x96000021: data abort, alignment fault.* at EL1 with no exception vector/, address: 0x50100001n },
  ];
  for (const f of faults) {
    it(`${f.name} in zone1 stops zone1 alone with zone, vCPU, pc and the decoded ESR`, () => {
      const { machine, hv, log } = rootAndZone1(`  .globl _start\n_start:\n  ${f.body}\n  b .\n`);
      for (let i = 0; i < 5; i++) hv.scheduler.runRound();
      const zone1 = hv.zone(1)!;
      expect(zone1.state).toBe('crashed');
      expect(zone1.crash).toMatchObject({ zone: 1, vcpu: 0, pc: 0x50400008n });
      expect(zone1.crash!.cause).toMatch(f.cause);
      expect(zone1.crash!.address).toBe(f.address);
      expect(log.some((l) => l.startsWith('zone 1 (linux2): crashed: vCPU 0') && l.includes('pc 0x50400008')), log.join('\n')).toBe(true);
      const count = machine.physical.read(0x41100008, 8)!;
      hv.scheduler.runRound();
      expect(machine.physical.read(0x41100008, 8)!).toBeGreaterThan(count);
      expect(hv.zone(0)!.state).toBe('running');
    });
  }
});
