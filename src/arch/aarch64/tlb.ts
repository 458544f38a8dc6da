import type { Ram } from '../../machine/ram.js';

export const TLB_ENTRIES = 256;

/**
 * A direct-mapped software TLB for one (EL, access kind): guest-virtual page → guest-physical page,
 * plus the RAM block and byte offset of that page when it is plain RAM (the fast path). Entries with
 * no RAM (device pages, code pages for writes, watched pages) still cache the physical page.
 */
export class Tlb {
  /** VA bits [31:12] of the entry, -1 when invalid. */
  readonly tagLo = new Int32Array(TLB_ENTRIES).fill(-1);
  /** VA bits [63:32] of the entry. */
  readonly tagHi = new Uint32Array(TLB_ENTRIES);
  /** Byte offset of the page inside `ram`. */
  readonly base = new Uint32Array(TLB_ENTRIES);
  /** Guest-physical address of the page. */
  readonly pa = new Float64Array(TLB_ENTRIES);
  readonly ram: (Ram | undefined)[] = new Array<Ram | undefined>(TLB_ENTRIES).fill(undefined);

  flush(): void {
    this.tagLo.fill(-1);
    this.ram.fill(undefined);
  }

  /** Index of the entry covering VA (lo, hi), or -1. */
  lookup(lo: number, hi: number): number {
    const i = (lo >>> 12) & (TLB_ENTRIES - 1);
    return this.tagLo[i] === lo >>> 12 && this.tagHi[i] === hi ? i : -1;
  }

  fill(lo: number, hi: number, pa: number, ram: Ram | undefined, base: number): void {
    const i = (lo >>> 12) & (TLB_ENTRIES - 1);
    this.tagLo[i] = lo >>> 12;
    this.tagHi[i] = hi;
    this.pa[i] = pa;
    this.ram[i] = ram;
    this.base[i] = base;
  }

  /** Forget the RAM fast path of every entry that points at `page` (byte offset) of `ram`. */
  dropRamPage(ram: Ram, page: number): void {
    for (let i = 0; i < TLB_ENTRIES; i++) {
      if (this.ram[i] === ram && this.base[i] === page) this.ram[i] = undefined;
    }
  }
}
