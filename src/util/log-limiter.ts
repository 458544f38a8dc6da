/**
 * The one rate limiter of diagnostics that a guest or a client can trigger (refused hypercalls,
 * IVC doorbells to nobody, gdb protocol errors, ...). Each source (a zone, a gdb stub) has its own
 * token bucket, so one noisy zone cannot silence another's messages: `burst` lines at once, then
 * `perSecond`. Lines beyond that are counted, not kept; once the source has been quiet for a
 * refill period the count is written as one line ("... N messages dropped"). Work and memory per
 * dropped line are constant.
 */
export interface LogLimits {
  /** Lines a source may write at once. */
  readonly burst: number;
  /** Lines per second a source may write after its burst. */
  readonly perSecond: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = { burst: 20, perSecond: 5 };

/** Sources beyond this many share one bucket (source keys come from bounded sets: zone ids, stubs). */
const MAX_SOURCES = 256;

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
  totalDropped: number;
  report: ReturnType<typeof setTimeout> | undefined;
}

export class LogLimiter {
  private readonly buckets = new Map<string | number, Bucket>();

  constructor(
    private readonly sink: (line: string) => void,
    private readonly limits: LogLimits = DEFAULT_LOG_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Writes `line` for `source` if its bucket has a token; otherwise counts it. */
  log(source: string | number, line: string): void {
    const b = this.bucket(source);
    this.refill(b);
    if (b.tokens >= 1) {
      b.tokens--;
      this.flushDropped(source, b);
      this.sink(line);
      return;
    }
    b.dropped++;
    b.totalDropped++;
    if (b.report === undefined) {
      b.report = setTimeout(() => {
        b.report = undefined;
        this.flushDropped(source, b);
      }, 1000 / this.limits.perSecond + 1000);
      b.report.unref?.();
    }
  }

  /** A log function for one source (what `log` options take). */
  for(source: string | number): (line: string) => void {
    return (line) => this.log(source, line);
  }

  /** Lines of `source` dropped since the start (for monitors and tests). */
  dropped(source: string | number): number {
    return this.buckets.get(this.key(source))?.totalDropped ?? 0;
  }

  /** Writes any pending drop counts now (at exit) and cancels their timers. */
  flush(): void {
    for (const [source, b] of this.buckets) {
      if (b.report !== undefined) clearTimeout(b.report);
      b.report = undefined;
      this.flushDropped(source, b);
    }
  }

  private flushDropped(source: string | number, b: Bucket): void {
    if (b.dropped === 0) return;
    const n = b.dropped;
    b.dropped = 0;
    this.sink(`${typeof source === 'number' ? `zone ${source}` : source}: ${n} message${n === 1 ? '' : 's'} dropped (more than ${this.limits.perSecond} a second)`);
  }

  private key(source: string | number): string | number {
    return this.buckets.has(source) || this.buckets.size < MAX_SOURCES ? source : 'other sources';
  }

  private bucket(source: string | number): Bucket {
    const key = this.key(source);
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.limits.burst, at: this.now(), dropped: 0, totalDropped: 0, report: undefined };
      this.buckets.set(key, b);
    }
    return b;
  }

  private refill(b: Bucket): void {
    const t = this.now();
    b.tokens = Math.min(this.limits.burst, b.tokens + ((t - b.at) / 1000) * this.limits.perSecond);
    b.at = t;
  }
}
