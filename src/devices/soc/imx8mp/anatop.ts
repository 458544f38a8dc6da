import { RegisterBlock } from '../register-block.js';

/**
 * i.MX8MP analog PLLs (`fsl,imx8mp-anatop`): the PLL14xx registers Linux's clk-pll14xx.c programs.
 * GNRL_CTL bit 31 (LOCK_STATUS) reads as set while bit 9 (RSTB, out of reset) is: the PLL locks at
 * once. DIV_CTL0 = MAIN_DIV << 12 | PRE_DIV << 4 | POST_DIV resets to the rates the boot firmware
 * leaves (24 MHz reference), so rates read back are the SoC's usual ones before Linux changes them.
 */
const LOCK_STATUS = 1 << 31;
const RSTB = 1 << 9;
const CLKE = 1 << 11;

/** Offset of each PLL's GNRL_CTL, its default (m, p, s[, k]) and whether it is fractional (1443x). */
const PLLS: readonly { at: number; m: number; p: number; s: number; k?: number }[] = [
  { at: 0x00, m: 262, p: 2, s: 3, k: 9437 }, // audio_pll1 393.216 MHz
  { at: 0x14, m: 361, p: 3, s: 3, k: 17511 }, // audio_pll2 361.267 MHz
  { at: 0x28, m: 198, p: 1, s: 3, k: 0 }, // video_pll1 594 MHz
  { at: 0x50, m: 200, p: 3, s: 1, k: 0 }, // dram_pll 800 MHz
  { at: 0x64, m: 250, p: 3, s: 1 }, // gpu_pll 1000 MHz
  { at: 0x74, m: 200, p: 3, s: 1 }, // vpu_pll 800 MHz
  { at: 0x84, m: 200, p: 3, s: 0 }, // arm_pll 1600 MHz
  { at: 0x94, m: 400, p: 3, s: 2 }, // sys_pll1 800 MHz
  { at: 0x104, m: 250, p: 3, s: 1 }, // sys_pll2 1000 MHz
  { at: 0x114, m: 300, p: 3, s: 2 }, // sys_pll3 600 MHz
];

export function imx8mpAnatop(size = 0x1_0000): RegisterBlock {
  const resets = new Map<number, number>();
  const gnrl = new Set<number>();
  for (const pll of PLLS) {
    gnrl.add(pll.at);
    resets.set(pll.at, RSTB | CLKE);
    resets.set(pll.at + 4, (pll.m << 12) | (pll.p << 4) | pll.s);
    if (pll.k !== undefined) resets.set(pll.at + 8, pll.k);
  }
  return new RegisterBlock({
    name: 'imx8mp-anatop',
    size,
    resets,
    read: (offset, held) => (!gnrl.has(offset) ? held : (held & RSTB) !== 0 ? held | LOCK_STATUS : held & ~LOCK_STATUS),
  });
}
