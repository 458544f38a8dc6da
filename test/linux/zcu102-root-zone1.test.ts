/**
 * hvisor's own ZCU102 root zone (platform/aarch64/zcu102/board.rs as boards/guests/aarch64/
 * zcu102-root-linux.json: CPUs 0-1, its RAM, the DDR controller, UART0, SD1, GEM3, both I2Cs and the
 * GPIO) beside a nonroot Linux zone1 in the shape of hvisor-tool's examples/zcu102/zone1_linux.json
 * (CPUs 2-3, RAM 0x5000_0000 lent by the root zone, virtio-blk and virtio-console at the USB
 * controllers' addresses as its virtio_cfg.json serves them), both Debian's arm64 6.1 on the
 * unmodified zynqmp-zcu102-rev1.0.dtb: the root zone's shell on ttyPS0 passes the vendor-board
 * checks, zone1's shell answers on its virtio console.
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
import { cellsOf, parseDtcText, walk } from '../boards/dtc-text.js';
import { checkVendorShell } from './vendor-shell-checks.js';

const PROMPT = 'zcu102-root# ';
const ZONE1_CONSOLE = 0xff9e_0000;

describe("hvisor's ZCU102 root zone beside a nonroot Linux zone1 (vendor DTB, unmodified)", () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('root zone: a shell on ttyPS0 with the vendor-board checks; zone1: a shell on its virtio console', async () => {
    const dtb = fixture('dtbs-arm64/xilinx/zynqmp-zcu102-rev1.0.dtb');
    const nodes = [...walk(parseDtcText(dtcDecompile(dtb)))];
    const uartIrq = cellsOf(nodes.find((n) => n.path.endsWith('/serial@ff000000'))!, 'interrupts')![1]! + 32;
    const pssRef = cellsOf(nodes.find((n) => n.path === '/pss_ref_clk')!, 'clock-frequency')![0]!;
    const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);

    const dir = scratch('zcu102-root-zone1-');
    const guests = join(REPO, 'boards/guests/aarch64');
    const root = JSON.parse(readFileSync(join(guests, 'zcu102-root-linux.json'), 'utf8'));
    root.kernel_filepath = kernel;
    root.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit(PROMPT, { debugfs: true }) });
    const zone1 = JSON.parse(readFileSync(join(guests, 'zcu102-zone1-linux.json'), 'utf8'));
    zone1.kernel_filepath = kernel;
    zone1.initrd_filepath = fixture('initramfs-arm64-shell.cpio.gz');
    const virtio = JSON.parse(readFileSync(join(guests, 'zcu102-virtio_cfg.json'), 'utf8'));
    virtio.zones[0].devices[0].img = fixture('zone1-disk.img');
    writeFileSync(join(dir, 'root.json'), JSON.stringify(root));
    writeFileSync(join(dir, 'zone1.json'), JSON.stringify(zone1));
    writeFileSync(join(dir, 'virtio_cfg.json'), JSON.stringify(virtio));

    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('root-linux', (b) => typeOn(b));
    const logs: string[] = [];
    instance = await launch({
      board: 'zcu102', dtb, zones: [join(dir, 'root.json'), join(dir, 'zone1.json')], virtio: join(dir, 'virtio_cfg.json'),
      gdbBasePort: false, output: console0.append, log: (l) => logs.push(l),
    });
    typeOn = (b) => instance!.consoles.type(0, b);
    // hvisor maps the DDR controller's registers as "ram": here they are the controller's passthrough.
    expect(logs.join('\n')).toMatch(/memory_regions\[2\] ram 0xfd070000\+0x30000 is \/axi\/memory-controller@fd070000 .* passed through as an io region/);
    await console0.waitFor(new RegExp(`SHELL-READY[\\s\\S]*${PROMPT}$`), 'the root zone shell prompt', 1_500_000);
    const log = console0.text();
    expect(log).toMatch(/printk: console \[ttyPS0\] enabled/);
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG: (?!soft lockup)|stage-2 fault/);

    const zone = instance.hypervisor.zone(0)!;
    await checkVendorShell({
      console: console0,
      prompt: PROMPT,
      uartRow: new RegExp(`GIC-0\\s+${uartIrq} Level\\s+xuartps`),
      clock: { name: 'uart0_ref', rate: Math.floor((pssRef * 45) / 15) },
      now: () => zone.now(),
      timerRate: instance.build.timerFrequency,
    });

    // zone1: its shell comes up on hvc0 once the virtio modules load; type until it answers.
    const { console: hvc, socket } = await connectVirtioConsole(instance.hypervisor.zone(1)!, ZONE1_CONSOLE);
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
  }, 3_000_000);
});
