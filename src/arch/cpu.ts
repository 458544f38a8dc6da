import type { AddressSpace } from '../machine/address-space.js';
import type { Arch } from '../machine/machine.js';
import type { GdbArchDescription } from '../../gdbstub/arch-description.js';
import type { Snapshottable } from '../machine/snapshottable.js';

/**
 * What stopped `Cpu.run`, with its data. The common stops are the fixed, frozen objects of `Stops`
 * (compare `kind`, or the object itself): a run loop that ends on them allocates nothing. Only the
 * rare stops that carry data (a watchpoint hit, a system event, a guest error) are new objects.
 */
export type RunResult =
  /** The instruction budget ran out; call run again. */
  | { readonly kind: 'budget' }
  /**
   * The guest made an exit that costs host time its instruction budget does not count (an SBI
   * console write): the rest of its slice goes to the others; call run again.
   */
  | { readonly kind: 'yield' }
  /** The pc reached a debugger breakpoint; the instruction there has not executed. */
  | { readonly kind: 'breakpoint' }
  /** A data access hit a debugger watchpoint before it completed. */
  | { readonly kind: 'watchpoint'; readonly hit: WatchHit }
  /** `run` was called with stepping on and one instruction (or exception entry) completed. */
  | { readonly kind: 'step' }
  /** WFI/WFE/idle with no interrupt pending: nothing to do until an interrupt or timer fires. */
  | { readonly kind: 'wait' }
  /** The vCPU is off (never started, PSCI CPU_OFF, SBI HSM stop). */
  | { readonly kind: 'off' }
  /**
   * The zone asked to power off or reset the system (PSCI SYSTEM_OFF/RESET, SBI SRST). `status` is
   * the exit status a power-off request carries, where it carries one (SBI SRST "system failure" = 1).
   */
  | { readonly kind: 'system-event'; readonly event: 'off' | 'reset'; readonly status: number }
  /**
   * A device access must wait for its answer (ACCESS_STALLED): the instruction did not execute and is
   * made again when the vCPU next runs. Only the host decides when (it ended no wait of the guest's).
   */
  | { readonly kind: 'stall' }
  /** The guest cannot continue (e.g. a fault with no handler installed). */
  | { readonly kind: 'guest-error'; readonly report: GuestErrorReport };

export type RunStopKind = RunResult['kind'];

/** The stops that carry no data: one frozen object each, shared by every core. */
export const Stops = Object.freeze({
  budget: Object.freeze({ kind: 'budget' }) as RunResult,
  yield: Object.freeze({ kind: 'yield' }) as RunResult,
  breakpoint: Object.freeze({ kind: 'breakpoint' }) as RunResult,
  step: Object.freeze({ kind: 'step' }) as RunResult,
  wait: Object.freeze({ kind: 'wait' }) as RunResult,
  off: Object.freeze({ kind: 'off' }) as RunResult,
  stall: Object.freeze({ kind: 'stall' }) as RunResult,
  /** PSCI SYSTEM_OFF / SBI shutdown with no failure reason. */
  systemOff: Object.freeze({ kind: 'system-event', event: 'off', status: 0 }) as RunResult,
  systemReset: Object.freeze({ kind: 'system-event', event: 'reset', status: 0 }) as RunResult,
});

/** A power-off request with an exit status (SBI SRST "system failure" = 1). */
export function systemOffStop(status: number): RunResult {
  return status === 0 ? Stops.systemOff : { kind: 'system-event', event: 'off', status };
}

export function watchpointStop(hit: WatchHit): RunResult {
  return { kind: 'watchpoint', hit };
}

export function guestErrorStop(report: GuestErrorReport): RunResult {
  return { kind: 'guest-error', report };
}

/** One line for messages: the stop's kind and, for the stops that carry data, the data. */
export function describeStop(r: RunResult): string {
  const hex = (v: bigint): string => `0x${v.toString(16)}`;
  switch (r.kind) {
    case 'watchpoint':
      return `watchpoint (${r.hit.kind} at ${hex(r.hit.address)})`;
    case 'system-event':
      return `system-event (${r.event}${r.event === 'off' ? `, status ${r.status}` : ''})`;
    case 'guest-error':
      return `guest-error (${r.report.cause} at pc ${hex(r.report.pc)}${r.report.address !== undefined ? `, address ${hex(r.report.address)}` : ''})`;
    default:
      return r.kind;
  }
}

export type WatchKind = 'write' | 'read' | 'access';

export interface WatchHit {
  readonly kind: WatchKind;
  readonly address: bigint;
}

/** A guest failure the process survives: the zone stops, the report names where and why. */
export interface GuestErrorReport {
  readonly pc: bigint;
  readonly cause: string;
  readonly address?: bigint;
}

/**
 * What a vCPU needs from the hypervisor role (EL2 / HS-mode) around it. The zone implements it;
 * the arch's SBI/PSCI code calls it. Nothing here is arch-specific.
 */
