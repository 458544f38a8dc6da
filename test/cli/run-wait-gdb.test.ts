/**
 * `hvisor run --wait-gdb` (issue 15, as QEMU's -S): every zone holds at its first instruction until
 * its own gdb says continue. gdb-multiarch's first `$pc` is the zone's entry point; the zone printed
 * nothing before its `continue`, and a zone whose gdb has not continued yet stays silent beside it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { REPO } from '../helpers/fixtures.js';
import { gdbBatch, printedValues } from '../gdbstub/gdb-batch.js';


describe('hvisor run --wait-gdb', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('holds every zone at its entry point until its gdb continues', async () => {
    let out = '';
    const zones = ['zone0-demo.json', 'zoneR-heartbeat.json'].map((f) => join(REPO, 'boards/guests/riscv64', f));
    instance = await launch({ board: 'qemu-virt-riscv64', zones, gdbBasePort: 0, waitGdb: true, output: (t) => (out += t), log: (l) => (out += `${l}\n`) });
    const hv = instance.hypervisor;
    const [zone0, zoneR] = [hv.zone(0)!, hv.zone(1)!];
    // The scheduler found nothing to run and went to sleep: neither zone ran an instruction.
    while (!hv.scheduler.isSleeping) await new Promise((r) => setTimeout(r, 5));
    expect(zone0.halted && zoneR.halted).toBe(true);
    expect([...zone0.cpus, ...zoneR.cpus].map((c) => c.retired)).toEqual([0, 0, 0]);
    expect(out).not.toMatch(/│/); // no zone printed anything

    // zone0's gdb: the first $pc is the entry point; continue, and interrupt once zone0 has spoken.
    const banner0 = /zone0-demo\s*│ hvisor-ts demo guest: up on hart 0/;
    const first = await gdbBatch(instance.gdb.get(0)!.port, undefined, ['p/x $pc', 'continue'], { interruptAfterMs: 0, interruptWhen: () => banner0.test(out), timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(printedValues(first.stdout)[0]).toBe(zone0.config.entryPoint);
    expect(out).toMatch(banner0);
    // zoneR's gdb has not said continue: zoneR is still at its entry point, silent.
    expect(zoneR.cpus[0]!.retired).toBe(0);
    expect(out).not.toMatch(/zoneR\s*│/);

    const second = await gdbBatch(instance.gdb.get(1)!.port, undefined, ['p/x $pc', 'info threads'], { timeoutMs: 90_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(printedValues(second.stdout)[0]).toBe(zoneR.config.entryPoint);
    // gdb detached: zoneR runs from there.
    while (!/zoneR\s*│ hvisor-ts demo guest: up on hart 3/.test(out)) await new Promise((r) => setTimeout(r, 5));
  }, 180_000);
});
