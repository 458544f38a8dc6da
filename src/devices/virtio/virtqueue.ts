import type { GuestMemory } from '../../machine/guest-memory.js';
import { HvisorError } from '../../util/hvisor-error.js';

/** One buffer of a descriptor chain: guest-physical address, length, and whether the device writes it. */
export interface VirtqueueSegment {
  readonly addr: number;
  readonly len: number;
  readonly write: boolean;
}

export interface VirtqueueChain {
  readonly head: number;
  readonly segments: readonly VirtqueueSegment[];
}

/** The driver broke the ring (loop, bad index, buffer outside its memory): the device needs a reset. */
export class VirtqueueError extends HvisorError {}

/**
 * Guest memory as a virtqueue reaches it: `checkRange` lets the queue refuse a descriptor naming
 * memory outside the zone before any backend touches it.
 */
export type VirtqueueMemory = GuestMemory;

export interface VirtqueueOptions {
  /** VIRTIO_F_RING_EVENT_IDX was negotiated: used_event / avail_event replace the flags. */
  readonly eventIdx?: boolean;
  /** VIRTIO_F_RING_INDIRECT_DESC was negotiated (virtio-pci predates the option: default on). */
  readonly indirect?: boolean;
}

/** What walking one descriptor costs in a batch's budget, in bytes copied (a chain of empty descriptors is not free). */
export const DESCRIPTOR_COST = 4096;

const DESC_F_NEXT = 1;
const DESC_F_WRITE = 2;
const DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;

/**
 * A split virtqueue (virtio 1.2 §2.7) read and written through a DMA view of the owning zone's
 * memory, so a device only ever touches that zone. Shared by the virtio-mmio and virtio-pci
 * transports: backends see only `pop`, `push` and the chain helpers. Every driver mistake is a
 * VirtqueueError, which the transport turns into DEVICE_NEEDS_RESET.
 */
export class SplitVirtqueue {
  private lastAvail = 0;
  private usedIdx = 0;
  /** Bytes the chains popped in this batch may still name (Infinity outside a batch). */
  private batchLeft = Infinity;
  /** A batch ended with chains still available: the transport owes the driver another pass. */
  deferred = false;
  private readonly eventIdx: boolean;
  private readonly indirect: boolean;
  private readonly scratch = new Uint8Array(16);
  private readonly s16 = new Uint16Array(this.scratch.buffer);
  private readonly s32 = new Uint32Array(this.scratch.buffer);
  /** Fixed views of the scratch bytes: a ring access allocates nothing. */
  private readonly scratch2 = this.scratch.subarray(0, 2);
  private readonly scratch8 = this.scratch.subarray(0, 8);

  constructor(
    private readonly dma: VirtqueueMemory,
    readonly size: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
    options: VirtqueueOptions = {},
  ) {
    if (size === 0 || size > 32768 || (size & (size - 1)) !== 0) throw new VirtqueueError(`queue size ${size} is not a power of two up to 32768`);
    this.eventIdx = options.eventIdx ?? false;
    this.indirect = options.indirect ?? true;
    const rings: [string, number, number][] = [
      ['descriptor table', desc, 16 * size],
      ['available ring', avail, 6 + 2 * size],
      ['used ring', used, 6 + 8 * size],
    ];
    for (const [what, at, len] of rings) {
      if (!this.dma.checkRange(at, len)) throw new VirtqueueError(`${what} at ${hex(at)}+${hex(len)} is not in the zone's RAM`);
    }
  }

  /**
   * Bounds the work of a batch of pops: chains are popped until they have cost `budget` in all (a
   * chain costs the bytes it names plus DESCRIPTOR_COST per descriptor; the chain that crosses the
   * bound is the last); the rest stay in the ring and `deferred` says so. `endBatch` returns what
   * is left of the budget.
   */
  beginBatch(budget: number): void {
    this.batchLeft = budget;
    this.deferred = false;
  }

  endBatch(): number {
    const left = this.batchLeft;
    this.batchLeft = Infinity;
    return left;
  }

  /** The next available chain, or undefined when the driver has published nothing new (or the batch is spent). */
  pop(): VirtqueueChain | undefined {
    const availIdx = this.read16(this.avail + 2, 'available ring index');
    const pending = (availIdx - this.lastAvail) & 0xffff;
    if (pending !== 0 && this.batchLeft <= 0) {
      this.deferred = true;
      return undefined;
    }
    if (pending === 0) {
      // Tell the driver to kick us for the next buffer it publishes.
      if (this.eventIdx) this.write16(this.used + 4 + 8 * this.size, this.lastAvail, 'avail_event');
      return undefined;
    }
    if (pending > this.size) throw new VirtqueueError(`available index jumped by ${pending} on a queue of ${this.size}`);
    const head = this.read16(this.avail + 4 + 2 * (this.lastAvail % this.size), 'available ring entry');
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (this.eventIdx) this.write16(this.used + 4 + 8 * this.size, this.lastAvail, 'avail_event');
    if (head >= this.size) throw new VirtqueueError(`descriptor head ${head} outside a queue of ${this.size}`);
    const segments: VirtqueueSegment[] = [];
    this.walk(this.desc, this.size, head, segments, true);
    if (this.batchLeft !== Infinity) for (const seg of segments) this.batchLeft -= seg.len + DESCRIPTOR_COST;
    return { head, segments };
  }

