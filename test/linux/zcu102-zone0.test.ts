/**
 * Debian's arm64 Linux 6.1 in zone0 of the ZCU102, from Debian's unmodified zynqmp-zcu102-rev1.0.dtb:
 * the zone owns UART0, and Linux's own zynqmp firmware, clock, pin-control and power-domain drivers
 * bring it up as ttyPS0 through the board's platform-management firmware (EEMI over SMC). The test
 * types on ttyPS0. Expected interrupt numbers and the reference clock come from dtc's reading of the
 * same DTB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, parseDtcText, walk } from '../boards/dtc-text.js';
import { bootVendorShell, checkVendorShell } from './vendor-shell-checks.js';

const PROMPT = 'zcu102# ';

describe('Debian arm64 Linux on the ZCU102 (vendor DTB, unmodified)', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on ttyPS0 through the EEMI firmware: UART interrupts count, uart0_ref runs at its rate, sleep 5 takes 5 s of guest time', async () => {
    const dtb = fixture('dtbs-arm64/xilinx/zynqmp-zcu102-rev1.0.dtb');
    const nodes = [...walk(parseDtcText(dtcDecompile(dtb)))];
    const uart0 = nodes.find((n) => n.path.endsWith('/serial@ff000000'))!;
    const uartIrq = cellsOf(uart0, 'interrupts')![1]! + 32;
    const pssRef = cellsOf(nodes.find((n) => n.path === '/pss_ref_clk')!, 'clock-frequency')![0]!;
    // uart0_ref as the ZCU102's boot firmware leaves it: IOPLL at 45x the PS reference, divided by 15 (100 MHz nominal).
    const uartRate = Math.floor((pssRef * 45) / 15);

    const { instance: running, console: console0 } = await bootVendorShell(
      { board: 'zcu102', dtb, config: 'zcu102-zone0-linux.json', kernel: fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/), prompt: PROMPT, name: 'zcu102-linux' },
      (launched) => (instance = launched),
    );
    const log = console0.text();
    expect(log).toMatch(/zynqmp_firmware_probe Platform Management API v1\.1/);
    // The driver's base_baud is the clock rate it got from the clock framework, over 16.
    expect(log).toMatch(new RegExp(`ff000000\\.serial: ttyPS0 at MMIO 0xff000000 \\(irq = \\d+, base_baud = ${Math.floor(uartRate / 16)}\\) is a xuartps`));
    expect(log).toMatch(/printk: console \[ttyPS0\] enabled/);
    expect(log).not.toMatch(/zynqmp-pinctrl.*(fail|error)|request failed for pin|set mux failed|zynqmp_clk.*fail/i);
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

    const zone = running.hypervisor.zone(0)!;
    await checkVendorShell({
      console: console0,
      prompt: PROMPT,
      // GIC-400 names itself GIC-0; cdns_uart requests its interrupt as "xuartps".
      uartRow: new RegExp(`GIC-0\\s+${uartIrq} Level\\s+xuartps`),
      clock: { name: 'uart0_ref', rate: uartRate },
      now: () => zone.now(),
      timerRate: running.build.timerFrequency,
    });
  }, 1_500_000);
});
