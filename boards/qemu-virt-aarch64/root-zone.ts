/**
 * The root zone hvisor compiles for QEMU virt aarch64 (syswonder/hvisor platform/aarch64/qemu-gicv3
 * and qemu-gicv2, board.rs), in hvisor-tool JSON form. hvisor runs QEMU with `-smp 4 -m 2G`; the
 * root zone gets CPUs 0 and 1 and RAM 0x5000_0000..0xc000_0000, the PL011 and the virtio-mmio
 * slots 0..31 (0xa00_0000, 0x4000 bytes). Interrupts: 33 = PL011 (SPI 1), 35..38 = PCIe INTA..D
 * (SPI 3..6), 64 = hvisor's virtio wake-up (32 + 0x20), 65 = IVC, 77 and 79 = virtio-mmio slots
 * 29 and 31 (SPI 45 and 47).
 */
import { hex, identity, pciDev, type PciConfigJson, type ZoneConfigJson } from '../zone-config-json.js';

const pciConfig: PciConfigJson = {
  ecam_base: hex(0x40_1000_0000),
  ecam_size: hex(0x1000_0000),
  io_base: hex(0x3eff_0000),
  io_size: hex(0x1_0000),
  pci_io_base: hex(0),
  mem32_base: hex(0x1000_0000),
  mem32_size: hex(0x2eff_0000),
  pci_mem32_base: hex(0x1000_0000),
  mem64_base: hex(0x80_0000_0000),
  mem64_size: hex(0x80_0000_0000),
  pci_mem64_base: hex(0x80_0000_0000),
  bus_range_begin: hex(0),
  bus_range_end: hex(0xff),
  domain: hex(0),
};

const common = {
  name: 'root-linux',
  zone_id: 0,
  cpus: [0, 1],
  memory_regions: [
    identity('ram', 0x5000_0000, 0x7000_0000),
    identity('io', 0x900_0000, 0x1000), // PL011
    identity('io', 0xa00_0000, 0x4000), // virtio-mmio slots
  ],
  interrupts: [33, 64, 77, 79, 35, 36, 37, 38, 65],
  ivc_configs: [],
  kernel_filepath: 'Image',
  dtb_filepath: 'zone0.dtb',
  kernel_load_paddr: hex(0xa040_0000),
  dtb_load_paddr: hex(0xa000_0000),
  entry_point: hex(0xa040_0000),
  pci_config: [pciConfig],
} as const;

export const rootZoneGicv3: ZoneConfigJson = {
  ...common,
  arch_config: {
    gic_version: 'v3',
    gicd_base: hex(0x800_0000),
    gicd_size: hex(0x1_0000),
    gicr_base: hex(0x80a_0000),
    gicr_size: hex(0xf6_0000),
    gits_base: hex(0x808_0000),
    gits_size: hex(0x2_0000),
    is_aarch32: false,
  },
  num_pci_devs: 3,
  alloc_pci_devs: [pciDev(0, 0, 0, 0, 0), pciDev(0, 0, 1, 0, 0), pciDev(0, 0, 5, 0, 1)],
};

/** GICv2: hvisor's config names the GICH/GICV frames QEMU adds with `virtualization=on`. */
export const rootZoneGicv2: ZoneConfigJson = {
  ...common,
  arch_config: {
    gic_version: 'v2',
    gicd_base: hex(0x800_0000),
    gicd_size: hex(0x1_0000),
    gicc_base: hex(0x801_0000),
    gicc_size: hex(0x1_0000),
    gicc_offset: hex(0),
    gich_base: hex(0x803_0000),
    gich_size: hex(0x1_0000),
    gicv_base: hex(0x804_0000),
    gicv_size: hex(0x1_0000),
    is_aarch32: false,
  },
  num_pci_devs: 3,
  alloc_pci_devs: [pciDev(0, 0, 0, 0, 0), pciDev(0, 0, 1, 0, 0), pciDev(0, 0, 2, 0, 0)],
};
