import type { Cpu } from '../../arch/cpu.js';
import type { StopEvent } from '../../../gdbstub/target.js';
import type { Zone, ZoneRunState } from '../zone/zone.js';
import type { ZoneHistory } from '../zone/zone-history.js';
import { restoreSnapshot, snapshotBytes, takeSnapshot, type ZoneSnapshot } from './zone-snapshot.js';

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
}

/** Steps kept for going back (each holds a vCPU's registers and the GIC's state: a few KiB). */
const MAX_STEPS = 20_000;
/** RAM writes one run record may log before the history is given up (a long `continue`). */
const MAX_RUN_WRITES = 1_000_000;
/** Checkpoints (`--snapshot-every`) kept: the newest ones. */
const AUTO_KEPT = 2;
/** Named snapshots kept at once (each copies the zone's RAM). */
const MAX_SNAPSHOTS = 8;

/**
 * Reverse execution and snapshots of one zone under gdb. While gdb single-steps, each step is
 * recorded as it runs (the vCPU's and the interrupt controller's state before it, and the old bytes
 * of every RAM write it makes, shown by the core's write observer), so `bs` undoes exactly one
 * step and `bc` undoes steps until a breakpoint's address or a watched write, or the start of the
 * steps kept. Anything else that moves the zone on (running, a restart, a debugger write, loading a
 * snapshot) starts the history afresh. Snapshots (`monitor snapshot save|load|list|delete`) copy
 * the zone's RAM, vCPUs and snapshottable models.
 */
export class ZoneReverseHistory implements ZoneHistory {
  private readonly steps: StepRecord[] = [];
  private current: StepRecord | undefined;
  /** The run being recorded (gdb continued inside a stepping history), until the next step or undo. */
  private run: StepRecord | undefined;
  private readonly snapshots = new Map<string, ZoneSnapshot>();

  /** `--snapshot-every N`: the next instruction count at which a checkpoint is taken. */
  private nextCheckpoint: number;

  constructor(
    private readonly zone: Zone,
    /** Take a checkpoint snapshot (`auto-COUNT`, the last two kept) every this many instructions (0: never). */
    private readonly snapshotEvery = 0,
  ) {
    this.nextCheckpoint = snapshotEvery > 0 ? snapshotEvery : Infinity;
  }

  /** A slice boundary at `count`: a checkpoint is due every `snapshotEvery` instructions. */
  atBoundary(count: number): void {
    if (count < this.nextCheckpoint) return;
    this.nextCheckpoint = count + this.snapshotEvery;
    this.save(`auto-${count}`);
    const autos = [...this.snapshots.keys()].filter((k) => k.startsWith('auto-'));
    for (const old of autos.slice(0, -AUTO_KEPT)) this.snapshots.delete(old);
  }

  beforeRun(): void {
    if (this.run !== undefined) {
      if (this.run.writes.length <= MAX_RUN_WRITES) return;
      this.forget();
      return;
    }
    if (this.steps.length === 0) return;
    const cpus = this.zone.cpus;
    const record: StepRecord = { cpu: cpus[0]!, before: undefined, all: cpus.map((c) => c.saveState!()), run: this.zone.saveRunState(), irqchip: this.zone.irqchip?.saveState?.(), writes: [] };
    const memory = this.zone.memory;
    for (const c of cpus) {
      c.observeWrites!((gpa, size) => {
        if (memory.find(gpa)?.kind === 'ram') record.writes.push({ gpa, old: memory.readDebug(gpa, size) });
      });
    }
    this.run = record;
  }

  /** The run being recorded ends (a step or an undo follows): it becomes the newest record. */
  private endRun(): void {
    const record = this.run;
    if (record === undefined) return;
    this.run = undefined;
    for (const c of this.zone.cpus) c.observeWrites!(undefined);
    this.steps.push(record);
  }

  beforeStep(cpu: Cpu): void {
    this.endRun();
    if (cpu.saveState === undefined || cpu.observeWrites === undefined) return;
    const record: StepRecord = { cpu, before: cpu.saveState(), run: this.zone.saveRunState(), irqchip: this.zone.irqchip?.saveState?.(), writes: [] };
    const memory = this.zone.memory;
    cpu.observeWrites((gpa, size) => {
      if (memory.find(gpa)?.kind === 'ram') record.writes.push({ gpa, old: memory.readDebug(gpa, size) });
    });
    this.current = record;
  }

  afterStep(): void {
    const record = this.current;
    if (record === undefined) return;
    this.current = undefined;
    record.cpu.observeWrites!(undefined);
    this.steps.push(record);
    if (this.steps.length > MAX_STEPS) this.steps.shift();
  }

  forget(): void {
    if (this.run !== undefined) {
      this.run = undefined;
      for (const c of this.zone.cpus) c.observeWrites!(undefined);
    }
    if (this.steps.length !== 0) this.steps.length = 0;
  }

  /** Steps that can be undone now. */
  get depth(): number {
    return this.steps.length;
  }

  reverse(kind: 'step' | 'continue', thread: number): StopEvent {
    this.endRun();
    for (;;) {
      const record = this.steps.at(-1);
      if (record === undefined) return { kind: 'history-start', thread };
      const at = this.zone.cpus.indexOf(record.cpu) + 1;
      // A watched write reports with the write done, as a forward hit would after gdb's step over
      // it: gdb then steps back over the writing instruction itself.
      const hit = kind === 'continue' ? this.watchedWrite(record) : undefined;
      if (hit !== undefined) return { kind: 'watchpoint', thread: at, watch: hit.kind, address: hit.address };
      this.steps.pop();
      this.undo(record);
      if (kind === 'step' || this.zone.hasBreakpoint(record.cpu.pc)) return kind === 'step' ? { kind: 'step', thread: at } : { kind: 'breakpoint', thread: at, hw: false };
    }
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
        return `${lines.length === 0 ? 'no snapshots' : lines.join('\n')}\n${this.steps.length} single step(s) can be undone (reverse-stepi)\n`;
      }
      default:
        return `${usage}\n`;
    }
  }

  /** Takes (or replaces) a named snapshot of the zone as it is now. */
  save(name: string): ZoneSnapshot {
    const s = takeSnapshot(this.zone, name);
    this.snapshots.set(name, s);
    return s;
  }

  load(s: ZoneSnapshot): void {
    restoreSnapshot(this.zone, s);
    this.forget();
  }
}
