/**
 * A test-only NVMe host driver, following the order of Linux's nvme-pci probe: disable, admin
 * queue setup, enable, Identify, Set Features (number of queues), create I/O CQ/SQ, then I/O with
 * PRP entries and lists. It runs on guest RAM through an AddressSpace, like a guest kernel.
 */
import type { AddressSpace } from '../../src/machine/address-space.js';

export interface Completion {
  result: number;
  sqHead: number;
  sqid: number;
  cid: number;
  phase: number;
  status: number; // SCT << 8 | SC
}

interface Queue {
  id: number;
  sq: number;
  cq: number;
  size: number;
  tail: number;
  head: number;
  phase: number;
}

export class NvmeTestDriver {
  private nextCid = 1;
  private readonly queues = new Map<number, Queue>();
  /** Bump allocator of 4 KiB pages in guest RAM. */
  private nextPage: number;

  constructor(
    readonly mem: AddressSpace,
    readonly bar0: number,
    ramBase: number,
  ) {
    this.nextPage = ramBase + 0x1000;
  }

  reg(off: number): number {
    return Number(this.mem.read(this.bar0 + off, 4));
  }
  setReg(off: number, v: number): void {
    this.mem.write(this.bar0 + off, 4, BigInt(v >>> 0));
  }
  page(n = 1): number {
    const p = this.nextPage;
    this.nextPage += 0x1000 * n;
    return p;
  }

  start(adminSize = 32): void {
    this.setReg(0x14, 0);
    if ((this.reg(0x1c) & 1) !== 0) throw new Error('controller did not go not-ready');
    const q: Queue = { id: 0, sq: this.page(), cq: this.page(), size: adminSize, tail: 0, head: 0, phase: 1 };
    this.queues.set(0, q);
    this.setReg(0x24, ((adminSize - 1) << 16) | (adminSize - 1));
    this.setReg(0x28, q.sq);
    this.setReg(0x2c, 0);
    this.setReg(0x30, q.cq);
    this.setReg(0x34, 0);
    this.setReg(0x14, (6 << 16) | (4 << 20) | 1);
    if ((this.reg(0x1c) & 3) !== 1) throw new Error(`controller not ready: CSTS=${this.reg(0x1c)}`);
  }

  /** Submits a 64-byte command (dwords 0..15, cid filled in) and rings the doorbell. Returns the cid. */
  submit(qid: number, dwords: number[]): number {
    const q = this.queues.get(qid)!;
    const cid = this.nextCid++ & 0xffff;
    const at = q.sq + q.tail * 64;
    for (let i = 0; i < 16; i++) {
      const v = i === 0 ? (dwords[0]! & 0xffff) | (cid << 16) : dwords[i] ?? 0;
      this.mem.write(at + 4 * i, 4, BigInt(v >>> 0));
    }
    q.tail = (q.tail + 1) % q.size;
    this.setReg(0x1000 + 8 * qid, q.tail);
    return cid;
  }

  /** Takes every new completion off a queue (by phase), then rings the CQ head doorbell. */
  reap(qid: number): Completion[] {
    const q = this.queues.get(qid)!;
    const out: Completion[] = [];
    for (;;) {
      const at = q.cq + q.head * 16;
      const dw3 = Number(this.mem.read(at + 12, 4));
      if (((dw3 >>> 16) & 1) !== q.phase) break;
      const dw2 = Number(this.mem.read(at + 8, 4));
      out.push({
        result: Number(this.mem.read(at, 4)), sqHead: dw2 & 0xffff, sqid: dw2 >>> 16,
        cid: dw3 & 0xffff, phase: (dw3 >>> 16) & 1, status: (dw3 >>> 17) & 0x7ff,
      });
      q.head = (q.head + 1) % q.size;
      if (q.head === 0) q.phase ^= 1;
    }
    if (out.length > 0) this.setReg(0x1000 + 8 * qid + 4, q.head);
    return out;
  }

  /** Submits and expects exactly one completion for it. */
  run(qid: number, dwords: number[]): Completion {
    const cid = this.submit(qid, dwords);
    const c = this.reap(qid);
    if (c.length !== 1 || c[0]!.cid !== cid) throw new Error(`expected one completion for cid ${cid}, got ${JSON.stringify(c)}`);
    return c[0]!;
  }

  createIoQueuePair(qid: number, size: number, vector: number, interrupts = true): void {
    const q: Queue = { id: qid, sq: this.page(), cq: this.page(), size, tail: 0, head: 0, phase: 1 };
    const cq = this.run(0, [0x05, 0, 0, 0, 0, 0, q.cq, 0, 0, 0, ((size - 1) << 16) | qid, (vector << 16) | (interrupts ? 3 : 1)]);
    if (cq.status !== 0) throw new Error(`create CQ failed: ${cq.status.toString(16)}`);
    const sq = this.run(0, [0x01, 0, 0, 0, 0, 0, q.sq, 0, 0, 0, ((size - 1) << 16) | qid, (qid << 16) | 1]);
    if (sq.status !== 0) throw new Error(`create SQ failed: ${sq.status.toString(16)}`);
    this.queues.set(qid, q);
  }

  /**
   * Builds PRP1/PRP2 for `len` bytes starting at `buf` (any dword-aligned address), with a PRP
   * list when the transfer spans more than two pages, and returns [prp1, prp2].
   */
  prps(buf: number, len: number): [number, number] {
    const first = Math.min(len, 0x1000 - (buf % 0x1000));
    if (first === len) return [buf, 0];
    const rest = len - first;
    const pages: number[] = [];
    for (let off = first; off < len; off += 0x1000) pages.push(buf + off);
    if (rest <= 0x1000) return [buf, pages[0]!];
    const list = this.page();
    pages.forEach((p, i) => this.mem.write(list + 8 * i, 8, BigInt(p)));
    return [buf, list];
  }

  /** Read (opcode 2) or write (1) of `count` sectors at `lba` to/from guest buffer `buf`. */
  rw(qid: number, write: boolean, lba: number, count: number, buf: number, nsid = 1): Completion {
    const [p1, p2] = this.prps(buf, count * 512);
    return this.run(qid, [write ? 1 : 2, nsid, 0, 0, 0, 0, p1, 0, p2 % 2 ** 32, Math.floor(p2 / 2 ** 32), lba, 0, count - 1]);
  }
}
