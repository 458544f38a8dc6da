/**
 * In virtual time a zone's slices are instructions only and its exits are charged in instructions
 * (src/hypervisor/zone/exit-costs.ts), never cut by the host clock: beside a counting zone0, a zone
 * that reads its PLIC in a loop and one that floods SBI console writes run round after round;
 * the attackers pay for their exits out of their own quanta, zone0 gets its full quantum every
 * round, and a host clock that leaps a second at every reading changes nothing anyone retires.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { EXIT_COSTS } from '../../src/hypervisor/zone/exit-costs.js';
import { counterZone0, riscvZone, sbiFloodZone } from './riscv-test-zones.js';
import { assembleRiscv } from './riscv-asm.js';

const ROUNDS = 60;

// Reads the zone's own PLIC (an emulated window: every load is an exit) in a 2-instruction loop.
const MMIO_FLOOD = `
  .globl _start
_start:
  li t0, 0xc000004
1:lw t1, 0(t0)
  j 1b
`;

function zones(dir: string) {
  const base = 0x100000000;
  const kernel = base + 0x10000;
  return [
    counterZone0(dir),
    riscvZone(dir, 'mmio.json', {
      name: 'mmio-flood', zone_id: 1, cpus: [3],
      memory_regions: [{ type: 'ram', physical_start: `0x${base.toString(16)}`, virtual_start: `0x${base.toString(16)}`, size: '0x1000000' }],
      kernel_filepath: assembleRiscv(MMIO_FLOOD, kernel, 'mmio-flood'), kernel_load_paddr: `0x${kernel.toString(16)}`, entry_point: `0x${kernel.toString(16)}`, dtb_load_paddr: `0x${(base + 0xf00000).toString(16)}`,
    }),
    sbiFloodZone(dir, 2, 1, 0x101000000),
  ];
}

/** Runs ROUNDS scheduler rounds by hand; what each zone retired and how many turns it sat out. */
async function rounds(hostClock: () => number): Promise<{ retired: number[]; satOut: number[]; budget: number }> {
  const instance: Instance = await launch({ board: 'qemu-virt-riscv64', zones: zones(scratch('exit-costs-')), gdbBasePort: false, output: () => {}, log: () => {}, hostClock });
  try {
    const hv = instance.hypervisor;
    hv.scheduler.stop();
    const start = hv.zones.map((z) => z.cpus[0]!.retired);
    for (let i = 0; i < ROUNDS; i++) hv.scheduler.runRound();
    return { retired: hv.zones.map((z, i) => z.cpus[0]!.retired - start[i]!), satOut: hv.zones.map((z) => z.turnsSatOut), budget: hv.scheduler.budget };
  } finally {
    await instance.close();
  }
}

describe('exits are charged in instructions, not host time (virtual time)', () => {
  let closing: Instance | undefined;
  afterEach(async () => {
    await closing?.close();
    closing = undefined;
  });

  it('a zone flooding MMIO or SBI console writes pays out of its own quanta; zone0 keeps its full share; the host clock changes nothing', async () => {
    const steady = await rounds(() => performance.now());
    let leaping = 0;
    const leapt = await rounds(() => (leaping += 1000));
    const [zone0, mmio, sbi] = steady.retired as [number, number, number];
    console.log(`in ${ROUNDS} rounds: zone0 ${zone0}, mmio-flood ${mmio}, sbi-flood ${sbi} instructions; turns sat out ${steady.satOut.join('/')}`);
    // zone0: every round a full quantum (a block may end just past it).
    expect(zone0).toBeGreaterThanOrEqual(ROUNDS * steady.budget);
    expect(zone0).toBeLessThan(ROUNDS * (steady.budget + 100));
    // mmio-flood: one exit per two instructions costs 2 + deviceAccess per iteration.
    const perIteration = 2 + EXIT_COSTS.deviceAccess;
    expect(mmio).toBeGreaterThan((ROUNDS - 2) * steady.budget * (2 / perIteration));
    expect(mmio).toBeLessThan((ROUNDS + 2) * steady.budget * (2 / perIteration));
    // A charge beyond the quantum is paid by sitting turns out.
    expect(steady.satOut[1]).toBeGreaterThan(0);
    // sbi-flood: each write (at most DBCN_MAX_WRITE bytes) ends its turn: one 3-instruction loop a round.
    expect(sbi).toBeLessThanOrEqual(ROUNDS * 3 + 10);
    // Nothing depended on the host clock.
    expect(leapt).toEqual(steady);
  });
});
