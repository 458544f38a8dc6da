import type { ScmiClockSpec } from '../../firmware/scmi/clock-protocol.js';
import type { ScmiFirmwareTables } from '../../firmware/scmi/smc-firmware.js';

/**
 * What Rockchip's TF-A offers the OS over SCMI on RK3568 (the DTB's `arm,scmi-smc` with its shared
 * memory at 0x10f000): the clocks the secure firmware owns, indexed as Linux's
 * dt-bindings/clock/rk3568-cru.h numbers them (SCMI_CLK_CPU = 0, SCMI_CLK_GPU = 1, SCMI_CLK_NPU = 2;
 * the CPUs and the GPU name them by these indexes). Rate lists follow the DTB's OPP tables; boot
 * rates are APLL's 816 MHz for the cores and the GPU's lowest operating point. No reset domains.
 */
const MHz = 1_000_000;
const mhz = (...rates: number[]) => rates.map((r) => r * MHz);

const clocks: readonly ScmiClockSpec[] = [
  { name: 'scmi_clk_cpu', rates: mhz(408, 600, 816, 1104, 1416, 1608, 1800, 1992), rate: 816 * MHz },
  { name: 'scmi_clk_gpu', rates: mhz(200, 300, 400, 600, 700, 800), rate: 200 * MHz },
  { name: 'scmi_clk_npu', rates: mhz(200, 300, 400, 600, 700, 800, 900, 1000), rate: 200 * MHz },
];

export const rk3568ScmiFirmware: ScmiFirmwareTables = {
  identity: { vendor: 'rockchip', subVendor: 'rk3568', implementationVersion: 0x0001_0000 },
  clocks,
  resets: [],
};
