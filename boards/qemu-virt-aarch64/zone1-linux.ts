/**
 * hvisor's example nonroot Linux zone for QEMU virt aarch64 (syswonder/hvisor
 * platform/aarch64/qemu-gicv3/configs/zone1-linux.json and qemu-gicv2/configs/zone1-linux.json),
 * in hvisor-tool JSON form: CPUs 2 and 3, RAM 0x5000_0000..0x8000_0000 (inside the root zone's
 * range: hvisor's root Linux leaves it out of its own /memory), virtio-mmio slots served by the
 * root zone's virtio daemon. Its interrupts are what the daemon injects (virtio_cfg.json), which
 * hvisor's GICv2 example does not align with the slots' own SPIs.
 */
import { hex, identity, pciDev, type ZoneConfigJson } from '../zone-config-json.js';
import { rootZoneGicv2, rootZoneGicv3 } from './root-zone.js';

const shared = {
  zone_id: 1,
  cpus: [2, 3],
  ivc_configs: [],
  kernel_load_paddr: hex(0x5040_0000),
  dtb_load_paddr: hex(0x5000_0000),
  entry_point: hex(0x5040_0000),
} as const;

export const zone1LinuxGicv3: ZoneConfigJson = {
  ...shared,
  name: 'linux2',
  memory_regions: [
    identity('ram', 0x5000_0000, 0x3000_0000),
    identity('virtio', 0xa00_3600, 0x200),
    identity('virtio', 0xa00_3800, 0x200),
    identity('virtio', 0xa00_3c00, 0x200),
  ],
  interrupts: [75, 76, 78],
  kernel_filepath: './Image',
  dtb_filepath: './zone1-linux.dtb',
  arch_config: rootZoneGicv3.arch_config,
  pci_config: [{ ...rootZoneGicv3.pci_config![0]!, bus_range_end: hex(0x1f) }],
  num_pci_devs: 2,
  alloc_pci_devs: [pciDev(0, 0, 0, 0, 0), pciDev(0, 0, 1, 0, 0)],
};

export const zone1LinuxGicv2: ZoneConfigJson = {
  ...shared,
  arch: 'arm64',
  name: 'zone1-linux',
  memory_regions: [
    identity('ram', 0x5000_0000, 0x3000_0000),
    identity('virtio', 0xa00_3a00, 0x200),
    identity('virtio', 0xa00_3e00, 0x200),
  ],
  interrupts: [76, 78],
  kernel_filepath: 'zone1-linux-kernel',
  dtb_filepath: 'zone1-linux.dtb',
  arch_config: rootZoneGicv2.arch_config,
};
