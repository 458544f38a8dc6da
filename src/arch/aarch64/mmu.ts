/**
 * VMSAv8-64 stage-1 translation for EL1&0 with the 4 KiB granule (TTBR0/TTBR1 split by VA bit 55,
 * 39- to 48-bit VAs, table/block/page descriptors, hierarchical APTable/XNTable/PXNTable, AF).
 * Stage 2 is the zone's AddressSpace: descriptors are read from guest-physical memory through it.
 * The walk works on 32-bit halves of the VA and of the descriptors (TLB refills allocate nothing).
 */
import type { AddressSpace } from '../../machine/address-space.js';

/** Permission bits of a translation. */
export const enum Perm {
  R1 = 1, W1 = 2, X1 = 4, R0 = 8, W0 = 16, X0 = 32,
  All = 63,
}

/** Fault status codes (DFSC/IFSC) before adding the level. */
export const enum FaultKind {
  AddressSize = 0x00,
  Translation = 0x04,
  AccessFlag = 0x08,
  Permission = 0x0c,
  External = 0x10,
  ExternalOnWalk = 0x14,
  Alignment = 0x21,
}

export interface Translation {
  /** 0 on success, else the fault status code (DFSC) including the level. */
  fault: number;
  /** Guest-physical address of the 4 KiB page (success only). */
  pagePa: number;
  perms: number;
  /** MAIR attribute index of the final descriptor (for PAR_EL1). */
  attrIndex: number;
  /** Level of the final descriptor (permission faults report it). */
  level: number;
  /** SH[1:0] of the final descriptor (for PAR_EL1). */
  shareability: number;
}

export interface TranslationRegime {
  sctlr: bigint;
  tcr: bigint;
  ttbr0: bigint;
  ttbr1: bigint;
}

/** 2^32: joins the 32-bit halves of a physical address (below 2^48) into one exact number. */
const HI = 0x1_0000_0000;

/**
 * The regime as 32-bit words, low half first: SCTLR, TCR, TTBR0, TTBR1 (a Uint32Array view of the
 * system registers works as is). Walks run on numbers: no BigInt is created on a TLB refill.
 */
export const enum RegimeWord {
  SctlrLo = 0, TcrLo = 2, TcrHi = 3, Ttbr0Lo = 4, Ttbr0Hi = 5, Ttbr1Lo = 6, Ttbr1Hi = 7, Count = 8,
}

/** Reads the descriptor at `pa` into `out` [lo, hi]: straight from RAM when possible, else through the bus. */
function readDescriptor(memory: AddressSpace, pa: number, out: Uint32Array): boolean {
  const r = memory.find(pa);
  if (r?.kind === 'ram' && (pa & 7) === 0 && pa + 8 - r.base <= r.size) {
    const i = (pa - r.base + r.ramOffset) / 4;
    out[0] = r.ram.u32[i]!;
    out[1] = r.ram.u32[i + 1]!;
    return true;
  }
  const v = memory.read(pa, 8);
  if (v === undefined) return false;
  out[0] = Number(v & 0xffffffffn);
  out[1] = Number(v >> 32n);
  return true;
}

const desc = new Uint32Array(2);

function setFault(out: Translation, code: number): Translation {
  out.fault = code;
  out.pagePa = 0;
  out.perms = 0;
  out.attrIndex = 0;
  out.level = code & 3;
  out.shareability = 0;
  return out;
}

/** VA bits [shift + 8 : shift] of (lo, hi) as a number (a table index before masking). */
function vaBits(lo: number, hi: number, shift: number): number {
  return shift >= 32 ? hi >>> (shift - 32) : ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
}

/**
 * Translates the page of VA (lo, hi) into `out` (also returned). `regime` holds the RegimeWord
 * layout. `memory` is only read (no A/D updates: we do not advertise HAFDBS).
 */
