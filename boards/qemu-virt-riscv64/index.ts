import { GiB, type BoardDescriptor } from '../board-descriptor.js';
import { virtRiscv64Tree } from './device-tree.js';
import { rootZone } from './root-zone.js';
import { zone1Linux } from './zone1-linux.js';

const name = 'qemu-virt-riscv64';

export const qemuVirtRiscv64: BoardDescriptor = {
  name,
  title: 'QEMU virt, riscv64, PLIC + CLINT (QEMU 7.2 device tree, generated)',
  arch: 'riscv64',
  hvisorPlatform: 'riscv64/qemu-plic',
  defaults: { cpus: 4, memoryBytes: 4 * GiB },
  generateTree: (p) => virtRiscv64Tree(name, p),
  bindings: [
    { compatible: 'sifive,plic-1.0.0', model: 'plic', role: 'interrupt-controller' },
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
  ],
  rootZone,
  exampleZones: [zone1Linux],
};
