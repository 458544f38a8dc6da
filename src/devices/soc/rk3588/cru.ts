import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';

/**
 * RK3588 clock and reset unit (`rockchip,rk3588-cru`, 0x5c000 bytes): the main CRU at 0, PHP CRU
 * at 0x8000, PMU1 CRU at 0x30000, the big-core CRUs at 0x50000 / 0x52000 and the DSU CRU at
 * 0x58000, as Linux's clk-rk3588.c addresses them. Mux selects, dividers, gates (bit set = gated)
 * and soft resets (bit set = held) are hiword-masked registers that read back what was written;
 * the fractional dividers (numerator 31:16 / denominator 15:0) take whole 32-bit writes. Each PLL's
 * CON6 reports lock (bit 15) whenever CON1 does not hold it powered down, so a rate change
 * completes at once. PLLs and mode muxes reset to the rates the boot firmware leaves.
 */
const PLL_LOCK = 1 << 15; // CON6
const PLL_POWER_DOWN = 1 << 13; // CON1

/** PLL register bases (CON0) and their boot settings: rate = 24 MHz * m / p >> s (+ k / 65536 in m). */
const PLLS: readonly { at: number; p: number; m: number; s: number; k?: number }[] = [
  { at: 0x50000, p: 2, m: 272, s: 2 }, // b0pll 816 MHz
  { at: 0x52020, p: 2, m: 272, s: 2 }, // b1pll 816 MHz
  { at: 0x58040, p: 2, m: 272, s: 2 }, // lpll 816 MHz
  { at: 0x160, p: 2, m: 198, s: 1 }, // v0pll 1188 MHz
  { at: 0x180, p: 2, m: 262, s: 2, k: 9437 }, // aupll 786.432 MHz
  { at: 0x1a0, p: 2, m: 250, s: 1 }, // cpll 1500 MHz
  { at: 0x1c0, p: 2, m: 198, s: 1 }, // gpll 1188 MHz
  { at: 0x1e0, p: 2, m: 272, s: 2 }, // npll 816 MHz
  { at: 0x8200, p: 3, m: 275, s: 1 }, // ppll 1100 MHz
];

/** PLL mode muxes (2 bits each, 1 = the PLL's output): MODE_CON0 for the shared PLLs, one per core cluster. */
const MODES: ReadonlyMap<number, number> = new Map([
  [0x280, 0x555], // npll, gpll, v0pll, aupll, cpll, ppll at bits 0, 2, 4, 6, 8, 10
  [0x50280, 1],
  [0x52280, 1],
  [0x58280, 1],
]);

/** The boot firmware's console: clk_uart2 (CLKSEL_CON45 bits 1:0) on xin24m, 24 MHz for 1.5 Mbaud. */
const UART2_ON_XIN24M: readonly [number, number] = [0x300 + 4 * 45, 2];

const clksel = (n: number) => 0x300 + 4 * n;
const pmuClksel = (n: number) => 0x30300 + 4 * n;
/** Fractional dividers: audio (I2S, SPDIF, HDMI RX), the UARTs' and the PMU's UART0 and I2S1. */
const FRACTIONAL: ReadonlySet<number> = new Set([
  ...[25, 27, 29, 31, 33, 35, 42, 44, 46, 48, 50, 52, 54, 56, 58].map(clksel),
  ...[119, 121, 123, 125, 130, 139, 141, 145, 147, 149, 151, 154, 156].map(clksel),
  ...[4, 6, 8].map(pmuClksel),
]);

/** The sub-CRUs' bases, and the register ranges each decodes (PLLs, mode, CLKSEL, gates, soft resets, global reset/SDMMC phase). */
const SUB_CRUS = [0x58000, 0x52000, 0x50000, 0x30000, 0x8000, 0];
const SECTIONS: readonly (readonly [number, number])[] = [[0, 0x280], [0x280, 0x284], [0x300, 0x600], [0x800, 0x980], [0xa00, 0xb80], [0xc00, 0xc40]];

/** Whether clk-rk3588 (or the reset controller) has a register at `offset`: others are reported once. */
function known(offset: number): boolean {
  const base = SUB_CRUS.find((b) => offset >= b)!;
  const at = offset - base;
  return SECTIONS.some(([from, to]) => at >= from && at < to);
}

export function rk3588Cru(size = 0x5c000, log?: (line: string) => void): RegisterBlock {
  const resets = new Map<number, number>([...MODES, UART2_ON_XIN24M]);
  const lock = new Set<number>();
  for (const pll of PLLS) {
    resets.set(pll.at, pll.m);
    resets.set(pll.at + 4, pll.p | (pll.s << 6));
    if (pll.k !== undefined) resets.set(pll.at + 8, pll.k);
    lock.add(pll.at + 0x18);
  }
  const block: RegisterBlock = new RegisterBlock({
    name: 'rk3588-cru',
    size,
    resets,
    read: (offset, held) => {
      if (!lock.has(offset)) return held;
      return (block.held(offset - 0x14) & PLL_POWER_DOWN) !== 0 ? held & ~PLL_LOCK : held | PLL_LOCK;
    },
    write: (offset, value, held) => (FRACTIONAL.has(offset) ? value : hiwordWrite(held, value)),
    known,
    ...(log !== undefined ? { log } : {}),
  });
  return block;
}