export interface VcpuHost {
  /** The zone's guest-physical memory (stage 2). */
  readonly memory: AddressSpace;
  /** Current virtual time in ticks of `timerFrequency`. Frozen while the zone is halted by a debugger. */
  now(): number;
  readonly timerFrequency: number;
  /** Power on another vCPU of the zone (PSCI CPU_ON, SBI HSM hart_start). */
  startVcpu(vcpu: number, entry: bigint, arg: bigint): 'ok' | 'invalid' | 'already-on';
  /** Power state of a vCPU of the zone (PSCI AFFINITY_INFO, SBI HSM hart_get_status); 'suspended' = on, in a firmware suspend. */
  vcpuState(vcpu: number): 'on' | 'off' | 'suspended' | 'invalid';
  /** Wake another vCPU of the zone (IPI delivery is the interrupt controller's, this only ends its Wait). */
  kick(vcpu: number): void;
  /** A firmware-level IPI to another vCPU of the zone (SBI send_ipi: sets its supervisor software interrupt). */
  ipi(vcpu: number): void;
  /** Another vCPU of the zone must drop its TLB (SBI remote sfence.vma / hfence). */
  remoteFence(vcpu: number): void;
  /** Console output from firmware calls (SBI legacy putchar / DBCN). */
  consoleWrite(bytes: Uint8Array): void;
  /** hvisor hypercalls (zone start/shutdown/list, ...): code and up to 6 arguments; returns the result register. */
  hypercall(code: bigint, args: readonly bigint[]): bigint;
  /**
   * SMCCC calls the PSCI layer does not answer, for the board's secure-firmware services (SiP calls
   * such as Zynq MPSoC's EEMI): results written into `regs` in place; false when no service took it.
   */
  platformSmc?(regs: BigUint64Array): boolean;
}

/**
 * What a zone does differently per arch (hvisor's arch/<arch>/zone.rs), so the zone itself names
 * no arch: the registers its vCPUs start with, and firmware IPIs.
 */
export interface ArchZoneOps {
  /** The boot vCPU's registers: `hwid` is its hart id / MPIDR, `dtb` the device tree's guest-physical address. */
  bootArguments(hwid: bigint, dtb: bigint): bigint[];
  /** A vCPU the guest starts (SBI HSM hart_start, PSCI CPU_ON): `arg` is the caller's opaque / context id. */
  secondaryArguments(hwid: bigint, arg: bigint): bigint[];
  /** A firmware IPI to `cpu` (SBI send_ipi): raises its software interrupt. */
  ipi(cpu: Cpu): void;
}

/**
 * One emulated core running a vCPU of a zone at the guest-kernel privilege level.
 * Registers are addressed by their gdb register number in the arch's description.
 */
export interface Cpu extends Partial<Snapshottable> {
  readonly arch: Arch;
  /** Index of this vCPU inside its zone (gdb thread id - 1). */
  readonly index: number;
  /** The physical CPU id it stands for (from the zone config `cpus`). */
  readonly physicalId: number;
  /** Instructions retired since reset. */
  readonly retired: number;
  pc: bigint;
  /** Whether the vCPU is powered on (runs) or off (waits for CPU_ON / hart_start). */
  powered: boolean;
  /** Powered but in a firmware suspend (SBI HSM hart_suspend) until an interrupt wakes it. */
  readonly suspended?: boolean;

  /** Power-on state at `entry` with the arch's boot-argument registers (x0../a0..) set from `args`. */
  reset(entry: bigint, args: readonly bigint[]): void;

  /** Runs at most `budget` instructions (1 and `step` true for a debugger single step). */
  run(budget: number, step?: boolean): RunResult;

  /** Interrupt input from the interrupt controller; line numbers are the arch's (see its cpu). */
  setInterrupt(line: number, level: boolean): void;

  /** Next timer deadline in ticks of VcpuHost.now(), or Infinity: lets an idle zone sleep or warp. */
  nextTimerDeadline(): number;

  /** It executed a wait for interrupt (WFI, idle) and has not run since: its next run waits unless an interrupt came. */
  readonly idle?: boolean;
  /**
   * Whether a debugger single step may take a pending interrupt (`monitor sstep irq`) or steps the
   * next instruction with interrupts held back (noirq, the default: QEMU's SSTEP_NOIRQ).
   */
  interruptsInSteps?: boolean;
  /**
   * Re-execution (reverse debugging): a run stops once `retired` reaches this count, exactly, and
   * otherwise runs as it would without it (Infinity: no stop). Cores without it cannot be re-executed.
   */
  stopAt?: number;

  // --- debugger view -------------------------------------------------------------------------
  readonly gdb: GdbArchDescription;
  readRegister(regno: number): Uint8Array | undefined;
  writeRegister(regno: number, value: Uint8Array): boolean;
  /** Guest-virtual → guest-physical through the current translation, with no A/D or TLB side effects. */
  debugTranslate(va: bigint, access: 'r' | 'w' | 'x'): number | undefined;
  /** Debugger breakpoints and watchpoints, matched on guest-virtual addresses. */
  setBreakpoint(va: bigint, on: boolean): void;
  setWatchpoint(va: bigint, length: number, kind: WatchKind, on: boolean): void;
  /**
   * Shows `observer` every guest data write (guest-physical address and size) before it is made, or
   * stops with undefined; a core without it cannot be reverse-stepped.
   */
  observeWrites?(observer: ((gpa: number, size: number) => void) | undefined): void;
  /** Drop every cached translation (TLBs) of this vCPU (SBI remote sfence.vma / hfence from another vCPU). */
  flushTranslations(): void;
  /** Drop decoded-instruction caches for a guest-physical range (after debugger or DMA writes). */
  invalidateCode(gpa: number, length: number): void;
  /** One line for `info threads` / `monitor regs`: privilege level and state. */
  describe(): string;
}
