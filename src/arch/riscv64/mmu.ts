import type { AddressSpace } from '../../machine/address-space.js';

/** What an access wants from a page: read, write (store/AMO) or execute (fetch). */
export const enum Access {
  Read = 0,
  Write = 1,
  Execute = 2,
}

/** Translation failures, returned as negative numbers so a hit stays a plain guest-physical number. */
export const PAGE_FAULT = -1;
export const ACCESS_FAULT = -2;

export interface TranslationContext {
  /** satp.MODE (0 = bare, 8/9/10 = Sv39/48/57) and the root table's PPN, as numbers: no BigInt on a TLB miss. */
  mode: number;
  rootPpn: number;
  /** 0 = U, 1 = S. */
  priv: number;
  sum: boolean;
  mxr: boolean;
  /** Set by a successful walk: its leaf's level (0: a 4 KiB page; more: a superpage, whose TLB entries a by-address fence must all drop). */
  leafLevel: number;
}

const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;
const TWO32 = 4294967296;
const MAX_PPN = 2 ** 41; // guest-physical addresses we model stay below 2^53

/**
 * Sv39/Sv48/Sv57 page-table walk from guest-virtual to guest-physical, reading PTEs through the zone's
 * stage-2 memory. With `update` it sets A (and D on writes) in the PTE as QEMU does (hardware A/D
 * update); without it (debugger) a PTE that would need an update still translates and memory is untouched.
 */
export function translate(va: bigint, access: Access, ctx: TranslationContext, memory: AddressSpace, update: boolean): number {
  return translateParts(Number(BigInt.asIntN(32, va >> 32n)), Number(va & 0xffffffffn), access, ctx, memory, update);
}

/**
 * The same walk on a virtual address given as its signed high and unsigned low 32-bit halves, in
 * plain numbers (no BigInt): this is the TLB-miss path of every load, store and fetch.
 */
export function translateParts(hi: number, lo: number, access: Access, ctx: TranslationContext, memory: AddressSpace, update: boolean): number {
  const mode = ctx.mode;
  ctx.leafLevel = 0;
  if (mode === 0) return hi >= 0 && hi < 0x200000 ? hi * TWO32 + lo : ACCESS_FAULT;
  const levels = mode === 8 ? 3 : mode === 9 ? 4 : mode === 10 ? 5 : 0;
  if (levels === 0) return PAGE_FAULT;
  // The upper bits must all equal bit (12 + 9·levels - 1); hi holds bits 32..63.
  const topShift = 12 + 9 * levels - 1 - 32;
  const top = hi >> topShift;
  if (top !== 0 && top !== -1) return PAGE_FAULT;
  let table = ctx.rootPpn * 4096;
  for (let level = levels - 1; level >= 0; level--) {
    // VPN[level] is VA bits 12 + 9·level .. 20 + 9·level, taken from the halves with integer shifts
    // (float division and % would call into C on every TLB miss).
    const shift = 12 + 9 * level;
    const vpn = (shift >= 32 ? hi >>> (shift - 32) : shift > 23 ? (lo >>> shift) | (hi << (32 - shift)) : lo >>> shift) & 511;
    const pteAddr = table + vpn * 8;
    // Read the PTE's two halves.
    const r = memory.find(pteAddr);
    let pteLo: number, pteHi: number;
    let ramU32: Uint32Array | undefined;
    let wordIndex = 0;
    if (r !== undefined && r.kind === 'ram' && pteAddr + 8 - r.base <= r.size && ((pteAddr - r.base + r.ramOffset) & 7) === 0) {
      ramU32 = r.ram.u32;
      wordIndex = (pteAddr - r.base + r.ramOffset) / 4;
      pteLo = ramU32[wordIndex]!;
      pteHi = ramU32[wordIndex + 1]!;
    } else {
      const v = memory.read(pteAddr, 8);
      if (v === undefined) return ACCESS_FAULT;
      pteLo = Number(v & 0xffffffffn);
      pteHi = Number(v >> 32n);
    }
    if ((pteLo & PTE_V) === 0 || ((pteLo & PTE_R) === 0 && (pteLo & PTE_W) !== 0)) return PAGE_FAULT;
    if ((pteHi >>> 22) !== 0) return PAGE_FAULT; // reserved, Svpbmt, Svnapot: not implemented
    const ppn = (pteHi & 0x3fffff) * 4194304 + (pteLo >>> 10);
    if ((pteLo & (PTE_R | PTE_X)) === 0) {
      if (level === 0) return PAGE_FAULT;
      if (ppn >= MAX_PPN) return ACCESS_FAULT;
      table = ppn * 4096;
      continue;
    }
    // Leaf: permissions.
    const user = (pteLo & PTE_U) !== 0;
    if (ctx.priv === 0 ? !user : user && (access === Access.Execute || !ctx.sum)) return PAGE_FAULT;
    if (access === Access.Read && (pteLo & PTE_R) === 0 && !(ctx.mxr && (pteLo & PTE_X) !== 0)) return PAGE_FAULT;
    if (access === Access.Write && (pteLo & PTE_W) === 0) return PAGE_FAULT;
    if (access === Access.Execute && (pteLo & PTE_X) === 0) return PAGE_FAULT;
    if (!superpageAligned(pteLo, pteHi, 9 * level)) return PAGE_FAULT;
    const needs = PTE_A | (access === Access.Write ? PTE_D : 0);
    if (update && (pteLo & needs) !== needs) {
      if (ramU32 !== undefined) ramU32[wordIndex] = pteLo | needs;
      else if (!memory.write(pteAddr, 8, (BigInt(pteHi >>> 0) << 32n) | BigInt((pteLo | needs) >>> 0))) return ACCESS_FAULT;
    }
    if (ppn >= MAX_PPN) return ACCESS_FAULT;
    ctx.leafLevel = level;
    return (ppn + pageWithin(hi, lo, 9 * level)) * 4096 + (lo & 0xfff);
  }
  return PAGE_FAULT;
}

/** Whether a leaf's PPN (pteLo bits 10.. then pteHi) has its low `bits` bits clear, as a superpage's must. */
function superpageAligned(pteLo: number, pteHi: number, bits: number): boolean {
  const low = pteLo >>> 10; // PPN bits 0..21
  if (bits <= 22) return (low & ((1 << bits) - 1)) === 0;
  return low === 0 && (pteHi & ((1 << (bits - 22)) - 1)) === 0;
}

/** The VA's page number within a superpage of 2^`bits` pages (VA bits 12 .. 12 + bits - 1). */
function pageWithin(hi: number, lo: number, bits: number): number {
  if (bits <= 20) return (lo >>> 12) & ((1 << bits) - 1);
  return (hi & ((1 << (bits - 20)) - 1)) * 1048576 + (lo >>> 12);
}
