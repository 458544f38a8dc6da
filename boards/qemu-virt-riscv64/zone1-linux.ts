/**
 * hvisor's example nonroot Linux zone for QEMU virt riscv64 with the PLIC (syswonder/hvisor
 * platform/riscv64/qemu-plic/configs/zone1-linux-virtio.json), in hvisor-tool JSON form: harts 2
 * and 3, RAM 0x8500_0000..0x8f00_0000, virtio-mmio slot 6 (PLIC source 7) served by the root
 * zone's daemon, PCIe INTC (source 34) and the device 00:02.0.
 */
import { hex, identity, pciDev, type ZoneConfigJson } from '../zone-config-json.js';
import { rootZone } from './root-zone.js';

export const zone1Linux: ZoneConfigJson = {
  arch: 'riscv',
  name: 'linux2',
  zone_id: 1,
  cpus: [2, 3],
  memory_regions: [identity('ram', 0x8500_0000, 0xa00_0000), identity('virtio', 0x1000_7000, 0x1000)],
  interrupts: [7, 34],
  ivc_configs: [],
  kernel_filepath: './Image',
  dtb_filepath: './zone1-linux.dtb',
  kernel_load_paddr: hex(0x8600_0000),
  dtb_load_paddr: hex(0x8500_0000),
  entry_point: hex(0x8600_0000),
  arch_config: { plic_base: hex(0xc00_0000), plic_size: hex(0x400_0000), aplic_base: hex(0xd00_0000), aplic_size: hex(0x8000) },
  pci_config: [{ ...rootZone.pci_config![0]!, bus_range_end: hex(0x1f) }],
  num_pci_devs: 2,
  alloc_pci_devs: [pciDev(0, 0, 0, 0, 0), pciDev(0, 0, 2, 0, 0)],
};

/**
 * hvisor's nonroot Linux zone for the AIA board (platform/riscv64/qemu-aia/configs/zone1-linux.json):
 * hart 3, RAM 0x8300_0000..0x8f00_0000 (inside the root zone's range, as on the PLIC board),
 * virtio-mmio slots 5 and 6 (APLIC sources 6 and 7) served by the root zone's daemon.
 */
export const zone1LinuxAia: ZoneConfigJson = {
  arch: 'riscv',
  name: 'linux2',
  zone_id: 1,
  cpus: [3],
  memory_regions: [identity('ram', 0x8300_0000, 0xc00_0000), identity('virtio', 0x1000_6000, 0x1000), identity('virtio', 0x1000_7000, 0x1000)],
  interrupts: [6, 7],
  ivc_configs: [],
  kernel_filepath: './Image',
  dtb_filepath: './zone1-linux.dtb',
  kernel_load_paddr: hex(0x8400_0000),
  dtb_load_paddr: hex(0x8300_0000),
  entry_point: hex(0x8400_0000),
  arch_config: { plic_base: hex(0xc00_0000), plic_size: hex(0x400_0000), aplic_base: hex(0xd00_0000), aplic_size: hex(0x8000) },
  pci_config: [{ ...rootZone.pci_config![0]!, bus_range_end: hex(0x1f) }],
  num_pci_devs: 2,
  alloc_pci_devs: [pciDev(0, 0, 0, 0, 0), pciDev(0, 0, 2, 0, 0)],
};
