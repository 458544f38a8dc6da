/**
 * Debian's arm64 Linux 6.1 in zone0 of the ZCU102, from Debian's unmodified zynqmp-zcu102-rev1.0.dtb:
 * the zone owns UART0, and Linux's own zynqmp firmware, clock, pin-control and power-domain drivers
 * bring it up as ttyPS0 through the board's platform-management firmware (EEMI over SMC). The test
 * types on ttyPS0. Expected interrupt numbers and the reference clock come from dtc's reading of the
 * same DTB.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, parseDtcText, walk } from '../boards/dtc-text.js';
import { checkVendorShell } from './vendor-shell-checks.js';

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

    const dir = scratch('zcu102-zone0-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zcu102-zone0-linux.json'), 'utf8'));
    config.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit(PROMPT, { debugfs: true }) });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('zcu102-linux', (b) => typeOn(b));
    instance = await launch({ board: 'zcu102', dtb, zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: console0.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(new RegExp(`SHELL-READY[\\s\\S]*${PROMPT}$`), 'the shell prompt', 1_200_000);
    const log = console0.text();
    expect(log).toMatch(/zynqmp_firmware_probe Platform Management API v1\.1/);
    // The driver's base_baud is the clock rate it got from the clock framework, over 16.
    expect(log).toMatch(new RegExp(`ff000000\\.serial: ttyPS0 at MMIO 0xff000000 \\(irq = \\d+, base_baud = ${Math.floor(uartRate / 16)}\\) is a xuartps`));
    expect(log).toMatch(/printk: console \[ttyPS0\] enabled/);
    expect(log).not.toMatch(/zynqmp-pinctrl.*(fail|error)|request failed for pin|set mux failed|zynqmp_clk.*fail/i);
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

    const zone = instance.hypervisor.zone(0)!;
    await checkVendorShell({
      console: console0,
      prompt: PROMPT,
      // GIC-400 names itself GIC-0; cdns_uart requests its interrupt as "xuartps".
      uartRow: new RegExp(`GIC-0\\s+${uartIrq} Level\\s+xuartps`),
      clock: { name: 'uart0_ref', rate: uartRate },
      now: () => zone.now(),
      timerRate: instance.build.timerFrequency,
    });
  }, 1_500_000);
});
