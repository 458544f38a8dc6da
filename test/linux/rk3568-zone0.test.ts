/**
 * Debian's arm64 Linux 6.1 in zone0 of the Rockchip RK3568, from Debian's unmodified
 * rockchip/rk3568-evb1-v10.dtb (Rockchip's own evaluation board, the SoC's reference design). The
 * DTB has no /memory: the board supplies it, as U-Boot would. The zone owns UART2 (the DTB's
 * stdout-path) and the SoC blocks its clock, pin and power drivers use: CRU and PMUCRU, GRF and
 * PMUGRF, the PMU and its power domains' QoS registers, and the SCMI shared memory through which
 * the secure firmware (over SMC) gives the cores' clock. Linux's own clk-rk3568, pinctrl-rockchip,
 * pm-domains and 8250_dw drivers bring the console up as ttyS2; the test types on it. Expected rates
 * and interrupt numbers come from dtc's reading of the same DTB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { byPhandle, cellsOf, parseDtcText, stringsOf, walk } from '../boards/dtc-text.js';
import { bootVendorShell, checkVendorShell } from './vendor-shell-checks.js';

const PROMPT = 'rk3568# ';
/** PMU_PWR_GATE_STS: a set bit is a domain powered off. */
const PWR_GATE_STS = 0x98;
/** The RK3568 power domains by DT binding id (rk3568-power.h): genpd name and power bit (Linux's pm-domains table). */
const DOMAINS: ReadonlyMap<number, { name: string; bit: number }> = new Map([
  [6, { name: 'npu', bit: 1 }], [7, { name: 'gpu', bit: 0 }], [8, { name: 'vi', bit: 6 }], [9, { name: 'vo', bit: 7 }],
  [10, { name: 'rga', bit: 5 }], [11, { name: 'vpu', bit: 2 }], [13, { name: 'vdec', bit: 4 }], [14, { name: 'venc', bit: 3 }], [15, { name: 'pipe', bit: 8 }],
]);

