/**
 * Two Debian arm64 Linux zones on one qemu-virt-aarch64 board, started together by `launch()`: zone0
 * (CPU 0, its PL011) and the nonroot zone1 (CPU 1, its own RAM, a virtio-console on TCP as its only
 * console). Each has a virtio-net NIC on the board's virtual switch; Linux's virtio_net driver in
 * each zone gets a static address with BusyBox `ip`, and each zone pings the other.
 * The kernels keep their watchdogs and RCU stall reports: each zone's time is its own instructions,
 * so the other zone having the (one) host thread is no stall to it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies, scratch } from '../helpers/linux-initramfs.js';
import { expectPingBothWays, netShell, startTwoZones, stopTwoZones, type TwoZones } from './two-zones.js';

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
${netShell(address, prompt)}`;
}

describe('two Debian arm64 Linux zones ping each other over virtio-net', () => {
  let zones: TwoZones | undefined;

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
    zones = await startTwoZones({
      launch: { board: 'qemu-virt-aarch64', zones: [writeJson(dir, 'zone0.json', zone0), writeJson(dir, 'zone1.json', zone1)], virtio, gdbBasePort: false },
      zone0Name: zone0.name,
      zone1Console: ZONE1_CONSOLE,
      dir,
      bootMs: BOOT_MS,
    });
  }, BOOT_MS + 100_000);

  afterAll(async () => {
    await stopTwoZones(zones);
    zones = undefined;
  });

  it('boots both zones with their own virtio-net and no errors', async () => {
    const { console0, hvc1 } = zones!;
    for (const log of [console0.text(), hvc1.console.text()]) {
      expect(log).not.toMatch(/INSMOD-FAILED|Internal error|Unable to handle|BUG:|rcu: INFO: .*stall|hard LOCKUP/);
    }
    const link0 = await console0.run('ip link show eth0', /zone0# $/, GUEST_MS);
    expect(link0).toMatch(/link\/ether 52:54:00:12:34:01/);
    // LOWER_UP: the driver read link-up from the device's status field (VIRTIO_NET_F_STATUS).
    expect(link0).toMatch(/<BROADCAST,MULTICAST,UP,LOWER_UP>/);
    const link1 = await hvc1.console.run('ip link show eth0', /zone1# $/, GUEST_MS);
    expect(link1).toMatch(/link\/ether 52:54:00:12:34:02/);
    expect(link1).toMatch(/<BROADCAST,MULTICAST,UP,LOWER_UP>/);
  }, TEST_MS);

  it('zone0 pings zone1 and zone1 pings zone0', async () => {
    await expectPingBothWays(zones!, GUEST_MS);
  }, TEST_MS);
});
