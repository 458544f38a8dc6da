import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { gdbBatch, trixieGdb, printedValues } from '../gdbstub/gdb-batch.js';
import { REPO } from '../helpers/fixtures.js';

/** Resolves once `predicate` holds on the collected output (polled while the zone runs). */
async function until(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const beats = (text: string) => (text.match(/^zone0-heartb\S*\s*│ heartbeat \d+$/gm) ?? []).length;

describe('hvisor run --board ls3a5000-7a2000: a loongarch64 zone and gdb on it', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('runs the demo guest in zone0 (banner, timer heartbeats on the UART); trixie gdb halts it, breaks in its timer handler, detaches', async () => {
    let out = '';
    instance = await launch({
      board: 'ls3a5000-7a2000', zones: [join(REPO, 'boards/guests/loongarch64/zone0-heartbeat.json')], gdbBasePort: 0,
      output: (t) => (out += t), log: () => {},
    });
    const plain = () => out.replace(/\x1b\[[0-9;]*m/g, '');
    await until(() => beats(plain()) >= 2, 'two heartbeats');
    expect(plain()).toMatch(/│ hvisor-ts demo guest \(loongarch64\): up on CPU 0$/m);

    const port = instance.gdb.get(0)!.port;
    const handler = 0x9000_1000n; // exception_entry: the image is loaded at 0x9000_0000, the handler 4 KiB in
    const run = await gdbBatch(port, undefined, [
      'set architecture Loongarch64', 'info threads', 'p/x $pc', `break *${handler}`, 'continue', 'p/x $pc', 'p/x $s1',
      'stepi', 'p/x $pc', 'delete', 'detach',
    ], { gdb: trixieGdb() });
    expect(run.stdout).toMatch(/\* 1 +Thread 1\.1 "zone0-heartbeat\/vcpu0 \(cpu 0\)"/);
    const values = printedValues(run.stdout);
    expect(values[0]! >= 0x9000_0000n && values[0]! < 0x9000_4000n).toBe(true);
    expect(values[1]).toBe(handler);
    expect(values[2]!).toBeGreaterThanOrEqual(2n); // s1 counts the beats so far
    expect(values[3]).toBe(handler + 4n);
    // Detached, the zone beats on.
    const seen = beats(plain());
    await until(() => beats(plain()) > seen, 'a heartbeat after detach');
  });
});
