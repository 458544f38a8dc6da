import type { DmaMemory } from '../pci/dma.js';

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

export class VirtqueueError extends Error {}

const DESC_F_NEXT = 1;
const DESC_F_WRITE = 2;
const DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;

/**
 * A split virtqueue (virtio 1.x §2.7) read and written through a function's DMA view, so a
 * device only ever touches its own zone's memory. This is the seam the virtio helper's
 * virtqueue code can replace: backends see only `pop`, `push` and the chain helpers.
 */
export class SplitVirtqueue {
  private lastAvail = 0;
  private usedIdx = 0;
  private readonly scratch = new Uint8Array(16);
  private readonly s16 = new Uint16Array(this.scratch.buffer);
  private readonly s32 = new Uint32Array(this.scratch.buffer);

  constructor(
    private readonly dma: DmaMemory,
    readonly size: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
  ) {}

  /** The next available chain, or undefined when the driver has published nothing new. */
  pop(): VirtqueueChain | undefined {
    if (!this.dma.read(this.avail + 2, this.scratch.subarray(0, 2))) throw new VirtqueueError(`avail ring at 0x${this.avail.toString(16)} is not in RAM`);
    if (this.s16[0] === this.lastAvail) return undefined;
    const slot = this.avail + 4 + 2 * (this.lastAvail % this.size);
    if (!this.dma.read(slot, this.scratch.subarray(0, 2))) throw new VirtqueueError('avail ring entry is not in RAM');
    const head = this.s16[0]!;
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (head >= this.size) throw new VirtqueueError(`descriptor head ${head} outside a queue of ${this.size}`);
    const segments: VirtqueueSegment[] = [];
    this.walk(this.desc, this.size, head, segments, true);
    return { head, segments };
  }

  /** Returns a chain to the driver with `written` bytes produced. Returns whether to interrupt. */
  push(head: number, written: number): boolean {
    this.s32[0] = head;
    this.s32[1] = written;
    const at = this.used + 4 + 8 * (this.usedIdx % this.size);
    if (!this.dma.write(at, this.scratch.subarray(0, 8))) throw new VirtqueueError('used ring is not in RAM');
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.s16[0] = this.usedIdx;
    if (!this.dma.write(this.used + 2, this.scratch.subarray(0, 2))) throw new VirtqueueError('used ring is not in RAM');
    if (!this.dma.read(this.avail, this.scratch.subarray(0, 2))) return true;
    return (this.s16[0]! & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** Copies the chain's driver-readable bytes, in order, into one array. */
  readAll(chain: VirtqueueChain): Uint8Array | undefined {
    const total = chain.segments.reduce((n, s) => n + (s.write ? 0 : s.len), 0);
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
    for (let guard = 0; guard <= tableSize; guard++) {
      if (!this.dma.read(table + 16 * index, this.scratch)) throw new VirtqueueError(`descriptor ${index} is not in RAM`);
      const addr = this.s32[1]! * 0x1_0000_0000 + this.s32[0]!;
      const len = this.s32[2]!;
      const flags = this.s16[6]!;
      const next = this.s16[7]!;
      if ((flags & DESC_F_INDIRECT) !== 0) {
        if (!topLevel || len % 16 !== 0 || len === 0) throw new VirtqueueError('malformed indirect descriptor');
        this.walk(addr, len / 16, 0, out, false);
      } else {
        out.push({ addr, len, write: (flags & DESC_F_WRITE) !== 0 });
      }
      if ((flags & DESC_F_NEXT) === 0) return;
      if (next >= tableSize) throw new VirtqueueError(`descriptor ${index} chains to ${next}, outside its table of ${tableSize}`);
      index = next;
    }
    throw new VirtqueueError('descriptor chain loops');
  }
}
