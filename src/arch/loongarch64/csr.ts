/**
 * LoongArch control and status registers (Reference Manual vol. 1, chapter 7) as a guest kernel at
 * PLV0 sees them: numbers, the bits software may write, and the exception codes.
 */
export const CSR = {
  CRMD: 0x0, PRMD: 0x1, EUEN: 0x2, MISC: 0x3, ECFG: 0x4, ESTAT: 0x5, ERA: 0x6, BADV: 0x7, BADI: 0x8,
  EENTRY: 0xc, TLBIDX: 0x10, TLBEHI: 0x11, TLBELO0: 0x12, TLBELO1: 0x13, ASID: 0x18, PGDL: 0x19, PGDH: 0x1a,
  PGD: 0x1b, PWCL: 0x1c, PWCH: 0x1d, STLBPS: 0x1e, RVACFG: 0x1f, CPUID: 0x20, PRCFG1: 0x21, PRCFG2: 0x22,
  PRCFG3: 0x23, SAVE0: 0x30, TID: 0x40, TCFG: 0x41, TVAL: 0x42, CNTC: 0x43, TICLR: 0x44, LLBCTL: 0x60,
  IMPCTL1: 0x80, IMPCTL2: 0x81, TLBRENTRY: 0x88, TLBRBADV: 0x89, TLBRERA: 0x8a, TLBRSAVE: 0x8b,
  TLBRELO0: 0x8c, TLBRELO1: 0x8d, TLBREHI: 0x8e, TLBRPRMD: 0x8f, MERRCTL: 0x90, MERRINFO1: 0x91,
  MERRINFO2: 0x92, MERRENTRY: 0x93, MERRERA: 0x94, MERRSAVE: 0x95, CTAG: 0x98, DMW0: 0x180, DMW3: 0x183,
  PMCFG0: 0x200, PMCNT3: 0x207, DBG: 0x500, DERA: 0x501, DSAVE: 0x502,
} as const;

/** Number of SAVE registers implemented (SAVE0..SAVE15); PRCFG1 advertises 8, as the 3A5000 has. */
export const SAVE_COUNT = 16;

export const CRMD_PLV = 3;
export const CRMD_IE = 1 << 2;
export const CRMD_DA = 1 << 3;
export const CRMD_PG = 1 << 4;
export const CRMD_WE = 1 << 9;
export const PRMD_PIE = 1 << 2;
export const EUEN_FPE = 1;
/** ESTAT.IS bits: SWI0-1, HWI0-7, PMI, TI (timer), IPI. */
export const IRQ_TIMER = 11;
export const IRQ_IPI = 12;
export const ESTAT_IS_MASK = 0x1fff;
export const LLBCTL_ROLLB = 1;
export const LLBCTL_WCLLB = 2;
export const LLBCTL_KLO = 4;
export const TLBRERA_ISTLBR = 1n;

/** The TLB entry-low bits: V, D, PLV, MAT, G, PPN (PALEN 48), NR, NX, RPLV. */
export const TLBELO_MASK = 0xe000_ffff_ffff_f07fn;
/** 48-bit physical addresses (CPUCFG1.PALEN = 47). */
export const PA_MASK = 0xffff_ffff_ffffn;

/** Write masks of the CSRs that are plain storage (the others are handled in the core). */
export const CSR_WRITE_MASK: ReadonlyMap<number, bigint> = unsignedMasks([
  [CSR.PRMD, 0x1fn], [CSR.EUEN, 0xfn], [CSR.MISC, 0x7_7777n], [CSR.ECFG, 0x7_1bffn], [CSR.ERA, ~0n], [CSR.BADV, ~0n],
  [CSR.BADI, 0xffff_ffffn], [CSR.EENTRY, ~0xfffn], [CSR.TLBIDX, 0xbf00_ffffn], [CSR.TLBEHI, ~0x1fffn],
  [CSR.TLBELO0, TLBELO_MASK], [CSR.TLBELO1, TLBELO_MASK], [CSR.PGDL, ~0xfffn], [CSR.PGDH, ~0xfffn],
  [CSR.PWCL, 0xffff_ffffn], [CSR.PWCH, 0xff_ffffn], [CSR.STLBPS, 0x3fn], [CSR.RVACFG, 0xfn], [CSR.TID, 0xffff_ffffn],
  [CSR.CNTC, ~0n], [CSR.IMPCTL1, ~0n], [CSR.IMPCTL2, ~0n], [CSR.TLBRENTRY, ~0xfffn], [CSR.TLBRBADV, ~0n],
  [CSR.TLBRSAVE, ~0n], [CSR.TLBRELO0, TLBELO_MASK], [CSR.TLBRELO1, TLBELO_MASK], [CSR.TLBREHI, ~0x1fc0n],
  [CSR.TLBRPRMD, 0x17n], [CSR.MERRCTL, ~0n], [CSR.MERRINFO1, ~0n], [CSR.MERRINFO2, ~0n], [CSR.MERRENTRY, ~0xfffn],
  [CSR.MERRERA, ~0n], [CSR.MERRSAVE, ~0n], [CSR.CTAG, ~0n], [CSR.DBG, 0n], [CSR.DERA, ~0n], [CSR.DSAVE, ~0n],
  ...Array.from({ length: SAVE_COUNT }, (_, i): [number, bigint] => [CSR.SAVE0 + i, ~0n]),
  ...Array.from({ length: 4 }, (_, i): [number, bigint] => [CSR.DMW0 + i, 0xf000_0000_0000_003fn]),
  ...Array.from({ length: 8 }, (_, i): [number, bigint] => [CSR.PMCFG0 + i, ~0n]),
]);

function unsignedMasks(entries: Array<[number, bigint]>): Map<number, bigint> {
  return new Map(entries.map(([n, m]) => [n, BigInt.asUintN(64, m)]));
}

/** Exception codes (ESTAT.Ecode); ADE's subcodes tell fetch (0) from data (1). */
export const Ecode = {
  INT: 0x0, PIL: 0x1, PIS: 0x2, PIF: 0x3, PME: 0x4, PNR: 0x5, PNX: 0x6, PPI: 0x7, ADE: 0x8, ALE: 0x9, BCE: 0xa,
  SYS: 0xb, BRK: 0xc, INE: 0xd, IPE: 0xe, FPD: 0xf, SXD: 0x10, ASXD: 0x11, FPE: 0x12, HVC: 0x17,
} as const;
/** Pseudo code for a TLB refill (taken through TLBRENTRY, not ESTAT). */
export const TLBR = 0x3f;

const NAMES: Record<number, string> = {
  0x0: 'interrupt', 0x1: 'page invalid (load)', 0x2: 'page invalid (store)', 0x3: 'page invalid (fetch)',
  0x4: 'page modification', 0x5: 'page not readable', 0x6: 'page not executable', 0x7: 'page privilege illegal',
  0x8: 'address error', 0x9: 'address alignment fault', 0xa: 'bound check', 0xb: 'syscall', 0xc: 'breakpoint',
  0xd: 'instruction not exist', 0xe: 'instruction privilege error', 0xf: 'floating-point disabled',
  0x10: 'LSX disabled', 0x11: 'LASX disabled', 0x12: 'floating-point exception', 0x17: 'hypervisor call',
  0x3f: 'TLB refill',
};

export function ecodeName(ecode: number): string {
  return NAMES[ecode] ?? `exception 0x${ecode.toString(16)}`;
}
