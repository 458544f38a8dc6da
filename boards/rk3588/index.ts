import { GiB, type BoardDescriptor } from '../board-descriptor.js';
import { rockchipBindings, rockchipRam } from '../rockchip.js';

/**
 * Rockchip RK3588 (4x Cortex-A55 + 4x Cortex-A76, GIC-600 with 480 SPIs), from Debian trixie's
 * rockchip/rk3588-*.dtb (6.1 has none). /memory comes from the board, as U-Boot adds it.
 */
export const rk3588: BoardDescriptor = {
  name: 'rk3588',
  title: 'Rockchip RK3588 (vendor DTB: rockchip/rk3588-rock-5b.dtb, Debian trixie 6.12)',
  arch: 'aarch64',
  rootCompatible: ['rockchip,rk3588'],
  hvisorPlatform: 'aarch64/rk3588',
  defaults: { cpus: 8, memoryBytes: 8 * GiB },
  dtbHint: "Debian trixie's linux-image-*-arm64 ships it as usr/lib/linux-image-*/rockchip/rk3588-rock-5b.dtb (.fixtures/dtbs-arm64-6.12)",
  fallbackRam: (p) => rockchipRam(p, 0x1_0000_0000),
  interruptCount: 512, // GIC-600, 480 SPIs (RK3588 TRM)
  timerFrequency: 24_000_000, // the 24 MHz oscillator, CNTFRQ as Rockchip's TF-A sets it
  bindings: [
    ...rockchipBindings,
    { compatible: 'rockchip,rk3588-cru', model: 'rk3588-cru' },
    { compatible: 'rockchip,rk3588-pmu', model: 'rk3588-pmu' },
    { compatible: 'arm,scmi-shmem', model: 'scmi-shmem' },
    { compatible: 'arm,scmi-smc', model: 'scmi-smc' },
    { compatible: 'rockchip,rk3588-ioc', model: 'rk3588-grf' },
    { compatible: 'rockchip,gpio-bank', model: 'rockchip-gpio' },
    { compatible: 'rockchip,rk3588-qos', model: 'rk3588-qos' },
  ],
  // hvisor's root zone for this platform is not mirrored yet: `board show` lists none.
  exampleZones: [],
};
