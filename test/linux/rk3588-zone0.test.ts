/**
 * Debian trixie's arm64 Linux 6.12 in zone0 of the RK3588, from the unmodified rk3588-rock-5b.dtb of
 * the same package, with /memory laid out by the board as U-Boot would: the zone owns UART2, the
 * CRU, the IOC and PHP GRFs, the GPIO banks, the PMU with the NoC QoS blocks and the SCMI channel's
 * shared memory. Linux's own clk-rk3588, pinctrl-rockchip, gpio-rockchip, pm_domains and SCMI (SMC
 * transport) drivers bring it up, and the console comes up as ttyS2 on 8250_dw; the test types on
 * it. Expected numbers (UART interrupt, console rate, SPLL, power domains) come from dtc's reading
 * of the same DTB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Instance } from '../../src/cli/launch.js';
import { fixture } from '../helpers/fixtures.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, parseDtcText, walk } from '../boards/dtc-text.js';
import { bootVendorShell, checkVendorShell } from './vendor-shell-checks.js';

const PROMPT = 'rk3588# ';

/** The RK3588 power domains as pm_domains.c names them, with their PWR_CON register (0/1) and bit. */
const DOMAIN_BITS: Readonly<Record<string, readonly [number, number]>> = {
  gpu: [0, 0], npu: [0, 1], vcodec: [0, 2], nputop: [0, 3], npu1: [0, 4], npu2: [0, 5], venc0: [0, 6], venc1: [0, 7],
  rkvdec0: [0, 8], rkvdec1: [0, 9], vdpu: [0, 10], rga30: [0, 11], av1: [0, 12], vi: [0, 13], fec: [0, 14], isp1: [0, 15],
  rga31: [1, 0], vop: [1, 1], vo0: [1, 2], vo1: [1, 3], audio: [1, 4], php: [1, 5], gmac: [1, 6], pcie: [1, 7],
  nvm: [1, 8], nvm0: [1, 9], sdio: [1, 10], usb: [1, 11], sdmmc: [1, 13],
};

describe('Debian arm64 Linux 6.12 on the RK3588 (ROCK 5B vendor DTB, unmodified)', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on ttyS2 through clk-rk3588 and SCMI: UART interrupts count, sclk_uart2 runs at 16x the console baud, sleep 5 takes 5 s of guest time', async () => {
    const dtb = fixture('dtbs-arm64-6.12/rockchip/rk3588-rock-5b.dtb');
    const dts = dtcDecompile(dtb);
    const nodes = [...walk(parseDtcText(dts))];
    const uart2 = nodes.find((n) => n.path === '/serial@feb50000')!;
    const uartIrq = cellsOf(uart2, 'interrupts')![1]! + 32;
    // The console rate the DTB asks for (stdout-path = "serial2:1500000n8"): 8250_dw sets its clock to 16x the baud.
    const baud = Number(/stdout-path = "serial2:(\d+)/.exec(dts)![1]);

    const { instance: running, console: console0 } = await bootVendorShell(
      { board: 'rk3588', dtb, config: 'rk3588-zone0-linux.json', kernel: fixture('vmlinuz-arm64-6.12'), prompt: PROMPT, name: 'rk3588-linux' },
      (launched) => (instance = launched),
    );
    const log = console0.text();
    expect(log).toMatch(/SCMI Protocol v2\.0 'rockchip:rk3588' Firmware version 0x10000/);
    expect(log).not.toMatch(/scmi.*(fail|error|timed out)/i);
    // base_baud is the clock rate the driver got over 16: the boot firmware's 24 MHz console clock.
    expect(log).toMatch(new RegExp(`feb50000\\.serial: ttyS2 at MMIO 0xfeb50000 \\(irq = \\d+, base_baud = ${baud}\\) is a 16550A`));
    expect(log).toMatch(/printk: legacy console \[ttyS2\] enabled/);
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault|rockchip-pinctrl.*(fail|error)/);

    // The firmware's clocks are Linux's too: SPLL at the rate the DTB's fixed "spll" states.
    const spll = cellsOf(nodes.find((n) => n.path === '/clock-0')!, 'clock-frequency')![0]!;
    const scmi = await console0.run('grep -E "scmi_spll" /sys/kernel/debug/clk/clk_summary', new RegExp(`scmi_spll[^\\n]*\\n[\\s\\S]*${PROMPT}$`));
    expect(scmi).toMatch(new RegExp(`scmi_spll\\s+\\d+\\s+\\d+\\s+\\d+\\s+${spll}\\b`));

    // pm_domains registered the DTB's power domains and, none having a device in this zone, powered
    // them off through the PMU's idle and power handshakes: each genpd reported off has its PWR_CON bit set.
    const genpd = await console0.run('cat /sys/kernel/debug/pm_genpd/pm_genpd_summary', new RegExp(`domain\\s+status[\\s\\S]*\\n${PROMPT}$`));
    const rows = [...genpd.matchAll(/^(\w+)\s+(on|off)/gm)].map((m) => [m[1]!, m[2]!] as const);
    // The DTB names some domains twice (under two parents): genpd has one per id.
    const dtbDomains = new Set(nodes.filter((n) => n.path.startsWith('/power-management@fd8d8000/power-controller/')).map((n) => cellsOf(n, 'reg')?.[0]).filter((r) => r !== undefined));
    expect(rows.length, genpd).toBe(dtbDomains.size);
    const pmu = running.build.machine.devices.find((d) => d.path === '/power-management@fd8d8000')!.model!;
    for (const [name, status] of rows) {
      const [reg, bit] = DOMAIN_BITS[name]!;
      expect(status, `${name}\n${genpd}`).toBe('off');
      expect((pmu.read(0x14c + 4 * reg, 4) >>> bit) & 1, name).toBe(1);
    }
    expect(log).not.toMatch(/pm_domain|power domain.*(fail|timeout|error)|failed to (set|get) (domain|idle)/i);

    const zone = running.hypervisor.zone(0)!;
    await checkVendorShell({
      console: console0,
      prompt: PROMPT,
      // GIC-600 registers as GICv3; the 8250 core requests the port's interrupt as its tty name.
      uartRow: new RegExp(`GICv3\\s+${uartIrq} Level\\s+ttyS2`),
      clock: { name: 'sclk_uart2', rate: baud * 16 },
      now: () => zone.now(),
      timerRate: running.build.timerFrequency,
    });
  }, 1_500_000);
});
