/**
 * A test-only virtio-pci modern driver in the order Linux's virtio_pci_modern + virtio core use:
 * find the vendor capabilities, reset, ACKNOWLEDGE|DRIVER, negotiate features, FEATURES_OK,
 * set up split queues (size, addresses, MSI-X vector, enable), DRIVER_OK, then kick.
 */
import type { AddressSpace } from '../../src/machine/address-space.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { DriverRing, type DriverQueue as RingQueue } from '../helpers/virtio-ring.js';

/** A split ring plus where its notifications go (the notify capability's address for this queue). */
export interface DriverQueue extends RingQueue {
  notify: number;
}

export class VirtioPciTestDriver {
  common = 0;
  isr = 0;
  device = 0;
  notifyBase = 0;
  notifyMultiplier = 0;
  readonly queues: DriverQueue[] = [];
  private nextFree: number;
  private readonly ring: DriverRing;

  constructor(
    readonly mem: AddressSpace,
    readonly ecam: MmioDevice,
    private readonly devfn: number,
    /** CPU addresses of the BARs, by index. */
    readonly bars: Map<number, number>,
    ramBase: number,
  ) {
    this.nextFree = ramBase + 0x10000;
    this.ring = new DriverRing(mem);
  }

  cfg(reg: number, size: 1 | 2 | 4 = 4): number {
    return this.ecam.read((this.devfn << 12) + reg, size);
  }

  findCaps(): { type: number; bar: number; offset: number; length: number }[] {
    const out = [];
    for (let p = this.cfg(0x34, 1); p !== 0; p = this.cfg(p + 1, 1)) {
      if (this.cfg(p, 1) !== 0x09) continue;
      const cap = { type: this.cfg(p + 3, 1), bar: this.cfg(p + 4, 1), offset: this.cfg(p + 8), length: this.cfg(p + 12) };
      out.push(cap);
      const at = this.bars.get(cap.bar)! + cap.offset;
      if (cap.type === 1) this.common = at;
      if (cap.type === 3) this.isr = at;
      if (cap.type === 4) this.device = at;
      if (cap.type === 2) {
        this.notifyBase = at;
        this.notifyMultiplier = this.cfg(p + 16);
      }
    }
    return out;
  }

  r(addr: number, size: 1 | 2 | 4): number {
    return Number(this.mem.read(addr, size));
  }
  w(addr: number, size: 1 | 2 | 4 | 8, v: number | bigint): void {
    this.mem.write(addr, size, BigInt(v));
  }

  alloc(bytes: number, align = 4096): number {
    const at = Math.ceil(this.nextFree / align) * align;
    this.nextFree = at + bytes;
    return at;
  }

  /** Reset and negotiate. Returns the status after FEATURES_OK (bit 3 set when accepted). */
  negotiate(wanted: (offered: bigint) => bigint): number {
    const c = this.common;
    this.w(c + 0x14, 1, 0);
    this.w(c + 0x14, 1, 1);
    this.w(c + 0x14, 1, 3);
    this.w(c + 0x00, 4, 0);
    const lo = BigInt(this.r(c + 0x04, 4));
    this.w(c + 0x00, 4, 1);
    const hi = BigInt(this.r(c + 0x04, 4));
    const features = wanted((hi << 32n) | lo);
    this.w(c + 0x08, 4, 0);
    this.w(c + 0x0c, 4, features & 0xffff_ffffn);
    this.w(c + 0x08, 4, 1);
    this.w(c + 0x0c, 4, features >> 32n);
    this.w(c + 0x14, 1, 0xb);
    return this.r(c + 0x14, 1);
  }

  setupQueue(index: number, size: number, vector = 0xffff): DriverQueue {
    const c = this.common;
    this.w(c + 0x16, 2, index);
    const max = this.r(c + 0x18, 2);
    if (size > max) throw new Error(`queue ${index} max ${max} < ${size}`);
    this.w(c + 0x18, 2, size);
    const desc = this.alloc(16 * size);
    const avail = this.alloc(6 + 2 * size, 2);
    const used = this.alloc(6 + 8 * size, 4);
    // 64-bit fields as two 32-bit writes, as vp_iowrite64_twopart does.
    for (const [off, v] of [[0x20, desc], [0x28, avail], [0x30, used]] as const) {
      this.w(c + off, 4, v % 2 ** 32);
      this.w(c + off + 4, 4, Math.floor(v / 2 ** 32));
    }
    this.w(c + 0x1a, 2, vector);
    const notifyOff = this.r(c + 0x1e, 2);
    this.w(c + 0x1c, 2, 1);
    const q: DriverQueue = {
      index, size, desc, avail, used, notify: this.notifyBase + notifyOff * this.notifyMultiplier,
      nextDesc: 0, availIdx: 0, lastUsed: 0,
    };
    this.queues[index] = q;
    return q;
  }

  driverOk(): void {
    this.w(this.common + 0x14, 1, 0xf);
  }

  /** Posts a chain of [addr, len, deviceWrites] buffers and optionally kicks. Returns the head. */
  post(q: DriverQueue, bufs: [number, number, boolean][], kick = true): number {
    const head = this.ring.post(q, bufs);
    if (kick) this.w(q.notify, 2, q.index);
    return head;
  }

  /** New used entries: [id, len]. */
  reap(q: DriverQueue): [number, number][] {
    return this.ring.reap(q);
  }
}
