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
import { expectSameAsQemu } from './bare-metal.js';

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

const QEMU_V3 = ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'];
const QEMU_V2 = ['-M', 'virt,gic-version=2', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'];

describe('aarch64 conformance: PSCI 1.1, the GICv3 ITS, GICv3 and GICv2, in a zone and on QEMU', () => {
  it('gives the same PSCI answers, ITS table entries and interrupts as qemu-system-aarch64 virt,gic-version=3', async () => {
    const end = await expectSameAsQemu({
      arch: 'aarch64', program: 'aarch64-gic-its-psci', loadAddress: LOAD, qemu: QEMU_V3, board: 'qemu-virt-aarch64', zone: (elf) => zone(elf),
      qemuSays: ['PSCI_VERSION 0x10001', 'INT delivers 0x2011', 'INT through the indirect table 0x2011', '  acknowledged 0x1b'],
    });
    expect(end.status).toBe(0); // SYSTEM_OFF
  }, 120_000);

  it('a GICv3 zone with an ITS answers as qemu-system-aarch64 virt,gic-version=3 does: SGIs, active state, EOImode, SPI routing', async () => {
    const end = await expectSameAsQemu({
      arch: 'aarch64', program: 'aarch64-gicv3', loadAddress: LOAD, qemu: QEMU_V3, board: 'qemu-virt-aarch64', zone: (elf) => zone(elf),
      qemuSays: ['EOImode 1: after EOIR GICR_ISACTIVER0 0x20', 'SGI 10 from cpu1 ICC_IAR1 0xa'],
      // The zone's GIC has QEMU virt's 288 INTIDs, so 288 / 32 - 1; QEMU 7.2 reports 7 (it takes INTIDs 256..287 all the same).
      oursWhereQemuDiffers: { 'GICD_TYPER.ITLinesNumber': '0x8' },
    });
    expect(end.status).toBe(0);
  }, 120_000);

  it('a GICv2 zone answers as qemu-system-aarch64 virt,gic-version=2 does: SGIs, priorities, active state, SPI routing', async () => {
    const end = await expectSameAsQemu({
      arch: 'aarch64', program: 'aarch64-gicv2', loadAddress: LOAD, qemu: QEMU_V2, board: 'qemu-virt-aarch64-gicv2', zone: (elf) => zone(elf, GICV2),
      qemuSays: ['nested: GICC_RPR 0x40', 'SGI 10 from cpu1 GICC_IAR 0x40a'],
      // The IIDRs name the implementation: ours a GIC-400's, QEMU its own.
      oursWhereQemuDiffers: { GICD_IIDR: '0x200143b', GICC_IIDR: '0x202143b' },
    });
    expect(end.status).toBe(0);
  }, 120_000);
});
