/**
 * The root zone hvisor compiles for the Xilinx ZCU102 (syswonder/hvisor platform/aarch64/zcu102,
 * board.rs), in hvisor-tool JSON form: CPUs 0 and 1, RAM 0..0x4000_0000 and 0x5000_0000..
 * 0x7500_0000, the DDR controller (mapped as RAM by hvisor), UART0, SD1, GEM3, both I2Cs and the
 * GPIO. Interrupts: 53 = UART0, 81 = SD1, 175..178 = the A53 PMUs, 64 = hvisor's virtio wake-up,
 * 50 = GPIO, 48 and 49 = I2C0/1, 95 = GEM3. GICv2 (GIC-400) with its 4 KiB-aliased CPU interface
 * at offset 0xf000 of the 128 KiB frame.
 */
import { hex, identity, type ZoneConfigJson } from '../zone-config-json.js';

export const rootZone: ZoneConfigJson = {
  name: 'root-linux',
  zone_id: 0,
  cpus: [0, 1],
  memory_regions: [
    identity('ram', 0, 0x4000_0000),
    identity('ram', 0x5000_0000, 0x2500_0000),
    identity('ram', 0xfd07_0000, 0x3_0000), // memory-controller
    identity('io', 0xff00_0000, 0x1000), // serial
    identity('io', 0xff17_0000, 0x1000), // mmc0
    identity('io', 0xff0e_0000, 0x1000), // ethernet
    identity('io', 0xff02_0000, 0x1000), // i2c
    identity('io', 0xff03_0000, 0x1000), // i2c
    identity('io', 0xff0a_0000, 0x1000), // gpio
  ],
  interrupts: [53, 81, 175, 176, 177, 178, 64, 50, 48, 49, 95],
  ivc_configs: [],
  kernel_filepath: 'Image',
  dtb_filepath: 'zone0.dtb',
  kernel_load_paddr: hex(0x20_0000),
  dtb_load_paddr: hex(0x400_0000),
  entry_point: hex(0x20_0000),
  arch_config: {
    gic_version: 'v2',
    gicd_base: hex(0xf901_0000),
    gicd_size: hex(0x1_0000),
    gicc_base: hex(0xf902_0000),
    gicc_size: hex(0x2_0000),
    gicc_offset: hex(0xf000),
    gich_base: hex(0xf904_0000),
    gich_size: hex(0x2_0000),
    gicv_base: hex(0xf906_0000),
    gicv_size: hex(0x2_0000),
    is_aarch32: false,
  },
};
