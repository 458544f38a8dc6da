import type { Cpu } from '../../arch/cpu.js';
import type { ResumeAction, StopEvent, WatchpointKind } from '../../../gdbstub/target.js';

/** What gdb had set when it resumed a zone that changes how the zone runs (breakpoints split the cores' blocks). */
export interface DebugSetup {
  readonly breakpoints: readonly bigint[];
  readonly watchpoints: readonly { readonly address: bigint; readonly length: number; readonly kind: WatchpointKind }[];
  readonly interruptsInSteps: boolean;
  readonly timer: boolean;
  readonly sleep: boolean;
  readonly stepPolicy: 'halted' | 'run';
}

/**
 * What a zone keeps to go backwards under gdb (src/hypervisor/replay/ implements it): the zone
 * tells it about each single step and about everything else that moves the zone on, and asks it to
 * undo. The zone stays the only one that runs vCPUs.
 */
export interface ZoneHistory {
  /** vCPU `cpu` is about to single-step (the rest of the zone halted). */
  beforeStep(cpu: Cpu): void;
  /** The step is done (whatever it did). */
  afterStep(): void;
  /**
   * The zone runs a slice (gdb continued). Within a stepping history (gdb continues to a breakpoint to
   * step over an atomic sequence) the run is kept as one undoable record, up to a bound.
   */
  beforeRun(): void;
  /** The zone moved on other than by steps (ran, restarted, was written by the debugger): what came before cannot be undone. */
  forget(): void;
  /** `bs` / `bc` for `thread`: undo, and say where it stopped. */
  reverse(kind: 'step' | 'continue', thread: number): StopEvent;
  /** A slice boundary at instruction `count` (checkpoints: `--snapshot-every`). */
  atBoundary(count: number): void;
  /** gdb resumed the halted zone: each vCPU's action and what gdb had set (re-execution repeats them). */
  resumed(actions: readonly ResumeAction[], setup: DebugSetup): void;
  /** gdb halted the running zone between slices, at instruction `count` (Ctrl-C). */
  halted(count: number): void;
  /** Live input or a host value reached the zone (not from a replay's log): runs before it cannot be repeated. */
  outsideInput(): void;
  /** `monitor snapshot ...` / `monitor history`: text for gdb. */
  monitor(args: readonly string[]): string;
}
