import type { Cpu } from '../../arch/cpu.js';
import type { ResumeAction, StopEvent } from '../../../gdbstub/target.js';
import type { Zone, ZoneRunState } from '../zone/zone.js';
import type { DebugSetup, ZoneHistory } from '../zone/zone-history.js';
import { MAX_JOURNAL, type CutEntry, type JournalEntry, type Position } from './debug-journal.js';
import { Rerun, RerunError, type Checkpoint, type RerunEnd } from './rerun.js';
import { restoreSnapshot, snapshotBytes, takeSnapshot, type ZoneSnapshot } from './zone-snapshot.js';

/** A stop a re-execution found: where, and (a watched write inside a run) which write of the cut's vCPU. */
interface Hit {
  readonly at: Position;
  readonly nth?: number;
  readonly event: StopEvent;
}

/**
 * One single step (or one run of the zone between two stops, inside a stepping history) as it can be
 * undone: the state before it and the RAM it overwrote.
 */
interface StepRecord {
  readonly cpu: Cpu;
  readonly before: unknown;
  /** A run: every vCPU's state before it (`cpu`, `before` are vCPU 0's). */
  readonly all?: readonly unknown[];
  readonly run: ZoneRunState;
  readonly irqchip: unknown;
  readonly writes: { readonly gpa: number; readonly old: Uint8Array }[];
  /** Where the zone stood before it, in the debugger journal (re-execution goes on from there). */
  readonly from: Position;
  /** The zone's instruction count before it. */
  readonly count: number;
}

/** Steps kept for going back (each holds a vCPU's registers and the GIC's state: a few KiB). */
const MAX_STEPS = 20_000;
/** RAM writes one run record may log before the history is given up (a long `continue`). */
const MAX_RUN_WRITES = 1_000_000;
/**
 * With re-execution, a run inside a stepping history is kept as one undoable record only up to
 * this many instructions (gdb stepping over an atomic sequence: reverse-stepi undoes it whole, as
 * gdb counted it one step); a longer one is a `continue`, gone back through by re-execution.
 */
const SHORT_RUN = 256;
/** Checkpoints (`--snapshot-every`) kept: the newest ones. */
const AUTO_KEPT = 2;
/** Named snapshots kept at once (each copies the zone's RAM). */
const MAX_SNAPSHOTS = 8;
/** Re-execution checkpoints kept: the newest ones (each copies only the RAM pages changed since the one before). */
export const MAX_CHECKPOINTS = 8;
/** A resume takes a checkpoint once the newest is this many instructions behind, or this many journal entries. */
const CHECKPOINT_GAP = 20_000_000;
const CHECKPOINT_ENTRIES = 10_000;
/** While a debugged zone runs on, a checkpoint every this many instructions. */
const CHECKPOINT_EVERY = 100_000_000;
/** Single steps from a re-execution's cut to a watched write (inside one block of the original run). */
const MAX_APPROACH = 100_000;

/** What re-execution needs from the run around the zone (record/replay: its outside input comes again). */
export interface RerunHooks {
  /** The scheduler's slice budget (a re-execution cuts its slices where the original's were cut). */
  readonly budget: number;
  /** On while the zone re-executes: its console bytes are not shown again nor recorded again. */
  quiet(on: boolean): void;
  /** Diagnostics (a re-execution that could not follow the original). */
  log(line: string): void;
}

/** The guest-physical ranges of gdb's write and access watchpoints now, and what each is. */
interface Watched {
  readonly gpa: number;
  readonly length: number;
  readonly kind: 'write' | 'access';
  readonly address: bigint;
}

