import type { TimerOutput } from './system-register-hook.js';

const ENABLE = 1;
const IMASK = 2;
const ISTATUS = 4;

/**
 * The EL1 physical and virtual generic timers (CNTP_*, CNTV_*). Counts come from VcpuHost.now();
 * the virtual offset is 0 (no EL2 guest-visible). Outputs are level signals the zone wires to PPIs.
 */
export class GenericTimer {
  /** Index 0 = physical, 1 = virtual. */
  readonly ctl = [0, 0];
  readonly cval = [0n, 0n];
  private readonly level = [false, false];

  constructor(private readonly output: TimerOutput | undefined) {}

  saveState(): unknown {
    return { ctl: [...this.ctl], cval: [...this.cval], level: [...this.level] };
  }

  loadState(state: unknown): void {
    const st = state as { ctl: number[]; cval: bigint[]; level: boolean[] };
    for (let t = 0; t < 2; t++) {
      this.ctl[t] = st.ctl[t]!;
      this.cval[t] = st.cval[t]!;
      this.level[t] = st.level[t]!;
    }
  }

  reset(): void {
    this.ctl[0] = this.ctl[1] = 0;
    this.cval[0] = this.cval[1] = 0n;
    this.update(0);
  }

  readCtl(t: number, now: number): bigint {
    const fired = this.ctl[t]! & ENABLE && BigInt(Math.floor(now)) >= this.cval[t]! ? ISTATUS : 0;
    return BigInt((this.ctl[t]! & 3) | fired);
  }

  writeCtl(t: number, value: bigint, now: number): void {
    this.ctl[t] = Number(value & 3n);
    this.update(now);
  }

  writeCval(t: number, value: bigint, now: number): void {
    this.cval[t] = value;
    this.update(now);
  }

  readTval(t: number, now: number): bigint {
    return BigInt.asUintN(64, BigInt.asIntN(32, this.cval[t]! - BigInt(Math.floor(now))));
  }

  writeTval(t: number, value: bigint, now: number): void {
    this.cval[t] = BigInt.asUintN(64, BigInt(Math.floor(now)) + BigInt.asIntN(32, value));
    this.update(now);
  }

  /** Re-evaluates both outputs at time `now`. */
  update(now: number): void {
    const n = BigInt(Math.floor(now));
    for (let t = 0; t < 2; t++) {
      const c = this.ctl[t]!;
      const on = (c & ENABLE) !== 0 && (c & IMASK) === 0 && n >= this.cval[t]!;
      if (on !== this.level[t]) {
        this.level[t] = on;
        this.output?.(t === 0 ? 'phys' : 'virt', on);
      }
    }
  }

  /** The earliest time an enabled, unmasked, not yet fired timer fires. */
  nextDeadline(): number {
    let d = Infinity;
    for (let t = 0; t < 2; t++) {
      const c = this.ctl[t]!;
      if ((c & ENABLE) !== 0 && (c & IMASK) === 0 && !this.level[t]) d = Math.min(d, Number(this.cval[t]!));
    }
    return d;
  }
}
