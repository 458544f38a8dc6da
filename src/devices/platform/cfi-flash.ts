/**
 * A CFI parallel NOR flash bank with the Intel/Sharp command set (cfi-flash), laid out as QEMU's
 * pflash_cfi01 on the virt boards: `bank-width` bytes wide, made of x16 chips side by side, each
 * answering on its own 16-bit lane. U-Boot probes it at boot (CFI query, "Flash: 64 MiB") and keeps
 * its environment there; Linux's physmap driver finds it too. Modes: read array, read identifier
 * (0x90), CFI query (0x98), read status (0x70), clear status (0x50), word program (0x40/0x10),
 * buffered program (0xE8 … 0xD0), block erase (0x20, 0xD0), lock setup (0x60: accepted, no locks).
 * Operations complete at once (status 0x80, ready).
 *
 * Storage is allocated per erase block on first write; untouched blocks read as zero (QEMU's blank
 * flash) and erased ones as 0xff. An optional image fills the bank at creation.
 */
import { NATURAL_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import { DeviceDescriptionError } from '../device-node.js';

const enum Mode {
  Array,
  Id,
  Query,
  Status,
  Program,
  EraseSetup,
  BufferCount,
  BufferData,
  LockSetup,
}

const STATUS_READY = 0x80;
const CHIP_WIDTH = 2;
const SECTOR = 256 * 1024;
const BUFFER_BITS = 11;

export interface CfiFlashOptions {
  /** Bank size in bytes (the node's reg size; QEMU virt: 64 MiB). */
  readonly size: number;
  /** `bank-width` in bytes (QEMU virt: 4). */
  readonly bankWidth: number;
  /** Initial contents from offset 0 (e.g. a firmware or environment image). */
  readonly image?: Uint8Array;
}

export class CfiFlash implements MmioDevice {
  readonly name = 'cfi-flash';
  readonly accessRule = NATURAL_ACCESS;
  private readonly size: number;
  private readonly bankWidth: number;
  private readonly chips: number;
  private readonly blocks = new Map<number, Uint8Array>();
  private readonly query: Uint8Array;
  private mode = Mode.Array;
  private status = STATUS_READY;
  private bufferLeft = 0;
  private readonly pendingWrites: Array<[number, AccessSize, number]> = [];

  constructor(options: CfiFlashOptions, path = 'cfi-flash') {
    const { size, bankWidth } = options;
    if (![2, 4, 8].includes(bankWidth)) throw new DeviceDescriptionError(path, `bank-width ${bankWidth} is not 2, 4 or 8`);
    if (size < SECTOR || size % SECTOR !== 0 || (size & (size - 1)) !== 0) {
      throw new DeviceDescriptionError(path, `flash size ${size} is not a power of two multiple of ${SECTOR}`);
    }
    this.size = size;
    this.bankWidth = bankWidth;
    this.chips = bankWidth / CHIP_WIDTH;
    this.query = this.buildQuery();
    if (options.image) this.load(options.image);
  }

  /** The CFI query structure one chip returns, indexed by query offset. */
  private buildQuery(): Uint8Array {
    const q = new Uint8Array(0x40);
    const chipSize = this.size / this.chips;
    const blocks = this.size / SECTOR;
    const chipBlock = SECTOR / this.chips / 256;
    // "QRY", primary command set 0x0001 (Intel) with its table at 0x31, no alternate set.
    q.set([0x51, 0x52, 0x59, 0x01, 0x00, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00], 0x10);
    // Vcc 4.5–5.5 V, no Vpp; typical/maximum timeouts (word, buffer, block, chip).
    q.set([0x45, 0x55, 0x00, 0x00, 0x07, 0x07, 0x0a, 0x00, 0x04, 0x04, 0x04, 0x00], 0x1b);
    // Device size 2^n, x8/x16 interface, write buffer 2^11, one erase region.
    q[0x27] = Math.log2(chipSize);
    q.set([0x02, 0x00, BUFFER_BITS, 0x00, 0x01], 0x28);
    q.set([(blocks - 1) & 0xff, (blocks - 1) >> 8, chipBlock & 0xff, chipBlock >> 8], 0x2d);
    // Primary extended query "PRI" version 1.0.
    q.set([0x50, 0x52, 0x49, 0x31, 0x30], 0x31);
    return q;
  }

  private load(image: Uint8Array): void {
    for (let off = 0; off < Math.min(image.length, this.size); off += SECTOR) {
      const block = this.block(off / SECTOR, true)!;
      block.set(image.subarray(off, Math.min(off + SECTOR, image.length)));
    }
  }

  private block(index: number, create: boolean): Uint8Array | undefined {
    let b = this.blocks.get(index);
    if (b === undefined && create) {
      b = new Uint8Array(SECTOR);
      this.blocks.set(index, b);
    }
    return b;
  }

  reset(): void {
    this.mode = Mode.Array;
    this.status = STATUS_READY;
    this.bufferLeft = 0;
    this.pendingWrites.length = 0;
  }

  /**
   * What an access sees when every chip answers byte `b` on its 16-bit lane: a full-width access
   * gets it in each chip's lane; a narrower one gets the byte alone, wherever it lands (as QEMU's
   * pflash answers, which U-Boot's port-width probing relies on).
   */
  private perChip(b: number, size: AccessSize): number {
    if (size < this.bankWidth) return b;
    let v = 0;
    for (let c = 0; c < this.chips && c < 2; c++) v |= b << (16 * c);
    return v >>> 0;
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (offset < 0 || offset + size > this.size) return 0;
    switch (this.mode) {
      case Mode.Array: {
        const b = this.block(Math.floor(offset / SECTOR), false);
        if (b === undefined) return 0;
        const i = offset % SECTOR;
        let v = 0;
        for (let k = size - 1; k >= 0; k--) v = v * 256 + b[i + k]!;
        return v >>> 0;
      }
      case Mode.Query: {
        const q = Math.floor(offset / this.bankWidth);
        return this.perChip(q < 0x40 ? this.query[q]! : 0, size);
      }
      case Mode.Id: {
        const q = Math.floor(offset / this.bankWidth) % 0x100;
        return this.perChip(q === 0 ? 0x89 : q === 1 ? 0x18 : 0, size);
      }
      default:
        return this.perChip(this.status, size);
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset < 0 || offset + size > this.size) return;
    const cmd = value & 0xff;
    switch (this.mode) {
      case Mode.Program:
        this.store(offset, size, value);
        this.mode = Mode.Status;
        return;
      case Mode.EraseSetup:
        if (cmd === 0xd0) this.erase(Math.floor(offset / SECTOR));
        this.mode = Mode.Status;
        return;
      case Mode.BufferCount:
        // Words to write, minus one, per chip.
        this.bufferLeft = (value & 0xffff) + 1;
        this.pendingWrites.length = 0;
        this.mode = Mode.BufferData;
        return;
      case Mode.BufferData:
        if (this.bufferLeft > 0) {
          this.pendingWrites.push([offset, size, value]);
          this.bufferLeft--;
          return;
        }
        // The confirm: 0xD0 programs the buffer, anything else aborts it.
        if (cmd === 0xd0) for (const [o, s, v] of this.pendingWrites) this.store(o, s, v);
        this.pendingWrites.length = 0;
        this.mode = Mode.Status;
        return;
      case Mode.LockSetup:
        this.mode = Mode.Status; // lock (0x01), unlock (0xD0), lock-down (0x2F): no lock bits here
        return;
    }
    switch (cmd) {
      case 0xff:
      case 0xf0:
        this.mode = Mode.Array;
        return;
      case 0x90:
        this.mode = Mode.Id;
        return;
      case 0x98:
        this.mode = Mode.Query;
        return;
      case 0x70:
        this.mode = Mode.Status;
        return;
      case 0x50:
        // Clear status; reads go back to the array (as QEMU's pflash does).
        this.status = STATUS_READY;
        this.mode = Mode.Array;
        return;
      case 0x40:
      case 0x10:
        this.mode = Mode.Program;
        return;
      case 0x20:
        this.mode = Mode.EraseSetup;
        return;
      case 0xe8:
        this.mode = Mode.BufferCount;
        return;
      case 0x60:
        this.mode = Mode.LockSetup;
        return;
    }
    // Anything else: back to reading the array, as the chips do on an unknown command.
    this.mode = Mode.Array;
  }

  private store(offset: number, size: AccessSize, value: number): void {
    const b = this.block(Math.floor(offset / SECTOR), true)!;
    const i = offset % SECTOR;
    for (let k = 0; k < size; k++) b[i + k] = (value >>> (8 * k)) & 0xff;
  }

  private erase(index: number): void {
    this.block(index, true)!.fill(0xff);
  }
}
