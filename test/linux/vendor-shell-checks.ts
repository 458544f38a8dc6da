/**
 * The checks every vendor-board Linux test makes once its zone reaches a BusyBox shell on the board's
 * own console (issue 13's "Done when"): the console UART's row in /proc/interrupts counts and rises
 * as we type, the UART's clock in clk_summary is prepared and enabled at the expected rate, and
 * `sleep 5` takes 5 s of the zone's guest time at the board's timer rate.
 */
import { expect } from 'vitest';
import type { GuestConsole } from '../helpers/guest-console.js';
import { interruptCounts } from '../helpers/guest-console.js';

export interface VendorShellChecks {
  readonly console: GuestConsole;
  readonly prompt: string;
  /** The UART's /proc/interrupts row (its interrupt number and device name). */
  readonly uartRow: RegExp;
  /** The UART's clock as clk_summary names it, and the rate it must run at. */
  readonly clock: { readonly name: string; readonly rate: number };
  /** The zone's guest clock (ticks of `timerRate`). */
  readonly now: () => number;
  readonly timerRate: number;
}

export async function checkVendorShell(c: VendorShellChecks): Promise<void> {
  const answer = (command: string, done: RegExp, ms?: number) =>
    c.console.run(command, new RegExp(`${done.source}[\\s\\S]*${c.prompt}$`), ms);

  // The UART's row: counted on some vCPU, and rising as we type.
  const before = interruptCounts(await answer('cat /proc/interrupts', /Err:[^\n]*\n/), c.uartRow, 1)[0]!;
  expect(before).toBeGreaterThan(0);
  const after = interruptCounts(await answer('cat /proc/interrupts', /Err:[^\n]*\n/), c.uartRow, 1)[0]!;
  expect(after).toBeGreaterThan(before);

  // clk_summary: the clock prepared and enabled (counts >= 1) at its rate.
  const name = c.clock.name;
  const clocks = await answer(`grep -E "${name}" /sys/kernel/debug/clk/clk_summary`, new RegExp(`${name}[^\\n]*\\n`));
  const row = new RegExp(`^\\s*${name}\\s+(\\d+)\\s+(\\d+)\\s+\\d+\\s+(\\d+)`, 'm').exec(clocks);
  expect(row, clocks).not.toBeNull();
  expect(Number(row![1])).toBeGreaterThanOrEqual(1);
  expect(Number(row![2])).toBeGreaterThanOrEqual(1);
  expect(Number(row![3])).toBe(c.clock.rate);

  // sleep 5: 5 s of the zone's virtual time. The same command without the sleep measures what
  // typing, fork and exec cost on a loaded host; a timer at the wrong rate would be off by its ratio.
  const elapsed = async (command: string) => {
    const t0 = c.now();
    await answer(`${command}; echo SLEPT`, /SLEPT\n/, 300_000);
    return (c.now() - t0) / c.timerRate;
  };
  const overhead = await elapsed('sleep 0');
  const seconds = await elapsed('sleep 5');
  expect(seconds).toBeGreaterThanOrEqual(5);
  expect(seconds - overhead).toBeGreaterThan(4);
  expect(seconds - overhead).toBeLessThan(10);
}
