import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { Ram } from '../../src/machine/ram.js';
import { bdf } from '../../src/machine/bdf.js';
import { FileBlockImage, MemoryBlockImage } from '../../src/devices/virtio/block-image.js';
import { describePciTree } from '../../src/devices/pci/describe.js';
import { PciHostEcam } from '../../src/devices/pci/host-bridge.js';
import { VirtualEcam } from '../../src/devices/pci/virtual-ecam.js';
import { guestMemory } from '../../src/machine/guest-memory.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { VirtioNetBackend } from '../../src/devices/virtio/virtio-net-backend.js';
import { VirtioPciFunction } from '../../src/devices/pci/virtio-pci.js';
import type { VirtioBackend } from '../../src/devices/virtio/virtio-backend.js';
import { Enumerator } from './enumerator.js';
import { VirtioPciTestDriver } from './virtio-driver.js';

const RAM = 0x4000_0000;
const windows = [
  { space: 'io' as const, cpuBase: 0x3eff_0000, pciBase: 0, size: 0x1_0000 },
  { space: 'mem32' as const, cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x2eff_0000 },
  { space: 'mem64' as const, cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x80_0000_0000 },
];

/** A zone owning one virtio-pci function at 00:02.0, driven through its virtual ECAM. */
function zoneWith(backend: VirtioBackend) {
  const mem = new AddressSpace();
  const ram = new Ram(0x10_0000);
  mem.mapRam(RAM, ram.size, ram);
  const intx: boolean[] = [];
  const lines = [0, 1, 2, 3].map((i) => irqLine((l) => i === 2 && intx.push(l))); // slot 2 INTA → line 2
  const host = new PciHostEcam({ ecamSize: 0x1000_0000, busStart: 0, busEnd: 0xff, windows }, lines);
  const fn = new VirtioPciFunction(backend);
  host.add(bdf(0, 2, 0), fn);
  const msis: [number, number][] = [];
  const view = new VirtualEcam(host, {
    zone: 'zone1', devices: [bdf(0, 2, 0)], windows, dma: guestMemory(mem), msi: { signal: (_r, a, d) => msis.push([a, d]) },
  });
  windows.forEach((w, i) => mem.mapMmio(w.cpuBase, w.size, view.windowDevices[i]!));
  const [found] = new Enumerator(view.ecam, windows).enumerate();
  const bars = new Map(found!.bars.map((b) => [b.index, b.cpu]));
  const drv = new VirtioPciTestDriver(mem, view.ecam, 0x10, bars, RAM);
  return { mem, ram, host, fn, view, found: found!, drv, intx, msis, bars };
}

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vpci-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('virtio-pci modern transport', () => {
  it('enumerates as Linux expects: 1af4:1042, revision 1, BAR1 MSI-X, BAR4 64-bit with the four structures', () => {
    const { found, drv, host } = zoneWith(new VirtioBlkBackend(new MemoryBlockImage(8192)));
    expect([found.vendor, found.deviceId, found.classCode]).toEqual([0x1af4, 0x1042, 0x010000]);
    expect(drv.cfg(0x08, 1)).toBe(1);
    expect(drv.cfg(0x2e, 2)).toBeGreaterThanOrEqual(0x40);
    expect(found.bars.map((b) => [b.index, b.is64, b.size])).toEqual([[1, false, 0x1000], [4, true, 0x4000]]);
    const caps = drv.findCaps();
    expect(caps.map((c) => c.type)).toEqual([2, 4, 3, 1]);
    expect(caps.every((c) => c.bar === 4)).toBe(true);
    expect(drv.notifyMultiplier).toBe(4);
    expect(found.capabilities.map((c) => c.id)).toEqual([0x11, 0x09, 0x09, 0x09, 0x09]);
    expect(describePciTree(host)).toContain('00:02.0 SCSI storage controller [010000]: virtio-blk-pci [1af4:1042] rev 01');
  });

  it('virtio-blk: capacity, write/read/flush/get-id on an image file, used-buffer MSI-X', () => {
    const data = new Uint8Array(64 * 512).map((_, i) => (i * 13) & 0xff);
    const path = join(tmp, 'blk.img');
    writeFileSync(path, data);
    const image = new FileBlockImage(path);
    const { drv, ram, msis } = zoneWith(new VirtioBlkBackend(image, 'SERIAL-1'));
    drv.findCaps();
    // MSI-X on: enable in config, program vector 1 for the queue.
    const msixCap = 0x40 + 16 + 16 + 16 + 20;
    expect(drv.cfg(msixCap, 1)).toBe(0x11);
    drv.mem.write(drv.bars.get(1)! + 16, 4, 0x0809_0040n);
    drv.mem.write(drv.bars.get(1)! + 24, 4, 0x31n);
    drv.mem.write(drv.bars.get(1)! + 28, 4, 0n);
    drv.ecam.write((0x10 << 12) + msixCap + 2, 2, 0x8000);
    expect(drv.negotiate((f) => f) & 8).toBe(8);
    expect(drv.r(drv.device, 4)).toBe(64); // capacity
    expect(drv.r(drv.device + 20, 4)).toBe(512); // blk_size
    const q = drv.setupQueue(0, 16, 1);
    expect(drv.r(drv.common + 0x1a, 2)).toBe(1);
    drv.driverOk();
    const hdr = drv.alloc(16, 16);
    const buf = drv.alloc(1024);
    const status = drv.alloc(1, 1);
    const request = (type: number, sector: number, len: number, deviceWrites: boolean) => {
      drv.w(hdr, 4, type);
      drv.w(hdr + 4, 4, 0);
      drv.w(hdr + 8, 8, sector);
      const bufs: [number, number, boolean][] = [[hdr, 16, false]];
      if (len > 0) bufs.push([buf, len, deviceWrites]);
      bufs.push([status, 1, true]);
      const head = drv.post(q, bufs);
      const used = drv.reap(q);
      expect(used.map((u) => u[0])).toEqual([head]);
      return { status: ram.u8[status - RAM], len: used[0]![1] };
    };
    expect(request(0, 3, 1024, true)).toEqual({ status: 0, len: 1025 });
    expect(Buffer.compare(ram.u8.subarray(buf - RAM, buf - RAM + 1024), data.subarray(3 * 512, 5 * 512))).toBe(0);
    expect(msis).toEqual([[0x0809_0040, 0x31]]);
    ram.u8.fill(0x5a, buf - RAM, buf - RAM + 512);
    expect(request(1, 60, 512, false).status).toBe(0);
    expect(request(4, 0, 0, false).status).toBe(0);
    expect(readFileSync(path).subarray(60 * 512, 61 * 512).every((b) => b === 0x5a)).toBe(true);
    expect(request(8, 0, 20, true)).toEqual({ status: 0, len: 21 });
    expect(Buffer.from(ram.u8.subarray(buf - RAM, buf - RAM + 8)).toString()).toBe('SERIAL-1');
    expect(request(0, 64, 512, true).status).toBe(1); // past the end: I/O error
    expect(request(99, 0, 0, false).status).toBe(2); // unsupported
    image.close();
  });

  it('INTx through the ISR when MSI-X is off; reading the ISR acknowledges', () => {
    const { drv, intx } = zoneWith(new VirtioBlkBackend(new MemoryBlockImage(4096)));
    drv.findCaps();
    drv.negotiate((f) => f);
    const q = drv.setupQueue(0, 8, 99);
    expect(drv.r(drv.common + 0x1a, 2)).toBe(0xffff); // a vector beyond the MSI-X table is refused
    drv.driverOk();
    const hdr = drv.alloc(16, 16);
    const st = drv.alloc(1, 1);
    drv.w(hdr, 4, 4); // flush
    drv.post(q, [[hdr, 16, false], [st, 1, true]]);
    expect(intx).toEqual([true]);
    expect(drv.r(drv.isr, 1)).toBe(1);
    expect(intx).toEqual([true, false]);
    expect(drv.r(drv.isr, 1)).toBe(0);
    // VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt.
    drv.w(q.avail, 2, 1);
    drv.post(q, [[hdr, 16, false], [st, 1, true]]);
    expect(intx).toEqual([true, false]);
    expect(drv.reap(q).length).toBe(2);
  });

  it('refuses FEATURES_OK without VERSION_1 or with unoffered features; reset clears everything', () => {
    const { drv } = zoneWith(new VirtioBlkBackend(new MemoryBlockImage(4096)));
    drv.findCaps();
    expect(drv.negotiate((f) => f & 0xffff_ffffn) & 8).toBe(0);
    expect(drv.negotiate((f) => f | (1n << 40n)) & 8).toBe(0);
    expect(drv.negotiate((f) => f) & 8).toBe(8);
    drv.w(drv.common + 0x14, 1, 0);
    expect(drv.r(drv.common + 0x14, 1)).toBe(0);
  });

  it('a malformed ring (looping chain) sets NEEDS_RESET instead of hanging', () => {
    const { drv, fn } = zoneWith(new VirtioBlkBackend(new MemoryBlockImage(4096)));
    drv.findCaps();
    drv.negotiate((f) => f);
    const q = drv.setupQueue(0, 4);
    drv.driverOk();
    for (let i = 0; i < 4; i++) {
      const d = q.desc + 16 * i;
      drv.w(d, 8, RAM);
      drv.w(d + 8, 4, 16);
      drv.w(d + 12, 2, 1);
      drv.w(d + 14, 2, (i + 1) % 4);
    }
    drv.w(q.avail + 4, 2, 0);
    drv.w(q.avail + 2, 2, 1);
    drv.w(q.notify, 2, 0);
    expect(drv.r(drv.common + 0x14, 1) & 64).toBe(64);
    expect(fn.lastError).toMatch(/loops/);
  });

  it('virtio-net: transmit reaches the backend, receive fills a posted buffer, no buffer → dropped', () => {
    const sent: Uint8Array[] = [];
    const net = new VirtioNetBackend([0x52, 0x54, 0, 0x12, 0x34, 0x56], (f) => sent.push(f.slice())); // a frame is valid only during the call
    const { drv, ram } = zoneWith(net);
    drv.findCaps();
    expect(drv.negotiate((f) => f) & 8).toBe(8);
    expect([0, 1, 2, 3, 4, 5].map((i) => drv.r(drv.device + i, 1))).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    expect(drv.r(drv.device + 6, 2)).toBe(1);
    const rx = drv.setupQueue(0, 8);
    const tx = drv.setupQueue(1, 8);
    drv.driverOk();
    expect(net.receive(new Uint8Array([1, 2, 3]))).toBe(false);
    expect(net.dropped).toBe(1);
    const rbuf = drv.alloc(1526);
    drv.post(rx, [[rbuf, 1526, true]]);
    const frame = new Uint8Array(60).map((_, i) => i);
    expect(net.receive(frame)).toBe(true);
    expect(drv.reap(rx)).toEqual([[0, 72]]);
    expect(ram.u8[rbuf - RAM + 10]).toBe(1); // num_buffers
    expect([...ram.u8.subarray(rbuf - RAM + 12, rbuf - RAM + 72)]).toEqual([...frame]);
    const tbuf = drv.alloc(12 + 42);
    ram.u8.fill(0, tbuf - RAM, tbuf - RAM + 12);
    ram.u8.fill(0xee, tbuf - RAM + 12, tbuf - RAM + 54);
    drv.post(tx, [[tbuf, 12, false], [tbuf + 12, 42, false]]);
    expect(sent.map((f) => f.length)).toEqual([42]);
    expect(sent[0]!.every((b) => b === 0xee)).toBe(true);
  });
});
