import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';
import { PLL_STRIDE, pllAwareRead, pllPlainRegister, pllResets, type PlacedPll } from './pll.js';

/**
 * RK3568 PMU Clock and Reset Unit (`rockchip,rk3568-pmucru`, 4 KiB): the always-on domain's PPLL
 * (PCIe/Ethernet reference, 200 MHz) and HPLL (HDMI), MODE_CON0 at 0x80, CLKSEL_CON from 0x100,
 * CLKGATE_CON from 0x180 and SOFTRST_CON from 0x200, with the hiword write mask; the RTC 32 kHz and
 * UART0 fractional dividers (CLKSEL_CON1, 5) take plain writes. Boot-firmware rates, gates open.
 */
const PLLS: readonly PlacedPll[] = [
  { at: 0x00, setting: { refdiv: 1, fbdiv: 100, postdiv1: 3, postdiv2: 4 } }, // PPLL 200 MHz
  { at: 0x40, setting: { refdiv: 1, fbdiv: 99, postdiv1: 4, postdiv2: 4 } }, // HPLL 148.5 MHz
];
const PLL_END = 0x80;
const MODE_CON0 = 0x80;
const PLLS_NORMAL = (1 << 0) | (1 << 2); // PPLL bits 1:0, HPLL bits 3:2
const clksel = (n: number) => 0x100 + 4 * n;
const CLKSEL_COUNT = 10;
const CLKGATE = 0x180;
const CLKGATE_COUNT = 3;
const SOFTRST = 0x200;
const SOFTRST_COUNT = 1;
const FRACTIONAL = new Set([clksel(1), clksel(5)]);

function known(offset: number): boolean {
  return (
    offset < PLL_END ||
    offset === MODE_CON0 ||
    (offset >= clksel(0) && offset < clksel(CLKSEL_COUNT)) ||
    (offset >= CLKGATE && offset < CLKGATE + 4 * CLKGATE_COUNT) ||
    (offset >= SOFTRST && offset < SOFTRST + 4 * SOFTRST_COUNT)
  );
}

export function rk3568PmuCru(options: { readonly size?: number; readonly log?: (line: string) => void } = {}): RegisterBlock {
  const resets = new Map<number, number>(pllResets(PLLS));
  resets.set(MODE_CON0, PLLS_NORMAL);
  return new RegisterBlock({
    name: 'rk3568-pmucru',
    size: options.size ?? 0x1000,
    resets,
    known,
    ...(options.log !== undefined ? { log: options.log } : {}),
    read: pllAwareRead(PLL_END),
    write: (offset, value, held) =>
      !known(offset) || (offset < PLL_END && pllPlainRegister(offset % PLL_STRIDE)) || FRACTIONAL.has(offset) ? value : hiwordWrite(held, value),
  });
}