export function walkStage1(lo: number, hi: number, regime: Uint32Array, memory: AddressSpace, out: Translation): Translation {
  const sctlr = regime[RegimeWord.SctlrLo]!;
  if ((sctlr & 1) === 0) {
    if (hi >>> 16 !== 0) return setFault(out, FaultKind.AddressSize);
    out.fault = 0;
    out.pagePa = hi * HI + ((lo & 0xfffff000) >>> 0);
    out.perms = Perm.All;
    out.attrIndex = 0;
    out.level = 0;
    out.shareability = 0;
    return out;
  }
  const tcrLo = regime[RegimeWord.TcrLo]!;
  const tcrHi = regime[RegimeWord.TcrHi]!;
  const upper = (hi >>> 23) & 1; // VA bit 55
  const tbi = upper ? (tcrHi >>> 6) & 1 : (tcrHi >>> 5) & 1;
  const tsz = upper ? (tcrLo >>> 16) & 63 : tcrLo & 63;
  const epd = upper ? (tcrLo >>> 23) & 1 : (tcrLo >>> 7) & 1;
  const tg = upper ? (tcrLo >>> 30) & 3 : (tcrLo >>> 14) & 3;
  if (tg !== (upper ? 2 : 0)) return setFault(out, FaultKind.Translation);
  const inputBits = 64 - Math.min(Math.max(tsz, 16), 39);
  // Top bits above the input size must all equal bit 55 (ignoring the tag byte when TBI is set).
  let hiMask = (0xffffffff << Math.max(inputBits - 32, 0)) >>> 0;
  if (tbi) hiMask = (hiMask & 0x00ffffff) >>> 0;
  if (((hi & hiMask) >>> 0) !== (upper ? hiMask : 0)) return setFault(out, FaultKind.Translation);
  if (inputBits < 32) {
    const loMask = (0xffffffff << inputBits) >>> 0;
    if (((lo & loMask) >>> 0) !== (upper ? loMask : 0)) return setFault(out, FaultKind.Translation);
  }
  if (epd === 1) return setFault(out, FaultKind.Translation);
  const startLevel = 4 - Math.ceil((inputBits - 12) / 9);
  let level = startLevel;
  let table = upper
    ? (regime[RegimeWord.Ttbr1Hi]! & 0xffff) * HI + ((regime[RegimeWord.Ttbr1Lo]! & 0xfffff000) >>> 0)
    : (regime[RegimeWord.Ttbr0Hi]! & 0xffff) * HI + ((regime[RegimeWord.Ttbr0Lo]! & 0xfffff000) >>> 0);
  let apTable = 0;
  let xnTable = 0;
  let pxnTable = 0;
  for (;;) {
    const shift = 12 + 9 * (3 - level);
    const indexBits = level === startLevel ? inputBits - shift : 9;
    const index = vaBits(lo, hi, shift) & ((1 << indexBits) - 1);
    if (!readDescriptor(memory, table + index * 8, desc)) return setFault(out, FaultKind.ExternalOnWalk + level);
    const dLo = desc[0]!;
    const dHi = desc[1]!;
    if ((dLo & 1) === 0) return setFault(out, FaultKind.Translation + level);
    const isTable = (dLo & 2) !== 0;
    if (level < 3 && isTable) {
      apTable |= (dHi >>> 29) & 3; // bits 62:61
      xnTable |= (dHi >>> 28) & 1; // bit 60
      pxnTable |= (dHi >>> 27) & 1; // bit 59
      table = (dHi & 0xffff) * HI + ((dLo & 0xfffff000) >>> 0);
      level++;
      continue;
    }
    if (level === 3 && !isTable) return setFault(out, FaultKind.Translation + level);
    if (level === 0 || (level < 3 && isTable)) return setFault(out, FaultKind.Translation + level);
    if (((dLo >>> 10) & 1) === 0) return setFault(out, FaultKind.AccessFlag + level);
    // Output address: the descriptor's bits above the block size, the VA's below (levels 1..3: < 2^32).
    const blockMask = (1 << shift) - 1;
    const pageLo = (((dLo & 0xfffff000 & ~blockMask) | (lo & blockMask & 0xfffff000)) >>> 0);
    let ap = (dLo >>> 6) & 3;
    if (apTable & 1) ap &= 2; // APTable[0]: no EL0 access below
    if (apTable & 2) ap |= 2; // APTable[1]: read-only below
    const uxn = ((dHi >>> 22) & 1) === 1 || xnTable === 1; // bit 54
    const pxn = ((dHi >>> 21) & 1) === 1 || pxnTable === 1; // bit 53
    let perms = Perm.R1;
    if ((ap & 2) === 0) perms |= Perm.W1;
    if (ap & 1) perms |= Perm.R0 | ((ap & 2) === 0 ? Perm.W0 : 0);
    if (!uxn) perms |= Perm.X0;
    // EL1 never executes what EL0 may write; WXN makes writable memory non-executable.
    const wxn = ((sctlr >>> 19) & 1) === 1;
    if (!pxn && !(perms & Perm.W0) && !(wxn && perms & Perm.W1)) perms |= Perm.X1;
    if (wxn && perms & Perm.W0) perms &= ~Perm.X0;
    out.fault = 0;
    out.pagePa = (dHi & 0xffff) * HI + pageLo;
    out.perms = perms;
    out.attrIndex = (dLo >>> 2) & 7;
    out.level = level;
    out.shareability = (dLo >>> 8) & 3;
    return out;
  }
}

/** translateStage1 on BigInt values (debugger, AT): the same walk as walkStage1. */
export function translateStage1(va: bigint, regime: TranslationRegime, memory: AddressSpace): Translation {
  const words = new Uint32Array(RegimeWord.Count);
  const big = new BigUint64Array(words.buffer);
  big[0] = regime.sctlr;
  big[1] = regime.tcr;
  big[2] = regime.ttbr0;
  big[3] = regime.ttbr1;
  const out: Translation = { fault: 0, pagePa: 0, perms: 0, attrIndex: 0, level: 0, shareability: 0 };
  return walkStage1(Number(va & 0xffffffffn), Number((va >> 32n) & 0xffffffffn), words, memory, out);
}
