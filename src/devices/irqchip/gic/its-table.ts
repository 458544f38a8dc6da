/**
 * One GITS_BASER<n> of a GICv3 ITS and the table in guest memory it describes (GICv3/v4
 * architecture specification, GITS_BASER<n>): Type and Entry_Size are the ITS's (read-only);
 * Valid, Indirect, the cacheability and shareability attributes, Page_Size, the physical address
 * and Size (pages - 1) are the guest's. A flat table holds entry `id` at base + id * entry size; an
 * indirect one holds 8-byte level-1 descriptors (bit 63 Valid, bits 51:12 a level-2 page of
 * Page_Size bytes) and the entries in those pages.
 */
import { readGuestLE, type GuestMemory } from '../../../machine/guest-memory.js';

export const enum ItsTableType {
  Device = 1,
  Collection = 4,
}

const PAGE_SIZES = [0x1000, 0x4000, 0x10000, 0x10000]; // Page_Size 0b11 is reserved: treated as 64 KiB
const PAGE_SIZE_64K = 2;
/** High word: Valid 31, Indirect 30, InnerCache 29:27, OuterCache 23:21, PA 47:32. Type 26:24 and Entry_Size 20:16 are read-only. */
const HI_WRITABLE = 0xf8e0ffff;
const L1_ENTRY = 8;
const L1_VALID = 1n << 63n;
const L1_ADDRESS = (1n << 52n) - 1n;

export class ItsTable {
  private lo = 0;
  private hi = 0;

  constructor(
    readonly type: ItsTableType,
    /** Bytes per entry (the format is the ITS's: implementation defined). */
    readonly entrySize: number,
    /** Width of the ids the table is indexed by (GITS_TYPER.Devbits / CIDbits + 1). */
    private readonly idBits: number,
  ) {
    this.reset();
  }

  reset(): void {
    this.lo = PAGE_SIZE_64K << 8;
    this.hi = ((this.type << 24) | ((this.entrySize - 1) << 16)) >>> 0;
  }

  /** The low (word 0) or high (word 1) half of the register. */
  read(word: 0 | 1): number {
    return word === 0 ? this.lo : this.hi;
  }

  write(word: 0 | 1, value: number): void {
    if (word === 0) this.lo = value >>> 0;
    else this.hi = ((this.hi & ~HI_WRITABLE) | (value & HI_WRITABLE)) >>> 0;
  }

  get valid(): boolean {
    return (this.hi & 0x80000000) !== 0;
  }

  private get indirect(): boolean {
    return (this.hi & 0x40000000) !== 0;
  }

  private get pageSize(): number {
    return PAGE_SIZES[(this.lo >>> 8) & 3]!;
  }

  /** Guest-physical base: PA 47:12 (bits 15:12 are PA 51:48 with 64 KiB pages). */
  private get base(): number {
    const page = this.pageSize;
    const high = (this.hi & 0xffff) * 2 ** 32;
    if (page === 0x10000) return high + ((this.lo & 0xffff0000) >>> 0) + ((this.lo >>> 12) & 0xf) * 2 ** 48;
    return high + ((this.lo & ~(page - 1)) >>> 0);
  }

  private get bytes(): number {
    return ((this.lo & 0xff) + 1) * this.pageSize;
  }

  /**
   * Guest-physical address of entry `id`, or undefined when the table is not valid, does not
   * reach that far, or (indirect) the level-1 descriptor covering it is not valid.
   */
  entryAddress(id: number, memory: GuestMemory): number | undefined {
    if (!this.valid || id < 0 || id >= 2 ** this.idBits) return undefined;
    const esz = this.entrySize;
    if (!this.indirect) return (id + 1) * esz <= this.bytes ? this.base + id * esz : undefined;
    const page = this.pageSize;
    const perPage = Math.floor(page / esz);
    const l1 = Math.floor(id / perPage);
    if ((l1 + 1) * L1_ENTRY > this.bytes) return undefined;
    const descriptor = readGuestLE(memory, this.base + l1 * L1_ENTRY, 8);
    if (descriptor === undefined || (descriptor & L1_VALID) === 0n) return undefined;
    const level2 = Number(descriptor & L1_ADDRESS & ~BigInt(page - 1));
    return level2 + (id % perPage) * esz;
  }
}
