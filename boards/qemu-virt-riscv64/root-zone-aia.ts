/**
 * The root zone hvisor compiles for QEMU virt riscv64 with the AIA (syswonder/hvisor
 * platform/riscv64/qemu-aia, board.rs; QEMU `aia=aplic-imsic,aia-guests=1 -smp 4 -m 2G`), in
 * hvisor-tool JSON form: harts 0..2, RAM 0x8300_0000..0xa000_0000, the ns16550a, the PCIe ECAM and
 * virtio-mmio slots 0..4 and 7. Interrupts are APLIC sources: 1..5 and 8 = those slots, 10 = UART,
 * 33..35 = PCIe INTB..D, and 36, which no QEMU device raises (kept as hvisor lists it). hvisor gives
 * the zone the S-level APLIC; there is no PLIC.
 */
import { hex, identity, type ZoneConfigJson } from '../zone-config-json.js';

export const rootZoneAia: ZoneConfigJson = {
  arch: 'riscv',
  name: 'root-linux',
  zone_id: 0,
  cpus: [0, 1, 2],
  memory_regions: [
    identity('ram', 0x8300_0000, 0x1d00_0000),
    identity('io', 0x1000_0000, 0x1000), // ns16550a
    identity('io', 0x3000_0000, 0x1000_0000), // PCIe ECAM
    ...[0x1000_1000, 0x1000_2000, 0x1000_3000, 0x1000_4000, 0x1000_5000, 0x1000_8000].map((base) => identity('io', base, 0x1000)),
  ],
  interrupts: [1, 2, 3, 4, 5, 8, 10, 33, 34, 35, 36],
  ivc_configs: [],
  kernel_filepath: 'Image',
  dtb_filepath: 'zone0.dtb',
  kernel_load_paddr: hex(0x9000_0000),
  dtb_load_paddr: hex(0x8f00_0000),
  entry_point: hex(0x9000_0000),
  arch_config: { plic_base: hex(0), plic_size: hex(0), aplic_base: hex(0xd00_0000), aplic_size: hex(0x8000) },
};