describe('Debian arm64 Linux on the RK3568 EVB1 (vendor DTB, unmodified)', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on ttyS2: UART interrupts count, sclk_uart2 runs at the console rate, PLLs at their assigned rates, the CPU clock (SCMI) at an OPP, idle power domains off, UART pins muxed, sleep 5 takes 5 s of guest time', async () => {
    const dtb = fixture('dtbs-arm64/rockchip/rk3568-evb1-v10.dtb');
    const root = parseDtcText(dtcDecompile(dtb));
    const nodes = [...walk(root)];
    const uart2 = nodes.find((n) => n.path === '/serial@fe660000')!;
    const uartIrq = cellsOf(uart2, 'interrupts')![1]! + 32;
    const xin24m = cellsOf(nodes.find((n) => n.path === '/xin24m')!, 'clock-frequency')![0]!;
    // stdout-path = "serial2:1500000n8": the 8250 asks its baud clock for 16x the console's baud.
    const [stdout, options] = stringsOf(nodes.find((n) => n.path === '/chosen')!, 'stdout-path')[0]!.split(':');
    expect(stdout).toBe('serial2');
    const baud = Number(/^\d+/.exec(options!)![0]);
    expect(baud * 16).toBe(xin24m); // 24 MHz: the oscillator feeds sclk_uart2 undivided
    // The CRU's assigned-clocks: GPLL (cru 4) and PPLL (pmucru 1) at the DTB's rates.
    const cru = nodes.find((n) => n.path === '/clock-controller@fdd20000')!;
    const [gpllRate, ppllRate] = cellsOf(cru, 'assigned-clock-rates')!;
    // UART2's pins (rockchip,pins = <bank pin function &pcfg>...): GPIO0's, muxed in the PMUGRF.
    const pinCells = cellsOf(byPhandle(root, cellsOf(uart2, 'pinctrl-0')![0]!)!, 'rockchip,pins')!;
    const uartPins = [0, 4].map((i) => ({ bank: pinCells[i]!, pin: pinCells[i + 1]!, func: pinCells[i + 2]! }));
    expect(uartPins.every((p) => p.bank === 0)).toBe(true);
    // The cores' clock is the secure firmware's (SCMI clock 0 over SMC); its rate is one of the CPU OPPs.
    const cpuOpps = nodes
      .filter((n) => n.parent?.path === '/opp-table-0')
      .map((n) => cellsOf(n, 'opp-hz')!)
      .map(([hi, lo]) => hi! * 2 ** 32 + lo!);
    expect(cpuOpps.length).toBeGreaterThan(0);
    const domains = nodes
      .filter((n) => n.parent?.path === '/power-management@fdd90000/power-controller')
      .map((n) => DOMAINS.get(cellsOf(n, 'reg')![0]!)!);
    expect(domains.length).toBeGreaterThan(0);

    const { instance: running, console: console0 } = await bootVendorShell(
      { board: 'rk3568', dtb, config: 'rk3568-zone0-linux.json', kernel: fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/), prompt: PROMPT, name: 'rk3568-linux' },
      (launched) => (instance = launched),
    );
    const log = console0.text();
    expect(log).toMatch(/Machine model: Rockchip RK3568 EVB1/);
    // The driver's base_baud is the rate it got from the clock framework, over 16.
    expect(log).toMatch(new RegExp(`fe660000\\.serial: ttyS2 at MMIO 0xfe660000 \\(irq = \\d+, base_baud = ${xin24m / 16}\\) is a 16550A`));
    expect(log).toMatch(/printk: console \[ttyS2\] enabled/);
    // PLL locks, power-domain handshakes and pin settings all completed.
    expect(log).not.toMatch(/scmi.*(fail|error|timed? ?out)/i);
    expect(log).not.toMatch(/timeout waiting for pll|pll update unsucessful|failed to (get ack|set idle|set domain)|rockchip-pinctrl.*(fail|error)/i);
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

    const zone = running.hypervisor.zone(0)!;
    expect(running.build.timerFrequency).toBe(24_000_000);
    const answer = (command: string, done: RegExp) => console0.run(command, new RegExp(`${done.source}[\\s\\S]*${PROMPT}$`));

    // Linux reprogrammed GPLL and PPLL to the DTB's assigned rates and read the dividers back.
    const plls = await answer('grep -E "pll_(gpll|ppll) " /sys/kernel/debug/clk/clk_summary', /pll_ppll[^\n]*\n/);
    const rateOf = (name: string) => Number(new RegExp(`^\\s*${name}\\s+\\d+\\s+\\d+\\s+\\d+\\s+(\\d+)`, 'm').exec(plls)?.[1]);
    expect(rateOf('pll_gpll'), plls).toBe(gpllRate);
    expect(rateOf('pll_ppll'), plls).toBe(ppllRate);

    const scmi = await answer('grep -E "scmi_clk_cpu" /sys/kernel/debug/clk/clk_summary', /scmi_clk_cpu[^\n]*\n/);
    const cpuRate = Number(/scmi_clk_cpu\s+\d+\s+\d+\s+\d+\s+(\d+)/.exec(scmi)?.[1]);
    expect(cpuOpps, scmi).toContain(cpuRate);

    // pm-domains registered the DTB's domains and, none having a device in this zone, powered them off
    // through the PMU's idle and power handshakes: the PMU's gate status has exactly their bits.
    const genpd = await answer('cat /sys/kernel/debug/pm_genpd/pm_genpd_summary', /domain\s+status[\s\S]*\n/);
    for (const d of domains) expect(genpd).toMatch(new RegExp(`^${d.name}\\s+off`, 'm'));
    const pmu = running.build.machine.devices.find((d) => d.path === '/power-management@fdd90000')!.model!;
    expect(pmu.peek!(PWR_GATE_STS, 4)).toBe(domains.reduce((m, d) => m | (1 << d.bit), 0));

    // pinctrl-rockchip muxed UART2's pins for the serial device: PMU_GRF_GPIO0x_IOMUX holds 4 bits per pin, 4 pins a register.
    const pinmux = await answer('grep -h fe660000 /sys/kernel/debug/pinctrl/*/pinmux-pins', /fe660000[\s\S]*\n/);
    const pmugrf = running.build.machine.devices.find((d) => d.path === '/syscon@fdc20000')!.model!;
    for (const { pin, func } of uartPins) {
      expect(pinmux).toMatch(new RegExp(`pin ${pin} \\(gpio0-${pin}\\): fe660000\\.serial`));
      expect((pmugrf.peek!(4 * (pin >> 2), 4)! >>> (4 * (pin & 3))) & 0xf).toBe(func);
    }

    await checkVendorShell({
      console: console0,
      prompt: PROMPT,
      uartRow: new RegExp(`GICv3\\s+${uartIrq} Level\\s+ttyS2`),
      clock: { name: 'sclk_uart2', rate: xin24m },
      now: () => zone.now(),
      timerRate: running.build.timerFrequency,
    });
  }, 1_500_000);
});
