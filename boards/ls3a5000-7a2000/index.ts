import { GiB, type BoardDescriptor } from '../board-descriptor.js';
import { virtLoongarch64Ram, virtLoongarch64Tree } from './device-tree.js';
import { rootZone } from './root-zone.js';
import { withInterruptPath } from './interrupt-path.js';

const name = 'ls3a5000-7a2000';

/**
 * Loongson 3A5000 with the 7A-series bridge. QEMU 7.2 has no 7A2000 board, so the generated tree
 * is QEMU's LoongArch virt machine (3A5000 + LS7A1000, the same PCH-PIC at 0x1000_0000 and UART at
 * 0x1fe0_01e0 as the 7A2000 board hvisor runs on), with the interrupt path Linux drives added
 * (interrupt-path.ts: CPU interrupt controller, EIOINTC, PCH-PIC, the UART's and RTC's inputs), which
 * QEMU 7.2's tree does not describe. Its memory comes from `fallbackRam`: QEMU's
 * tree has no /memory node. 4 GiB by default, so every region of hvisor's root zone is backed.
 */
export const ls3a5000With7a2000: BoardDescriptor = {
  name,
  title: 'Loongson 3A5000 + 7A2000 (QEMU 7.2 LoongArch virt device tree, generated)',
  arch: 'loongarch64',
  rootCompatible: ['linux,dummy-loongson3'],
  hvisorPlatform: 'loongarch64/ls3a5000',
  defaults: { cpus: 4, memoryBytes: 4 * GiB },
  generateTree: (p) => withInterruptPath(virtLoongarch64Tree(name, p)),
  fallbackRam: (p) => virtLoongarch64Ram(p),
  bindings: [
    { compatible: 'loongarch,ls7a', model: 'ls7a-pch-pic', role: 'interrupt-controller' },
    { compatible: 'loongson,pch-pic-1.0', model: 'ls7a-pch-pic', role: 'interrupt-controller' },
    { compatible: 'loongson,pch-msi-1.0', model: 'ls7a-pch-msi', role: 'interrupt-controller' },
    { compatible: 'loongson,eiointc-1.0', model: 'eiointc', role: 'interrupt-controller' },
    { compatible: 'loongson,ls2k2000-eiointc', model: 'eiointc', role: 'interrupt-controller' },
    { compatible: 'loongson,cpu-interrupt-controller', model: 'cpuic', role: 'interrupt-controller' },
    { compatible: 'ns16550a', model: 'ns16550a' },
    { compatible: 'loongson,ls7a-rtc', model: 'ls7a-rtc' },
    { compatible: 'pci-host-ecam-generic', model: 'pci-ecam' },
    { compatible: 'loongson,ls7a-pci', model: 'pci-ecam' },
    { compatible: 'qemu,fw-cfg-mmio', model: 'fw-cfg' },
  ],
  rootZone,
  exampleZones: [],
};
