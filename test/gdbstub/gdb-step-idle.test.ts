/**
 * Stepping never hangs (issue 15): gdb-multiarch single-steps the default demo zone (zone0-demo: a
 * heartbeat a second, `wfi` in between) through the stub's own step (`set osabi none`: vCont;s).
 * With the default sstep flags a step over the idle `wfi` moves virtual time to the vCPU's timer
 * deadline and returns at once, and pending interrupts wait (noirq): the steps stay in the idle loop.
 * `monitor sstep irq` takes the now-pending timer interrupt on the next step: pc reaches the trap
 * handler. With `nosleep` time does not jump, and stepping the idle loop never meets the timer.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { REPO } from '../helpers/fixtures.js';
import { gdbBatch, printedValues } from './gdb-batch.js';

const LOAD = 0x90000000n; // zone0-demo.json's kernel_load_paddr (= entry point)
// heartbeat.S as built (boards/guests/riscv64/heartbeat.elf, linked at 0): `idle: wfi; j idle`, then trap_entry.
const IDLE = LOAD + 0x50n;
const IDLE_LOOP = [IDLE, IDLE + 4n];
const TRAP_ENTRY = LOAD + 0x58n;

const steps = (n: number) => Array.from({ length: n }, () => ['stepi', 'p/x $pc']).flat();

describe('gdb stepi over an idle wfi in the default demo zone', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('returns at once: time moves to the timer deadline; noirq stays in the idle loop, irq enters the handler, nosleep never meets the timer', async () => {
    let out = '';
    const zones = ['zone0-demo.json', 'zoneR-heartbeat.json'].map((f) => join(REPO, 'boards/guests/riscv64', f));
    instance = await launch({ board: 'qemu-virt-riscv64', zones, gdbBasePort: 0, output: (t) => (out += t), log: () => {} });
    const deadline = Date.now() + 120_000;
    while (!/zone0-demo\s*│ heartbeat 1\n/.test(out)) {
      if (Date.now() > deadline) throw new Error(`zone0 never beat:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const zone = instance.hypervisor.zone(0)!;
    const r = await gdbBatch(instance.gdb.get(0)!.port, undefined, [
      'set osabi none',
      'p/x $pc',
      // Default flags (noirq, sleep): the steps over wfi return, time jumps to the deadline.
      ...steps(4),
      'echo ==irq\\n',
      'monitor sstep irq',
      ...steps(1),
      // Back to the idle loop (the handler armed the next beat a second ahead).
      `break *0x${IDLE.toString(16)}`,
      'continue',
      'delete',
      'echo ==irq nosleep\\n',
      'monitor sstep nosleep',
      ...steps(6),
      'echo ==irq sleep\\n',
      'monitor sstep sleep',
      ...steps(3),
    ], { timeoutMs: 90_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const [defaults, irq, nosleep, sleep] = r.stdout.split(/^==irq.*$/m).map(printedValues) as [bigint[], bigint[], bigint[], bigint[]];
    // noirq, sleep: four steps that returned, all in the idle loop (the timer's interrupt waits).
    expect(defaults).toHaveLength(5);
    for (const pc of defaults) expect(IDLE_LOOP).toContain(pc);
    // irq: the interrupt the jump made pending is taken by the next step.
    expect(irq).toEqual([TRAP_ENTRY]);
    // irq, nosleep: time moves only by the stepped instructions: the next beat, a second ahead, never comes.
    expect(nosleep).toHaveLength(6);
    for (const pc of nosleep) expect(IDLE_LOOP).toContain(pc);
    // irq, sleep: the next step over wfi ends at the deadline, and the step after it enters the handler.
    expect(sleep).toHaveLength(3);
    expect(sleep).toContain(TRAP_ENTRY);
    expect(r.stdout + r.stderr).toMatch(/pending interrupts are taken \(irq\)[^\n]*leaves time where it is \(nosleep\)/);
    expect(zone.halted).toBe(false); // gdb detached: the zone runs on
  }, 180_000);
});
