import type { AddressSpace } from '../../src/machine/address-space.js';

/** A driver's view of one split virtqueue it set up (virtio 1.x 2.7): where its rings are, where it is. */
export interface DriverQueue {
  index: number;
  size: number;
  desc: number;
  avail: number;
  used: number;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

/** One buffer of a chain: guest-physical address, length, whether the device writes it. */
export type DriverBuffer = [addr: number, len: number, deviceWrites: boolean];

const VIRTQ_DESC_F_NEXT = 1;
const VIRTQ_DESC_F_WRITE = 2;
const VIRTQ_DESC_F_INDIRECT = 4;

/**
 * The driver side of a split ring over the guest's memory (virtio-queue's MockSplitQueue plays this
 * part for its device crates): chains into the descriptor table, heads into the available ring,
 * completions out of the used ring. Transports add only how they kick.
 */
export class DriverRing {
  constructor(private readonly mem: AddressSpace) {}

  /** Posts a chain in the queue's own table; returns its head (not yet kicked). */
  post(q: DriverQueue, bufs: readonly DriverBuffer[]): number {
    const head = q.nextDesc;
    this.writeChain(q.desc, bufs, head, q.size);
    q.nextDesc = (head + bufs.length) % q.size;
    this.publish(q, head);
    return head;
  }

  /** Posts a chain through an indirect table at `table` (16 bytes a buffer); one ring slot. */
  postIndirect(q: DriverQueue, table: number, bufs: readonly DriverBuffer[]): number {
    this.writeChain(table, bufs, 0, bufs.length);
    const head = q.nextDesc;
    const d = q.desc + 16 * head;
    this.w(d, 8, table);
    this.w(d + 8, 4, 16 * bufs.length);
    this.w(d + 12, 2, VIRTQ_DESC_F_INDIRECT);
    this.w(d + 14, 2, 0);
    q.nextDesc = (head + 1) % q.size;
    this.publish(q, head);
    return head;
  }

  /** Puts `head` in the available ring. */
  publish(q: DriverQueue, head: number): void {
    this.w(q.avail + 4 + 2 * (q.availIdx % q.size), 2, head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.w(q.avail + 2, 2, q.availIdx);
  }

  /** New used entries: [id, len]. */
  reap(q: DriverQueue): [number, number][] {
    const out: [number, number][] = [];
    const idx = Number(this.mem.read(q.used + 2, 2));
    while (q.lastUsed !== idx) {
      const at = q.used + 4 + 8 * (q.lastUsed % q.size);
      out.push([Number(this.mem.read(at, 4)), Number(this.mem.read(at + 4, 4))]);
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Descriptors `first`.. of a table of `size` entries, linked in order, the last ending the chain. */
  private writeChain(table: number, bufs: readonly DriverBuffer[], first: number, size: number): void {
    bufs.forEach(([addr, len, write], i) => {
      const d = table + 16 * ((first + i) % size);
      const last = i === bufs.length - 1;
      this.w(d, 8, addr);
      this.w(d + 8, 4, len);
      this.w(d + 12, 2, (last ? 0 : VIRTQ_DESC_F_NEXT) | (write ? VIRTQ_DESC_F_WRITE : 0));
      this.w(d + 14, 2, last ? 0 : (first + i + 1) % size);
    });
  }

  private w(addr: number, size: 2 | 4 | 8, v: number): void {
    this.mem.write(addr, size, BigInt(v));
  }
}
