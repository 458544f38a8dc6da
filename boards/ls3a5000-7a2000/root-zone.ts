/**
 * The root zone hvisor compiles for the Loongson 3A5000 + 7A2000 board (syswonder/hvisor
 * platform/loongarch64/ls3a5000, board.rs), in hvisor-tool JSON form: CPU 0, RAM split over the
 * low 256 MiB, 0x9000_0000.. and the regions later zones also name (hvisor's root Linux gives the
 * nonroot ones back through its device tree), UART0 (0x1fe0_0000), UART1, RTC, the 7A2000 PCH-PIC
 * page, the PCI I/O and memory windows. hvisor's LoongArch zones list no interrupts: the
 * interrupt path (EIOINTC and the PCH-PIC) is passed through. The kernel entry is the DMW-mapped
 * virtual address 0x9000_0000_00d8_c000, beyond a JS number, so it stays a string.
 */
import { hex, identity, pciDev, type ZoneConfigJson } from '../zone-config-json.js';

export const rootZone: ZoneConfigJson = {
  arch: 'loongarch64',
  name: 'root-linux-la64',
  zone_id: 0,
  cpus: [0],
  memory_regions: [
    identity('ram', 0x20_0000, 0xee0_0000),
    identity('ram', 0x9000_0000, 0x1000_0000),
    identity('ram', 0xf000_0000, 0x1000_0000),
    identity('ram', 0x1_6000_0000, 0x1000_0000), // linux0
    identity('ram', 0xc000_0000, 0x3000_0000), // linux1
    identity('ram', 0xa000_0000, 0x2000_0000), // linux2
    identity('ram', 0x1_0000_0000, 0x2000_0000), // linux3
    identity('io', 0x1fe0_0000, 0x1000), // uart0
    identity('io', 0x1008_0000, 0x1000), // uart1
    identity('io', 0x100d_0000, 0x1000), // rtc
    identity('io', 0x1000_0000, 0x1000), // 7A2000 PCH-PIC
    identity('io', 0x1840_8000, 0x8000), // PCI I/O resource
    identity('io', 0x6000_0000, 0x2000_0000), // PCI memory resource
    identity('io', 0x1001_0000, 0x1_0000),
    { type: 'ram', physical_start: hex(0x1000), virtual_start: hex(0), size: hex(0x1_0000) },
    identity('ram', 0xf_0000, 0x1_0000),
    identity('ram', 0x1_4000_0000, 0x80_0000), // memory shared with linux1
  ],
  interrupts: [],
  ivc_configs: [],
  kernel_filepath: 'vmlinux.bin',
  dtb_filepath: 'zone0.dtb',
  kernel_load_paddr: hex(0x20_0000),
  dtb_load_paddr: hex(0x1_0000_f000),
  entry_point: '0x9000000000d8c000',
  arch_config: {},
  pci_config: [
    {
      ecam_base: hex(0xfe_0000_0000),
      ecam_size: hex(0x2000_0000),
      io_base: hex(0x1840_8000),
      io_size: hex(0x8000),
      pci_io_base: hex(0x8000),
      mem32_base: hex(0),
      mem32_size: hex(0),
      pci_mem32_base: hex(0),
      mem64_base: hex(0x6000_0000),
      mem64_size: hex(0x3000_0000),
      pci_mem64_base: hex(0x6000_0000),
      bus_range_begin: hex(0),
      bus_range_end: hex(0xff),
      domain: hex(0),
    },
  ],
  num_pci_devs: 24,
  alloc_pci_devs: [
    ...[0, 1, 2, 3].map((f) => pciDev(0, 0, 0, f, 0)),
    pciDev(0, 0, 4, 0, 0),
    pciDev(0, 0, 4, 1, 0),
    pciDev(0, 0, 5, 0, 0),
    pciDev(0, 0, 5, 1, 0),
    ...[0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xf, 0x10, 0x13, 0x16, 0x19].map((d) => pciDev(0, 0, d, 0, 0)),
    pciDev(0, 2, 0, 0, 0),
    pciDev(0, 5, 0, 0, 0),
    pciDev(0, 6, 0, 0, 0),
  ],
};
