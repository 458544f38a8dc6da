/**
 * The EL1/EL0 system registers the core owns: storage, ID registers describing exactly what we
 * implement (ARMv8.0 A64 at EL0/EL1, FP/AdvSIMD, CRC32, 4 KiB granule, no EL2/EL3, no SVE/MTE/PAuth/
 * LSE advertised, no PMU), the generic timer and the debug registers Linux touches (RAZ/WI).
 */
import { sysreg } from './system-register-hook.js';

/** Slots of the core's BigUint64Array `sys`. */
export const enum Sys {
  Sctlr, Actlr, Cpacr, Ttbr0, Ttbr1, Tcr, Esr, Afsr0, Afsr1, Far, Par, Mair, Amair, Vbar, Contextidr,
  TpidrEl1, TpidrEl0, TpidrroEl0, Cntkctl, Csselr, Spsr, Elr, SpEl0, SpEl1, Mdscr, Count,
}

/** What a system-register access needs from the core. */
export interface SysRegCore {
  readonly sys: BigUint64Array;
  readonly el: number;
  readonly midr: bigint;
  readonly mpidr: bigint;
  readonly gicv3: boolean;
  nzcvBits(): number;
  setNzcvBits(v: number): void;
  daif: number;
  spsel: number;
  selectSp(spsel: number): void;
  fpcr: number;
  fpsr: number;
  pendingIrq(): boolean;
  pendingFiq(): boolean;
  now(): number;
  readonly timerFrequency: number;
  timerRead(timer: number, reg: 'ctl' | 'cval' | 'tval'): bigint;
  timerWrite(timer: number, reg: 'ctl' | 'cval' | 'tval', v: bigint): void;
  translationChanged(): void;
}

export interface SysRegSpec {
  readonly name: string;
  read(c: SysRegCore): bigint;
  /** Absent: read-only (writes are UNDEFINED). */
  write?(c: SysRegCore, v: bigint): void;
  /** EL0 may access it (subject to the SCTLR/CNTKCTL controls checked here). */
  el0?(c: SysRegCore, write: boolean): boolean;
}

function stored(name: string, slot: Sys, onWrite?: (c: SysRegCore) => void, el0?: SysRegSpec['el0']): SysRegSpec {
  return {
    name,
    read: (c) => c.sys[slot]!,
    write: (c, v) => {
      c.sys[slot] = v;
      onWrite?.(c);
    },
    el0,
  };
}

const constant = (name: string, value: bigint, el0?: SysRegSpec['el0']): SysRegSpec => ({ name, read: () => value, el0 });
const razWi = (name: string): SysRegSpec => ({ name, read: () => 0n, write: () => {} });

const sctlrBit = (c: SysRegCore, bit: bigint): boolean => ((c.sys[Sys.Sctlr]! >> bit) & 1n) === 1n;
const cntkctlBit = (c: SysRegCore, bit: bigint): boolean => ((c.sys[Sys.Cntkctl]! >> bit) & 1n) === 1n;

export const ID_AA64PFR0 = (gicv3: boolean): bigint => 0x0000000000000011n | (gicv3 ? 1n << 24n : 0n);
export const ID_AA64ISAR0 = 0x0000000000010000n; // CRC32
export const ID_AA64MMFR0 = 0x000000000f000022n; // 40-bit PA, 16-bit ASID, 4 KiB granule only
export const ID_AA64DFR0 = 0x0000000010305006n; // v8 debug, 6 BRPs, 4 WRPs, no PMU

function timer(name: string, t: number, reg: 'ctl' | 'cval' | 'tval'): SysRegSpec {
  return {
    name,
    read: (c) => c.timerRead(t, reg),
    write: (c, v) => c.timerWrite(t, reg, v),
    // EL0PTEN (bit 9) / EL0VTEN (bit 8)
    el0: (c) => cntkctlBit(c, t === 0 ? 9n : 8n),
  };
}

