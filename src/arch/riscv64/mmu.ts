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
  satp: bigint;
  /** 0 = U, 1 = S. */
  priv: number;
  sum: boolean;
  mxr: boolean;
}

const PTE_V = 1n, PTE_R = 2n, PTE_W = 4n, PTE_X = 8n, PTE_U = 16n, PTE_A = 64n, PTE_D = 128n;
const MAX_PA = 2 ** 53;

/**
 * Sv39/Sv48/Sv57 page-table walk from guest-virtual to guest-physical, reading PTEs through the zone's
 * stage-2 memory. With `update` it sets A (and D on writes) in the PTE as QEMU does (hardware A/D
 * update); without it (debugger) a PTE that would need an update still translates and memory is untouched.
 */
export function translate(va: bigint, access: Access, ctx: TranslationContext, memory: AddressSpace, update: boolean): number {
  const mode = Number(ctx.satp >> 60n);
  if (mode === 0) return va < BigInt(MAX_PA) ? Number(va) : ACCESS_FAULT;
  const levels = mode === 8 ? 3 : mode === 9 ? 4 : mode === 10 ? 5 : 0;
  if (levels === 0) return PAGE_FAULT;
  const vaBits = 12 + 9 * levels;
  // The upper bits must all equal bit vaBits-1.
  const top = BigInt.asIntN(64, va) >> BigInt(vaBits - 1);
  if (top !== 0n && top !== -1n) return PAGE_FAULT;
  let table = (ctx.satp & 0xfffffffffffn) << 12n;
  for (let level = levels - 1; level >= 0; level--) {
    const vpn = (va >> BigInt(12 + 9 * level)) & 0x1ffn;
    const pteAddr = table + vpn * 8n;
    if (pteAddr >= BigInt(MAX_PA)) return ACCESS_FAULT;
    const pte = memory.read(Number(pteAddr), 8);
    if (pte === undefined) return ACCESS_FAULT;
    if ((pte & PTE_V) === 0n || ((pte & PTE_R) === 0n && (pte & PTE_W) !== 0n)) return PAGE_FAULT;
    if ((pte >> 54n) !== 0n) return PAGE_FAULT; // reserved, Svpbmt, Svnapot: not implemented
    const ppn = (pte >> 10n) & 0xfffffffffffn;
    if ((pte & (PTE_R | PTE_X)) === 0n) {
      if (level === 0) return PAGE_FAULT;
      table = ppn << 12n;
      continue;
    }
    // Leaf: permissions.
    const user = (pte & PTE_U) !== 0n;
    if (ctx.priv === 0 ? !user : user && (access === Access.Execute || !ctx.sum)) return PAGE_FAULT;
    if (access === Access.Read && (pte & PTE_R) === 0n && !(ctx.mxr && (pte & PTE_X) !== 0n)) return PAGE_FAULT;
    if (access === Access.Write && (pte & PTE_W) === 0n) return PAGE_FAULT;
    if (access === Access.Execute && (pte & PTE_X) === 0n) return PAGE_FAULT;
    const levelMask = (1n << BigInt(9 * level)) - 1n;
    if ((ppn & levelMask) !== 0n) return PAGE_FAULT; // misaligned superpage
    const needs = PTE_A | (access === Access.Write ? PTE_D : 0n);
    if (update && (pte & needs) !== needs) {
      if (!memory.write(Number(pteAddr), 8, pte | needs)) return ACCESS_FAULT;
    }
    const pageBase = (ppn & ~levelMask) << 12n;
    const offset = va & ((levelMask << 12n) | 0xfffn);
    const pa = pageBase | offset;
    return pa < BigInt(MAX_PA) ? Number(pa) : ACCESS_FAULT;
  }
  return PAGE_FAULT;
}
