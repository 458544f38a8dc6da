/**
 * The root zone hvisor compiles for QEMU virt riscv64 with the PLIC (syswonder/hvisor
 * platform/riscv64/qemu-plic, board.rs), in hvisor-tool JSON form. hvisor runs QEMU with
 * `-smp 4 -m 4G`; the root zone gets harts 0 and 1, RAM 0x8300_0000..0x1_0000_0000, the
 * ns16550a and virtio-mmio slot 7 (0x1000_8000). Interrupts are PLIC sources: 10 = UART,
 * 33 = PCIe INTB. hvisor gives the zone the whole 64 MiB PLIC window.
 */
import { hex, identity, pciDev, type ZoneConfigJson } from '../zone-config-json.js';

export const rootZone: ZoneConfigJson = {
  arch: 'riscv',
  name: 'root-linux',
  zone_id: 0,
  cpus: [0, 1],
  memory_regions: [
    identity('ram', 0x8300_0000, 0x7d00_0000),
    identity('io', 0x1000_0000, 0x1000), // ns16550a
    identity('io', 0x1000_8000, 0x1000), // virtio-mmio slot 7
  ],
  interrupts: [10, 33],
  ivc_configs: [],
  kernel_filepath: 'Image',
  dtb_filepath: 'zone0.dtb',
  kernel_load_paddr: hex(0x9000_0000),
  dtb_load_paddr: hex(0x8f00_0000),
  entry_point: hex(0x9000_0000),
  arch_config: {
    plic_base: hex(0xc00_0000),
    plic_size: hex(0x400_0000),
    aplic_base: hex(0),
    aplic_size: hex(0),
  },
  pci_config: [
    {
      ecam_base: hex(0x3000_0000),
      ecam_size: hex(0x1000_0000),
      io_base: hex(0x300_0000),
      io_size: hex(0x1_0000),
      pci_io_base: hex(0),
      mem32_base: hex(0x4000_0000),
      mem32_size: hex(0x4000_0000),
      pci_mem32_base: hex(0x4000_0000),
      mem64_base: hex(0x4_0000_0000),
      mem64_size: hex(0x4_0000_0000),
      pci_mem64_base: hex(0x4_0000_0000),
      bus_range_begin: hex(0),
      bus_range_end: hex(0xff),
      domain: hex(0),
    },
  ],
  num_pci_devs: 2,
  alloc_pci_devs: [pciDev(0, 0, 0, 0, 0), pciDev(0, 0, 1, 0, 0)],
};
