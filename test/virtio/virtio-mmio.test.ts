import { describe, expect, it } from 'vitest';
import { MemoryBlockImage } from '../../src/devices/virtio/block-image.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { MmioReg, VIRTIO_MMIO_MAGIC } from '../../src/devices/virtio/virtio-mmio.js';
import { EVENT_IDX, INDIRECT, RAM_BASE, RAM_SIZE, VERSION_1, zoneWithMmio, type VirtioMmioTestDriver, type DriverQueue } from './mmio-driver.js';

const NEEDS_RESET = 64;

function blkZone(sectors = 16) {
  const image = new MemoryBlockImage(sectors * 512);
  return { image, ...zoneWithMmio(new VirtioBlkBackend(image)) };
}

/** A flush request (header + status): the smallest complete virtio-blk request. */
function flushChain(drv: VirtioMmioTestDriver): [number, number, boolean][] {
  const hdr = drv.alloc(16);
  drv.w(hdr, 4, 4);
  return [[hdr, 16, false], [drv.alloc(1, 1), 1, true]];
}

function ready(drv: VirtioMmioTestDriver, features: (f: bigint) => bigint = (f) => f, size = 8): DriverQueue {
  expect(drv.negotiate(features) & 8).toBe(8);
  const q = drv.setupQueue(0, size);
  drv.driverOk();
  return q;
}

