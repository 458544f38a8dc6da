import { GiB, type BoardBinding, type BoardDescriptor } from '../board-descriptor.js';
import { virtRiscv64Tree } from './device-tree.js';
import { rootZone } from './root-zone.js';
import { rootZoneAia } from './root-zone-aia.js';
import { zone1Linux, zone1LinuxAia } from './zone1-linux.js';

const bindings: readonly BoardBinding[] = [
  { compatible: 'sifive,plic-1.0.0', model: 'plic', role: 'interrupt-controller' },
  { compatible: 'riscv,aplic', model: 'aplic', role: 'interrupt-controller' },
  { compatible: 'riscv,imsics', model: 'imsic', role: 'interrupt-controller' },
  { compatible: 'riscv,cpu-intc', model: 'cpu-intc', role: 'interrupt-controller' },
  { compatible: 'sifive,clint0', model: 'clint', role: 'timer' },
  { compatible: 'riscv,pmu', model: 'sbi-pmu', role: 'no-model' },
  { compatible: 'syscon-poweroff', model: 'syscon-poweroff', role: 'no-model' },
  { compatible: 'syscon-reboot', model: 'syscon-reboot', role: 'no-model' },
  { compatible: 'ns16550a', model: 'ns16550a' },
  { compatible: 'google,goldfish-rtc', model: 'goldfish-rtc' },
  { compatible: 'sifive,test0', model: 'sifive-test' },
  { compatible: 'virtio,mmio', model: 'virtio-mmio' },
  { compatible: 'pci-host-ecam-generic', model: 'pci-ecam' },
  { compatible: 'qemu,fw-cfg-mmio', model: 'fw-cfg' },
  { compatible: 'cfi-flash', model: 'cfi-flash' },
];

export const qemuVirtRiscv64: BoardDescriptor = {
  name: 'qemu-virt-riscv64',
  title: 'QEMU virt, riscv64, PLIC + CLINT (QEMU 7.2 device tree, generated)',
  arch: 'riscv64',
  rootCompatible: ['riscv-virtio'],
  hvisorPlatform: 'riscv64/qemu-plic',
  defaults: { cpus: 4, memoryBytes: 4 * GiB },
  generateTree: (p) => virtRiscv64Tree('qemu-virt-riscv64', p),
  bindings,
  rootZone,
  exampleZones: [zone1Linux],
};

/** hvisor's qemu-aia platform: QEMU `aia=aplic-imsic,aia-guests=1` (one guest interrupt file per hart). */
export const qemuVirtRiscv64Aia: BoardDescriptor = {
  name: 'qemu-virt-riscv64-aia',
  title: 'QEMU virt, riscv64, AIA: APLIC + IMSIC, 1 guest file (QEMU 7.2 device tree, generated)',
  arch: 'riscv64',
  rootCompatible: ['riscv-virtio'],
  hvisorPlatform: 'riscv64/qemu-aia',
  defaults: { cpus: 4, memoryBytes: 2 * GiB },
  generateTree: (p) => virtRiscv64Tree('qemu-virt-riscv64-aia', { ...p, aia: 'aplic-imsic', aiaGuests: 1 }),
  bindings,
  rootZone: rootZoneAia,
  exampleZones: [zone1LinuxAia],
};