/**
 * Reverse execution and snapshots of one zone under gdb. While gdb single-steps, each step is
 * recorded as it runs (the vCPU's and the interrupt controller's state before it, and the old bytes
 * of every RAM write it makes, shown by the core's write observer), so `bs` undoes exactly one
 * step and `bc` undoes steps until a breakpoint's address or a watched write.
 *
 * Beyond the steps (a `continue`, many of them), a zone whose outside input comes again (record or
 * replay) goes back by re-execution: every resume, halt and what gdb had set then is journalled
 * (debug-journal.ts), checkpoints are taken as gdb resumes and while the zone runs, and `bc` runs
 * the zone again from the newest checkpoint before it to where it is, noting where breakpoints and
 * watched writes come, then once more to the last of them (`bs`: to one instruction before).
 * Anything else that moves the zone (a restart, a debugger write, loading a snapshot, live input)
 * starts the history afresh. Snapshots (`monitor snapshot save|load|list|delete`) copy the zone's
 * RAM, vCPUs and snapshottable models.
 */
export class ZoneReverseHistory implements ZoneHistory {
  private readonly steps: StepRecord[] = [];
  private current: StepRecord | undefined;
  /** The run being recorded (gdb continued inside a stepping history), until the next step or undo. */
  private run: StepRecord | undefined;
  private readonly snapshots = new Map<string, ZoneSnapshot>();
  private readonly journal: JournalEntry[] = [];
  private readonly checkpoints: Checkpoint[] = [];
  /** Where the zone stands when it went back (undefined: at the end of the journal). */
  private here: Position | undefined;
  /** A re-execution runs: the zone's hooks only record steps when `stepFrom` says where from. */
  private rerunning = false;
  private stepFrom: Position | undefined;
  /** Live input reached the zone while it re-executed (it cannot be the original run). */
  private tainted = false;
  /** A re-execution's scan of watched writes (vCPU, guest-physical address, size). */
  private scanner: ((cpu: Cpu, gpa: number, size: number) => void) | undefined;
  private readonly observers: ((gpa: number, size: number) => void)[];

  /** `--snapshot-every N`: the next instruction count at which a checkpoint is taken. */
  private nextCheckpoint: number;

  constructor(
    private readonly zone: Zone,
    /** Take a checkpoint snapshot (`auto-COUNT`, the last two kept) every this many instructions (0: never). */
    private readonly snapshotEvery = 0,
    /** Re-execution across runs (record/replay runs, cores that can stop at a count). */
    private readonly rerunHooks?: RerunHooks,
  ) {
    this.nextCheckpoint = snapshotEvery > 0 ? snapshotEvery : Infinity;
    const memory = zone.memory;
    this.observers = zone.cpus.map((cpu) => (gpa: number, size: number) => {
      const record = this.current ?? this.run;
      if (record !== undefined && memory.find(gpa)?.kind === 'ram') record.writes.push({ gpa, old: memory.readDebug(gpa, size) });
      this.scanner?.(cpu, gpa, size);
    });
  }

  /** Whether the zone can go back by re-execution. */
  private get rerunnable(): boolean {
    return this.rerunHooks !== undefined && this.zone.cpus.every((c) => c.stopAt !== undefined);
  }

  /** Shows every vCPU's writes to the records and scan that want them, or to none. */
  private observe(): void {
    const on = this.current !== undefined || this.run !== undefined || this.scanner !== undefined;
    this.zone.cpus.forEach((c, i) => c.observeWrites!(on ? this.observers[i] : undefined));
  }

  /** A slice boundary at `count`: a checkpoint is due every `snapshotEvery` instructions. */
  atBoundary(count: number): void {
    if (this.rerunning) return;
    if (count >= this.nextCheckpoint) {
      this.nextCheckpoint = count + this.snapshotEvery;
      this.save(`auto-${count}`);
      const autos = [...this.snapshots.keys()].filter((k) => k.startsWith('auto-'));
      for (const old of autos.slice(0, -AUTO_KEPT)) this.snapshots.delete(old);
    }
    const newest = this.checkpoints.at(-1);
    if (newest !== undefined && this.here === undefined && this.zone.debuggerAttached && count - newest.count >= CHECKPOINT_EVERY) this.checkpoint();
  }

