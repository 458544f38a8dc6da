import type { ResumeAction } from '../../../gdbstub/target.js';
import type { DebugSetup } from '../zone/zone-history.js';

/**
 * What gdb did to a zone while it debugged it, in order: a zone's run is a function of its state,
 * its outside input and these, so a re-execution from a checkpoint that repeats them goes exactly
 * where the original run went (breakpoints and steps change where the cores cut their blocks, and
 * so where interrupts land: they must be repeated, not only their stops).
 */
export interface ResumeEntry {
  readonly kind: 'resume';
  /** The zone's instruction count when it was resumed. */
  readonly count: number;
  /** Each vCPU's retired count then (where a vCPU's earlier instruction lies: reverse-stepi). */
  readonly retired: readonly number[];
  readonly actions: readonly ResumeAction[];
  readonly setup: DebugSetup;
}

/** gdb halted the running zone between slices at instruction `count` (Ctrl-C). */
export interface HaltEntry {
  readonly kind: 'halt';
  readonly count: number;
}

/** The zone halted where vCPU `cpu` had retired `retired` instructions (a point reverse execution went back to). */
export interface CutEntry {
  readonly kind: 'cut';
  readonly cpu: number;
  readonly retired: number;
}

export type StopEntry = HaltEntry | CutEntry;
export type JournalEntry = ResumeEntry | StopEntry;

/**
 * A point of the journalled run where the zone is halted: the first `entries` entries done and the
 * run after the last of them ended (at its own stop: a breakpoint, a step's end), or ended by
 * `stop` when given.
 */
export interface Position {
  readonly entries: number;
  readonly stop?: StopEntry;
}

/** Entries a journal keeps before reverse execution starts afresh (a stepping session of a million steps). */
export const MAX_JOURNAL = 1_000_000;
