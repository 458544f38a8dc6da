/**
 * The RK3568 SoC blocks driven the way Linux's drivers drive them: clk-pll.c's rk3036-type rate
 * change (hiword-masked CON0/CON1, plain CON2, poll CON1's lock bit), clk-rk3568.c's muxes and
 * fractional dividers, pinctrl-rockchip's regmap_update_bits on the GRF, pm-domains' power and
 * idle handshakes on the PMU. The boot of Debian's kernel on them is test/linux/rk3568-zone0.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { rk3568Cru } from '../../src/devices/soc/rk3568/cru.js';
import { rk3568Grf, rk3568PmuGrf } from '../../src/devices/soc/rk3568/grf.js';
import { hiwordWrite } from '../../src/devices/soc/rockchip-hiword.js';
import { rk3568Pmu } from '../../src/devices/soc/rk3568/pmu.js';
import { rk3568PmuCru } from '../../src/devices/soc/rk3568/pmucru.js';
import { pllRate } from '../../src/devices/soc/rk3568/pll.js';


const update = (value: number, mask: number, shift: number) => ((((mask << shift) << 16) | ((value & mask) << shift)) >>> 0);
const LOCK = 1 << 10;
const GPLL = 0x40;

/** The PLL's rate from its registers, as clk-pll.c's recalc_rate computes it (integer mode). */
function rateOf(cru: ReturnType<typeof rk3568Cru>, at: number): number {
  const con0 = cru.read(at, 4);
  const con1 = cru.read(at + 4, 4);
  return pllRate({ fbdiv: con0 & 0xfff, postdiv1: (con0 >>> 12) & 7, refdiv: con1 & 0x3f, postdiv2: (con1 >>> 6) & 7 });
}

