/** Host time in milliseconds (performance.now by default; tests pass a fake). */
export type HostClock = () => number;

export const defaultHostClock: HostClock = () => performance.now();

/**
 * A zone's virtual time in timer ticks: it follows the host clock while the zone runs, stands still
 * while the zone is frozen (debug-halted, stopped), and can jump forward to a deadline when every
 * vCPU waits and the zone runs in `warp` mode (deterministic, no sleeping).
 */
export class VirtualClock {
  private baseTicks = 0;
  private baseMs: number;
  private frozen = true;

  constructor(
    readonly frequency: number,
    private readonly host: HostClock = defaultHostClock,
  ) {
    if (!(frequency > 0)) throw new RangeError(`timer frequency ${frequency} must be positive`);
    this.baseMs = host();
  }

  /** Ticks since the zone was created, excluding frozen time. */
  now(): number {
    if (this.frozen) return this.baseTicks;
    return this.baseTicks + Math.floor(((this.host() - this.baseMs) * this.frequency) / 1000);
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  freeze(): void {
    if (this.frozen) return;
    this.baseTicks = this.now();
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

  /** Host milliseconds until virtual time reaches `ticks` (0 if it has; Infinity if never or frozen). */
  msUntil(ticks: number): number {
    if (!Number.isFinite(ticks)) return Infinity;
    const left = ticks - this.now();
    if (left <= 0) return 0;
    return this.frozen ? Infinity : Math.ceil((left * 1000) / this.frequency);
  }

  reset(): void {
    this.baseTicks = 0;
    this.baseMs = this.host();
  }
}