/** The register table by packed encoding (see sysreg()). */
export function buildSystemRegisters(): Map<number, SysRegSpec> {
  const t = new Map<number, SysRegSpec>();
  const add = (op0: number, op1: number, crn: number, crm: number, op2: number, spec: SysRegSpec): void => {
    t.set(sysreg(op0, op1, crn, crm, op2), spec);
  };
  // ID space: everything unallocated in op0=3, op1=0, CRn=0, CRm=1..7 reads as zero.
  for (let crm = 1; crm <= 7; crm++) for (let op2 = 0; op2 < 8; op2++) add(3, 0, 0, crm, op2, constant(`ID_${crm}_${op2}`, 0n));
  add(3, 0, 0, 0, 0, { name: 'MIDR_EL1', read: (c) => c.midr });
  add(3, 0, 0, 0, 5, { name: 'MPIDR_EL1', read: (c) => c.mpidr });
  add(3, 0, 0, 0, 6, constant('REVIDR_EL1', 0n));
  add(3, 0, 0, 4, 0, { name: 'ID_AA64PFR0_EL1', read: (c) => ID_AA64PFR0(c.gicv3) });
  add(3, 0, 0, 5, 0, constant('ID_AA64DFR0_EL1', ID_AA64DFR0));
  add(3, 0, 0, 6, 0, constant('ID_AA64ISAR0_EL1', ID_AA64ISAR0));
  add(3, 0, 0, 7, 0, constant('ID_AA64MMFR0_EL1', ID_AA64MMFR0));
  add(3, 1, 0, 0, 0, constant('CCSIDR_EL1', 0x700fe01an));
  add(3, 1, 0, 0, 1, constant('CLIDR_EL1', 0x0a200023n));
  add(3, 1, 0, 0, 7, constant('AIDR_EL1', 0n));
  add(3, 2, 0, 0, 0, stored('CSSELR_EL1', Sys.Csselr));
  add(3, 3, 0, 0, 1, constant('CTR_EL0', 0x84448004n, (c) => sctlrBit(c, 15n)));
  add(3, 3, 0, 0, 7, constant('DCZID_EL0', 4n, () => true));

  add(3, 0, 1, 0, 0, {
    name: 'SCTLR_EL1',
    read: (c) => c.sys[Sys.Sctlr]!,
    write: (c, v) => {
      c.sys[Sys.Sctlr] = v;
      c.translationChanged();
    },
  });
  add(3, 0, 1, 0, 1, stored('ACTLR_EL1', Sys.Actlr));
  add(3, 0, 1, 0, 2, stored('CPACR_EL1', Sys.Cpacr));
  add(3, 0, 2, 0, 0, stored('TTBR0_EL1', Sys.Ttbr0, (c) => c.translationChanged()));
  add(3, 0, 2, 0, 1, stored('TTBR1_EL1', Sys.Ttbr1, (c) => c.translationChanged()));
  add(3, 0, 2, 0, 2, stored('TCR_EL1', Sys.Tcr, (c) => c.translationChanged()));
  add(3, 0, 4, 0, 0, stored('SPSR_EL1', Sys.Spsr));
  add(3, 0, 4, 0, 1, stored('ELR_EL1', Sys.Elr));
  add(3, 0, 4, 1, 0, {
    name: 'SP_EL0',
    read: (c) => (c.spsel === 0 ? 0n : c.sys[Sys.SpEl0]!),
    write: (c, v) => {
      c.sys[Sys.SpEl0] = v;
    },
  });
  add(3, 0, 4, 2, 0, {
    name: 'SPSel',
    read: (c) => BigInt(c.spsel),
    write: (c, v) => c.selectSp(Number(v & 1n)),
  });
  add(3, 0, 4, 2, 2, { name: 'CurrentEL', read: (c) => BigInt(c.el << 2) });
  add(3, 3, 4, 2, 0, {
    name: 'NZCV',
    read: (c) => BigInt(c.nzcvBits() >>> 0),
    write: (c, v) => c.setNzcvBits(Number(v & 0xf0000000n)),
    el0: () => true,
  });
  add(3, 3, 4, 2, 1, {
    name: 'DAIF',
    read: (c) => BigInt(c.daif << 6),
    write: (c, v) => {
      c.daif = Number((v >> 6n) & 15n);
    },
    el0: (c) => sctlrBit(c, 9n),
  });
  add(3, 3, 4, 4, 0, { name: 'FPCR', read: (c) => BigInt(c.fpcr >>> 0), write: (c, v) => { c.fpcr = Number(v & 0x07ff9f00n); }, el0: () => true });
  add(3, 3, 4, 4, 1, { name: 'FPSR', read: (c) => BigInt(c.fpsr >>> 0), write: (c, v) => { c.fpsr = Number(v & 0xf800009fn); }, el0: () => true });
  add(3, 0, 5, 1, 0, stored('AFSR0_EL1', Sys.Afsr0));
  add(3, 0, 5, 1, 1, stored('AFSR1_EL1', Sys.Afsr1));
  add(3, 0, 5, 2, 0, stored('ESR_EL1', Sys.Esr));
  add(3, 0, 6, 0, 0, stored('FAR_EL1', Sys.Far));
  add(3, 0, 7, 4, 0, stored('PAR_EL1', Sys.Par));
  add(3, 0, 10, 2, 0, stored('MAIR_EL1', Sys.Mair));
  add(3, 0, 10, 3, 0, stored('AMAIR_EL1', Sys.Amair));
  add(3, 0, 12, 0, 0, stored('VBAR_EL1', Sys.Vbar));
  add(3, 0, 12, 1, 0, { name: 'ISR_EL1', read: (c) => (c.pendingIrq() ? 0x80n : 0n) | (c.pendingFiq() ? 0x40n : 0n) });
  add(3, 0, 13, 0, 1, stored('CONTEXTIDR_EL1', Sys.Contextidr));
  add(3, 0, 13, 0, 4, stored('TPIDR_EL1', Sys.TpidrEl1));
  add(3, 3, 13, 0, 2, stored('TPIDR_EL0', Sys.TpidrEl0, undefined, () => true));
  add(3, 3, 13, 0, 3, stored('TPIDRRO_EL0', Sys.TpidrroEl0, undefined, (_c, w) => !w));
  add(3, 0, 14, 1, 0, stored('CNTKCTL_EL1', Sys.Cntkctl));
  add(3, 3, 14, 0, 0, { name: 'CNTFRQ_EL0', read: (c) => BigInt(c.timerFrequency), el0: (c) => cntkctlBit(c, 0n) || cntkctlBit(c, 1n) });
  add(3, 3, 14, 0, 1, { name: 'CNTPCT_EL0', read: (c) => BigInt(Math.floor(c.now())), el0: (c) => cntkctlBit(c, 0n) });
  add(3, 3, 14, 0, 2, { name: 'CNTVCT_EL0', read: (c) => BigInt(Math.floor(c.now())), el0: (c) => cntkctlBit(c, 1n) });
  add(3, 3, 14, 2, 0, timer('CNTP_TVAL_EL0', 0, 'tval'));
  add(3, 3, 14, 2, 1, timer('CNTP_CTL_EL0', 0, 'ctl'));
  add(3, 3, 14, 2, 2, timer('CNTP_CVAL_EL0', 0, 'cval'));
  add(3, 3, 14, 3, 0, timer('CNTV_TVAL_EL0', 1, 'tval'));
  add(3, 3, 14, 3, 1, timer('CNTV_CTL_EL0', 1, 'ctl'));
  add(3, 3, 14, 3, 2, timer('CNTV_CVAL_EL0', 1, 'cval'));
  // Debug: MDSCR keeps its value; the OS lock and breakpoint/watchpoint registers are RAZ/WI.
  add(2, 0, 0, 2, 2, stored('MDSCR_EL1', Sys.Mdscr));
  add(2, 0, 1, 0, 4, razWi('OSLAR_EL1'));
  add(2, 0, 1, 1, 4, constant('OSLSR_EL1', 0x8n));
  add(2, 0, 1, 3, 4, razWi('OSDLR_EL1'));
  add(2, 0, 1, 4, 4, razWi('DBGPRCR_EL1'));
  add(2, 0, 0, 2, 0, razWi('MDCCINT_EL1'));
  add(2, 0, 7, 8, 6, razWi('DBGCLAIMSET_EL1'));
  add(2, 0, 7, 9, 6, razWi('DBGCLAIMCLR_EL1'));
  for (let n = 0; n < 16; n++) {
    add(2, 0, 0, n, 4, razWi(`DBGBVR${n}_EL1`));
    add(2, 0, 0, n, 5, razWi(`DBGBCR${n}_EL1`));
    add(2, 0, 0, n, 6, razWi(`DBGWVR${n}_EL1`));
    add(2, 0, 0, n, 7, razWi(`DBGWCR${n}_EL1`));
  }
  return t;
}

/** Cortex-A53's SCTLR_EL1 reset value, as QEMU models it (the lockstep program reads it). */
export const SCTLR_RESET = 0x00c50838n;
