/**
 * The root zone hvisor compiles for the NXP i.MX8MP EVK (syswonder/hvisor platform/aarch64/imx8mp,
 * board.rs), in hvisor-tool JSON form: CPUs 0 and 1, RAM 0x5000_0000..0xd000_0000, the AIPS bus
 * windows (0x3000_0000, 0x3080_0000 with UART2 at 0x3089_0000, 0x30c0_0000), the GPU and VPU
 * blocks (0x3800_0000, 0x3800_8000), 0x3850_0000 and the HDMI block (0x32c0_0000). The GICv3 has
 * no ITS on this SoC.
 */
import { hex, identity, type ZoneConfigJson } from '../zone-config-json.js';

export const rootZone: ZoneConfigJson = {
  name: 'root-linux',
  zone_id: 0,
  cpus: [0, 1],
  memory_regions: [
    identity('ram', 0x5000_0000, 0x8000_0000),
    identity('io', 0x3000_0000, 0x40_0000), // bus@30000000
    identity('io', 0x30c0_0000, 0x40_0000),
    identity('io', 0x3080_0000, 0x40_0000), // bus@30800000 (UART2)
    identity('io', 0x3800_0000, 0x8000),
    identity('io', 0x3800_8000, 0x8000),
    identity('io', 0x3850_0000, 0x2_0000),
    identity('io', 0x32c0_0000, 0x40_0000), // hdmi
  ],
  interrupts: [35, 36, 37, 38, 45, 52, 55, 56, 57, 59, 64, 67, 75, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 135, 150, 151, 152, 162],
  ivc_configs: [],
  kernel_filepath: 'Image',
  dtb_filepath: 'zone0.dtb',
  kernel_load_paddr: hex(0xa040_0000),
  dtb_load_paddr: hex(0xa000_0000),
  entry_point: hex(0xa040_0000),
  arch_config: {
    gic_version: 'v3',
    gicd_base: hex(0x3880_0000),
    gicd_size: hex(0x1_0000),
    gicr_base: hex(0x3888_0000),
    gicr_size: hex(0xc_0000),
    gits_base: hex(0),
    gits_size: hex(0),
    is_aarch32: false,
  },
};
