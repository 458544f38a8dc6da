/**
 * System registers a core does not own itself: the GICv3 CPU interface (ICC_*_EL1) lives in the
 * interrupt-controller model, which plugs into the core through this hook. The core asks the hook
 * first for any MRS/MSR it does not implement; `undefined` / `false` means "not mine" (UNDEFINED).
 */
export interface SystemRegisterHook {
  /** `encoding` is the MRS/MSR o0:op1:CRn:CRm:op2 field: op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2. */
  read(vcpu: number, encoding: number): bigint | undefined;
  write(vcpu: number, encoding: number, value: bigint): boolean;
}

/** The packed encoding of a system register, e.g. sysreg(3, 0, 12, 12, 0) for ICC_IAR1_EL1. */
export function sysreg(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** Interrupt inputs of an A64 core (Cpu.setInterrupt line numbers). */
export const enum Aarch64Irq {
  Irq = 0,
  Fiq = 1,
}

/** Generic-timer outputs of an A64 core, wired by the zone to the GIC's PPIs (virt 27, phys 30). */
export type TimerOutput = (timer: 'phys' | 'virt', level: boolean) => void;