  /** Returns a chain to the driver with `written` bytes produced. Returns whether to interrupt. */
  push(head: number, written: number): boolean {
    this.s32[0] = head;
    this.s32[1] = written;
    const at = this.used + 4 + 8 * (this.usedIdx % this.size);
    if (!this.dma.write(at, this.scratch8)) throw new VirtqueueError('used ring is not in RAM');
    const old = this.usedIdx;
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.write16(this.used + 2, this.usedIdx, 'used ring index');
    if (this.eventIdx) {
      // vring_need_event: interrupt when used_event lies in [old, new).
      const usedEvent = this.read16(this.avail + 4 + 2 * this.size, 'used_event');
      const fire = ((this.usedIdx - usedEvent - 1) & 0xffff) < ((this.usedIdx - old) & 0xffff);
      return fire;
    }
    return (this.read16(this.avail, 'available ring flags') & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** Bytes the device may write in the chain (the sum of its device-writable segments). */
  static writableLength(chain: VirtqueueChain): number {
    let n = 0;
    for (const s of chain.segments) if (s.write) n += s.len;
    return n;
  }

  /** Bytes the driver gave the device to read (the sum of its device-readable segments). */
  static readableLength(chain: VirtqueueChain): number {
    let n = 0;
    for (const s of chain.segments) if (!s.write) n += s.len;
    return n;
  }

  /** Fills `into` from byte `offset` of the chain's readable bytes. False when they run out or DMA fails. */
  readAt(chain: VirtqueueChain, offset: number, into: Uint8Array): boolean {
    let skip = offset;
    let at = 0;
    for (const s of chain.segments) {
      if (s.write || at >= into.length) continue;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, into.length - at);
      if (!this.dma.read(s.addr + skip, into.subarray(at, at + n))) return false;
      skip = 0;
      at += n;
    }
    return at === into.length;
  }

  /** Writes `data` at byte `offset` of the chain's writable bytes. False when they run out or DMA fails. */
  writeAt(chain: VirtqueueChain, offset: number, data: Uint8Array): boolean {
    let skip = offset;
    let at = 0;
    for (const s of chain.segments) {
      if (!s.write || at >= data.length) continue;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, data.length - at);
      if (!this.dma.write(s.addr + skip, data.subarray(at, at + n))) return false;
      skip = 0;
      at += n;
    }
    return at === data.length;
  }

  /** Copies the chain's driver-readable bytes, in order, into one array. */
  readAll(chain: VirtqueueChain): Uint8Array | undefined {
    let total = 0;
    for (const s of chain.segments) if (!s.write) total += s.len;
    const out = new Uint8Array(total);
    let at = 0;
    for (const s of chain.segments) {
      if (s.write) continue;
      if (!this.dma.read(s.addr, out.subarray(at, at + s.len))) return undefined;
      at += s.len;
    }
    return out;
  }

  /** Writes `data` across the chain's device-writable segments. Returns the bytes written, or -1. */
  writeAll(chain: VirtqueueChain, data: Uint8Array): number {
    let at = 0;
    for (const s of chain.segments) {
      if (!s.write || at >= data.length) continue;
      const n = Math.min(s.len, data.length - at);
      if (!this.dma.write(s.addr, data.subarray(at, at + n))) return -1;
      at += n;
    }
    return at;
  }

  private walk(table: number, tableSize: number, index: number, out: VirtqueueSegment[], topLevel: boolean): void {
    let sawWritable = false;
    for (let visited = 0; visited < tableSize; visited++) {
      if (!this.dma.read(table + 16 * index, this.scratch)) throw new VirtqueueError(`descriptor ${index} at ${hex(table + 16 * index)} is not in RAM`);
      const addr = this.s32[1]! * 0x1_0000_0000 + this.s32[0]!;
      const len = this.s32[2]!;
      const flags = this.s16[6]!;
      const next = this.s16[7]!;
      if ((flags & DESC_F_INDIRECT) !== 0) {
        if (!this.indirect) throw new VirtqueueError('indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC');
        if (!topLevel) throw new VirtqueueError('indirect descriptor inside an indirect table');
        if ((flags & DESC_F_NEXT) !== 0) throw new VirtqueueError('indirect descriptor with NEXT set');
        if (len === 0 || len % 16 !== 0) throw new VirtqueueError(`indirect table of ${len} bytes is not a whole number of descriptors`);
        if (len / 16 > this.size) throw new VirtqueueError(`indirect table of ${len / 16} descriptors is longer than the queue (${this.size})`);
        this.checkCovered(addr, len, 'indirect table');
        this.walk(addr, len / 16, 0, out, false);
        return;
      }
      const write = (flags & DESC_F_WRITE) !== 0;
      if (!write && sawWritable) throw new VirtqueueError(`descriptor ${index}: device-readable buffer after a device-writable one`);
      sawWritable ||= write;
      this.checkCovered(addr, len, `descriptor ${index} buffer`);
      if (out.length >= this.size) throw new VirtqueueError(`descriptor chain longer than the queue (${this.size})`);
      out.push({ addr, len, write });
      if ((flags & DESC_F_NEXT) === 0) return;
      if (next >= tableSize) throw new VirtqueueError(`descriptor ${index} chains to ${next}, outside its table of ${tableSize}`);
      index = next;
    }
    throw new VirtqueueError('descriptor chain loops');
  }

  private checkCovered(addr: number, len: number, what: string): void {
    if (len === 0) return;
    if (!this.dma.checkRange(addr, len)) throw new VirtqueueError(`${what} at ${hex(addr)}+${hex(len)} is outside the zone's RAM`);
  }

  private read16(addr: number, what: string): number {
    if (!this.dma.read(addr, this.scratch2)) throw new VirtqueueError(`${what} at ${hex(addr)} is not in RAM`);
    return this.s16[0]!;
  }

  private write16(addr: number, value: number, what: string): void {
    this.s16[0] = value;
    if (!this.dma.write(addr, this.scratch2)) throw new VirtqueueError(`${what} at ${hex(addr)} is not in RAM`);
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}
