/**
 * Guest time is the instructions a zone retires (virtual-clock.ts), so what a guest sees of time
 * does not depend on the host: a real riscv64 core runs a program that reads `time` around a busy
 * loop and around an SBI timer wait, and the readings are the same whether the zone runs with
 * idle time warped or paced by a host that another process keeps busy, and alone or beside zones
 * that count and flood console writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Riscv64Cpu } from '../../src/arch/riscv64/riscv64-cpu.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import type { TimeMode } from '../../src/hypervisor/zone/virtual-clock.js';
import { qemuVirtRiscv64 } from './boards.js';
import { assembleRiscv } from './riscv-asm.js';
import { configWithKernel } from './config-with-kernel.js';
import { counterZone0, sbiFloodZone } from './riscv-test-zones.js';
import { scratch } from '../helpers/linux-initramfs.js';

const RESULTS = 0x83100000;
const ROUNDS = 16;
const TIMER_HZ = 10_000_000;
/** Ticks the program asks its timer to wait each round. */
const WAIT = 2000;

// Each round: time; a busy loop of 1000 (round + 1) instructions; time; an SBI timer WAIT ticks
// ahead and wfi until it is pending; time. Then SRST power-off.
const PROGRAM = `
  .globl _start
_start:
  li s0, ${RESULTS}
  li s1, 0
  li s2, ${ROUNDS}
  li t0, 0x20
  csrs sie, t0              # STIE: wfi wakes on the timer (SIE stays off: no trap)
round:
  rdtime t0
  sd t0, 0(s0)
  addi t1, s1, 1
  li t2, 500
  mul t1, t1, t2
1:addi t1, t1, -1
  bnez t1, 1b
  rdtime t0
  sd t0, 8(s0)
  li t2, ${WAIT}
  add a0, t0, t2
  li a7, 0                  # legacy set_timer
  ecall
2:wfi
  csrr t3, sip
  andi t3, t3, 0x20
  beqz t3, 2b
  rdtime t0
  sd t0, 16(s0)
  li a0, -1
  li a7, 0
  ecall
  addi s0, s0, 24
  addi s1, s1, 1
  blt s1, s2, round
  li a7, 0x53525354         # SRST: shutdown
  li a6, 0
  li a0, 0
  li a1, 0
  ecall
3:j 3b
`;

interface Outcome {
  readonly readings: bigint[];
  readonly retired: number;
}

/**
 * Runs the program in its own zone to its power-off, after starting the zones `beside` (zone0 first)
 * under a scheduler that cuts host-timed slices at 5 ms as `hvisor run` does; the readings and the
 * instructions the program's zone retired.
 */
async function run(mode: TimeMode, config: string, beside: readonly string[] = []): Promise<Outcome> {
  const { machine } = qemuVirtRiscv64();
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const hv = new Hypervisor({
    machine,
    createCpu: ({ host, index, physical }) => new Riscv64Cpu(host, index, physical.id),
    timerFrequency: TIMER_HZ,
    zoneDefaults: { timeMode: mode },
    scheduler: { sliceMs: 5 },
    onZoneStopped: (z) => {
      if (z === zone) stopped();
    },
  });
  for (const other of beside) hv.startZoneFile(other);
  const zone = hv.startZoneFile(config);
  hv.scheduler.start();
  await done;
  hv.scheduler.stop();
  expect(zone.state).toBe('stopped');
  const readings: bigint[] = [];
  for (let i = 0; i < ROUNDS * 3; i++) readings.push(machine.physical.read(RESULTS + 8 * i, 8)!);
  return { readings, retired: zone.cpus.reduce((n, c) => n + c.retired, 0) };
}

describe('virtual time: what a zone sees of time comes from the instructions it retires', () => {
  let load: ChildProcess | undefined;
  afterEach(() => {
    load?.kill('SIGKILL');
    load = undefined;
  });

  it('gives the same readings, instruction for instruction, warped or paced on a host another process keeps busy', async () => {
    const config = configWithKernel('qemu-riscv64-linux2.json', assembleRiscv(PROGRAM, 0x84000000, 'vtime'));
    const warped = await run('warp', config);

    // The busy loop takes time in proportion to its instructions (1 GHz-equivalent: 100 per tick).
    for (let r = 0; r < ROUNDS; r++) {
      const [start, busy, woken] = warped.readings.slice(3 * r, 3 * r + 3) as [bigint, bigint, bigint];
      const instructions = 1000 * (r + 1);
      expect(Math.abs(Number(busy - start) - instructions / 100)).toBeLessThanOrEqual(1);
      // The wait ends exactly at its deadline: the few instructions after wfi are under one tick.
      expect(woken).toBe(busy + BigInt(WAIT));
    }

    load = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const paced = await run('virtual', config);
    expect(paced.readings).toEqual(warped.readings);
    expect(paced.retired).toBe(warped.retired);
  });

  it('gives the same readings beside a zone that counts and one that floods SBI console writes (one zone\'s load never changes another\'s time)', async () => {
    const config = configWithKernel('qemu-riscv64-linux2.json', assembleRiscv(PROGRAM, 0x84000000, 'vtime'));
    const alone = await run('warp', config);
    const dir = scratch('vtime-beside-');
    const crowded = await run('virtual', config, [counterZone0(dir), sbiFloodZone(dir, 2, 1, 0x90000000)]);
    expect(crowded.readings).toEqual(alone.readings);
    expect(crowded.retired).toBe(alone.retired);
  });
});