  resumed(actions: readonly ResumeAction[], setup: DebugSetup): void {
    if (this.rerunning || !this.rerunnable) return;
    const here = this.here;
    this.here = undefined;
    // (A position in a journal since forgotten, live input having come: nothing to cut.)
    if (here !== undefined && here.entries <= this.journal.length) {
      // Going on from a point gone back to: what came after it is another run's.
      this.journal.length = here.entries;
      if (here.stop !== undefined) this.journal.push(here.stop);
      const count = this.zone.instructionCount;
      while (this.checkpoints.length > 0 && (this.checkpoints.at(-1)!.entries > here.entries || this.checkpoints.at(-1)!.count > count)) this.checkpoints.pop();
    }
    if (this.journal.length >= MAX_JOURNAL) this.forgetRuns();
    // Stepping repeats the same setup: entries share it (a million steps stay small).
    let last = this.journal.length - 1;
    while (last >= 0 && this.journal[last]!.kind !== 'resume') last--;
    const before = this.journal[last];
    const shared = before?.kind === 'resume' && sameState(before.setup, setup) ? before.setup : setup;
    this.journal.push({ kind: 'resume', count: this.zone.instructionCount, retired: this.zone.cpus.map((c) => c.retired), actions: [...actions], setup: shared });
    const newest = this.checkpoints.at(-1);
    if (newest === undefined || this.zone.instructionCount - newest.count >= CHECKPOINT_GAP || this.journal.length - newest.entries >= CHECKPOINT_ENTRIES) this.checkpoint();
  }

  halted(count: number): void {
    if (this.rerunning || this.journal.length === 0 || this.here !== undefined) return;
    this.journal.push({ kind: 'halt', count });
  }

  /** Live input or a host value reached the zone: what came before it cannot be run again (single steps can still be undone). */
  outsideInput(): void {
    if (this.rerunning) this.tainted = true;
    else if (this.journal.length > 0) this.forgetRuns();
  }

  private checkpoint(): void {
    const zone = this.zone;
    const snapshot = takeSnapshot(zone, `checkpoint-${zone.instructionCount}`, this.checkpoints.at(-1)?.snapshot);
    this.checkpoints.push({ snapshot, entries: this.journal.length, count: zone.instructionCount, retired: zone.cpus.map((c) => c.retired) });
    if (this.checkpoints.length > MAX_CHECKPOINTS) this.checkpoints.shift();
  }

  /** Where the zone stands in the journal. */
  private position(): Position {
    return this.here ?? { entries: this.journal.length };
  }

  beforeRun(): void {
    if (this.rerunning) return;
    if (this.run !== undefined) {
      if (this.run.writes.length <= MAX_RUN_WRITES) return;
      this.dropSteps();
      return;
    }
    if (this.steps.length === 0) return;
    const cpus = this.zone.cpus;
    this.run = { cpu: cpus[0]!, before: undefined, all: cpus.map((c) => c.saveState!()), run: this.zone.saveRunState(), irqchip: this.zone.irqchip?.saveState?.(), writes: [], from: this.stepPosition(), count: this.zone.instructionCount };
    this.observe();
  }

  /** Where a step or run about to start (its resume journalled) starts from. */
  private stepPosition(): Position {
    return this.stepFrom ?? { entries: Math.max(0, this.journal.length - 1) };
  }

  /** The run being recorded ends (a step or an undo follows): it becomes the newest record. */
  private endRun(): void {
    const record = this.run;
    if (record === undefined) return;
    this.run = undefined;
    this.observe();
    // A long run (a continue) is gone back through by re-execution, not undone whole.
    if (this.rerunnable && this.zone.instructionCount - record.count > SHORT_RUN) this.steps.length = 0;
    else this.steps.push(record);
  }

  beforeStep(cpu: Cpu): void {
    if (this.rerunning && this.stepFrom === undefined) return;
    this.endRun();
    if (cpu.saveState === undefined || cpu.observeWrites === undefined) return;
    this.current = { cpu, before: cpu.saveState(), run: this.zone.saveRunState(), irqchip: this.zone.irqchip?.saveState?.(), writes: [], from: this.stepPosition(), count: this.zone.instructionCount };
    this.observe();
  }

