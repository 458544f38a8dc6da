/** Host time in milliseconds (performance.now by default; tests pass a fake). */
export type HostClock = () => number;

export const defaultHostClock: HostClock = () => performance.now();

/**
 * Where a zone's guest-visible time comes from.
 * - `virtual` (default): the instructions the zone's vCPUs retire, at a fixed rate. A loaded host,
 *   another zone or a debugger never changes what the guest sees, and two runs of the same zone
 *   agree. When every vCPU waits, time moves to the next deadline, paced by the host clock so an
 *   idle guest keeps wall-clock pace (`sleep 5` takes about 5 s); input arriving meanwhile lands
 *   at the host time it arrived, as it would on hardware.
 * - `warp`: as `virtual`, but idle time jumps to the deadline at once (tests, batch runs).
 * - `realtime`: follows the host clock while the zone runs, stands still while it is halted.
 */
export type TimeMode = 'virtual' | 'warp' | 'realtime';

export const TIME_MODES: readonly TimeMode[] = ['virtual', 'warp', 'realtime'];

/** Guest instructions per second of virtual time (1 GHz-equivalent: one instruction, one ns). */
export const DEFAULT_INSTRUCTIONS_PER_SECOND = 1_000_000_000;

export interface VirtualClockOptions {
  readonly mode?: TimeMode;
  readonly instructionsPerSecond?: number;
  readonly host?: HostClock;
}

/** A zone's virtual time in ticks of its timer frequency. */
export class VirtualClock {
  readonly mode: TimeMode;
  private readonly host: HostClock;
  /** Ticks one retired instruction is worth (virtual, warp). */
  private readonly ticksPerInstruction: number;
  /** Instructions counted into time since reset (virtual, warp). */
  private instructions = 0;
  /** Ticks added by jumps to deadlines (virtual, warp) or, in realtime, the ticks at the last freeze. */
  private baseTicks = 0;
  /** realtime: the host ms at the last thaw. */
  private baseMs: number;
  private frozen = true;
  /** A re-execution: idle time jumps to its deadline whatever the mode (the original wait ran its course). */
  warpIdle = false;
  /** virtual: an idle stretch being paced by the host clock, toward `idleDeadline`. */
  private idleFromMs = 0;
  private idleFromTicks = 0;
  private idleDeadline = Infinity;

  constructor(
    readonly frequency: number,
    options: VirtualClockOptions = {},
  ) {
    if (!(frequency > 0)) throw new RangeError(`timer frequency ${frequency} must be positive`);
    const ips = options.instructionsPerSecond ?? DEFAULT_INSTRUCTIONS_PER_SECOND;
    if (!(ips > 0) || !Number.isFinite(ips)) throw new RangeError(`guest instruction rate ${ips} must be a positive number`);
    this.mode = options.mode ?? 'virtual';
    this.host = options.host ?? defaultHostClock;
    this.ticksPerInstruction = frequency / ips;
    this.baseMs = this.host();
  }

  /** Whether time follows the instructions retired (virtual, warp) rather than the host clock. */
  get countsInstructions(): boolean {
    return this.mode !== 'realtime';
  }

  /**
   * Ticks since the zone was reset. `pending`: instructions the running vCPU has retired in its
   * current run and not yet counted (each vCPU sees its own progress within a slice).
   */
  now(pending = 0): number {
    if (this.mode !== 'realtime') return this.baseTicks + Math.floor((this.instructions + pending) * this.ticksPerInstruction);
    if (this.frozen) return this.baseTicks;
    return this.baseTicks + Math.floor(((this.host() - this.baseMs) * this.frequency) / 1000);
  }

  /** The zone's vCPUs ran side by side for `instructions` (the most any of them retired in a slice). */
  retire(instructions: number): void {
    this.instructions += instructions;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** realtime: stop following the host clock (halted, stopped). Instruction time stands still by itself. */
  freeze(): void {
    if (this.frozen) return;
    if (this.mode === 'realtime') this.baseTicks = this.now();
    this.frozen = true;
  }

  thaw(): void {
    if (!this.frozen) return;
    this.baseMs = this.host();
    this.frozen = false;
  }

  /** Jumps forward to `ticks` (never backward). */
  warpTo(ticks: number): void {
    const now = this.now();
    if (ticks <= now || !Number.isFinite(ticks)) return;
    this.baseTicks += ticks - now;
  }

  /**
   * Every vCPU waits until `deadline`. warp: time jumps there now (returns true: run again at once).
   * virtual: the wait is paced by the host clock from here; catchUp() moves time along it.
   * realtime: time follows the host clock anyway.
   */
  idleUntil(deadline: number): boolean {
    if (this.mode === 'warp' || this.warpIdle) {
      this.warpTo(deadline);
      return true;
    }
    if (this.mode === 'virtual' && this.idleDeadline === Infinity) {
      this.idleFromMs = this.host();
      this.idleFromTicks = this.now();
    }
    if (this.mode === 'virtual') this.idleDeadline = deadline;
    return false;
  }

  /**
   * virtual: ends a paced idle stretch, moving time by the host time it lasted, never past its
   * deadline (reached exactly when the wait ran its course: deterministic; earlier when something
   * woke the zone, at the host time it arrived).
   */
  catchUp(): void {
    if (this.idleDeadline === Infinity) return;
    const elapsed = Math.floor(((this.host() - this.idleFromMs) * this.frequency) / 1000);
    this.warpTo(Math.min(this.idleFromTicks + Math.max(0, elapsed), this.idleDeadline));
    this.idleDeadline = Infinity;
  }

  /** Host milliseconds until virtual time reaches `ticks` (0 if it has; Infinity if never or frozen). */
  msUntil(ticks: number): number {
    if (!Number.isFinite(ticks)) return Infinity;
    const left = ticks - this.now();
    if (left <= 0) return 0;
    if (this.mode === 'warp') return 0;
    if (this.mode === 'realtime' && this.frozen) return Infinity;
    // virtual: the paced idle stretch has already run for part of it.
    const paced = this.mode === 'virtual' && this.idleDeadline !== Infinity ? this.host() - this.idleFromMs : 0;
    return Math.max(0, Math.ceil((left * 1000) / this.frequency - paced));
  }

  /** The clock's state for a zone snapshot (virtual and warp: where instruction time stands). */
  saveState(): readonly number[] {
    return [this.instructions, this.baseTicks];
  }

  loadState(state: readonly number[]): void {
    [this.instructions, this.baseTicks] = state as [number, number];
    this.idleDeadline = Infinity;
    this.baseMs = this.host();
  }

  reset(): void {
    this.baseTicks = 0;
    this.instructions = 0;
    this.idleDeadline = Infinity;
    this.baseMs = this.host();
  }
}
