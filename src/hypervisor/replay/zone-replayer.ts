import type { ZoneTimeline } from '../zone/zone-timeline.js';
import { pcOf, type RecordedZone } from './recorded-zone.js';
import type { ControlEvent, LoggedEvent, ZoneLog } from './replay-log.js';
import { ReplayDivergence } from './replay-divergence.js';

/** How a zone's replay ended. */
export type ZoneReplayEnd = { readonly ok: true; readonly events: number; readonly instructions: number; readonly output: number } | { readonly ok: false; readonly divergence: ReplayDivergence };

/** Bytes of console output quoted either side of a difference. */
const QUOTE = 24;

/**
 * Replays one zone's log: delivers each input at its recorded instruction count and virtual time,
 * answers host reads with the recorded values, and checks as it goes that the zone is where the
 * recording was (count, time, pc, console bytes). The first difference ends the replay with a
 * ReplayDivergence; reaching the recorded end with everything equal ends it well.
 */
export class ZoneReplayer implements ZoneTimeline {
  private readonly events: readonly LoggedEvent[];
  private readonly recordedOutput: Uint8Array;
  private cursor = 0;
  private written = 0;
  /** The previous slice boundary: a replay passing an event's count between two boundaries missed it. */
  private lastBoundary = 0;
  private outcome: ZoneReplayEnd | undefined;

  constructor(
    private readonly zone: RecordedZone,
    log: ZoneLog,
    /** Each source's way into its model, by name. */
    private readonly sources: ReadonlyMap<string, (data: Uint8Array) => void>,
    private readonly onEnd: (end: ZoneReplayEnd) => void,
    /** Carries out a recorded lifecycle command (after the checks, at its count). */
    private readonly onControl: (event: ControlEvent) => void = () => {},
  ) {
    this.events = log.events;
    this.recordedOutput = log.console;
  }

  /** A diverged replay stops its zone; one that reached its end with everything equal lets it run on live. */
  get ended(): boolean {
    return this.outcome !== undefined && !this.outcome.ok;
  }

  /** The replay has its verdict: live input reaches the zone from here on (if it runs on). */
  get done(): boolean {
    return this.outcome !== undefined;
  }

  get result(): ZoneReplayEnd | undefined {
    return this.outcome;
  }

  /** Snapshottable: where the replay stands, so a snapshot loaded later replays on from there. */
  saveState(): unknown {
    return [this.cursor, this.written, this.lastBoundary];
  }

  loadState(state: unknown): void {
    [this.cursor, this.written, this.lastBoundary] = state as [number, number, number];
  }

  /** Another zone diverged: this one stops where it is, with no verdict of its own. */
  abandon(): void {
    this.outcome ??= { ok: false, divergence: new ReplayDivergence(this.zone.id, this.cursor, 'the rest of the recording', 'another zone diverged first') };
  }

  atBoundary(count: number): void {
    while (!this.done) {
      const e = this.events[this.cursor];
      if (e === undefined) return this.diverge('an end event in the log', 'none (the log stops without one)');
      if (e.at < count) return this.diverge(`${describe(e)} at instruction ${e.at}`, `the zone ran from instruction ${this.lastBoundary} to ${count} without a stop there`);
      if (e.at > count || e.kind === 'value') break;
      if (e.kind === 'end') return this.finish(e.output);
      if (!this.check(`instruction ${count}: pc`, e.pc, pcOf(this.zone))) return;
      if (!this.check(`instruction ${count}: console bytes written`, String(e.output), String(this.written))) return;
      const now = this.zone.now();
      if (now > e.ticks) return this.diverge(`instruction ${count} at virtual time ${e.ticks} or later`, `time ${now} already`);
      this.zone.warpTime(e.ticks);
      if (e.kind === 'control') {
        this.cursor++;
        this.onControl(e);
        continue;
      }
      const deliver = this.sources.get(e.source);
      if (deliver === undefined) return this.diverge(`an input source "${e.source}"`, `only ${[...this.sources.keys()].join(', ') || 'none'} in this run`);
      this.cursor++;
      deliver(e.data);
    }
    this.lastBoundary = count;
  }

  due(count: number): boolean {
    if (this.done) return false;
    const e = this.events[this.cursor];
    return e !== undefined && e.kind !== 'value' && e.at === count;
  }

  stuck(count: number): void {
    if (this.done) return;
    const e = this.events[this.cursor];
    if (e?.kind === 'end' && e.at === count) return this.finish(e.output);
    this.diverge(e === undefined ? 'an end event' : `${describe(e)} at instruction ${e.at}`, `every vCPU waiting for good at instruction ${count}`);
  }

  /** The zone stopped or crashed at `count`: only right if the recording ended there too. */
  stopped(count: number, how: string): void {
    if (this.done) return;
    const e = this.events[this.cursor];
    if (e?.kind === 'end' && e.at === count) return this.finish(e.output);
    this.diverge(e === undefined ? 'an end event' : `${describe(e)} at instruction ${e.at}`, `the zone ${how} at instruction ${count}`);
  }

  value(source: string, count: number, live: () => bigint): bigint {
    const e = this.events[this.cursor];
    if (this.done) return live();
    if (e?.kind === 'value' && e.source === source && e.at === count) {
      this.cursor++;
      return BigInt(e.value);
    }
    this.diverge(e === undefined ? 'an end event' : `${describe(e)} at instruction ${e.at}`, `a read of ${source} at instruction ${count}`);
    return live();
  }

  output(bytes: Uint8Array): void {
    if (this.done) return;
    for (let k = 0; k < bytes.length; k++) {
      const at = this.written + k;
      if (at >= this.recordedOutput.length || this.recordedOutput[at] !== bytes[k]) {
        const got = Uint8Array.from([...this.recordedOutput.subarray(Math.max(0, at - QUOTE), at), ...bytes.subarray(k)]);
        return this.diverge(
          `console byte ${at} ${at < this.recordedOutput.length ? quote(this.recordedOutput.subarray(Math.max(0, at - QUOTE), at + QUOTE)) : '(none: the recording wrote no more)'}`,
          `${quote(got)} at instruction ${this.zone.instructionCount}`,
        );
      }
    }
    this.written += bytes.length;
  }

  private check(what: string, expected: string, got: string): boolean {
    if (expected === got) return true;
    this.diverge(`${what} ${expected}`, got);
    return false;
  }

  private finish(output: number): void {
    if (!this.check('console bytes at the end', String(output), String(this.written))) return;
    this.cursor++;
    this.end({ ok: true, events: this.cursor, instructions: this.zone.instructionCount, output: this.written });
  }

  private diverge(expected: string, got: string): void {
    const last = this.events[this.cursor - 1];
    const after = last === undefined ? undefined : `${describe(last)} at instruction ${last.at}`;
    this.end({ ok: false, divergence: new ReplayDivergence(this.zone.id, this.cursor, expected, got, after) });
  }

  private end(outcome: ZoneReplayEnd): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.onEnd(outcome);
  }
}

function describe(e: LoggedEvent): string {
  switch (e.kind) {
    case 'input':
      return `${e.source} input of ${e.data.length} bytes ${quote(e.data)}`;
    case 'value':
      return `a read of ${e.source}`;
    case 'control':
      return `hvisor zone ${e.command}${e.file !== undefined ? ` ${e.file}` : ''}`;
    case 'end':
      return 'the end of the recording';
  }
}

/** Console bytes as a JSON string (control characters escaped), never raw. */
function quote(bytes: Uint8Array): string {
  return JSON.stringify(new TextDecoder().decode(bytes));
}