  afterStep(): void {
    const record = this.current;
    if (record === undefined) return;
    this.current = undefined;
    this.observe();
    this.steps.push(record);
    if (this.steps.length > MAX_STEPS) this.steps.shift();
  }

  /** The steps kept are void (the zone moved on otherwise). */
  private dropSteps(): void {
    if (this.run !== undefined) {
      this.run = undefined;
      this.observe();
    }
    if (this.steps.length !== 0) this.steps.length = 0;
  }

  /** The journal and checkpoints are void: re-execution starts afresh at the next resume. */
  private forgetRuns(): void {
    this.journal.length = 0;
    this.checkpoints.length = 0;
    this.here = undefined;
  }

  forget(): void {
    this.dropSteps();
    this.forgetRuns();
  }

  /** Steps that can be undone now. */
  get depth(): number {
    return this.steps.length;
  }

  reverse(kind: 'step' | 'continue', thread: number): StopEvent {
    this.endRun();
    const rerunnable = this.rerunnable;
    for (;;) {
      const record = this.steps.at(-1);
      if (record === undefined) break;
      const at = this.zone.cpus.indexOf(record.cpu) + 1;
      if (record.all !== undefined && kind === 'continue' && rerunnable) {
        // A run: run it again from its start, noting breakpoints and watched writes inside it.
        const end = this.position();
        const outcome = this.rerunGuarded(end, () => {
          const expected = this.zone.cpus.map((c) => c.saveState!());
          this.undo(record);
          const hit = this.scan(record.from, { position: end }, expected);
          this.undo(record);
          this.steps.pop();
          this.here = record.from;
          return hit === undefined ? undefined : this.reach(record.from, hit);
        });
        if (outcome === 'failed') return { kind: 'history-start', thread };
        if (outcome !== undefined) return outcome;
        if (this.zone.hasBreakpoint(record.cpu.pc)) return { kind: 'breakpoint', thread: at, hw: false };
        continue;
      }
      // A watched write reports with the write done, as a forward hit would after gdb's step over
      // it: gdb then steps back over the writing instruction itself.
      const hit = kind === 'continue' ? this.watchedWrite(record) : undefined;
      if (hit !== undefined) return { kind: 'watchpoint', thread: at, watch: hit.kind, address: hit.address };
      this.steps.pop();
      this.undo(record);
      if (rerunnable) this.here = record.from;
      if (kind === 'step' || this.zone.hasBreakpoint(record.cpu.pc)) return kind === 'step' ? { kind: 'step', thread: at } : { kind: 'breakpoint', thread: at, hw: false };
    }
    if (!rerunnable) return { kind: 'history-start', thread };
    const here = this.position();
    const outcome = this.rerunGuarded(here, () => (kind === 'step' ? this.stepBack(here, thread) : this.continueBack(here)));
    return outcome === 'failed' || outcome === undefined ? { kind: 'history-start', thread } : outcome;
  }

  /**
   * Runs `body` (re-executions) with the zone quiet; if one cannot follow the original run the
   * zone is put back where it stood (at `here`) and 'failed' returned, with a log line.
   */
  private rerunGuarded(here: Position, body: () => StopEvent | undefined): StopEvent | undefined | 'failed' {
    const zone = this.zone;
    const hooks = this.rerunHooks!;
    const saved = takeSnapshot(zone, 'before-reverse', this.checkpoints.at(-1)?.snapshot);
    const setup = zone.debugSetup();
    this.rerunning = true;
    this.tainted = false;
    hooks.quiet(true);
    zone.warpIdle = true;
    try {
      return body();
    } catch (e) {
      if (!(e instanceof RerunError)) throw e;
      restoreSnapshot(zone, saved);
      this.here = here.entries === this.journal.length && here.stop === undefined ? undefined : here;
      hooks.log(`zone ${zone.id}: ${e.message}; reverse execution stays at instruction ${zone.instructionCount}`);
      return 'failed';
    } finally {
      this.rerunning = false;
      this.stepFrom = undefined;
      this.scanner = undefined;
      this.observe();
      zone.warpIdle = false;
      zone.armCores(setup);
      zone.rerunHalt();
      hooks.quiet(false);
    }
  }

