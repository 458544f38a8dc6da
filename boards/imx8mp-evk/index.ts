import { GiB, type BoardDescriptor } from '../board-descriptor.js';
import { rootZone } from './root-zone.js';

/** NXP i.MX8MP EVK: 4x Cortex-A53, GICv3, the vendor DTB from Debian's kernel package. */
export const imx8mpEvk: BoardDescriptor = {
  name: 'imx8mp-evk',
  title: 'NXP i.MX8M Plus EVK (vendor DTB: freescale/imx8mp-evk.dtb)',
  arch: 'aarch64',
  rootCompatible: ['fsl,imx8mp'],
  hvisorPlatform: 'aarch64/imx8mp',
  defaults: { cpus: 4, memoryBytes: 6 * GiB },
  dtbHint: "Debian's linux-image-*-arm64 ships it as usr/lib/linux-image-*/freescale/imx8mp-evk.dtb",
  interruptCount: 192, // GIC-500 with 160 SPIs (i.MX 8M Plus reference manual)
  // hvisor's root zone owns whole AIPS buses: their unmodelled blocks (GPIO, I2C, uSDHC, ENET, ...) probe to a clean failure.
  unmodelledReadAsZero: true,
  undescribedBlocks: [{ name: 'npu', base: 0x3850_0000, size: 0x2_0000 }], // the NPU, in the reference manual's memory map
  bindings: [
    { compatible: 'arm,gic-v3', model: 'gicv3', role: 'interrupt-controller' },
    { compatible: 'arm,armv8-timer', model: 'generic-timer', role: 'timer' },
    { compatible: 'arm,cortex-a53-pmu', model: 'pmu', role: 'no-model' },
    { compatible: 'arm,psci-1.0', model: 'psci', role: 'no-model' },
    { compatible: 'fsl,imx8mp-uart', model: 'imx-uart' },
    { compatible: 'fsl,imx6q-uart', model: 'imx-uart' },
    { compatible: 'nxp,sysctr-timer', model: 'imx-sysctr' },
    { compatible: 'fsl,imx8mp-pcie', model: 'dw-pcie' },
  ],
  rootZone,
  exampleZones: [],
};
