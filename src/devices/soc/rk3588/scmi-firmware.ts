import type { ScmiClockSpec } from '../../firmware/scmi/clock-protocol.js';
import type { ScmiFirmwareTables } from '../../firmware/scmi/smc-firmware.js';

/**
 * What Rockchip's TF-A offers the OS over SCMI on RK3588: the clocks its secure firmware owns
 * (CPU clusters, DSU, DDR, GPU, NPU, the secure bus and crypto clocks, SPLL), indexed as Linux's
 * dt-bindings/clock/rockchip,rk3588-cru.h numbers them (SCMI_CLK_CPUL = 0 .. SCMI_HCLK_SD = 23),
 * and the secure CRU's soft resets (SECURE_SOFTRST_CON00..02, one domain per bit, as
 * SCMI_SRST_* count them). Boot rates are the ones the DTB assigns (CPUs 816 MHz, GPU 200 MHz,
 * SPLL 702 MHz) or plausible firmware defaults; rate lists follow the DTB's OPP tables. SCMI short
 * names hold 15 characters: the firmware's longer ones are abbreviated so that all stay distinct.
 */
const MHz = 1_000_000;
const mhz = (...rates: number[]) => rates.map((r) => r * MHz);

const littleCpu = mhz(408, 600, 816, 1008, 1200, 1416, 1608, 1800);
const bigCpu = mhz(408, 600, 816, 1008, 1200, 1416, 1608, 1800, 2016, 2208, 2256, 2304, 2352, 2400);
const gpuNpu = mhz(200, 300, 400, 500, 600, 700, 800, 900, 1000);
const fixed = (name: string, rate: number): ScmiClockSpec => ({ name, rates: [rate], rate });

const clocks: readonly ScmiClockSpec[] = [
  { name: 'scmi_clk_cpul', rates: littleCpu, rate: 816 * MHz },
  { name: 'scmi_clk_dsu', rates: littleCpu, rate: 816 * MHz },
  { name: 'scmi_clk_cpub01', rates: bigCpu, rate: 816 * MHz },
  { name: 'scmi_clk_cpub23', rates: bigCpu, rate: 816 * MHz },
  { name: 'scmi_clk_ddr', rates: mhz(528, 1068, 1560, 2112), rate: 2112 * MHz },
  { name: 'scmi_clk_gpu', rates: gpuNpu, rate: 200 * MHz },
  { name: 'scmi_clk_npu', rates: gpuNpu, rate: 200 * MHz },
  { name: 'scmi_clk_sbus', rates: mhz(24, 100, 200, 350), rate: 350 * MHz },
  { name: 'scmi_pclk_sbus', rates: mhz(24, 50, 100), rate: 100 * MHz },
  { name: 'scmi_cclk_sd', rates: [400_000, ...mhz(25, 50, 100, 150, 200)], rate: 400_000 },
  { name: 'scmi_dclk_sd', rates: mhz(24, 100, 200), rate: 200 * MHz },
  fixed('scmi_aclk_sns', 350 * MHz),
  fixed('scmi_hclk_sns', 150 * MHz),
  fixed('scmi_tclk_wdt', 24 * MHz),
  fixed('scmi_klad_core', 350 * MHz),
  fixed('scmi_klad_rng', 175 * MHz),
  fixed('scmi_aclk_ss', 350 * MHz),
  fixed('scmi_hclk_ss', 150 * MHz),
  fixed('scmi_pclk_ss', 100 * MHz),
  fixed('scmi_crypto_rng', 175 * MHz),
  fixed('scmi_crypto_cor', 350 * MHz),
  fixed('scmi_crypto_pka', 350 * MHz),
  fixed('scmi_spll', 702 * MHz),
  fixed('scmi_hclk_sd', 150 * MHz),
];

/** Secure soft resets: three 16-bit SECURE_SOFTRST_CON registers. */
const resets = Array.from({ length: 48 }, (_, bit) => `secure_srst_${bit}`);

export const rk3588ScmiFirmware: ScmiFirmwareTables = {
  identity: { vendor: 'rockchip', subVendor: 'rk3588', implementationVersion: 0x0001_0000 },
  clocks,
  resets,
};