  /** Checkpoints at or before the zone's position, oldest first. */
  private checkpointsBefore(here: Position): Checkpoint[] {
    if (here.entries > this.journal.length) return [];
    const count = this.zone.instructionCount;
    return this.checkpoints.filter((c) => c.entries < here.entries || (c.entries === here.entries && c.count <= count));
  }

  /** `bs` beyond the steps: re-execution to one instruction before on `thread`'s vCPU. */
  private stepBack(here: Position, thread: number): StopEvent | undefined {
    const k = thread - 1;
    const cpu = this.zone.cpus[k];
    if (cpu === undefined || cpu.retired === 0) return undefined;
    const retired = cpu.retired - 1;
    // The last resume (before where the zone stands) its vCPU had not yet passed that count at.
    let i = here.entries - 1;
    while (i >= 0) {
      const e = this.journal[i]!;
      if (e.kind === 'resume' && e.retired[k]! <= retired) break;
      i--;
    }
    const start = this.checkpointsBefore(here).filter((c) => c.entries <= i + 1 && c.retired[k]! <= retired).at(-1);
    if (i < 0 || start === undefined) return undefined;
    const target: Position = { entries: i + 1, stop: { kind: 'cut', cpu: k, retired } };
    this.rerunTo(start, target);
    this.here = target;
    return { kind: 'step', thread };
  }

  /** `bc` beyond the steps: scan back stretch by stretch from the newest checkpoint; the start of history when nothing hits. */
  private continueBack(here: Position): StopEvent | undefined {
    const ordered = this.checkpointsBefore(here);
    for (let j = ordered.length - 1; j >= 0; j--) {
      const start = ordered[j]!;
      const newest = j === ordered.length - 1;
      const expected = newest ? this.zone.cpus.map((c) => c.saveState!()) : undefined;
      const hit = this.scan(start, newest ? { position: here } : { checkpoint: ordered[j + 1]! }, expected);
      if (hit !== undefined) return this.reach(start, hit);
    }
    const oldest = ordered[0];
    if (oldest === undefined) return undefined;
    const rerun = new Rerun(this.zone, this.journal, this.rerunHooks!.budget);
    rerun.start(oldest);
    this.zone.rerunHalt();
    this.here = { entries: oldest.entries, stop: { kind: 'halt', count: oldest.count } };
    return undefined;
  }

  private rerunTo(start: Checkpoint | Position, target: Position): void {
    const rerun = new Rerun(this.zone, this.journal, this.rerunHooks!.budget);
    rerun.start(start);
    rerun.run({ position: target });
    if (this.tainted) throw new RerunError(`live input reached zone ${this.zone.id} during re-execution`);
  }

