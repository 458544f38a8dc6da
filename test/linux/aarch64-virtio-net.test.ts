/**
 * Two Debian arm64 Linux zones on one qemu-virt-aarch64 board, started together by `launch()`: zone0
 * (CPU 0, its PL011) and the nonroot zone1 (CPU 1, its own RAM, a virtio-console on TCP as its only
 * console). Each has a virtio-net NIC on the board's virtual switch; Linux's virtio_net driver in
 * each zone gets a static address with BusyBox `ip`, and each zone pings the other.
 * The kernels keep their watchdogs and RCU stall reports: each zone's time is its own instructions,
 * so the other zone having the (one) host thread is no stall to it.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies, scratch, waitForLinkUp } from '../helpers/linux-initramfs.js';
import { connectVirtioConsole, type SocketGuestConsole } from '../virtio/socket-guest-console.js';

const ZONE0_NET = 0xa00_3600; // slot 27, SPI 43 = GIC 75
const ZONE1_NET = 0xa00_3000; // slot 24, GIC 72
const ZONE1_CONSOLE = 0xa00_3200; // slot 25, GIC 73
const MODULES = ['virtio_mmio', 'virtio_net', 'virtio_console'];
/** Waits for the guests: two boots on one host thread take minutes, more when the machine is shared. */
const BOOT_MS = 1_500_000;
const GUEST_MS = 300_000;
const TEST_MS = 900_000;

function writeJson(dir: string, name: string, json: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(json, null, 2));
  return path;
}

function initramfs(init: string): string {
  return buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init, modules: modulesWithDependencies(arm64ModuleTree(), MODULES) });
}

function init(address: string, prompt: string, console: string): string {
  return `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
${console}
ip link set lo up
ip addr add ${address}/24 dev eth0
ip link set eth0 up
${waitForLinkUp('eth0')}
export PS1='${prompt}# '
echo NET-READY
exec setsid cttyhack sh
`;
}

describe('two Debian arm64 Linux zones ping each other over virtio-net', () => {
  let instance: Instance | undefined;
  let console0: GuestConsole;
  let hvc1: SocketGuestConsole | undefined;

  beforeAll(async () => {
    const dir = scratch('a64-virtio-net-');
    console.log(`scratch folder (configs, console logs): ${dir}`);
    const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    const zone0 = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux-virtio.json'), 'utf8'));
    zone0.kernel_filepath = kernel;
    zone0.interrupts = [33, 75];
    zone0.initrd_filepath = initramfs(init('10.0.0.1', 'zone0', ''));
    const zone1 = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone1-linux-virtio.json'), 'utf8'));
    zone1.kernel_filepath = kernel;
    // zone1's only console is the virtio one: /init's output goes there once its driver is loaded.
    zone1.initrd_filepath = initramfs(init('10.0.0.2', 'zone1', 'exec </dev/hvc0 >/dev/hvc0 2>&1'));
    const virtio = writeJson(dir, 'virtio.json', {
      zones: [
        { id: 0, devices: [{ type: 'net', addr: `0x${ZONE0_NET.toString(16)}`, len: '0x200', irq: 75, mac: [0x52, 0x54, 0, 0x12, 0x34, 0x01], tap: 'lan', status: 'enable' }] },
        {
          id: 1,
          devices: [
            { type: 'net', addr: `0x${ZONE1_NET.toString(16)}`, len: '0x200', irq: 72, mac: [0x52, 0x54, 0, 0x12, 0x34, 0x02], tap: 'lan', status: 'enable' },
            { type: 'console', addr: `0x${ZONE1_CONSOLE.toString(16)}`, len: '0x200', irq: 73, tcp: 0, status: 'enable' },
          ],
        },
      ],
    });
    let typeOn: (bytes: Uint8Array) => void = () => {};
    console0 = new GuestConsole('zone0-virtio', (b) => typeOn(b));
    const started = Date.now();
    instance = await launch({
      board: 'qemu-virt-aarch64',
      zones: [writeJson(dir, 'zone0.json', zone0), writeJson(dir, 'zone1.json', zone1)],
      virtio,
      gdbBasePort: false,
      output: (text) => {
      console0.append(text);
      appendFileSync(join(dir, 'zone0-console.log'), text); // for a look after a failure
    },
      log: () => {},
    });
    typeOn = (b) => instance!.consoles.type(0, b);
    hvc1 = await connectVirtioConsole(instance.hypervisor.zone(1)!, ZONE1_CONSOLE, 'zone1');
    hvc1.socket.on('data', (text: string) => appendFileSync(join(dir, 'zone1-console.log'), text));
    await console0.waitFor(/NET-READY[\s\S]*zone0# $/, 'zone0\'s shell', BOOT_MS);
    await hvc1.console.waitFor(/NET-READY[\s\S]*zone1# $/, 'zone1\'s shell on its virtio-console', BOOT_MS);
    const retired = (id: number) => instance!.hypervisor.zone(id)!.cpus.reduce((n, c) => n + c.retired, 0);
    console.log(`both zones' shells after ${(Date.now() - started) / 1000} s; zone0 ${retired(0)}, zone1 ${retired(1)} instructions`);
  }, BOOT_MS + 100_000);

  afterAll(async () => {
    hvc1?.socket.destroy();
    await instance?.close();
    instance = undefined;
  });

  it('boots both zones with their own virtio-net and no errors', async () => {
    for (const log of [console0.text(), hvc1!.console.text()]) {
      expect(log).not.toMatch(/INSMOD-FAILED|Internal error|Unable to handle|BUG:|rcu: INFO: .*stall|hard LOCKUP/);
    }
    const link0 = await console0.run('ip link show eth0', /zone0# $/, GUEST_MS);
    expect(link0).toMatch(/link\/ether 52:54:00:12:34:01/);
    // LOWER_UP: the driver read link-up from the device's status field (VIRTIO_NET_F_STATUS).
    expect(link0).toMatch(/<BROADCAST,MULTICAST,UP,LOWER_UP>/);
    const link1 = await hvc1!.console.run('ip link show eth0', /zone1# $/, GUEST_MS);
    expect(link1).toMatch(/link\/ether 52:54:00:12:34:02/);
    expect(link1).toMatch(/<BROADCAST,MULTICAST,UP,LOWER_UP>/);
  }, TEST_MS);

  it('zone0 pings zone1 and zone1 pings zone0', async () => {
    const from0 = await console0.run('ping -c 3 10.0.0.2', /packet loss[\s\S]*zone0# $/, GUEST_MS);
    expect(from0).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
    expect(from0).toMatch(/64 bytes from 10\.0\.0\.2: seq=2/);
    const from1 = await hvc1!.console.run('ping -c 3 10.0.0.1', /packet loss[\s\S]*zone1# $/, GUEST_MS);
    expect(from1).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
  }, TEST_MS);
});
