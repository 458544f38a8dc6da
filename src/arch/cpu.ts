import type { AddressSpace } from '../machine/address-space.js';
import type { Arch } from '../machine/machine.js';
import type { GdbArchDescription } from '../../gdbstub/arch-description.js';

/** Why `Cpu.run` returned. */
export enum StopReason {
  /** The instruction budget ran out; call run again. */
  Budget = 'budget',
  /**
   * The guest made an exit that costs host time its instruction budget does not count (an SBI
   * console write): the rest of its slice goes to the others; call run again.
   */
  Yield = 'yield',
  /** The pc reached a debugger breakpoint; the instruction there has not executed. */
  Breakpoint = 'breakpoint',
  /** A data access hit a debugger watchpoint before it completed (see Cpu.lastWatchHit). */
  Watchpoint = 'watchpoint',
  /** `run` was called with stepping on and one instruction (or exception entry) completed. */
  Step = 'step',
  /** WFI/WFE/idle with no interrupt pending: nothing to do until an interrupt or timer fires. */
  Wait = 'wait',
  /** The vCPU is off (never started, PSCI CPU_OFF, SBI HSM stop). */
  Off = 'off',
  /** The zone asked to power off or reset the system (PSCI SYSTEM_OFF/RESET, SBI SRST). */
  SystemEvent = 'system-event',
  /**
   * A device access must wait for its answer (ACCESS_STALLED): the instruction did not execute and is
   * made again when the vCPU next runs. Only the host decides when (it ended no wait of the guest's).
   */
  Stall = 'stall',
  /** The guest cannot continue (e.g. a fault with no handler installed); see Cpu.lastError. */
  GuestError = 'guest-error',
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
  /**
   * The zone's system power events. The caller then returns StopReason.SystemEvent. `status` is the
   * exit status the guest's request carries, where it carries one (SBI SRST "system failure" = 1).
   */
  systemOff(status?: number): void;
  systemReset(): void;
  /** Console output from firmware calls (SBI legacy putchar / DBCN). */
  consoleWrite(bytes: Uint8Array): void;
  /** hvisor hypercalls (zone start/shutdown/list, ...): code and up to 6 arguments; returns the result register. */
  hypercall(code: bigint, args: readonly bigint[]): bigint;
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
export interface Cpu {
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
  run(budget: number, step?: boolean): StopReason;

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

  // --- debugger view -------------------------------------------------------------------------
  readonly gdb: GdbArchDescription;
  readRegister(regno: number): Uint8Array | undefined;
  writeRegister(regno: number, value: Uint8Array): boolean;
  /** Guest-virtual → guest-physical through the current translation, with no A/D or TLB side effects. */
  debugTranslate(va: bigint, access: 'r' | 'w' | 'x'): number | undefined;
  /** Debugger breakpoints and watchpoints, matched on guest-virtual addresses. */
  setBreakpoint(va: bigint, on: boolean): void;
  setWatchpoint(va: bigint, length: number, kind: WatchKind, on: boolean): void;
  readonly lastWatchHit: WatchHit | undefined;
  readonly lastError: GuestErrorReport | undefined;
  /** Drop every cached translation (TLBs) of this vCPU (SBI remote sfence.vma / hfence from another vCPU). */
  flushTranslations(): void;
  /** Drop decoded-instruction caches for a guest-physical range (after debugger or DMA writes). */
  invalidateCode(gpa: number, length: number): void;
  /** One line for `info threads` / `monitor regs`: privilege level and state. */
  describe(): string;
}