describe('virtio-mmio version 2 transport', () => {
  it('probes as Linux virtio_mmio expects: magic, version 2, device id, queue sizes, 32-bit registers only', () => {
    const { drv } = blkZone();
    expect(drv.reg(MmioReg.MagicValue)).toBe(VIRTIO_MMIO_MAGIC);
    expect(drv.reg(MmioReg.Version)).toBe(2);
    expect(drv.reg(MmioReg.DeviceId)).toBe(2);
    const offered = drv.offeredFeatures();
    expect(offered & (VERSION_1 | INDIRECT | EVENT_IDX)).toBe(VERSION_1 | INDIRECT | EVENT_IDX);
    drv.setReg(MmioReg.QueueSel, 0);
    expect(drv.reg(MmioReg.QueueNumMax)).toBe(256);
    drv.setReg(MmioReg.QueueSel, 1);
    expect(drv.reg(MmioReg.QueueNumMax)).toBe(0); // blk has one queue
    expect(Number(drv.mem.read(drv.base + MmioReg.MagicValue, 2))).toBe(0); // wrong-size access
    expect(drv.reg(MmioReg.ShmLenLow)).toBe(0xffff_ffff); // no shared memory regions
    expect(drv.config(0, 4)).toBe(16); // capacity in sectors, byte-addressable config
    expect(drv.config(0x14, 2)).toBe(512);
  });

  it('negotiates: FEATURES_OK needs VERSION_1 and only offered bits; features freeze after it; reset clears', () => {
    const { drv, device } = blkZone();
    expect(drv.negotiate((f) => f & 0xffff_ffffn) & 8).toBe(0);
    expect(drv.negotiate((f) => f | (1n << 40n)) & 8).toBe(0);
    expect(drv.negotiate((f) => f & ~EVENT_IDX) & 8).toBe(8);
    expect(device.negotiatedFeatures & EVENT_IDX).toBe(0n);
    drv.setReg(MmioReg.DriverFeaturesSel, 0);
    drv.setReg(MmioReg.DriverFeatures, 0xffff_ffff);
    expect(device.negotiatedFeatures & EVENT_IDX).toBe(0n);
    drv.setupQueue(0, 8);
    drv.setReg(MmioReg.QueueSel, 0);
    expect(drv.reg(MmioReg.QueueReady)).toBe(1);
    drv.setReg(MmioReg.Status, 0);
    expect(drv.status()).toBe(0);
    expect(drv.reg(MmioReg.QueueReady)).toBe(0);
    expect(device.negotiatedFeatures).toBe(0n);
  });

  it('used buffers raise the interrupt line until acknowledged; NO_INTERRUPT suppresses it', () => {
    const { drv, irqLevels } = blkZone();
    const q = ready(drv, (f) => f & ~EVENT_IDX);
    const head = drv.post(q, flushChain(drv));
    expect(drv.reap(q)).toEqual([[head, 1]]);
    expect(irqLevels).toEqual([true]);
    expect(drv.reg(MmioReg.InterruptStatus)).toBe(1);
    expect(drv.ackInterrupt()).toBe(1);
    expect(irqLevels).toEqual([true, false]);
    expect(drv.reg(MmioReg.InterruptStatus)).toBe(0);
    drv.w(q.avail, 2, 1); // VIRTQ_AVAIL_F_NO_INTERRUPT
    drv.post(q, flushChain(drv));
    expect(drv.reap(q).length).toBe(1);
    expect(irqLevels).toEqual([true, false]);
  });

  it('event index: interrupts only when used_event is crossed, and publishes avail_event', () => {
    const { drv, irqLevels } = blkZone();
    const q = ready(drv);
    drv.setUsedEvent(q, 1); // "interrupt me when the used index passes 1"
    drv.post(q, flushChain(drv));
    expect(drv.reap(q).length).toBe(1);
    expect(irqLevels).toEqual([]);
    expect(drv.availEvent(q)).toBe(1);
    drv.post(q, flushChain(drv));
    expect(drv.reap(q).length).toBe(1);
    expect(irqLevels).toEqual([true]);
    expect(drv.availEvent(q)).toBe(2);
  });

  it('indirect descriptors carry a request when negotiated, and break the device when not', () => {
    const { drv, image } = blkZone();
    image.bytes.fill(0x77, 512, 1024);
    const q = ready(drv);
    const hdr = drv.alloc(16);
    drv.w(hdr, 4, 0);
    drv.w(hdr + 8, 8, 1);
    const buf = drv.alloc(512);
    const st = drv.alloc(1, 1);
    const head = drv.post(q, [[hdr, 16, false], [buf, 512, true], [st, 1, true]], { indirect: true });
    expect(drv.reap(q)).toEqual([[head, 513]]);
    expect(drv.r(st, 1)).toBe(0);
    expect(drv.bytes(buf, 512).every((b) => b === 0x77)).toBe(true);

    const other = blkZone();
    const q2 = ready(other.drv, (f) => f & ~INDIRECT);
    other.drv.post(q2, flushChain(other.drv), { indirect: true });
    expect(other.drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(other.device.lastError).toMatch(/INDIRECT_DESC/);
  });
});

describe('virtio-mmio: a malformed ring sets DEVICE_NEEDS_RESET and touches nothing outside the zone', () => {
  it('a looping chain: NEEDS_RESET, a configuration-change interrupt, later kicks ignored, reset recovers', () => {
    const { drv, device, irqLevels } = blkZone();
    const q = ready(drv, (f) => f, 4);
    for (let i = 0; i < 4; i++) {
      const d = q.desc + 16 * i;
      drv.w(d, 8, RAM_BASE);
      drv.w(d + 8, 4, 16);
      drv.w(d + 12, 2, 1);
      drv.w(d + 14, 2, (i + 1) % 4);
    }
    drv.publish(q, 0);
    expect(drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(device.lastError).toMatch(/loops/);
    expect(drv.reg(MmioReg.InterruptStatus)).toBe(2);
    expect(irqLevels).toEqual([true]);
    expect(drv.reg(MmioReg.ConfigGeneration)).toBe(1);
    expect(device.describe()).toBe(
      'virtio-mmio-blk: status 0x4f (Acknowledge|Driver|DriverOk|FeaturesOk|NeedsReset), features 0x130006244, queues q0:4, ' +
        'interrupt pending 0x2, broken: queue 0: descriptor chain loops',
    );
    drv.setReg(MmioReg.Status, 0xf); // the driver cannot clear NEEDS_RESET by itself
    expect(drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(device.queue(0)).toBeUndefined();
    drv.setReg(MmioReg.Status, 0);
    expect(drv.status()).toBe(0);
    expect(device.lastError).toBeUndefined();
    expect(irqLevels.at(-1)).toBe(false);
    const q2 = ready(drv, (f) => f, 4);
    drv.post(q2, flushChain(drv));
    expect(drv.reap(q2).length).toBe(1);
  });

  it('a buffer straddling the end of the zone RAM: refused whole, the in-zone half is not written', () => {
    const { drv, device, image } = blkZone();
    image.bytes.fill(0x11);
    const q = ready(drv);
    const hdr = drv.alloc(16);
    drv.w(hdr, 4, 0); // read sector 0...
    const end = RAM_BASE + RAM_SIZE;
    drv.fill(end - 256, new Uint8Array(256).fill(0xcd));
    drv.post(q, [[hdr, 16, false], [end - 256, 512, true], [drv.alloc(1, 1), 1, true]]); // ...into [end-256, end+256)
    expect(drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    expect(device.lastError).toMatch(/outside the zone's RAM/);
    expect(drv.bytes(end - 256, 256).every((b) => b === 0xcd)).toBe(true);
  });

  it('a buffer naming the device window itself (MMIO, not RAM) is refused', () => {
    const { drv, device } = blkZone();
    const q = ready(drv);
    const hdr = drv.alloc(16);
    drv.w(hdr, 4, 0);
    drv.post(q, [[hdr, 16, false], [drv.base, 0x100, true], [drv.alloc(1, 1), 1, true]]);
    expect(device.lastError).toMatch(/outside the zone's RAM/);
    expect(drv.reg(MmioReg.MagicValue)).toBe(VIRTIO_MMIO_MAGIC);
  });

  it('over-long chains: an indirect table longer than the queue, nested indirection, an index jump', () => {
    const cases: [string, (drv: VirtioMmioTestDriver, q: DriverQueue) => void, RegExp][] = [
      ['long indirect', (drv, q) => {
        const bufs = Array.from({ length: 5 }, (): [number, number, boolean] => [drv.alloc(16), 16, false]);
        drv.post(q, bufs, { indirect: true });
      }, /longer than the queue/],
      ['nested indirect', (drv, q) => {
        const inner = drv.alloc(16);
        const table = drv.alloc(16);
        drv.w(table, 8, inner);
        drv.w(table + 8, 4, 16);
        drv.w(table + 12, 2, 4);
        drv.w(q.desc, 8, table);
        drv.w(q.desc + 8, 4, 16);
        drv.w(q.desc + 12, 2, 4);
        drv.publish(q, 0);
      }, /inside an indirect table/],
      ['index jump', (drv, q) => {
        drv.w(q.avail + 2, 2, 100);
        drv.kick(q);
      }, /jumped by 100/],
      ['head out of range', (drv, q) => drv.publish(q, 9), /head 9 outside/],
      ['readable after writable', (drv, q) => {
        drv.post(q, [[drv.alloc(16), 16, true], [drv.alloc(16), 16, false]]);
      }, /readable buffer after a device-writable/],
    ];
    for (const [name, breakIt, why] of cases) {
      const { drv, device } = blkZone();
      const q = ready(drv, (f) => f, 4);
      breakIt(drv, q);
      expect(drv.status() & NEEDS_RESET, name).toBe(NEEDS_RESET);
      expect(device.lastError, name).toMatch(why);
    }
  });

  it('rings outside the zone, or a bad queue size, break the device when the queue goes live', () => {
    const { drv, device } = blkZone();
    expect(drv.negotiate((f) => f) & 8).toBe(8);
    drv.setReg(MmioReg.QueueSel, 0);
    drv.setReg(MmioReg.QueueNum, 8);
    drv.setReg(MmioReg.QueueDescLow, 0x1000); // not RAM
    drv.setReg(MmioReg.QueueReady, 1);
    expect(device.lastError).toMatch(/descriptor table at 0x1000/);
    expect(drv.status() & NEEDS_RESET).toBe(NEEDS_RESET);
    const again = blkZone();
    expect(again.drv.negotiate((f) => f) & 8).toBe(8);
    again.drv.setReg(MmioReg.QueueNum, 6);
    again.drv.setReg(MmioReg.QueueReady, 1);
    expect(again.device.lastError).toMatch(/size 6 is not a power of two/);
  });
});
