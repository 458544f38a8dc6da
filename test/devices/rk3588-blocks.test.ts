/**
 * The RK3588 SoC blocks as Linux's drivers program them: the CRU's hiword-masked muxes, dividers,
 * gates and soft resets, its whole-word fractional dividers and PLL lock (clk-rk3588.c, clk-pll.c),
 * a GRF's masked writes (pinctrl-rockchip, syscon users), the GPIO bank's version register
 * (gpio-rockchip). The boot of Debian's kernel on them is test/linux/rk3588-zone0.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { rk3588Cru } from '../../src/devices/soc/rk3588/cru.js';
import { rk3588Grf } from '../../src/devices/soc/rk3588/grf.js';
import { rockchipGpioBank } from '../../src/devices/soc/rk3588/gpio-bank.js';
import { hiwordWrite } from '../../src/devices/soc/rockchip-hiword.js';
import { rk3588Pmu } from '../../src/devices/soc/rk3588/pmu.js';

const CLKSEL = (n: number) => 0x300 + 4 * n;
const GATE = (n: number) => 0x800 + 4 * n;
const SOFTRST = (n: number) => 0xa00 + 4 * n;
const GPLL = 0x1c0;

describe('RK3588 CRU, GRF and GPIO bank', () => {
  it('hiword writes change only the bits named in 31:16 and read back in 15:0', () => {
    expect(hiwordWrite(0x00ff, 0x0f00_0a00)).toBe(0x0aff);
    expect(hiwordWrite(0xffff, 0x0003_0000)).toBe(0xfffc);
    expect(hiwordWrite(0x1234, 0x0000_ffff)).toBe(0x1234); // no mask: nothing changes
  });

  it('CRU: the UART2 path (CLKSEL43 source mux/divider, CLKSEL44 fraction, CLKSEL45 mux, gates, reset) as clk-rk3588 writes it', () => {
    const cru = rk3588Cru();
    // The boot console's clock: clk_uart2 on xin24m (mux value 2); gates and resets released.
    expect(cru.read(CLKSEL(45), 4) & 3).toBe(2);
    expect(cru.read(GATE(12), 4)).toBe(0);
    expect(cru.read(SOFTRST(12), 4)).toBe(0);
    // clk_uart2_src: mux bit 7 to cpll, divider 6:2 to 5 (value 4), in one masked write.
    cru.write(CLKSEL(43), 4, (0x00ff_0000 | (1 << 7) | (4 << 2)) >>> 0);
    expect(cru.read(CLKSEL(43), 4)).toBe((1 << 7) | (4 << 2));
    // The fractional divider takes numerator << 16 | denominator whole.
    cru.write(CLKSEL(44), 4, (3 << 16) | 625);
    expect(cru.read(CLKSEL(44), 4)).toBe(((3 << 16) | 625) >>> 0);
    // Gate sclk_uart2 (CLKGATE13 bit 0, set = gated) and hold its reset, then release both.
    cru.write(GATE(13), 4, 0x0001_0001);
    cru.write(SOFTRST(13), 4, 0x0004_0004);
    expect([cru.read(GATE(13), 4), cru.read(SOFTRST(13), 4)]).toEqual([1, 4]);
    cru.write(GATE(13), 4, 0x0001_0000);
    expect(cru.read(GATE(13), 4)).toBe(0);
  });

  it('CRU: a register outside its sections reads its reset value, keeps writes, and is named once in the log', () => {
    const lines: string[] = [];
    const cru = rk3588Cru(0x5c000, (l) => lines.push(l));
    expect(cru.read(0x8200, 4)).toBe(275); // ppll CON0 (PHP CRU): a known register, no line
    expect(cru.read(0x700, 4)).toBe(0);
    cru.write(0x700, 4, 0x0001_0001);
    expect(cru.read(0x700, 4)).toBe(1);
    expect(lines).toEqual(['rk3588-cru: read of unmodelled register 0x700 (kept as a plain register)']);
  });

  it('CRU: PLLs reset to the boot rates and report lock in CON6 unless powered down in CON1', () => {
    const cru = rk3588Cru();
    const rate = (at: number) => {
      const m = cru.read(at, 4) & 0x3ff;
      const con1 = cru.read(at + 4, 4);
      return Math.floor((24e6 * m) / (con1 & 0x3f)) / 2 ** ((con1 >> 6) & 7);
    };
    expect(rate(GPLL)).toBe(1188e6);
    expect(rate(0x1a0)).toBe(1500e6); // cpll
    expect(rate(0x8200)).toBe(1100e6); // ppll
    expect(cru.read(0x280, 4)).toBe(0x555); // every shared PLL in normal mode
    expect(cru.read(GPLL + 0x18, 4) & 0x8000).toBe(0x8000);
    // rockchip_rk3588_pll_set_params: power down, program m/p/s, power up, poll lock.
    cru.write(GPLL + 4, 4, 0x2000_2000);
    expect(cru.read(GPLL + 0x18, 4) & 0x8000).toBe(0);
    cru.write(GPLL, 4, 0x03ff_0000 | 200);
    cru.write(GPLL + 4, 4, 0x01ff_0000 | (1 << 6) | 2);
    cru.write(GPLL + 4, 4, 0x2000_0000);
    expect(cru.read(GPLL + 0x18, 4) & 0x8000).toBe(0x8000);
    expect(rate(GPLL)).toBe(1200e6);
  });

  it('GRF and IOC registers take masked writes; the GPIO bank names its version and keeps EOI/status unwritable', () => {
    const ioc = rk3588Grf('rk3588-grf ioc', 0x10000);
    ioc.write(0x4c, 4, 0x00f0_0020); // a pin's iomux nibble, as pinctrl-rockchip writes it
    expect(ioc.read(0x4c, 4)).toBe(0x20);
    const gpio = rockchipGpioBank();
    expect(gpio.read(0x78, 4)).toBe(0x0101_157c);
    gpio.write(0x78, 4, 0);
    expect(gpio.read(0x78, 4)).toBe(0x0101_157c);
    gpio.write(0x08, 4, 0x0001_0001); // direction: pin 0 out
    expect(gpio.read(0x08, 4)).toBe(1);
    gpio.write(0x60, 4, 0xffff_ffff); // PORT_EOI: write-only, reads zero
    expect(gpio.read(0x60, 4)).toBe(0);
  });

  it('PMU: the power-domain handshake pm_domains.c polls (power, repair and PWR_STATUS, memory chain, bus idle request/ack)', () => {
    const pmu = rk3588Pmu();
    const PWR_CON1 = 0x150;
    // gpu (PWR_CON0 bit 0): on at reset, its REPAIR_STATUS bit 1 set; off after the masked write.
    expect(pmu.read(0x290, 4) & 2).toBe(2);
    pmu.write(0x14c, 4, 0x0001_0001);
    expect(pmu.read(0x290, 4) & 2).toBe(0);
    pmu.write(0x14c, 4, 0x0001_0000);
    expect(pmu.read(0x290, 4) & 2).toBe(2);
    // nvm (PWR_CON1 bit 8) reports through PWR_STATUS bit 24, set = off.
    pmu.write(PWR_CON1, 4, 0x0100_0100);
    expect(pmu.read(0x180, 4) >>> 24 & 1).toBe(1);
    // nvm0 (PWR_CON1 bit 9): chain status (0x1f4 bit 1) on while powered; memory off while MEM_PWR1 bit 9 is set.
    expect(pmu.read(0x1f4, 4) & 2).toBe(2);
    pmu.write(0x1a4, 4, 0x0200_0200);
    expect(pmu.read(0x1fc, 4) & 2).toBe(2);
    pmu.write(0x1a4, 4, 0x0200_0000);
    expect(pmu.read(0x1fc, 4) & 2).toBe(0);
    pmu.write(PWR_CON1, 4, 0x0200_0200);
    expect(pmu.read(0x1f4, 4) & 2).toBe(0);
    // vo1's bus idle: request BUS_IDLE_REQ1 bit 0, acknowledged and idle at bit 16.
    pmu.write(0x110, 4, 0x0001_0001);
    expect([pmu.read(0x118, 4) >>> 16 & 1, pmu.read(0x120, 4) >>> 16 & 1]).toEqual([1, 1]);
    pmu.write(0x110, 4, 0x0001_0000);
    expect(pmu.read(0x120, 4)).toBe(0);
    // Status registers ignore writes.
    pmu.write(0x180, 4, 0xffff_ffff);
    expect(pmu.read(0x180, 4) >>> 25 & 1).toBe(1); // nvm0 still off, nothing else changed by the write
  });
});
