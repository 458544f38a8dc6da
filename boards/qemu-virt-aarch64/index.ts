import { GiB, type BoardBinding, type BoardDescriptor } from '../board-descriptor.js';
import { virtAarch64Tree } from './device-tree.js';
import { rootZoneGicv2, rootZoneGicv3 } from './root-zone.js';
import { zone1LinuxGicv2, zone1LinuxGicv3 } from './zone1-linux.js';

const bindings: readonly BoardBinding[] = [
  { compatible: 'arm,gic-v3', model: 'gicv3', role: 'interrupt-controller' },
  { compatible: 'arm,gic-v3-its', model: 'gicv3-its', role: 'interrupt-controller' },
  { compatible: 'arm,cortex-a15-gic', model: 'gicv2', role: 'interrupt-controller' },
  { compatible: 'arm,gic-v2m-frame', model: 'gicv2m', role: 'interrupt-controller' },
  { compatible: 'arm,armv8-timer', model: 'generic-timer', role: 'timer' },
  { compatible: 'arm,armv8-pmuv3', model: 'pmu', role: 'no-model' },
  { compatible: 'arm,psci-1.0', model: 'psci', role: 'no-model' },
  { compatible: 'arm,pl011', model: 'pl011' },
  { compatible: 'arm,pl031', model: 'pl031' },
  { compatible: 'arm,pl061', model: 'pl061' },
  { compatible: 'virtio,mmio', model: 'virtio-mmio' },
  { compatible: 'pci-host-ecam-generic', model: 'pci-ecam' },
  { compatible: 'qemu,fw-cfg-mmio', model: 'fw-cfg' },
  { compatible: 'cfi-flash', model: 'cfi-flash' },
];

function virt(gicVersion: 2 | 3): BoardDescriptor {
  const name = gicVersion === 3 ? 'qemu-virt-aarch64' : 'qemu-virt-aarch64-gicv2';
  return {
    name,
    title: `QEMU virt, aarch64, GICv${gicVersion} (QEMU 7.2 device tree, generated)`,
    arch: 'aarch64',
    rootCompatible: ['linux,dummy-virt'],
    hvisorPlatform: gicVersion === 3 ? 'aarch64/qemu-gicv3' : 'aarch64/qemu-gicv2',
    defaults: { cpus: 4, memoryBytes: 2 * GiB },
    generateTree: (p) => virtAarch64Tree(name, { ...p, gicVersion }),
    interruptCount: 288, // QEMU virt: 256 SPIs (NUM_IRQS)
    bindings,
    rootZone: gicVersion === 3 ? rootZoneGicv3 : rootZoneGicv2,
    exampleZones: [gicVersion === 3 ? zone1LinuxGicv3 : zone1LinuxGicv2],
  };
}

export const qemuVirtAarch64 = virt(3);
export const qemuVirtAarch64Gicv2 = virt(2);
