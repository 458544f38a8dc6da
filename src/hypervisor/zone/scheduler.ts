import type { SliceResult } from './zone.js';
import { defaultHostClock, type HostClock } from './virtual-clock.js';

/**
 * What the scheduler needs from a zone: a slice at a time, plain data back. A zone in a worker
 * thread can implement this over messages later (design.md: one worker per zone).
 */
export interface Schedulable {
  readonly id: number;
  /** Up to `budget` instructions per vCPU, ending early once the host clock reaches `endsAtMs`. */
  runSlice(budget: number, endsAtMs?: number): SliceResult;
  /**
   * Its guest time follows the host clock (realtime): its slices also get host-time deadlines and
   * it pays back overruns. Otherwise (virtual, warp time) its slices are instructions only, its
   * exits charged in instructions (exit-costs.ts), so nothing it sees depends on the host.
   */
  readonly hostTimed?: boolean;
  /** Set by the scheduler: the zone calls it when it becomes runnable outside a slice. */
  onRunnable: (() => void) | undefined;
}

export interface SchedulerOptions {
  /** Instructions per vCPU per slice (default 20 000). */
  readonly budget?: number;
  /** Host ms of rounds before yielding to the event loop (gdb sockets, the control channel). */
  readonly yieldAfterMs?: number;
  /**
   * Host ms a host-timed zone's slice may take (`hvisor run`: 5; a slice of plain instructions takes
   * well under 1). Exits can cost host time the instruction budget does not count (console writes,
   * MMIO in a loop, virtio requests): a slice ends at its deadline, and a zone whose slice still ran
   * longer owes the excess and sits rounds out, sliceMs each, until it has paid, so its exits come
   * out of its own share, not the other zones'. Zones in virtual or warp time are never cut by host
   * time: their exits are charged in instructions instead (exit-costs.ts). Default Infinity:
   * instructions only, every round the same (tests stepping rounds by hand).
   */
  readonly sliceMs?: number;
  /** What a slice's host time is measured with (default performance.now; the zones' clock). */
  readonly hostClock?: HostClock;
}

export interface RoundResult {
  readonly retired: number;
  readonly idle: boolean;
  readonly wakeInMs: number;
}

/**
 * Runs every zone's vCPUs in slices, round robin, in this thread. When every zone is idle (all
 * vCPUs wait, or zones are halted/stopped) it sleeps until the earliest timer deadline or until a
 * zone reports itself runnable — never spinning. A halted or crashed zone simply reports idle, so
 * the others keep running.
 */
export class Scheduler {
  readonly budget: number;
  readonly sliceMs: number;
  private readonly yieldAfterMs: number;
  private readonly hostClock: HostClock;
  private readonly zones: Schedulable[] = [];
  /** Host ms each zone's slices overran sliceMs by, not yet paid back by sitting rounds out. */
  private readonly owedMs = new Map<Schedulable, number>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private active = false;
  private sleeping = false;
  /** Counters for tests and `hvisor zone list`. */
  rounds = 0;
  sleeps = 0;
  /** Rounds a zone sat out to pay back host time its exits took. */
  roundsSatOut = 0;

  constructor(options: SchedulerOptions = {}) {
    this.budget = options.budget ?? 20_000;
    this.yieldAfterMs = options.yieldAfterMs ?? 10;
    this.sliceMs = options.sliceMs ?? Infinity;
    this.hostClock = options.hostClock ?? defaultHostClock;
  }

  add(zone: Schedulable): void {
    if (this.zones.includes(zone)) return;
    this.zones.push(zone);
    zone.onRunnable = () => this.wake();
    this.wake();
  }

  remove(zone: Schedulable): void {
    const i = this.zones.indexOf(zone);
    if (i >= 0) this.zones.splice(i, 1);
    this.owedMs.delete(zone);
    if (zone.onRunnable !== undefined) zone.onRunnable = undefined;
  }

  get zoneCount(): number {
    return this.zones.length;
  }

  /** One slice for every zone that owes no host time; one sliceMs paid back by each that does (host-timed zones only). */
  runRound(): RoundResult {
    let retired = 0;
    let idle = true;
    let wakeInMs = Infinity;
    // Copy: a slice may start or stop zones (hypercalls).
    for (const z of [...this.zones]) {
      const owed = this.owedMs.get(z);
      if (owed !== undefined) {
        if (owed > this.sliceMs) this.owedMs.set(z, owed - this.sliceMs);
        else this.owedMs.delete(z);
        this.roundsSatOut++;
        idle = false; // it has work: it only waits its turn
        continue;
      }
      const hostTimed = z.hostTimed === true && this.sliceMs !== Infinity;
      const t0 = hostTimed ? this.hostClock() : 0;
      const r = z.runSlice(this.budget, hostTimed ? t0 + this.sliceMs : Infinity);
      if (hostTimed) {
        const overrun = this.hostClock() - t0 - this.sliceMs;
        if (overrun > 0) this.owedMs.set(z, overrun);
      }
      retired += r.retired;
      if (!r.idle) idle = false;
      else wakeInMs = Math.min(wakeInMs, r.wakeInMs);
    }
    this.rounds++;
    return { retired, idle, wakeInMs: idle ? wakeInMs : 0 };
  }

  /** Starts running in the background of the event loop. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule(0);
  }

  /** No more rounds run after this (rounds are synchronous: none is in progress when it is called). */
  stop(): void {
    this.active = false;
    this.clearPending();
    this.sleeping = false;
  }

  get isSleeping(): boolean {
    return this.sleeping;
  }

  /** Something became runnable (a kick, a resume, a new zone): end a sleep now. */
  wake(): void {
    if (!this.active || !this.sleeping) return;
    this.sleeping = false;
    this.clearPending();
    this.schedule(0);
  }

  private loop(): void {
    this.immediate = undefined;
    this.timer = undefined;
    this.sleeping = false;
    if (!this.active) return;
    const t0 = performance.now();
    let r: RoundResult;
    do r = this.runRound();
    while (!r.idle && this.active && performance.now() - t0 < this.yieldAfterMs);
    if (!this.active) return;
    if (!r.idle) return this.schedule(0);
    this.sleeps++;
    this.sleeping = true;
    if (Number.isFinite(r.wakeInMs)) this.timer = setTimeout(() => this.loop(), Math.max(1, r.wakeInMs));
    // Otherwise nothing is scheduled: wake() resumes us.
  }

  private schedule(ms: number): void {
    if (ms <= 0) this.immediate = setImmediate(() => this.loop());
    else this.timer = setTimeout(() => this.loop(), ms);
  }

  private clearPending(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
