import { GiB, type BoardDescriptor } from '../board-descriptor.js';
import { rootZone } from './root-zone.js';

/** Xilinx ZCU102 (Zynq UltraScale+ MPSoC): 4x Cortex-A53, GIC-400, the vendor DTB from Debian. */
export const zcu102: BoardDescriptor = {
  name: 'zcu102',
  title: 'Xilinx ZCU102 rev1.0 (vendor DTB: xilinx/zynqmp-zcu102-rev1.0.dtb)',
  arch: 'aarch64',
  rootCompatible: ['xlnx,zynqmp'],
  hvisorPlatform: 'aarch64/zcu102',
  defaults: { cpus: 4, memoryBytes: 4 * GiB },
  dtbHint: "Debian's linux-image-*-arm64 ships it as usr/lib/linux-image-*/xilinx/zynqmp-zcu102-rev1.0.dtb",
  interruptCount: 192, // GIC-400 with 160 SPIs (Zynq UltraScale+ TRM, UG1085)
  bindings: [
    { compatible: 'arm,gic-400', model: 'gicv2', role: 'interrupt-controller' },
    { compatible: 'arm,armv8-timer', model: 'generic-timer', role: 'timer' },
    { compatible: 'arm,armv8-pmuv3', model: 'pmu', role: 'no-model' },
    { compatible: 'arm,psci-0.2', model: 'psci', role: 'no-model' },
    { compatible: 'cdns,uart-r1p12', model: 'cdns-uart' },
    { compatible: 'cdns,ttc', model: 'cdns-ttc' },
    { compatible: 'xlnx,nwl-pcie-2.11', model: 'nwl-pcie' },
  ],
  rootZone,
  exampleZones: [],
};
