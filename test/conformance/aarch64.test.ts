/**
 * aarch64 conformance in a zone: programs/aarch64-gic-its-psci.c (PSCI 1.1 calls, the GICv3 ITS with
 * tables the program allocates) runs bare metal at EL1 in a two-vCPU zone of the QEMU virt GICv3
 * board and under qemu-system-aarch64 -M virt,gic-version=3, as does programs/aarch64-gicv3.c (SGIs,
 * active state, priorities, EOImode, SPI routing on that zone's GICv3); programs/aarch64-gicv2.c (the
 * GICv2 distributor and CPU interface) in a zone of the GICv2 board and under gic-version=2. Every
 * line must match, but for the few where the specification leaves the value to the implementation
 * or QEMU 7.2 departs from it.
 */
import { describe, expect, it } from 'vitest';
import { buildConformanceProgram, reportLines, runQemu, runZones } from './bare-metal.js';

const LOAD = 0x4020_0000;
const GICV3 = {
  gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000',
  gits_base: '0x8080000', gits_size: '0x20000', is_aarch32: false,
};
const GICV2 = {
  gic_version: 'v2', gicd_base: '0x8000000', gicd_size: '0x10000', gicc_base: '0x8010000', gicc_size: '0x10000', gicc_offset: '0x0',
  gich_base: '0x8030000', gich_size: '0x10000', gicv_base: '0x8040000', gicv_size: '0x10000', is_aarch32: false,
};

/** A zone on CPUs 0 and 1 of the board with its own GICv3 + ITS, owning DeviceIDs 0x10 and 0x1234 (the ones the program maps). */
const zone = (kernel: string, gic: object = GICV3) => ({
  arch: 'arm64',
  name: 'conformance',
  zone_id: 0,
  cpus: [0, 1],
  memory_regions: [
    { type: 'ram', physical_start: '0x40000000', virtual_start: '0x40000000', size: '0x10000000' },
    { type: 'io', physical_start: '0x9000000', virtual_start: '0x9000000', size: '0x1000' },
  ],
  interrupts: [33], // the UART's SPI: the GICv2 program pends it by software
  ivc_configs: [],
  kernel_filepath: kernel,
  dtb_filepath: '',
  kernel_load_paddr: LOAD,
  dtb_load_paddr: '0x48000000',
  entry_point: LOAD,
  arch_config: gic,
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

  it('a GICv2 zone answers as qemu-system-aarch64 virt,gic-version=2 does: SGIs, priorities, active state, SPI routing', async () => {
    const elf = buildConformanceProgram('aarch64-gicv2', { arch: 'aarch64', sources: ['aarch64-start.S', 'aarch64-gicv2.c'], loadAddress: LOAD });
    const qemu = reportLines(runQemu('aarch64', ['-M', 'virt,gic-version=2', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'], elf));
    expect(qemu.at(-1)).toBe('END');
    expect(qemu).toContain('nested: GICC_RPR 0x40');
    expect(qemu).toContain('SGI 10 from cpu1 GICC_IAR 0x40a');

    const { consoles, end, log } = await runZones('qemu-virt-aarch64-gicv2', [zone(elf, GICV2)]);
    const ours = reportLines(consoles.get('conformance') ?? '');
    // GICD_IIDR / GICC_IIDR name the implementation (ours a GIC-400's, QEMU its own): the only lines left out.
    const comparable = (lines: string[]) => lines.filter((l) => !/^GIC[DC]_IIDR /.test(l));
    expect(ours.filter((l) => /^GIC[DC]_IIDR /.test(l))).toEqual(['GICD_IIDR 0x200143b', 'GICC_IIDR 0x202143b']);
    expect(comparable(ours), log.join('\n')).toEqual(comparable(qemu));
    expect(end.status).toBe(0);
  }, 120_000);

  it('a GICv3 zone with an ITS answers as qemu-system-aarch64 virt,gic-version=3 does: SGIs, active state, EOImode, SPI routing', async () => {
    const elf = buildConformanceProgram('aarch64-gicv3', { arch: 'aarch64', sources: ['aarch64-start.S', 'aarch64-gicv3.c'], loadAddress: LOAD });
    const qemu = reportLines(runQemu('aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'], elf));
    expect(qemu.at(-1)).toBe('END');
    expect(qemu).toContain('EOImode 1: after EOIR GICR_ISACTIVER0 0x20');
    expect(qemu).toContain('SGI 10 from cpu1 ICC_IAR1 0xa');

    const { consoles, end, log } = await runZones('qemu-virt-aarch64', [zone(elf)]);
    const ours = reportLines(consoles.get('conformance') ?? '');
    // ITLinesNumber: the zone's GIC has QEMU virt's 288 INTIDs, so 288 / 32 - 1 = 8; QEMU 7.2 reports 7.
    const itLines = /^GICD_TYPER\.ITLinesNumber /;
    expect(ours.filter((l) => itLines.test(l))).toEqual(['GICD_TYPER.ITLinesNumber 0x8']);
    expect(ours.filter((l) => !itLines.test(l)), log.join('\n')).toEqual(qemu.filter((l) => !itLines.test(l)));
    expect(end.status).toBe(0);
  }, 120_000);
});