  /**
   * Runs the zone again from `start` to `end`, noting the last place gdb's breakpoints or
   * watchpoints (as they are set now) would have stopped it; `expected`: the end is where the zone
   * stood, and its vCPUs must come back to these states (else the re-execution was not the original run).
   */
  private scan(start: Checkpoint | Position, end: RerunEnd, expected?: readonly unknown[]): Hit | undefined {
    const zone = this.zone;
    let last: Hit | undefined;
    const rerun = new Rerun(zone, this.journal, this.rerunHooks!.budget, (at, event) => {
      const cpu = zone.cpus[('thread' in event ? event.thread : 1) - 1];
      if (event.kind === 'watchpoint' && zone.watchpoints.some((w) => w.address === event.address && w.kind !== 'read')) last = { at, event };
      else if (cpu !== undefined && zone.hasBreakpoint(cpu.pc)) last = { at, event: { kind: 'breakpoint', thread: cpu.index + 1, hw: false } };
    });
    const watched = this.watched();
    if (watched.length > 0) {
      this.scanner = (cpu, gpa, size) => {
        const w = watched.find((x) => gpa < x.gpa + x.length && x.gpa < gpa + size);
        if (w === undefined) return;
        const stop: CutEntry = { kind: 'cut', cpu: cpu.index, retired: cpu.retired };
        const same = last?.nth !== undefined && last.at.entries === rerun.applied && last.at.stop?.kind === 'cut' && last.at.stop.cpu === stop.cpu && last.at.stop.retired === stop.retired;
        last = { at: { entries: rerun.applied, stop }, nth: same ? last!.nth! + 1 : 1, event: { kind: 'watchpoint', thread: cpu.index + 1, watch: w.kind, address: w.address } };
      };
      this.observe();
    }
    try {
      rerun.start(start);
      rerun.run(end);
    } finally {
      this.scanner = undefined;
      this.observe();
    }
    if (this.tainted) throw new RerunError(`live input reached zone ${zone.id} during re-execution`);
    if (expected !== undefined) {
      const i = zone.cpus.findIndex((c, n) => !sameState(c.saveState!(), expected[n]));
      if (i >= 0) throw new RerunError(`re-execution of zone ${zone.id} did not come back to vCPU ${i}'s registers at instruction ${zone.instructionCount}`);
    }
    return last;
  }

  /** Runs again from `start` to a hit found by a scan; a watched write inside a run: steps up to it (undoable steps). */
  private reach(start: Checkpoint | Position, hit: Hit): StopEvent {
    this.rerunTo(start, hit.at);
    const cut = hit.at.stop;
    if (hit.nth === undefined || cut?.kind !== 'cut') {
      this.here = hit.at;
      return hit.event;
    }
    const zone = this.zone;
    const k = cut.cpu;
    const watched = this.watched();
    let seen = 0;
    this.scanner = (cpu, gpa, size) => {
      if (cpu.index === k && watched.some((x) => gpa < x.gpa + x.length && x.gpa < gpa + size)) seen++;
    };
    // Inside one block of the original run: no interrupt was taken there, nor is one now.
    zone.armCores({ breakpoints: [], watchpoints: [], interruptsInSteps: false, timer: true, sleep: true, stepPolicy: 'halted' });
    zone.rerun = { onStop: () => {} };
    try {
      for (let n = 0; seen < hit.nth; n++) {
        if (n >= MAX_APPROACH || zone.state !== 'running') throw new RerunError(`re-execution of zone ${zone.id} did not come to the watched write ${n} steps after instruction ${cut.retired} of vCPU ${k}`);
        this.stepFrom = { entries: hit.at.entries, stop: { kind: 'cut', cpu: k, retired: zone.cpus[k]!.retired } };
        zone.rerunResume(zone.cpus.map((_, i) => (i === k ? 'step' : 'stop')));
        zone.runSlice(this.rerunHooks!.budget);
      }
    } finally {
      zone.rerun = undefined;
    }
    this.here = { entries: hit.at.entries, stop: { kind: 'cut', cpu: k, retired: zone.cpus[k]!.retired } };
    return hit.event;
  }

  /** gdb's write and access watchpoints now, as guest-physical ranges (through vCPU 0's translation). */
  private watched(): Watched[] {
    const out: Watched[] = [];
    const cpu = this.zone.cpus[0]!;
    for (const w of this.zone.watchpoints) {
      if (w.kind === 'read') continue;
      for (let a = w.address; a < w.address + BigInt(w.length); ) {
        const gpa = cpu.debugTranslate(a, 'r');
        const inPage = Number(0x1000n - (a & 0xfffn));
        const n = Math.min(inPage, Number(w.address + BigInt(w.length) - a));
        if (gpa !== undefined) out.push({ gpa, length: n, kind: w.kind, address: w.address });
        a += BigInt(n);
      }
    }
    return out;
  }

