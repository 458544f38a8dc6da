import type { Cpu } from '../../arch/cpu.js';
import type { StopEvent } from '../../../gdbstub/target.js';

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
  /** `monitor snapshot ...` / `monitor history`: text for gdb. */
  monitor(args: readonly string[]): string;
}
