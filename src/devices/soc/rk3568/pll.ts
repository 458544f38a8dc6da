/**
 * The PLLs of the RK3568 CRU and PMUCRU (Linux's `pll_rk3328`, the RK3036 register layout), five
 * registers apart by 0x20: CON0 holds POSTDIV1 (14:12) and FBDIV (11:0), CON1 PWRDOWN (13), DSMPD
 * (12, integer mode), LOCK (10, read-only), POSTDIV2 (8:6) and REFDIV (5:0), both with the hiword
 * write mask; CON2 the 24-bit fraction, a plain register. Rate = 24 MHz * FBDIV / REFDIV /
 * POSTDIV1 / POSTDIV2. The model locks at once: LOCK reads set whenever the PLL is powered.
 */
export const PLL_LOCK = 1 << 10;
const PWRDOWN = 1 << 13;
const DSMPD = 1 << 12;

/** Register stride of one PLL. */
export const PLL_STRIDE = 0x20;

export interface PllSetting {
  readonly refdiv: number;
  readonly fbdiv: number;
  readonly postdiv1: number;
  readonly postdiv2: number;
}

/** A PLL of a clock unit: its CON0 offset and its boot-firmware setting. */
export interface PlacedPll {
  readonly at: number;
  readonly setting: PllSetting;
}

/** CON0 and CON1 for an integer-mode setting, powered up. */
export function pllRegisters(s: PllSetting): readonly [number, number] {
  return [(s.postdiv1 << 12) | s.fbdiv, DSMPD | (s.postdiv2 << 6) | s.refdiv];
}

/** The rate a setting gives from the 24 MHz oscillator. */
export function pllRate(s: PllSetting, ref = 24_000_000): number {
  return Math.floor((ref * s.fbdiv) / s.refdiv / s.postdiv1 / s.postdiv2);
}

/** The reset values of a unit's PLL registers (CON0, CON1 at each PLL's offset). */
export function pllResets(plls: readonly PlacedPll[]): [number, number][] {
  return plls.flatMap(({ at, setting }) => {
    const [con0, con1] = pllRegisters(setting);
    return [[at, con0], [at + 4, con1]] as [number, number][];
  });
}

/** A unit's register read with PLLs below `pllEnd`: each CON1's lock bit follows power. */
export function pllAwareRead(pllEnd: number): (offset: number, held: number) => number {
  return (offset, held) => (offset < pllEnd && offset % PLL_STRIDE === 4 ? pllCon1Read(held) : held);
}

/** CON1 as read: the lock bit follows power. */
export function pllCon1Read(held: number): number {
  return (held & PWRDOWN) !== 0 ? held & ~PLL_LOCK : held | PLL_LOCK;
}

/** Whether a PLL register (offset within its 0x20 slot) takes plain 32-bit writes: CON2, the fraction (Linux's rk3036 set_params says so too). */
export function pllPlainRegister(slotOffset: number): boolean {
  return slotOffset === 8;
}
