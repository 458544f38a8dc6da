import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { Ram } from '../../src/machine/ram.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadVirtioConfig, parseVirtioConfig } from '../../src/config/virtio-config.js';
import { MmioReg } from '../../src/devices/virtio/virtio-mmio.js';
import { virtioZoneProblems } from '../../src/devices/virtio/virtio-zone-check.js';
import { BoardVirtio } from '../../src/devices/virtio/virtio-provider.js';
import { buildVirtioDevice, virtioMmioNode, type BuiltVirtioDevice } from '../../src/devices/virtio/virtio-zone-devices.js';
import type { VirtualSwitch } from '../../src/devices/virtio/virtual-switch.js';
import { cells, dtNodeCells } from '../pci/dt-oracle.js';
import { VirtioMmioTestDriver } from './mmio-driver.js';
import { guestMemory } from '../../src/machine/guest-memory.js';

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vcfg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A virtio_cfg.json in hvisor-tool's shape, with our optional endpoint fields. */
function config(zone: number, slotBase: number, extra: Record<string, unknown> = {}) {
  return {
    id: zone,
    memory_region: [{ zone0_ipa: '0x50000000', zonex_ipa: '0x50000000', size: '0x30000000' }],
    devices: [
      { type: 'blk', addr: `0x${(slotBase + 0x600).toString(16)}`, len: '0x200', irq: 78, img: 'disk.img', status: 'enable' },
      { type: 'console', addr: `0x${(slotBase + 0x200).toString(16)}`, len: '0x200', irq: 76, tcp: 0, status: 'enable' },
      { type: 'net', addr: `0x${slotBase.toString(16)}`, len: '0x200', irq: 75, tap: 'tap0', mac: ['0x00', '0x16', '0x3e', '0x10', '0x10', `0x${zone.toString(16)}`], status: 'enable' },
      { type: 'gpu', addr: `0x${(slotBase + 0x400).toString(16)}`, len: '0x200', irq: 74, width: 32, height: 16, web: 0, status: 'disable' },
      ...('gpu' in extra ? [extra['gpu']] : []),
    ],
  };
}