  private undo(record: StepRecord): void {
    for (let i = record.writes.length - 1; i >= 0; i--) {
      const { gpa, old } = record.writes[i]!;
      this.zone.memory.writeDebug(gpa, old);
      for (const c of this.zone.cpus) c.invalidateCode(gpa, old.length);
    }
    if (record.all !== undefined) this.zone.cpus.forEach((c, i) => c.loadState!(record.all![i]));
    else record.cpu.loadState!(record.before);
    this.zone.loadRunState(record.run);
    if (record.irqchip !== undefined) this.zone.irqchip?.loadState?.(record.irqchip);
  }

  /** The first watchpoint (write or access) one of the step's writes touched, by guest-virtual address. */
  private watchedWrite(record: StepRecord): { kind: 'write' | 'access'; address: bigint } | undefined {
    for (const w of this.zone.watchpoints) {
      if (w.kind === 'read') continue;
      for (let a = w.address; a < w.address + BigInt(w.length); a += 1n) {
        const gpa = record.cpu.debugTranslate(a, 'r');
        if (gpa === undefined) continue;
        if (record.writes.some((x) => gpa >= x.gpa && gpa < x.gpa + x.old.length)) return { kind: w.kind, address: w.address };
      }
    }
    return undefined;
  }

  monitor(args: readonly string[]): string {
    const [verb, name] = args;
    const usage = 'usage: monitor snapshot save NAME | load NAME | list | delete NAME';
    switch (verb) {
      case 'save': {
        if (name === undefined || !/^[\w.-]{1,64}$/.test(name)) return `${usage} (NAME: letters, digits, . _ -)\n`;
        if (!this.snapshots.has(name) && [...this.snapshots.keys()].filter((k) => !k.startsWith('auto-')).length >= MAX_SNAPSHOTS) return `snapshot: ${MAX_SNAPSHOTS} snapshots kept already; delete one first\n`;
        const s = this.save(name);
        const missing = s.uncaptured.length > 0 ? ` (not kept: ${s.uncaptured.join(', ')}: their registers stay as they are on load)` : '';
        return `snapshot ${name} of zone ${this.zone.id} at instruction ${s.count}: ${s.cpus.length} vCPU(s), ${snapshotBytes(s) >> 20} MiB RAM, ${s.models.size} model(s)${missing}\n`;
      }
      case 'load': {
        const s = name === undefined ? undefined : this.snapshots.get(name);
        if (s === undefined) return `snapshot: no snapshot ${JSON.stringify(name ?? '')} (monitor snapshot list)\n`;
        this.load(s);
        return `zone ${this.zone.id} back at snapshot ${name} (instruction ${s.count})\n`;
      }
      case 'delete':
        return name !== undefined && this.snapshots.delete(name) ? `snapshot ${name} deleted\n` : `snapshot: no snapshot ${JSON.stringify(name ?? '')}\n`;
      case 'list':
      case undefined: {
        const lines = [...this.snapshots.values()].map((s) => `${s.name}: instruction ${s.count}, ${snapshotBytes(s) >> 20} MiB RAM`);
        const runs = this.checkpoints.length === 0 ? '' : `${this.checkpoints.length} checkpoint(s) for going back across runs (instructions ${this.checkpoints[0]!.count} to ${this.checkpoints.at(-1)!.count}, ${this.checkpoints.reduce((n, c) => n + snapshotBytes(c.snapshot), 0) >> 20} MiB RAM), ${this.journal.length} debugger event(s) journalled\n`;
        return `${lines.length === 0 ? 'no snapshots' : lines.join('\n')}\n${this.steps.length} single step(s) can be undone (reverse-stepi)\n${runs}`;
      }
      default:
        return `${usage}\n`;
    }
  }

  /** Takes (or replaces) a named snapshot of the zone as it is now. */
  save(name: string): ZoneSnapshot {
    const s = takeSnapshot(this.zone, name, this.checkpoints.at(-1)?.snapshot);
    this.snapshots.set(name, s);
    return s;
  }

  load(s: ZoneSnapshot): void {
    restoreSnapshot(this.zone, s);
    this.forget();
  }
}

/** Whether two saved core states are the same (typed arrays, arrays, objects, numbers, bigints). */
function sameState(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameState((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
