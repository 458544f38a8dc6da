import { LoongArchTlb, STLB_SIZE, TLB_MISS, va48Of } from './tlb.js';

/**
 * Virtual → physical translation (Reference Manual vol. 1, 5.2): direct address mode (CRMD.DA),
 * the four direct-mapped windows (DMW, VA[63:60] = VSEG for the enabled privilege levels, PA =
 * VA[47:0]), then the TLB for addresses whose bits 63:48 are all equal. Results >= 0 are physical addresses;
 * negative ones are a Fault.
 */
export const enum Access { Load = 0, Store = 1, Fetch = 2 }

export const enum Fault {
  BadAddress = -1,
  /** No TLB entry: the TLB refill exception. */
  NoMatch = -2,
  Invalid = -3,
  Dirty = -4,
  ReadInhibit = -5,
  ExecuteInhibit = -6,
  Privilege = -7,
}

/** The translation state the core keeps in numbers, refreshed when CRMD, DMW, ASID or STLBPS change. */
export interface MmuContext {
  /** CRMD.DA set and PG clear: physical = VA[47:0]. */
  direct: boolean;
  plv: number;
  /** Per window: the PLV bits enabled (bit n = PLVn) and VSEG. */
  readonly dmwPlv: Uint8Array;
  readonly dmwVseg: Uint8Array;
  asid: number;
  stlbps: number;
  readonly tlb: LoongArchTlb;
}

const TWO32 = 4294967296;

/** Translates the VA hi:lo (32-bit halves, hi signed) for `access` at ctx.plv. */
export function translate(ctx: MmuContext, hi: number, lo: number, access: Access): number {
  if (ctx.direct) return va48Of(hi, lo);
  const vseg = hi >>> 28;
  const plvBit = 1 << ctx.plv;
  for (let w = 0; w < 4; w++) {
    if ((ctx.dmwPlv[w]! & plvBit) !== 0 && ctx.dmwVseg[w] === vseg) return va48Of(hi, lo);
  }
  const top = hi >> 16; // VA[63:48] must be all zeros or all ones (VALEN 48)
  if (top !== 0 && top !== -1) return Fault.BadAddress;
  const va48 = va48Of(hi, lo);
  const tlb = ctx.tlb;
  const i = tlb.search(va48, ctx.asid, ctx.stlbps);
  if (i === TLB_MISS) return Fault.NoMatch;
  const ps = i >= STLB_SIZE ? tlb.ps[i]! : ctx.stlbps;
  const odd = Math.floor(va48 / 2 ** ps) & 1;
  const w = (i * 2 + odd) * 2;
  const low = tlb.lo32[w]!, high = tlb.lo32[w + 1]!;
  if ((low & 1) === 0) return Fault.Invalid;
  if (access === Access.Fetch && (high & 0x4000_0000) !== 0) return Fault.ExecuteInhibit;
  if (access === Access.Load && (high & 0x2000_0000) !== 0) return Fault.ReadInhibit;
  const entryPlv = (low >>> 2) & 3;
  const rplv = (high & 0x8000_0000) !== 0;
  if (rplv ? ctx.plv !== entryPlv : ctx.plv > entryPlv) return Fault.Privilege;
  if (access === Access.Store && (low & 2) === 0) return Fault.Dirty;
  const ppnBase = (high & 0xffff) * TWO32 + ((low & 0xffff_f000) >>> 0);
  const size = 2 ** ps;
  return ppnBase - (ppnBase % size) + (va48 % size);
}
