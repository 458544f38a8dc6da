/**
 * The i.MX8MP SoC blocks driven the way Linux's drivers drive them: clk-pll14xx.c's rate change
 * (RSTB low, new dividers, RSTB high, poll LOCK_STATUS), clk-imx8mp.c's root and gate writes through
 * the SET/CLR/TOG aliases, gpcv2.c's power-up request poll. The boot of Debian's kernel on them is
 * test/linux/imx8mp-zone0.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { imx8mpAnatop } from '../../src/devices/soc/imx8mp/anatop.js';
import { imx8mpCcm } from '../../src/devices/soc/imx8mp/ccm.js';
import { imx8mpGpc } from '../../src/devices/soc/imx8mp/gpc.js';

const LOCK = 0x8000_0000;
const RSTB = 1 << 9;
const SYS_PLL1 = 0x94;

describe('i.MX8MP SoC blocks', () => {
  it('anatop: a PLL reads locked while out of reset, and keeps the dividers Linux writes', () => {
    const anatop = imx8mpAnatop();
    expect((anatop.read(SYS_PLL1, 4) & LOCK) >>> 0).toBe(LOCK);
    // sys_pll1 at boot: 24 MHz * 400 / (3 << 2) = 800 MHz
    const div = anatop.read(SYS_PLL1 + 4, 4);
    expect([(div >>> 12) & 0x3ff, (div >>> 4) & 0x3f, div & 7]).toEqual([400, 3, 2]);
    const gnrl = anatop.read(SYS_PLL1, 4);
    anatop.write(SYS_PLL1, 4, gnrl & ~RSTB);
    expect(anatop.read(SYS_PLL1, 4) & LOCK).toBe(0);
    anatop.write(SYS_PLL1 + 4, 4, (250 << 12) | (3 << 4) | 1);
    anatop.write(SYS_PLL1, 4, (gnrl | RSTB) >>> 0);
    expect((anatop.read(SYS_PLL1, 4) & LOCK) >>> 0).toBe(LOCK);
    expect(anatop.read(SYS_PLL1 + 4, 4)).toBe((250 << 12) | (3 << 4) | 1);
    expect(anatop.read(SYS_PLL1 + 2, 4)).toBe(0); // unaligned: not decoded
  });

  it('ccm: SET/CLR/TOG aliases change the register they shadow; gates start on', () => {
    const ccm = imx8mpCcm();
    const uart2Root = 0x8000 + 0x80 * 0x5b; // a CCM_TARGET_ROOT slot
    ccm.write(uart2Root, 4, 0x1000_0000);
    ccm.write(uart2Root + 4, 4, 0x0100_0003); // SET
    expect(ccm.read(uart2Root, 4)).toBe(0x1100_0003);
    ccm.write(uart2Root + 8, 4, 0x1000_0000); // CLR
    expect(ccm.read(uart2Root, 4)).toBe(0x0100_0003);
    ccm.write(uart2Root + 0xc, 4, 0x3); // TOG
    expect(ccm.read(uart2Root, 4)).toBe(0x0100_0000);
    expect(ccm.read(uart2Root + 8, 4)).toBe(0x0100_0000); // an alias reads the register
    expect(ccm.read(0x4000 + 16 * 0x4a, 4)).toBe(3); // CCGR: on at reset
  });

  it('gpc: a power-up request completes at once; other registers keep what is written', () => {
    const gpc = imx8mpGpc();
    gpc.write(0xd8, 4, 1 << 4);
    expect(gpc.read(0xd8, 4)).toBe(0);
    gpc.write(0x1cc, 4, 0xffff);
    expect(gpc.read(0x1cc, 4)).toBe(0xffff);
  });
});
