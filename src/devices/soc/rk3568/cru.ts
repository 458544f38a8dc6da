import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';
import { PLL_STRIDE, pllAwareRead, pllPlainRegister, pllResets, type PlacedPll } from './pll.js';

/**
 * RK3568 Clock and Reset Unit (`rockchip,rk3568-cru`, 4 KiB): six PLLs (APLL, DPLL, GPLL, CPLL,
 * NPLL, VPLL at 0x20 apart) with their lock bits, MODE_CON0 (each PLL's slow/normal mux), CLKSEL_CON
 * muxes and dividers from 0x100, CLKGATE_CON gates from 0x300 (a set bit gates the clock),
 * SOFTRST_CON resets from 0x400, all with the hiword write mask, as Linux's clk-rk3568.c and
 * softrst.c drive them; fractional dividers and the global-reset registers take plain writes.
 * Registers start as the boot firmware (U-Boot's RK3568 clock init) leaves them, so the rates
 * Linux reads back are the SoC's usual ones until it changes them; gates start open.
 */
const PLLS: readonly PlacedPll[] = [
  { at: 0x00, setting: { refdiv: 1, fbdiv: 68, postdiv1: 2, postdiv2: 1 } }, // APLL 816 MHz
  { at: 0x20, setting: { refdiv: 1, fbdiv: 65, postdiv1: 2, postdiv2: 1 } }, // DPLL 780 MHz (the DDR's, left by the DRAM init)
  { at: 0x40, setting: { refdiv: 2, fbdiv: 99, postdiv1: 1, postdiv2: 1 } }, // GPLL 1188 MHz
  { at: 0x60, setting: { refdiv: 3, fbdiv: 250, postdiv1: 2, postdiv2: 1 } }, // CPLL 1000 MHz
  { at: 0x80, setting: { refdiv: 1, fbdiv: 100, postdiv1: 2, postdiv2: 1 } }, // NPLL 1200 MHz
  { at: 0xa0, setting: { refdiv: 1, fbdiv: 99, postdiv1: 4, postdiv2: 1 } }, // VPLL 594 MHz
];
const PLL_END = 0xc0;
const MODE_CON0 = 0xc0;
/** Every PLL in normal mode (its 2-bit MODE_CON0 field = 1: APLL 0, DPLL 2, CPLL 4, GPLL 6, NPLL 10, VPLL 12). */
const ALL_PLLS_NORMAL = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6) | (1 << 10) | (1 << 12);
/** GLB_CNT_TH .. GLB_RST_ST: plain registers; a write of 0xfdb9 to GLB_SRST_FST resets the SoC. */
const GLB_CNT_TH = 0xd0;
const GLB_SRST_FST = 0xd4;
const GLB_RST_ST = 0xe0;
const FIRST_GLOBAL_RESET = 0xfdb9;

const clksel = (n: number) => 0x100 + 4 * n;
const CLKSEL_COUNT = 85;
const CLKGATE = 0x300;
const CLKGATE_COUNT = 36;
const SOFTRST = 0x400;
const SOFTRST_COUNT = 30;
/** SDMMC0..2 and eMMC drive/sample phase registers (RK3568_SDMMC0_CON0 .. EMMC_CON1). */
const PHASE = 0x580;
const PHASE_END = 0x5a0;

/** CLKSEL_CONs holding a fractional divider (numerator 31:16 / denominator 15:0, no write mask): I2S, SPDIF, audio PWM, UART1..9. */
const FRACTIONAL = new Set([12, 14, 16, 18, 20, 22, 24, 26, 53, 55, 57, 59, 61, 63, 65, 67, 69, 84].map(clksel));

/** Dividers the boot firmware sets: GPLL/CPLL taps (gpll_400m .. cpll_25m, osc0/32) and UART2, the console, fed by the 24 MHz oscillator. */
const BOOT_CLKSEL: ReadonlyMap<number, number> = new Map([
  [clksel(54), (2 << 12) | 11], // sclk_uart2_mux = xin24m; clk_uart2_src = GPLL / 12
  [clksel(75), (3 << 8) | 2], // gpll_300m = GPLL / 4, gpll_400m = GPLL / 3
  [clksel(76), (7 << 8) | 5], // gpll_150m / 8, gpll_200m / 6
  [clksel(77), (15 << 8) | 11], // gpll_75m / 16, gpll_100m / 12
  [clksel(78), (1 << 8) | 59], // cpll_500m / 2, gpll_20m / 60
  [clksel(79), (3 << 8) | 2], // cpll_250m / 4, cpll_333m / 3
  [clksel(80), (15 << 8) | 7], // cpll_62p5 / 16, cpll_125m / 8
  [clksel(81), (39 << 8) | 19], // cpll_25m / 40, cpll_50m / 20
  [clksel(82), (31 << 8) | 9], // clk_osc0_div_750k / 32, cpll_100m / 10
]);

function known(offset: number): boolean {
  return (
    offset < PLL_END ||
    (offset >= MODE_CON0 && offset <= GLB_RST_ST) ||
    (offset >= clksel(0) && offset < clksel(CLKSEL_COUNT)) ||
    (offset >= CLKGATE && offset < CLKGATE + 4 * CLKGATE_COUNT) ||
    (offset >= SOFTRST && offset < SOFTRST + 4 * SOFTRST_COUNT) ||
    (offset >= PHASE && offset < PHASE_END)
  );
}

function plain(offset: number): boolean {
  if (!known(offset)) return true;
  if (offset < PLL_END) return pllPlainRegister(offset % PLL_STRIDE);
  return (offset >= GLB_CNT_TH && offset <= GLB_RST_ST) || FRACTIONAL.has(offset);
}

export interface Rk3568CruOptions {
  readonly size?: number;
  readonly log?: (line: string) => void;
  /** The guest asked for a global reset (Linux's restart handler writes GLB_SRST_FST). */
  readonly reset?: () => void;
}

export function rk3568Cru(options: Rk3568CruOptions = {}): RegisterBlock {
  const resets = new Map<number, number>([...BOOT_CLKSEL, ...pllResets(PLLS)]);
  resets.set(MODE_CON0, ALL_PLLS_NORMAL);
  return new RegisterBlock({
    name: 'rk3568-cru',
    size: options.size ?? 0x1000,
    resets,
    known,
    ...(options.log !== undefined ? { log: options.log } : {}),
    read: pllAwareRead(PLL_END),
    write: (offset, value, held) => {
      if (offset === GLB_SRST_FST && value === FIRST_GLOBAL_RESET) options.reset?.();
      return plain(offset) ? value : hiwordWrite(held, value);
    },
  });
}
