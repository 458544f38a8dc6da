import type { StopEvent } from '../../../gdbstub/target.js';
import { HvisorError } from '../../util/hvisor-error.js';
import type { Zone } from '../zone/zone.js';
import type { JournalEntry, Position, ResumeEntry } from './debug-journal.js';
import { restoreSnapshot, type ZoneSnapshot } from './zone-snapshot.js';

/** A re-execution could not follow the original run (named where): reverse execution stays where it was. */
export class RerunError extends HvisorError {}

/** The zone's state while it ran after the first `entries` journal entries (the last of them a resume). */
export interface Checkpoint {
  readonly snapshot: ZoneSnapshot;
  readonly entries: number;
  /** The zone's instruction count there (a slice boundary). */
  readonly count: number;
  /** Each vCPU's retired count there. */
  readonly retired: readonly number[];
}

/** Where a re-execution ends: a halted position, or (a scan of an older stretch) where a later checkpoint was taken. */
export type RerunEnd = { readonly position: Position } | { readonly checkpoint: Checkpoint };

/** Slices a re-execution may run without reaching its end before it gives up (a zone that never gets there). */
const MAX_SLICES = 50_000_000;

/**
 * Runs a zone again from a checkpoint, or from the halted position it stands at, through the
 * debugger journal: each resume with the breakpoints, watchpoints and step flags gdb had then (the
 * cores run exactly as they did), each Ctrl-C halt at its instruction count, each cut at its
 * vCPU's retired count. Its own stops never reach gdb: the zone's `rerun` takes them, and a scan
 * (`onStop`) sees each stop of the original run on the way. Outside input comes as it came the
 * first time (a replay's log, whose position the checkpoint keeps); idle stretches jump to their
 * deadlines, as the original's ran to them.
 */
export class Rerun {
  /** Journal entries done so far. */
  applied = 0;
  private halted = true;
  private stopped: StopEvent | undefined;

  constructor(
    private readonly zone: Zone,
    private readonly journal: readonly JournalEntry[],
    private readonly budget: number,
    /** A stop of the original run passed on the way (not the end's own). */
    private readonly onStop?: (at: Position, event: StopEvent) => void,
  ) {}

  /** Restores `from` (a checkpoint) and runs on as it ran there, or starts from the zone halted at position `from`. */
  start(from: Checkpoint | Position): void {
    if ('snapshot' in from) {
      restoreSnapshot(this.zone, from.snapshot);
      this.applied = from.entries;
      const resume = lastResume(this.journal, from.entries);
      this.zone.armCores(resume.setup);
      this.zone.rerunResume(resume.actions);
      this.halted = false;
      return;
    }
    if (from.stop !== undefined) throw new Error('a re-execution starts from a journalled stop, not from a cut');
    this.applied = from.entries;
    this.halted = true;
  }

  run(end: RerunEnd): void {
    const zone = this.zone;
    const rerun: NonNullable<Zone['rerun']> = { onStop: (e) => (this.stopped = e) };
    zone.rerun = rerun;
    const target = 'position' in end ? end.position : undefined;
    let stopDone = false;
    try {
      for (let slices = 0; ; slices++) {
        if (zone.state !== 'running') throw new RerunError(`zone ${zone.id} ${zone.state} during re-execution at instruction ${zone.instructionCount}`);
        if (slices > MAX_SLICES) throw new RerunError(`re-execution of zone ${zone.id} did not reach its end in ${MAX_SLICES} slices`);
        const count = zone.instructionCount;
        if (this.halted) {
          if (target !== undefined && this.applied === target.entries && (target.stop === undefined || stopDone)) return;
          const e = this.journal[this.applied];
          if (e === undefined || (target !== undefined && this.applied >= target.entries)) throw new RerunError(`re-execution of zone ${zone.id} stopped at instruction ${count} where the original run went on`);
          if (e.kind !== 'resume') throw new RerunError(`re-execution of zone ${zone.id} stopped at instruction ${count} before the original's ${e.kind} there`);
          if (e.count !== count) throw new RerunError(`re-execution of zone ${zone.id} diverged: stopped at instruction ${count}, the original at ${e.count}`);
          zone.armCores(e.setup);
          zone.rerunResume(e.actions);
          this.applied++;
          this.halted = false;
          continue;
        }
        if ('checkpoint' in end && this.applied === end.checkpoint.entries && count === end.checkpoint.count) return;
        const atEnd = target !== undefined && this.applied === target.entries;
        const next: JournalEntry | undefined = atEnd ? (stopDone ? undefined : target.stop) : this.journal[this.applied];
        const consume = () => {
          if (atEnd) stopDone = true;
          else this.applied++;
        };
        if (next?.kind === 'halt' && next.count <= count) {
          if (next.count < count) throw new RerunError(`re-execution of zone ${zone.id} passed the original's halt at instruction ${next.count} (at ${count})`);
          zone.rerunHalt();
          consume();
          this.halted = true;
          continue;
        }
        rerun.target = next?.kind === 'cut' ? { cpu: next.cpu, retired: next.retired } : undefined;
        this.stopped = undefined;
        const slice = zone.runSlice(this.budget);
        const event = this.stopped as StopEvent | undefined;
        if (event !== undefined) {
          this.halted = true;
          if (next?.kind === 'cut' && rerun.target === undefined && event.kind === 'interrupted') consume();
          else if (!(atEnd && target.stop === undefined)) this.onStop?.({ entries: this.applied }, event);
          continue;
        }
        if (slice.retired === 0 && slice.idle && !Number.isFinite(slice.wakeInMs)) throw new RerunError(`zone ${zone.id} waits for good during re-execution at instruction ${count}`);
      }
    } finally {
      zone.rerun = undefined;
    }
  }
}

/** The resume entry whose run a checkpoint taken after `entries` entries is in. */
function lastResume(journal: readonly JournalEntry[], entries: number): ResumeEntry {
  const e = journal[entries - 1];
  if (e?.kind !== 'resume') throw new Error(`a checkpoint after journal entry ${entries - 1} (${e?.kind ?? 'none'}) is not in a run`);
  return e;
}