describe('virtio devices from an hvisor-tool virtio_cfg.json', () => {
  it('reads the device list: hex strings, status, our endpoint fields', () => {
    const [zone] = parseVirtioConfig({ zones: [config(1, 0xa003600)] }, 'virtio_cfg.json');
    expect(zone!.zoneId).toBe(1);
    expect(zone!.memoryRegions).toEqual([{ zone0Ipa: 0x5000_0000, zonexIpa: 0x5000_0000, size: 0x3000_0000 }]);
    expect(zone!.devices.map((d) => [d.type, d.addr, d.irq])).toEqual([['blk', 0xa003c00, 78], ['console', 0xa003800, 76], ['net', 0xa003600, 75]]);
    expect(zone!.devices[1]).toMatchObject({ endpoint: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
    expect(zone!.devices[2]).toMatchObject({ mac: [0, 0x16, 0x3e, 0x10, 0x10, 1], link: { kind: 'switch', name: 'tap0' } });
  });

  it('cross-checks the zone config: a virtio region and an interrupt per device, no orphan regions', () => {
    const [zone] = parseVirtioConfig({ zones: [config(1, 0xa003600)] });
    const regions = [0xa003600, 0xa003800, 0xa003c00].map((virtualStart) => ({ virtualStart, size: 0x200 }));
    expect(virtioZoneProblems({ zoneId: 1, virtioRegions: regions, interrupts: [75, 76, 78] }, zone!.devices)).toEqual([]);
    expect(virtioZoneProblems({ zoneId: 1, virtioRegions: [...regions.slice(1), { virtualStart: 0xa003000, size: 0x200 }], interrupts: [75, 78] }, zone!.devices)).toEqual([
      'zone 1: virtio console at 0xa003800 uses irq 76, which is not in the zone\'s interrupts',
      'zone 1: virtio net at 0xa003600 has no "virtio" memory region covering [0xa003600, 0xa003800)',
      'zone 1: "virtio" memory region at 0xa003000 has no device behind it (the zone would fault on it)',
    ]);
  });

  it('bad entries are typed errors naming the file, the entry and the field', () => {
    const bad = (device: Record<string, unknown>) => () => parseVirtioConfig({ zones: [{ id: 1, devices: [device] }] }, 'cfg.json');
    const slot = { addr: '0xa003e00', irq: 79 };
    expect(bad({ ...slot, type: 'sound' })).toThrow(ConfigError);
    expect(bad({ ...slot, type: 'sound' })).toThrow('cfg.json: zones[0].devices[0].type: "sound" is not one of blk, console, net, gpu');
    expect(bad({ ...slot, type: 'blk' })).toThrow(/devices\[0\]\.img: a blk device needs/);
    expect(bad({ ...slot, type: 'net', mac: [1, 2, 3, 4, 5, 6] })).toThrow(/mac: is a multicast address/);
    expect(bad({ ...slot, type: 'net', mac: [0, 2, 3] })).toThrow(/mac: must be six bytes/);
    expect(bad({ addr: '0xzz', irq: 1, type: 'console' })).toThrow(/devices\[0\]\.addr: expected an unsigned integer \(a number or a "0x…" string\), got "0xzz"/);
    expect(bad({ ...slot, type: 'console', tcp: 70000 })).toThrow(/tcp: 70000 is not a port number/);
    expect(bad({ ...slot, type: 'console', status: 'on' })).toThrow(/status: "on"/);
    const twice = config(1, 0xa003600);
    twice.devices.push(twice.devices[0]!);
    expect(() => parseVirtioConfig({ zones: [twice] }, 'cfg.json')).toThrow(/zones\[0\]\.devices\[4\]: addr 0xa003c00 is already used by cfg.json: zones\[0\]\.devices\[0\]/);
    expect(parseVirtioConfig({ zones: [config(1, 0xa003600), config(2, 0xa003600)] }).length).toBe(2); // per-zone addresses
    expect(() => parseVirtioConfig({ zone: [] })).toThrow(/\(top level\): missing required field "zones"/);
  });

  it('reads hvisor-tool\'s own qemu-aarch64 virtio_cfg.json file; unreadable files, bad JSON and scmi are typed errors', () => {
    const example = join(import.meta.dirname, '..', 'hypervisor', 'configs', 'qemu-aarch64-virtio_cfg.json');
    expect(loadVirtioConfig(example)).toEqual([{
      zoneId: 1,
      memoryRegions: [{ zone0Ipa: 0x5000_0000, zonexIpa: 0x5000_0000, size: 0x3000_0000 }],
      devices: [
        { type: 'blk', addr: 0xa003c00, len: 0x200, irq: 78, img: 'rootfs2.ext4', readOnly: false, serial: undefined },
        { type: 'console', addr: 0xa003800, len: 0x200, irq: 76, endpoint: { kind: 'terminal' } },
      ],
    }]);
    expect(() => loadVirtioConfig(join(tmp, 'nope.json'))).toThrow(/nope\.json: \(top level\): cannot read the virtio config/);
    writeFileSync(join(tmp, 'broken.json'), '{"zones": [');
    expect(() => loadVirtioConfig(join(tmp, 'broken.json'))).toThrow(/broken\.json: \(top level\): not valid JSON/);
    const scmi = (status: string) => ({ zones: [{ id: 1, devices: [{ type: 'scmi', addr: '0xa003e00', irq: 79, status }] }] });
    expect(() => parseVirtioConfig(scmi('enable'), 'v.json')).toThrow('v.json: zones[0].devices[0].type: "scmi" is not served by hvisor-ts');
    expect(parseVirtioConfig(scmi('disable'), 'v.json')[0]!.devices).toEqual([]);
  });

  it('builds working devices for two zones: blk on a relative image path, TCP console, NICs on one switch, gpu page', async () => {
    writeFileSync(join(tmp, 'disk.img'), new Uint8Array(8 * 512).fill(0x5d));
    const gpuSlot = { type: 'gpu', addr: '0xa003400', len: '0x200', irq: 74, width: 32, height: 16, web: 0, status: 'enable' };
    const zones = parseVirtioConfig({ zones: [config(1, 0xa003600, { gpu: gpuSlot }), config(2, 0xa003600)] }, 'cfg.json');
    const switches = new Map<string, VirtualSwitch>();
    const built: BuiltVirtioDevice[] = [];
    const drivers = new Map<string, VirtioMmioTestDriver>();
    const nics: VirtioMmioTestDriver[] = [];
    for (const zone of zones) {
      const space = new AddressSpace();
      const ram = new Ram(0x10_0000);
      space.mapRam(0x5000_0000, ram.size, ram);
      const irqs: number[] = [];
      const env = { memory: guestMemory(space), irq: (n: number) => irqLine((l) => l && irqs.push(n)), baseDir: tmp, switches };
      for (const spec of zone.devices) {
        const b = buildVirtioDevice(spec, env);
        built.push(b);
        space.mapMmio(spec.addr, spec.len, b.device);
        const drv = new VirtioMmioTestDriver(space, spec.addr, 0x5000_0000);
        if (zone.zoneId === 1) drivers.set(spec.type, drv);
        if (spec.type === 'net') nics.push(drv);
      }
    }
    await Promise.all(built.map((b) => b.ready));
    const described = built.map((b) => b.describe());
    expect(described.slice(0, 4)).toEqual([
      join(tmp, 'disk.img'), expect.stringMatching(/^tcp 127\.0\.0\.1:[1-9]\d*$/), 'switch tap0', expect.stringMatching(/^32x16 on http:\/\/127\.0\.0\.1:[1-9]\d*\/$/),
    ]);
    expect(described[5]).not.toBe(described[1]); // each zone its own console port
    // The two zones' NICs share switch tap0: a broadcast from zone 1 lands in zone 2.
    const [n1, n2] = nics.map((d) => {
      expect(d.negotiate((f) => f) & 8).toBe(8);
      const rx = d.setupQueue(0, 8);
      const tx = d.setupQueue(1, 8);
      d.driverOk();
      return { d, rx, tx };
    });
    const rbuf = n2!.d.alloc(1526);
    n2!.d.post(n2!.rx, [[rbuf, 1526, true]]);
    const tbuf = n1!.d.alloc(12 + 60);
    n1!.d.fill(tbuf + 12, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x16, 0x3e, 0x10, 0x10, 1, 0x08, 0x06]));
    n1!.d.post(n1!.tx, [[tbuf, 72, false]]);
    expect(n2!.d.reap(n2!.rx)).toEqual([[0, 72]]);
    expect([...n2!.d.bytes(rbuf + 12 + 6, 6)]).toEqual([0, 0x16, 0x3e, 0x10, 0x10, 1]);
    // The console's port and the gpu page answer real clients.
    const consolePort = Number(described[1]!.split(':')[1]);
    const sock = connect(consolePort, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.destroy();
    const page = await new Promise<number>((resolve, reject) => {
      get(described[3]!.split(' on ')[1]!, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject);
    });
    expect(page).toBe(200);
    expect([...drivers.entries()].map(([t, d]) => [t, d.reg(MmioReg.DeviceId)])).toEqual([['blk', 2], ['console', 3], ['net', 1], ['gpu', 16]]);
    expect(drivers.get('blk')!.config(0, 4)).toBe(8); // the image's 8 sectors
    expect(switches.has('tap0')).toBe(true);
    await Promise.all(built.map((b) => b.close()));
  });

  it('BoardVirtio provides a zone its windows and routed interrupt lines; a shared irq is a wired OR', async () => {
    writeFileSync(join(tmp, 'disk.img'), new Uint8Array(8 * 512));
    const cfg = config(1, 0xa003600);
    cfg.devices.push(
      { type: 'console', addr: '0xa003000', len: '0x200', irq: 80, unix: join(tmp, 'a.sock'), status: 'enable' } as never,
      { type: 'console', addr: '0xa003200', len: '0x200', irq: 80, unix: join(tmp, 'b.sock'), status: 'enable' } as never,
    );
    const board = new BoardVirtio(parseVirtioConfig({ zones: [cfg] }), tmp);
    const space = new AddressSpace();
    const ram = new Ram(0x10_0000);
    space.mapRam(0x5000_0000, ram.size, ram);
    expect(board.provide(2, space)).toEqual([]);
    const windows = board.provide(1, space);
    await board.ready();
    expect(windows.map((w) => [w.name, w.base, w.size, w.irqLine.number])).toEqual([
      ['virtio-blk@a003c00', 0xa003c00, 0x200, 78], ['virtio-console@a003800', 0xa003800, 0x200, 76], ['virtio-net@a003600', 0xa003600, 0x200, 75],
      ['virtio-console@a003000', 0xa003000, 0x200, 80], ['virtio-console@a003200', 0xa003200, 0x200, 80],
    ]);
    expect(windows[3]!.irqLine).toBe(windows[4]!.irqLine);
    const levels: [number, boolean][] = [];
    for (const w of windows) {
      space.mapMmio(w.base, w.size, w.device);
      if (!w.irqLine.connected) w.irqLine.connect(irqLine((l) => levels.push([w.irqLine.number, l])));
    }
    // A blk flush interrupts on 78.
    const blk = new VirtioMmioTestDriver(space, 0xa003c00, 0x5000_0000);
    expect(blk.negotiate((f) => f) & 8).toBe(8);
    const q = blk.setupQueue(0, 8);
    blk.driverOk();
    const hdr = blk.alloc(16);
    blk.w(hdr, 4, 4);
    blk.post(q, [[hdr, 16, false], [blk.alloc(1), 1, true]]);
    expect(levels).toEqual([[78, true]]);
    blk.ackInterrupt();
    expect(levels).toEqual([[78, true], [78, false]]);
    // Both consoles on 80: the line stays high until the last one is acknowledged.
    const [c1, c2] = [0xa003000, 0xa003200].map((base) => {
      const d = new VirtioMmioTestDriver(space, base, 0x5000_0000);
      expect(d.negotiate((f) => f) & 8).toBe(8);
      d.setupQueue(0, 8);
      const tx = d.setupQueue(1, 8);
      d.driverOk();
      const b = d.alloc(1);
      d.post(tx, [[b, 1, false]]);
      return d;
    });
    expect(levels.slice(2)).toEqual([[80, true]]);
    c1!.ackInterrupt();
    expect(levels.slice(2)).toEqual([[80, true]]);
    c2!.ackInterrupt();
    expect(levels.slice(2)).toEqual([[80, true], [80, false]]);
    expect(board.windows.length).toBe(5);
    await board.close();
  });

  it('the zone device-tree node of a slot is the node QEMU virt has there (dtc reads the QEMU DTBs)', () => {
    const a64 = dtNodeCells('qemu-dtb/qemu-virt-aarch64-gicv3.dtb', 'virtio_mmio@a003c00');
    const node = virtioMmioNode({ addr: 0xa003c00, len: 0x200, irq: 78 }, 'gic');
    expect(node.name).toBe('virtio_mmio@a003c00');
    expect(node.interrupts).toEqual(cells(a64, 'interrupts'));
    expect([0, node.reg[0], 0, node.reg[1]]).toEqual(cells(a64, 'reg'));
    const rv = dtNodeCells('qemu-dtb/qemu-virt-riscv64.dtb', 'virtio_mmio@10008000');
    const rvNode = virtioMmioNode({ addr: 0x10008000, len: 0x1000, irq: 8 }, 'plic');
    expect(rvNode.interrupts).toEqual(cells(rv, 'interrupts'));
    expect([0, rvNode.reg[0], 0, rvNode.reg[1]]).toEqual(cells(rv, 'reg'));
    expect(() => virtioMmioNode({ addr: 0xa000000, len: 0x200, irq: 16 }, 'gic')).toThrow(/not an SPI/);
  });
});
