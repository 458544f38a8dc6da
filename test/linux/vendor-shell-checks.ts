/**
 * The checks every vendor-board Linux test makes once its zone reaches a BusyBox shell on the board's
 * own console (issue 13's "Done when"): the console UART's row in /proc/interrupts counts and rises
 * as we type, the UART's clock in clk_summary is prepared and enabled at the expected rate, and
 * `sleep 5` takes 5 s of the zone's guest time at the board's timer rate.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { REPO } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';

export interface VendorShellBoot {
  readonly board: string;
  /** The vendor DTB, unmodified. */
  readonly dtb: string;
  /** The zone0 config under boards/guests/aarch64/. */
  readonly config: string;
  readonly kernel: string;
  readonly prompt: string;
  /** The console's name in failure messages. */
  readonly name: string;
}

/**
 * Boots zone0 of `board` from its vendor DTB with `kernel` and a BusyBox initramfs whose shell mounts
 * debugfs, and waits for the prompt on the board's console. `launched` gets the instance as soon as
 * it exists, so the test's afterEach closes it even when the boot fails.
 */
export async function bootVendorShell(b: VendorShellBoot, launched: (instance: Instance) => void): Promise<{ instance: Instance; console: GuestConsole }> {
  const dir = scratch(`${b.board}-zone0-`);
  const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64', b.config), 'utf8'));
  config.kernel_filepath = b.kernel;
  config.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit(b.prompt, { debugfs: true }) });
  writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
  let typeOn: (bytes: Uint8Array) => void = () => {};
  const console0 = new GuestConsole(b.name, (bytes) => typeOn(bytes));
  const instance = await launch({ board: b.board, dtb: b.dtb, zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: console0.append, log: () => {} });
  launched(instance);
  typeOn = (bytes) => instance.consoles.type(0, bytes);
  await console0.waitFor(new RegExp(`SHELL-READY[\\s\\S]*${b.prompt}$`), 'the shell prompt', 1_200_000);
  return { instance, console: console0 };
}

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
