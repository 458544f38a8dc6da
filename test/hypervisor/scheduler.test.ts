import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Scheduler } from '../../src/hypervisor/zone/scheduler.js';
import { Op } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config, makeZone } from './zone-fixture.js';

const ENTRY0 = 0x40400000n;
const ENTRY1 = 0x50400000n;
const busy = (entry: bigint): [number, number, bigint?][] => [[Op.Inc, 0], [Op.Jump, 0, entry]];

describe('Scheduler', () => {
  it('gives every zone and every running vCPU the same instruction budget per round', () => {
    const { machine } = qemuVirtAarch64();
    const z0 = makeZone(machine, config(0), [[Op.SetR1, 0, 0n], [Op.CpuOn, 1, ENTRY0 + 32n], ...busy(ENTRY0 + 32n)]);
    const z1 = makeZone(machine, config(1), busy(ENTRY1));
    z0.zone.start();
    z1.zone.start();
    // Instructions only: no host-time limit (a first, JIT-compiling slice may be slow on a loaded host).
    const s = new Scheduler({ budget: 1000, sliceMs: Infinity });
    s.add(z0.zone);
    s.add(z1.zone);
    for (let i = 0; i < 10; i++) s.runRound();
    expect(z1.cpus[0]!.retired).toBe(10_000);
    expect(z0.cpus[0]!.retired).toBe(10_000);
    expect(z0.cpus[1]!.retired).toBe(9_000 + 1000); // started during the first round, ran in it too
  });

  it('a debug-halted or crashed zone does not stop the others', () => {
    const { machine } = qemuVirtAarch64();
    const z0 = makeZone(machine, config(0), busy(ENTRY0));
    const z1 = makeZone(machine, config(1), [[Op.Store, 1, 0x40000000n]]);
    z0.zone.start();
    z1.zone.start();
    const s = new Scheduler({ budget: 100 });
    s.add(z0.zone);
    s.add(z1.zone);
    s.runRound();
    expect(z1.zone.state).toBe('crashed');
    z0.zone.halt();
    expect(s.runRound()).toEqual({ retired: 0, idle: true, wakeInMs: Infinity });
    z0.zone.resume(new Map(), 'continue');
    s.runRound();
    expect(z0.cpus[0]!.retired).toBe(200);
  });

  it('sleeps (no spinning) while every vCPU waits, and wakes at the timer deadline', async () => {
    const { machine } = qemuVirtAarch64();
    // 1000 Hz timer: wait 40 ticks = 40 ms, count, wait again.
    const z = makeZone(machine, config(1), [[Op.WaitTimer, 40], [Op.Inc, 0], [Op.Jump, 0, ENTRY1]]);
    z.zone.start();
    const s = new Scheduler();
    s.add(z.zone);
    const t0 = performance.now();
    s.start();
    while (z.cpus[0]!.r[1]! < 3n && performance.now() - t0 < 30_000) await sleep(5);
    const elapsed = performance.now() - t0;
    s.stop();
    // Three 40 ms timer waits took at least 120 ms of host time, in a handful of rounds: a
    // spinning loop would run thousands.
    expect(z.cpus[0]!.r[1]).toBe(3n);
    expect(elapsed).toBeGreaterThanOrEqual(115);
    expect(s.rounds).toBeLessThan(20);
    expect(s.sleeps).toBeGreaterThanOrEqual(3);
  });

  it('an interrupt kick ends a sleep with no deadline', async () => {
    const { machine } = qemuVirtAarch64();
    const z = makeZone(machine, config(1), [[Op.WaitIrq, 0], [Op.Putc, 0x6b], [Op.WaitIrq, 0]]);
    z.zone.start();
    const s = new Scheduler();
    s.add(z.zone);
    s.start();
    for (let i = 0; i < 4000 && !s.isSleeping; i++) await sleep(5);
    expect(s.isSleeping).toBe(true);
    const rounds = s.rounds;
    await sleep(30);
    expect(s.rounds).toBe(rounds);
    z.cpus[0]!.setInterrupt(0, true);
    z.zone.kick(0);
    for (let i = 0; i < 4000 && z.console.length === 0; i++) await sleep(5);
    s.stop();
    expect(Buffer.from(z.console).toString()).toBe('k');
  });
});
