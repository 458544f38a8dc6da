/**
 * Debian's arm64 Linux 6.1 in zone0 of the i.MX8MP EVK, from Debian's unmodified imx8mp-evk.dtb: the
 * zone owns UART2 and the SoC blocks its clock, pin and power drivers need (CCM, anatop, GPC, IOMUXC,
 * GPR, SNVS, OCOTP, the system counter), and its generated DTB keeps those nodes with their buses.
 * Linux's own clk-imx8mp, pinctrl-imx and imx-uart drivers bring the console up as ttymxc1; the test
 * types on it. Expected rates and interrupt numbers come from dtc's reading of the same DTB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, parseDtcText, walk } from '../boards/dtc-text.js';
import { bootVendorShell, checkVendorShell } from './vendor-shell-checks.js';

const PROMPT = 'imx8mp# ';

describe('Debian arm64 Linux on the i.MX8MP EVK (vendor DTB, unmodified)', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on ttymxc1: UART interrupts count, its clock runs at the DTB rate, sleep 5 takes 5 s of guest time', async () => {
    const dtb = fixture('dtbs-arm64/freescale/imx8mp-evk.dtb');
    const nodes = [...walk(parseDtcText(dtcDecompile(dtb)))];
    const uart2 = nodes.find((n) => n.path.endsWith('/serial@30890000'))!;
    const uartIrq = cellsOf(uart2, 'interrupts')![1]! + 32;
    const osc24 = cellsOf(nodes.find((n) => n.path === '/clock-osc-24m')!, 'clock-frequency')![0]!;
    const timerRate = cellsOf(nodes.find((n) => n.path === '/timer')!, 'clock-frequency')![0]!;

    const { instance: running, console: console0 } = await bootVendorShell(
      { board: 'imx8mp-evk', dtb, config: 'imx8mp-zone0-linux.json', kernel: fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/), prompt: PROMPT, name: 'imx8mp-linux' },
      (launched) => (instance = launched),
    );
    const log = console0.text();
    expect(log).toMatch(/30890000\.serial: ttymxc1 at MMIO 0x30890000 .* is a IMX/);
    expect(log).toMatch(/printk: console \[ttymxc1\] enabled/);
    expect(log).toMatch(/Kernel command line: console=ttymxc1,115200/);
    // A soft-lockup report is the host's load showing through (guest time follows the host clock while
    // a vCPU waits for its turn), not a fault of the board; any other BUG is.
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

    const zone = running.hypervisor.zone(0)!;
    expect(running.build.timerFrequency).toBe(timerRate);
    // The UART's row carries its interrupt number from the DTB; uart2_root_clk runs at the 24 MHz
    // oscillator's rate the DTB gives; the timer at the DTB's 8 MHz (62.5 MHz would be 7.8x off).
    await checkVendorShell({
      console: console0,
      prompt: PROMPT,
      uartRow: new RegExp(`GICv3\\s+${uartIrq} Level\\s+30890000\\.serial`),
      clock: { name: 'uart2_root_clk', rate: osc24 },
      now: () => zone.now(),
      timerRate,
    });
  }, 1_500_000);
});
