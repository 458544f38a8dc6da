import { GiB, type BoardDescriptor } from '../board-descriptor.js';
import { rockchipBindings, rockchipRam } from '../rockchip.js';

/** Rockchip RK3568 (4x Cortex-A55, GIC-600), from Debian's rockchip/rk3568-*.dtb. /memory comes from the board, as U-Boot adds it. */
export const rk3568: BoardDescriptor = {
  name: 'rk3568',
  title: 'Rockchip RK3568 (vendor DTB: rockchip/rk3568-evb1-v10.dtb)',
  arch: 'aarch64',
  rootCompatible: ['rockchip,rk3568'],
  hvisorPlatform: 'aarch64/rk3568',
  defaults: { cpus: 4, memoryBytes: 4 * GiB },
  dtbHint: "Debian's linux-image-*-arm64 ships it as usr/lib/linux-image-*/rockchip/rk3568-evb1-v10.dtb",
  fallbackRam: (p) => rockchipRam(p, 0x1_f000_0000),
  timerFrequency: 24_000_000, // the 24 MHz oscillator, CNTFRQ as Rockchip's TF-A sets it
  // A zone holding the whole SoC (a bring-up run) probes drivers of blocks nothing models (PL330 DMA,
  // DWC3, GMAC, ...): present but idle, they fail their probes cleanly instead of taking an external abort.
  unmodelledReadAsZero: true,
  bindings: [
    ...rockchipBindings,
    { compatible: 'rockchip,rk3568-cru', model: 'rk3568-cru' },
    { compatible: 'rockchip,rk3568-pmucru', model: 'rk3568-pmucru' },
    { compatible: 'rockchip,rk3568-grf', model: 'rk3568-grf' },
    { compatible: 'rockchip,rk3568-pmugrf', model: 'rk3568-pmugrf' },
    { compatible: 'rockchip,rk3568-pmu', model: 'rk3568-pmu' },
    { compatible: 'rockchip,rk3568-qos', model: 'rk3568-qos' },
    { compatible: 'arm,scmi-shmem', model: 'scmi-shmem' },
    { compatible: 'arm,scmi-smc', model: 'scmi-smc' },
  ],
  // hvisor's root zone for this platform is not mirrored yet: `board show` lists none.
  exampleZones: [],
};
