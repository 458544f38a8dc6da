/**
 * `hvisor zone restart` after a debugger saw the zone crash and detached (issue 18, item 8): the
 * restarted zone runs from its entry; before, it stayed halted until a debugger attached and left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { launch, type Instance } from '../../src/cli/launch.js';
import { zoneList, zoneRestart } from '../../src/hypervisor/control/control-client.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { gdbBatch } from '../gdbstub/gdb-batch.js';
import { assembleRiscv } from './riscv-asm.js';
import { counterZone0, riscvZone } from './riscv-test-zones.js';

const STATE = 0x101300000; // +0: boots, +8: go
const KERNEL = 0x101010000;

// Counts its boots, waits for `go`, then stores to an address outside the zone (no trap handler: a crash).
const CRASHER = `
  .globl _start
_start:
  li s0, ${STATE}
  ld t0, 0(s0)
  addi t0, t0, 1
  sd t0, 0(s0)
1:ld t0, 8(s0)
  beqz t0, 1b
  li t1, 0x10
crash:
  sd t0, 0(t1)
  j .
`;

async function until(predicate: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a zone restarted after a debugger saw it crash', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('runs from its entry once gdb-multiarch has seen the SIGSEGV and detached', async () => {
    const dir = scratch('restart-debug-');
    const elf = assembleRiscv(CRASHER, KERNEL, 'crasher');
    const zone1 = riscvZone(dir, 'zone1.json', {
      name: 'crasher', zone_id: 1, cpus: [2],
      memory_regions: [{ type: 'ram', physical_start: '0x101000000', virtual_start: '0x101000000', size: '0x1000000' }],
      kernel_filepath: elf, kernel_load_paddr: `0x${KERNEL.toString(16)}`, entry_point: `0x${KERNEL.toString(16)}`, dtb_load_paddr: '0x101f00000',
    });
    const control = { path: join(dir, 'control.sock') };
    instance = await launch({ board: 'qemu-virt-riscv64', zones: [counterZone0(dir), zone1], control, gdbBasePort: 0, output: () => {}, log: () => {} });
    const hv = instance.hypervisor;
    const boots = () => hv.machine.physical.read(STATE, 8)!;
    await until(() => boots() === 1n, 'the first boot');

    const gdb = await gdbBatch(instance.gdb.get(1)!.port, elf, [`set *(long *)0x${(STATE + 8).toString(16)} = 1`, 'continue', 'p/x $pc', 'detach']);
    expect(gdb.stdout).toMatch(/SIGSEGV/);
    expect(gdb.stdout).toMatch(/\$1 = 0x[0-9a-f]+/);
    expect(hv.zone(1)!.state).toBe('crashed');

    hv.machine.physical.write(STATE + 8, 8, 0n); // the next run waits at its loop
    await zoneRestart(control, 1);
    await until(() => boots() === 2n, 'the second boot after `hvisor zone restart`');
    const listed = (await zoneList(control)).zones.find((z) => z.id === 1)!;
    expect([listed.state, listed.halted]).toEqual(['running', false]);
  });
});
