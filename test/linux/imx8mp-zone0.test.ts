/**
 * Debian's arm64 Linux 6.1 in zone0 of the i.MX8MP EVK, from Debian's unmodified imx8mp-evk.dtb: the
 * zone owns UART2 and the SoC blocks its clock, pin and power drivers need (CCM, anatop, GPC, IOMUXC,
 * GPR, SNVS, OCOTP, the system counter), and its generated DTB keeps those nodes with their buses.
 * Linux's own clk-imx8mp, pinctrl-imx and imx-uart drivers bring the console up as ttymxc1; the test
 * types on it. Expected rates and interrupt numbers come from dtc's reading of the same DTB.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, parseDtcText, walk } from '../boards/dtc-text.js';

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

    const dir = scratch('imx8mp-zone0-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/imx8mp-zone0-linux.json'), 'utf8'));
    config.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit(PROMPT, { debugfs: true }) });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('imx8mp-linux', (b) => typeOn(b));
    instance = await launch({ board: 'imx8mp-evk', dtb, zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: console0.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(new RegExp(`SHELL-READY[\\s\\S]*${PROMPT}$`), 'the shell prompt', 1_200_000);
    const log = console0.text();
    expect(log).toMatch(/30890000\.serial: ttymxc1 at MMIO 0x30890000 .* is a IMX/);
    expect(log).toMatch(/printk: console \[ttymxc1\] enabled/);
    expect(log).toMatch(/Kernel command line: console=ttymxc1,115200/);
    // A soft-lockup report is the host's load showing through (guest time follows the host clock while
    // a vCPU waits for its turn), not a fault of the board; any other BUG is.
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

    const answer = (command: string, done: RegExp, ms?: number) => console0.run(command, new RegExp(`${done.source}[\\s\\S]*${PROMPT}$`), ms);
    // The UART's row: its interrupt number from the DTB, counted on some vCPU, and rising as we type.
    const row = new RegExp(`GICv3\\s+${uartIrq} Level\\s+30890000\\.serial`);
    const before = interruptCounts(await answer('cat /proc/interrupts', /Err:[^\n]*\n/), row, 1)[0]!;
    expect(before).toBeGreaterThan(0);
    const after = interruptCounts(await answer('cat /proc/interrupts', /Err:[^\n]*\n/), row, 1)[0]!;
    expect(after).toBeGreaterThan(before);

    // clk_summary: uart2_root_clk enabled (prepare and enable counts >= 1) at the 24 MHz oscillator's rate the DTB gives.
    const clocks = await answer('grep -E "uart2|osc_24m" /sys/kernel/debug/clk/clk_summary', /uart2_root_clk[^\n]*\n/);
    const uart = /uart2_root_clk\s+(\d+)\s+(\d+)\s+\d+\s+(\d+)/.exec(clocks);
    expect(uart, clocks).not.toBeNull();
    expect(Number(uart![1])).toBeGreaterThanOrEqual(1);
    expect(Number(uart![2])).toBeGreaterThanOrEqual(1);
    expect(Number(uart![3])).toBe(osc24);

    // sleep 5 in the guest: 5 s of the zone's virtual time at the DTB's timer rate (8 MHz).
    const zone = instance.hypervisor.zone(0)!;
    expect(instance.build.timerFrequency).toBe(timerRate);
    // The same command without the sleep measures what typing, fork and exec cost on a loaded host; a
    // timer at the wrong rate would be off by 62.5/8 = 7.8x either way (0.6 s or 39 s).
    const elapsed = async (command: string) => {
      const t0 = zone.now();
      await answer(`${command}; echo SLEPT`, /SLEPT\n/, 300_000);
      return (zone.now() - t0) / timerRate;
    };
    const overhead = await elapsed('sleep 0');
    const seconds = await elapsed('sleep 5');
    expect(seconds).toBeGreaterThanOrEqual(5);
    expect(seconds - overhead).toBeGreaterThan(4);
    expect(seconds - overhead).toBeLessThan(10);
  }, 1_500_000);
});
