/**
 * aarch64 conformance in a zone: programs/aarch64-gic-its-psci.c (PSCI 1.1 calls, the GICv3 ITS with
 * tables the program allocates) runs bare metal at EL1 in a two-vCPU zone of the QEMU virt GICv3
 * board and under qemu-system-aarch64 -M virt,gic-version=3; every line must match.
 */
import { describe, expect, it } from 'vitest';
import { buildConformanceProgram, reportLines, runQemu, runZones } from './bare-metal.js';

const LOAD = 0x4020_0000;

/** A zone on CPUs 0 and 1 of the board with its own GICv3 + ITS, owning DeviceIDs 0x10 and 0x1234 (the ones the program maps). */
const zone = (kernel: string) => ({
  arch: 'arm64',
  name: 'conformance',
  zone_id: 0,
  cpus: [0, 1],
  memory_regions: [
    { type: 'ram', physical_start: '0x40000000', virtual_start: '0x40000000', size: '0x10000000' },
    { type: 'io', physical_start: '0x9000000', virtual_start: '0x9000000', size: '0x1000' },
  ],
  interrupts: [],
  ivc_configs: [],
  kernel_filepath: kernel,
  dtb_filepath: '',
  kernel_load_paddr: LOAD,
  dtb_load_paddr: '0x48000000',
  entry_point: LOAD,
  arch_config: {
    gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000',
    gits_base: '0x8080000', gits_size: '0x20000', is_aarch32: false,
  },
  pci_config: [],
  num_pci_devs: 2,
  alloc_pci_devs: [0x10, 0x1234],
});

describe('aarch64 conformance: PSCI 1.1 and the GICv3 ITS, in a zone and on QEMU', () => {
  it('gives the same answers, table entries and interrupts as qemu-system-aarch64 virt,gic-version=3', async () => {
    const elf = buildConformanceProgram('aarch64-gic-its-psci', { arch: 'aarch64', sources: ['aarch64-start.S', 'aarch64-gic-its-psci.c'], loadAddress: LOAD });
    const qemu = reportLines(runQemu('aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'], elf));
    expect(qemu.at(-1)).toBe('END');
    // Not vacuous: QEMU's own answers for what the checks are about.
    expect(qemu).toContain('PSCI_VERSION 0x10001');
    expect(qemu).toContain('INT delivers 0x2011');
    expect(qemu).toContain('INT through the indirect table 0x2011');
    expect(qemu).toContain('  acknowledged 0x1b');

    const { consoles, end, log } = await runZones('qemu-virt-aarch64', [zone(elf)]);
    const ours = reportLines(consoles.get('conformance') ?? '');
    expect(ours, log.join('\n')).toEqual(qemu);
    expect(end.status).toBe(0); // SYSTEM_OFF
  }, 120_000);
});