describe('RK3568 SoC blocks', () => {
  it('hiword mask: bits 31:16 enable the writes of bits 15:0; the high half reads 0', () => {
    expect(hiwordWrite(0x1234, 0x00ff_0056)).toBe(0x1256);
    expect(hiwordWrite(0xffff, 0x0000_0000)).toBe(0xffff);
    expect(hiwordWrite(0xffff, 0xffff_0000)).toBe(0);

  });

  it('CRU: PLLs read their boot rates and locked; a rate change the way clk-pll.c does it locks again', () => {
    const cru = rk3568Cru();
    expect(rateOf(cru, GPLL)).toBe(1_188_000_000);
    expect(cru.read(GPLL + 4, 4) & LOCK).toBe(LOCK);
    // 1200 MHz from the rate table: refdiv 1, fbdiv 100, postdiv1 2, postdiv2 1, integer mode.
    cru.write(GPLL, 4, update(100, 0xfff, 0) | update(2, 7, 12));
    cru.write(GPLL + 4, 4, update(1, 0x3f, 0) | update(1, 7, 6) | update(1, 1, 12));
    cru.write(GPLL + 8, 4, 0x0300_0000); // CON2 takes plain writes
    expect(cru.read(GPLL + 8, 4)).toBe(0x0300_0000);
    expect(rateOf(cru, GPLL)).toBe(1_200_000_000);
    expect(cru.read(GPLL + 4, 4) & LOCK).toBe(LOCK);
    // Powered down (CON1 bit 13), the PLL is not locked.
    cru.write(GPLL + 4, 4, update(1, 1, 13));
    expect(cru.read(GPLL + 4, 4) & LOCK).toBe(0);
    expect(cru.read(0xc0, 4)).toBe(0x1455); // MODE_CON0: every PLL in normal mode
  });

  it('CRU: UART2 starts on the oscillator; muxes and gates are masked, its fractional divider is plain', () => {
    const cru = rk3568Cru();
    const clksel54 = 0x100 + 4 * 54;
    expect((cru.read(clksel54, 4) >>> 12) & 3).toBe(2); // sclk_uart2_mux = xin24m
    cru.write(clksel54, 4, update(1, 3, 12)); // select clk_uart2_frac
    expect((cru.read(clksel54, 4) >>> 12) & 3).toBe(1);
    expect(cru.read(clksel54, 4) & 0x7f).toBe(11); // the divider beside it untouched
    cru.write(0x100 + 4 * 55, 4, (3 << 16) | 625); // numerator 3 / denominator 625
    expect(cru.read(0x100 + 4 * 55, 4)).toBe((3 << 16) | 625);
    const gate28 = 0x300 + 4 * 28;
    cru.write(gate28, 4, update(1, 1, 3)); // gate sclk_uart2
    expect(cru.read(gate28, 4)).toBe(1 << 3);
    cru.write(gate28, 4, update(0, 1, 3));
    expect(cru.read(gate28, 4)).toBe(0);
  });

  it('CRU: a global reset write reaches the board; unknown registers read back and are named once', () => {
    const lines: string[] = [];
    let resets = 0;
    const cru = rk3568Cru({ log: (l) => lines.push(l), reset: () => resets++ });
    cru.write(0xd4, 4, 0xfdb9);
    expect(resets).toBe(1);
    cru.write(0xf00, 4, 0x1234_5678);
    expect(cru.read(0xf00, 4)).toBe(0x1234_5678);
    expect(cru.read(0xf00, 4)).toBe(0x1234_5678);
    expect(lines).toEqual(['rk3568-cru: write of unmodelled register 0xf00 (kept as a plain register)']);
  });

  it('PMUCRU: PPLL at 200 MHz, locked', () => {
    const pmucru = rk3568PmuCru();
    const con0 = pmucru.read(0, 4);
    const con1 = pmucru.read(4, 4);
    expect(pllRate({ fbdiv: con0 & 0xfff, postdiv1: (con0 >>> 12) & 7, refdiv: con1 & 0x3f, postdiv2: (con1 >>> 6) & 7 })).toBe(200_000_000);
    expect(con1 & LOCK).toBe(LOCK);
  });

  it('GRF: pinctrl regmap_update_bits (read, merge, write with the mask) sets one iomux field', () => {
    for (const grf of [rk3568Grf(), rk3568PmuGrf()]) {
      const reg = 0x0c;
      const data = update(1, 7, 4); // function 1 in bits 6:4
      const rmask = data | (data >>> 16);
      const old = grf.read(reg, 4);
      grf.write(reg, 4, ((old & ~rmask) | (data & rmask)) >>> 0);
      expect(grf.read(reg, 4)).toBe(1 << 4);
    }
    expect(rk3568Grf().read(0x580, 4) & 0xff).toBe(0xff); // GRF_SOC_STATUS0: every PLL locked
  });

  it('PMU: power-off and idle requests complete at once, as pm-domains polls them', () => {
    const pmu = rk3568Pmu();
    const gpu = { pwr: 1 << 0, req: 1 << 1 };
    expect(pmu.read(0x98, 4)).toBe(0); // every domain on
    // Power down: idle request, ack and idle status, then the power gate and its status.
    pmu.write(0x50, 4, (gpu.req << 16) | gpu.req);
    expect(pmu.read(0x60, 4) & gpu.req).toBe(gpu.req);
    expect(pmu.read(0x68, 4) & gpu.req).toBe(gpu.req);
    pmu.write(0xa0, 4, (gpu.pwr << 16) | gpu.pwr);
    expect(pmu.read(0x98, 4)).toBe(gpu.pwr);
    // Power up and leave idle.
    pmu.write(0xa0, 4, gpu.pwr << 16);
    expect(pmu.read(0x98, 4)).toBe(0);
    pmu.write(0x50, 4, gpu.req << 16);
    expect(pmu.read(0x60, 4) & gpu.req).toBe(0);
    pmu.write(0x98, 4, 0xffff); // status is read-only
    expect(pmu.read(0x98, 4)).toBe(0);
  });
});
