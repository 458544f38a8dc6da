/**
 * VMSAv8-64 stage-1 translation for EL1&0 with the 4 KiB granule (TTBR0/TTBR1 split by VA bit 55,
 * 39- to 48-bit VAs, table/block/page descriptors, hierarchical APTable/XNTable/PXNTable, AF).
 * Stage 2 is the zone's AddressSpace: descriptors are read from guest-physical memory through it.
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

const PA_MASK = 0x0000fffffffff000n;

/** A descriptor read: straight from RAM when possible (the common case), else through the bus. */
function readDescriptor(memory: AddressSpace, pa: number): bigint | undefined {
  const r = memory.find(pa);
  if (r?.kind === 'ram' && (pa & 7) === 0 && pa + 8 - r.base <= r.size) return r.ram.u64[(pa - r.base + r.ramOffset) / 8];
  return memory.read(pa, 8);
}

function fault(code: number): Translation {
  return { fault: code, pagePa: 0, perms: 0, attrIndex: 0, level: code & 3, shareability: 0 };
}

/** Translates the page of `va`. `memory` is only read (no A/D updates: we do not advertise HAFDBS). */
export function translateStage1(va: bigint, regime: TranslationRegime, memory: AddressSpace): Translation {
  if ((regime.sctlr & 1n) === 0n) {
    if (va >> 48n !== 0n) return fault(FaultKind.AddressSize);
    return { fault: 0, pagePa: Number(va & PA_MASK), perms: Perm.All, attrIndex: 0, level: 0, shareability: 0 };
  }
  const tcr = regime.tcr;
  const upper = ((va >> 55n) & 1n) === 1n;
  const tbi = upper ? (tcr >> 38n) & 1n : (tcr >> 37n) & 1n;
  const tsz = Number(upper ? (tcr >> 16n) & 63n : tcr & 63n);
  const epd = upper ? (tcr >> 23n) & 1n : (tcr >> 7n) & 1n;
  const tg = Number(upper ? (tcr >> 30n) & 3n : (tcr >> 14n) & 3n);
  const granuleOk = upper ? tg === 2 : tg === 0;
  if (!granuleOk) return fault(FaultKind.Translation);
  const inputBits = 64 - Math.min(Math.max(tsz, 16), 39);
  // Top bits above the input size must all equal bit 55 (ignoring the tag byte when TBI is set).
  const topBits = tbi ? 56 : 64;
  const top = (va & ((1n << BigInt(topBits)) - 1n)) >> BigInt(inputBits);
  const expect = upper ? (1n << BigInt(topBits - inputBits)) - 1n : 0n;
  if (top !== expect || epd === 1n) return fault(FaultKind.Translation);
  let level = 4 - Math.ceil((inputBits - 12) / 9);
  let table = (upper ? regime.ttbr1 : regime.ttbr0) & 0x0000fffffffffffen;
  let apTable = 0;
  let xnTable = false;
  let pxnTable = false;
  for (;;) {
    const shift = 12 + 9 * (3 - level);
    const indexBits = level === 4 - Math.ceil((inputBits - 12) / 9) ? inputBits - shift : 9;
    const index = (va >> BigInt(shift)) & ((1n << BigInt(indexBits)) - 1n);
    const descAddr = Number((table & ~0xfffn) + index * 8n);
    const desc = readDescriptor(memory, descAddr);
    if (desc === undefined) return fault(FaultKind.ExternalOnWalk + level);
    if ((desc & 1n) === 0n) return fault(FaultKind.Translation + level);
    const isTable = (desc & 2n) !== 0n;
    if (level < 3 && isTable) {
      apTable |= Number((desc >> 61n) & 3n);
      xnTable ||= ((desc >> 60n) & 1n) === 1n;
      pxnTable ||= ((desc >> 59n) & 1n) === 1n;
      table = desc & PA_MASK;
      level++;
      continue;
    }
    if (level === 3 && !isTable) return fault(FaultKind.Translation + level);
    if (level === 0 || (level < 3 && isTable)) return fault(FaultKind.Translation + level);
    if (((desc >> 10n) & 1n) === 0n) return fault(FaultKind.AccessFlag + level);
    const blockMask = (1n << BigInt(shift)) - 1n;
    const outBase = desc & PA_MASK & ~blockMask;
    const pagePa = Number(outBase | (va & blockMask & ~0xfffn));
    let ap = Number((desc >> 6n) & 3n);
    if (apTable & 1) ap &= 2; // APTable[0]: no EL0 access below
    if (apTable & 2) ap |= 2; // APTable[1]: read-only below
    const uxn = ((desc >> 54n) & 1n) === 1n || xnTable;
    const pxn = ((desc >> 53n) & 1n) === 1n || pxnTable;
    let perms = Perm.R1;
    if ((ap & 2) === 0) perms |= Perm.W1;
    if (ap & 1) perms |= Perm.R0 | ((ap & 2) === 0 ? Perm.W0 : 0);
    if (!uxn) perms |= Perm.X0;
    // EL1 never executes what EL0 may write; WXN makes writable memory non-executable.
    const wxn = ((regime.sctlr >> 19n) & 1n) === 1n;
    if (!pxn && !(perms & Perm.W0) && !(wxn && perms & Perm.W1)) perms |= Perm.X1;
    if (wxn && perms & Perm.W0) perms &= ~Perm.X0;
    return { fault: 0, pagePa, perms, attrIndex: Number((desc >> 2n) & 7n), level, shareability: Number((desc >> 8n) & 3n) };
  }
}
