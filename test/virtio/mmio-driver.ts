/**
 * A test-only virtio-mmio driver doing what Linux's virtio_mmio.c + virtio_ring.c do, in their
 * order: probe magic/version/device id, reset, ACKNOWLEDGE|DRIVER, read both feature words, write
 * the driver's, FEATURES_OK and read it back, then per queue (QueueSel, QueueReady must read 0,
 * QueueNumMax, QueueNum, ring addresses as low/high words, QueueReady=1), DRIVER_OK, kick through
 * QueueNotify, and in the interrupt read InterruptStatus and write it to InterruptACK.
 */
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { Ram } from '../../src/machine/ram.js';
import type { VirtioBackend } from '../../src/devices/virtio/virtio-backend.js';
import { MmioReg, VIRTIO_MMIO_WINDOW, VirtioMmioDevice } from '../../src/devices/virtio/virtio-mmio.js';
import { guestMemory } from '../../src/machine/guest-memory.js';
import { DriverRing, type DriverQueue } from '../helpers/virtio-ring.js';

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 0x20_0000;
/** Slot 0 of QEMU virt's virtio-mmio bank. */
export const MMIO_BASE = 0x0a00_0000;

export const EVENT_IDX = 1n << 29n;
export const INDIRECT = 1n << 28n;
export const VERSION_1 = 1n << 32n;

export type { DriverQueue } from '../helpers/virtio-ring.js';

/** A zone with RAM and one virtio-mmio slot holding `backend`, plus the driver for it. */
export function zoneWithMmio(backend: VirtioBackend) {
  const mem = new AddressSpace();
  const ram = new Ram(RAM_SIZE);
  mem.mapRam(RAM_BASE, RAM_SIZE, ram);
  const irqLevels: boolean[] = [];
  const device = new VirtioMmioDevice(backend, guestMemory(mem), irqLine((l) => irqLevels.push(l)));
  mem.mapMmio(MMIO_BASE, VIRTIO_MMIO_WINDOW, device);
  const drv = new VirtioMmioTestDriver(mem, MMIO_BASE, RAM_BASE);
  return { mem, ram, device, drv, irqLevels };
}

export class VirtioMmioTestDriver {
  private readonly ring: DriverRing;
  readonly queues: DriverQueue[] = [];
  private nextFree: number;

  constructor(
    readonly mem: AddressSpace,
    readonly base: number,
    readonly ramBase: number,
  ) {
    this.nextFree = ramBase + 0x10000;
    this.ring = new DriverRing(mem);
  }

  reg(offset: number): number {
    return Number(this.mem.read(this.base + offset, 4));
  }
  setReg(offset: number, value: number): void {
    this.mem.write(this.base + offset, 4, BigInt(value >>> 0));
  }
  config(offset: number, size: 1 | 2 | 4): number {
    return Number(this.mem.read(this.base + MmioReg.Config + offset, size));
  }
  r(addr: number, size: 1 | 2 | 4): number {
    return Number(this.mem.read(addr, size));
  }
  w(addr: number, size: 1 | 2 | 4 | 8, v: number | bigint): void {
    this.mem.write(addr, size, BigInt(v));
  }
  bytes(addr: number, length: number): Uint8Array {
    return this.mem.readDebug(addr, length);
  }
  fill(addr: number, data: Uint8Array): void {
    this.mem.writeDebug(addr, data);
  }

  alloc(bytes: number, align = 16): number {
    const at = Math.ceil(this.nextFree / align) * align;
    this.nextFree = at + bytes;
    return at;
  }

  offeredFeatures(): bigint {
    this.setReg(MmioReg.DeviceFeaturesSel, 1);
    const hi = BigInt(this.reg(MmioReg.DeviceFeatures));
    this.setReg(MmioReg.DeviceFeaturesSel, 0);
    return (hi << 32n) | BigInt(this.reg(MmioReg.DeviceFeatures));
  }

  /** Reset and negotiate. Returns the status read back after FEATURES_OK (bit 3 set when accepted). */
  negotiate(wanted: (offered: bigint) => bigint): number {
    this.setReg(MmioReg.Status, 0);
    this.setReg(MmioReg.Status, 1);
    this.setReg(MmioReg.Status, 3);
    const features = wanted(this.offeredFeatures());
    this.setReg(MmioReg.DriverFeaturesSel, 1);
    this.setReg(MmioReg.DriverFeatures, Number(features >> 32n));
    this.setReg(MmioReg.DriverFeaturesSel, 0);
    this.setReg(MmioReg.DriverFeatures, Number(features & 0xffff_ffffn));
    this.setReg(MmioReg.Status, 0xb);
    return this.reg(MmioReg.Status);
  }

  setupQueue(index: number, size: number): DriverQueue {
    this.setReg(MmioReg.QueueSel, index);
    if (this.reg(MmioReg.QueueReady) !== 0) throw new Error(`queue ${index} already live`);
    const max = this.reg(MmioReg.QueueNumMax);
    if (max === 0) throw new Error(`queue ${index} does not exist`);
    if (size > max) throw new Error(`queue ${index} max ${max} < ${size}`);
    this.setReg(MmioReg.QueueNum, size);
    const desc = this.alloc(16 * size, 16);
    const avail = this.alloc(6 + 2 * size, 2);
    const used = this.alloc(6 + 8 * size, 4);
    for (const [lo, v] of [[MmioReg.QueueDescLow, desc], [MmioReg.QueueDriverLow, avail], [MmioReg.QueueDeviceLow, used]] as const) {
      this.setReg(lo, v % 2 ** 32);
      this.setReg(lo + 4, Math.floor(v / 2 ** 32));
    }
    this.setReg(MmioReg.QueueReady, 1);
    const q: DriverQueue = { index, size, desc, avail, used, nextDesc: 0, availIdx: 0, lastUsed: 0 };
    this.queues[index] = q;
    return q;
  }

  driverOk(): void {
    this.setReg(MmioReg.Status, 0xf);
  }

  status(): number {
    return this.reg(MmioReg.Status);
  }

  /** The interrupt handler's part: read InterruptStatus, acknowledge it. */
  ackInterrupt(): number {
    const s = this.reg(MmioReg.InterruptStatus);
    this.setReg(MmioReg.InterruptAck, s);
    return s;
  }

  kick(q: DriverQueue): void {
    this.setReg(MmioReg.QueueNotify, q.index);
  }

  /**
   * Posts a chain of [addr, len, deviceWrites] buffers, directly or (indirect) through one
   * indirect table, and optionally kicks. Returns the head.
   */
  post(q: DriverQueue, bufs: [number, number, boolean][], opts: { kick?: boolean; indirect?: boolean } = {}): number {
    const head = opts.indirect === true ? this.ring.postIndirect(q, this.alloc(16 * bufs.length, 16), bufs) : this.ring.post(q, bufs);
    if (opts.kick ?? true) this.kick(q);
    return head;
  }

  /** Puts `head` in the available ring and (optionally) kicks. */
  publish(q: DriverQueue, head: number, kick = true): void {
    this.ring.publish(q, head);
    if (kick) this.kick(q);
  }

  /** New used entries: [id, len]. */
  reap(q: DriverQueue): [number, number][] {
    return this.ring.reap(q);
  }

  /** Event index: the used index at which the driver wants its next interrupt. */
  setUsedEvent(q: DriverQueue, idx: number): void {
    this.w(q.avail + 4 + 2 * q.size, 2, idx);
  }
  availEvent(q: DriverQueue): number {
    return this.r(q.used + 4 + 8 * q.size, 2);
  }

}
