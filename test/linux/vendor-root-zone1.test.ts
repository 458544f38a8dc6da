/**
 * hvisor's own root zones for the vendor boards (platform/aarch64/{zcu102,imx8mp}/board.rs as
 * boards/guests/aarch64/*-root-linux.json) beside a nonroot Linux zone1 in the shape of hvisor-tool's
 * examples (zcu102/zone1_linux.json, nxp-aarch64/zone1_linux.json: CPUs 2-3, RAM lent by the root
 * zone, virtio-blk and virtio-console served as their virtio_cfg.json puts them), all Debian's arm64
 * 6.1 on the unmodified vendor DTB: the root zone's shell on the board's console passes the
 * vendor-board checks, zone1's shell answers on its virtio console.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';
import { connectVirtioConsole } from '../virtio/socket-guest-console.js';
import { dtcDecompile } from '../boards/dt-tools.js';
import { cellsOf, parseDtcText, walk, type DtcNode } from '../boards/dtc-text.js';
import { checkVendorShell } from './vendor-shell-checks.js';

interface VendorRoot {
  readonly board: string;
  readonly dtb: string;
  /** Config prefix under boards/guests/aarch64: PREFIX-root-linux.json, PREFIX-zone1-linux.json, PREFIX-virtio_cfg.json. */
  readonly prefix: string;
  readonly consoleLine: RegExp;
  readonly zone1Console: number;
  /** The UART's /proc/interrupts row and clock, from dtc's reading of the DTB. */
  readonly uart: (nodes: readonly DtcNode[]) => { row: RegExp; clock: string; rate: number };
}

let instance: Instance | undefined;

async function rootBesideZone1(v: VendorRoot): Promise<void> {
  const dtb = fixture(v.dtb);
  const uart = v.uart([...walk(parseDtcText(dtcDecompile(dtb)))]);
  const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
  const prompt = `${v.board}-root# `;
  const dir = scratch(`${v.board}-root-zone1-`);
  const guests = join(REPO, 'boards/guests/aarch64');
  const read = (f: string) => JSON.parse(readFileSync(join(guests, `${v.prefix}-${f}`), 'utf8'));
  const root = read('root-linux.json');
  root.kernel_filepath = kernel;
  root.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit(prompt, { debugfs: true }) });
  const zone1 = read('zone1-linux.json');
  zone1.kernel_filepath = kernel;
  zone1.initrd_filepath = fixture('initramfs-arm64-shell.cpio.gz');
  const virtio = read('virtio_cfg.json');
  virtio.zones[0].devices[0].img = fixture('zone1-disk.img');
  writeFileSync(join(dir, 'root.json'), JSON.stringify(root));
  writeFileSync(join(dir, 'zone1.json'), JSON.stringify(zone1));
  writeFileSync(join(dir, 'virtio_cfg.json'), JSON.stringify(virtio));

  let typeOn: (bytes: Uint8Array) => void = () => {};
  const console0 = new GuestConsole('root-linux', (b) => typeOn(b));
  instance = await launch({
    board: v.board, dtb, zones: [join(dir, 'root.json'), join(dir, 'zone1.json')], virtio: join(dir, 'virtio_cfg.json'),
    gdbBasePort: false, output: console0.append, log: () => {},
  });
  typeOn = (b) => instance!.consoles.type(0, b);
  await console0.waitFor(new RegExp(`SHELL-READY[\\s\\S]*${prompt}$`), 'the root zone shell prompt', 1_500_000);
  const log = console0.text();
  expect(log).toMatch(v.consoleLine);
  expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

  const zone = instance.hypervisor.zone(0)!;
  await checkVendorShell({
    console: console0, prompt, uartRow: uart.row, clock: { name: uart.clock, rate: uart.rate },
    now: () => zone.now(), timerRate: instance.build.timerFrequency,
  });

  // zone1: its shell comes up on hvc0 once the virtio modules load; type until it answers.
  const { console: hvc, socket } = await connectVirtioConsole(instance.hypervisor.zone(1)!, v.zone1Console);
  try {
    const end = Date.now() + 1_200_000;
    let answered = false;
    while (!answered) {
      if (Date.now() > end) throw new Error(`zone1 never answered on hvc0; it printed:\n${hvc.text().slice(-2000)}`);
      answered = await hvc.run('echo HVC-$((6 * 7)); tty; cat /proc/cmdline', /HVC-42\s+\/dev\/hvc0\s+[^\n]*zone=zone1/, 20_000).then(() => true, () => false);
    }
    expect(hvc.text()).toMatch(/zone1# /);
  } finally {
    socket.destroy();
  }
  expect(instance.hypervisor.zone(1)!.state).toBe('running');
}

const cell = (nodes: readonly DtcNode[], path: (p: string) => boolean, prop: string, i: number) => cellsOf(nodes.find((n) => path(n.path))!, prop)![i]!;

describe("hvisor's vendor root zones beside a nonroot Linux zone1 (vendor DTBs, unmodified)", () => {
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('ZCU102: the root zone (the DDR controller passed through) on ttyPS0; zone1 on its virtio console at the USB controller\'s address', async () => {
    await rootBesideZone1({
      board: 'zcu102', dtb: 'dtbs-arm64/xilinx/zynqmp-zcu102-rev1.0.dtb', prefix: 'zcu102', zone1Console: 0xff9e_0000,
      consoleLine: /printk: console \[ttyPS0\] enabled/,
      uart: (nodes) => ({
        // GIC-400 names itself GIC-0; cdns_uart requests its interrupt as "xuartps"; uart0_ref = IOPLL (45x the PS reference) / 15.
        row: new RegExp(`GIC-0\\s+${cell(nodes, (p) => p.endsWith('/serial@ff000000'), 'interrupts', 1) + 32} Level\\s+xuartps`),
        clock: 'uart0_ref',
        rate: Math.floor((cell(nodes, (p) => p === '/pss_ref_clk', 'clock-frequency', 0) * 45) / 15),
      }),
    });
  }, 3_000_000);

  it('i.MX8MP EVK: the root zone (whole AIPS buses) on ttymxc1; zone1 (UART4 lent out of a root bus) on its virtio console', async () => {
    await rootBesideZone1({
      board: 'imx8mp-evk', dtb: 'dtbs-arm64/freescale/imx8mp-evk.dtb', prefix: 'imx8mp', zone1Console: 0xa00_3800,
      consoleLine: /printk: console \[ttymxc1\] enabled/,
      uart: (nodes) => ({
        row: new RegExp(`GICv3\\s+${cell(nodes, (p) => p.endsWith('/serial@30890000'), 'interrupts', 1) + 32} Level\\s+30890000\\.serial`),
        clock: 'uart2_root_clk',
        rate: cell(nodes, (p) => p === '/clock-osc-24m', 'clock-frequency', 0),
      }),
    });
  }, 3_000_000);
});
