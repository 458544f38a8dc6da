import type { GuestErrorReport, RunResult, WatchHit } from '../../src/arch/cpu.js';

/** The guest-error report a stop carries, or undefined for any other stop. */
export function errorOf(stop: RunResult): GuestErrorReport | undefined {
  return stop.kind === 'guest-error' ? stop.report : undefined;
}

/** The watchpoint hit a stop carries, or undefined for any other stop. */
export function hitOf(stop: RunResult): WatchHit | undefined {
  return stop.kind === 'watchpoint' ? stop.hit : undefined;
}
