/** Supervisor-level CSR numbers and bits the guest (running as VS, seen as S) uses. */
export const CSR = {
  fflags: 0x001, frm: 0x002, fcsr: 0x003,
  sstatus: 0x100, sie: 0x104, stvec: 0x105, scounteren: 0x106, senvcfg: 0x10a,
  sscratch: 0x140, sepc: 0x141, scause: 0x142, stval: 0x143, sip: 0x144, stimecmp: 0x14d,
  siselect: 0x150, sireg: 0x151, stopei: 0x15c,
  satp: 0x180,
  stopi: 0xdb0,
  cycle: 0xc00, time: 0xc01, instret: 0xc02,
} as const;

export const SSTATUS_SIE = 1 << 1;
export const SSTATUS_SPIE = 1 << 5;
export const SSTATUS_SPP = 1 << 8;
export const SSTATUS_FS = 3 << 13;
export const SSTATUS_SUM = 1 << 18;
export const SSTATUS_MXR = 1 << 19;
/** The bits of sstatus a guest can write (UBE, VS and XS stay 0: big-endian U and V are not implemented). */
export const SSTATUS_WRITABLE = SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_FS | SSTATUS_SUM | SSTATUS_MXR;
/** UXL = 2 (U-mode is 64-bit), read-only. */
export const SSTATUS_UXL64 = 2n << 32n;

/** Interrupt lines = sip/sie bit numbers. */
export const IRQ_SSI = 1;
export const IRQ_STI = 5;
export const IRQ_SEI = 9;
export const SIP_MASK = (1 << IRQ_SSI) | (1 << IRQ_STI) | (1 << IRQ_SEI);

/** siselect ranges (Ssaia): the major interrupts' priorities (iprio0..15, RV64 even ones) and the IMSIC's registers. */
export const ISELECT_IPRIO_FIRST = 0x30;
export const ISELECT_IPRIO_LAST = 0x3f;
export const ISELECT_IMSIC_FIRST = 0x70;
export const ISELECT_IMSIC_LAST = 0xff;

/** Exception causes (scause with the interrupt bit clear). */
export const Cause = {
  InstructionMisaligned: 0,
  InstructionAccessFault: 1,
  IllegalInstruction: 2,
  Breakpoint: 3,
  LoadMisaligned: 4,
  LoadAccessFault: 5,
  StoreMisaligned: 6,
  StoreAccessFault: 7,
  EcallFromU: 8,
  EcallFromS: 9,
  InstructionPageFault: 12,
  LoadPageFault: 13,
  StorePageFault: 15,
} as const;

const EXCEPTION_NAMES: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction', 3: 'breakpoint',
  4: 'load address misaligned', 5: 'load access fault', 6: 'store/AMO address misaligned', 7: 'store/AMO access fault',
  8: 'environment call from U-mode', 9: 'environment call from S-mode', 12: 'instruction page fault',
  13: 'load page fault', 15: 'store/AMO page fault',
};
const INTERRUPT_NAMES: Record<number, string> = { 1: 'supervisor software interrupt', 5: 'supervisor timer interrupt', 9: 'supervisor external interrupt' };

export function causeName(cause: number, interrupt: boolean): string {
  const name = (interrupt ? INTERRUPT_NAMES : EXCEPTION_NAMES)[cause];
  return name ?? `${interrupt ? 'interrupt' : 'exception'} ${cause}`;
}
