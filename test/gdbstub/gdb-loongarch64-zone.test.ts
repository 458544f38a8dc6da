import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { Loongarch64Cpu } from '../../src/arch/loongarch64/loongarch64-cpu.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { Scheduler } from '../../src/hypervisor/zone/scheduler.js';
import { Zone } from '../../src/hypervisor/zone/zone.js';
import { Machine } from '../../src/machine/machine.js';
import { tool } from '../helpers/fixtures.js';
import { buildLoongarchProgram } from '../loongarch64/toolchain.js';
import { gdbBatch, trixieGdb, printedValues } from './gdb-batch.js';

// The product path on loongarch64: the hypervisor's Zone (a real LA464 core, the real scheduler)
// behind the stub, attached by a LoongArch-capable gdb (trixie's, in the fixtures' chroot):
// threads, registers, a breakpoint, single steps, a write watchpoint, memory, detach.
const SOURCE = `
    .text
    .globl _start
_start:
    la.pcrel  $a0, counter
    .globl loop
loop:
    ld.d      $t0, $a0, 0
    addi.d    $t0, $t0, 1
    .globl store
store:
    st.d      $t0, $a0, 0
    b         loop
    .balign 4096
    .globl counter
counter:
    .quad 0
`;

/** A board shaped like QEMU's loongarch virt (4 CPUs, 1 GiB of RAM at 0): enough for a bare zone. */
function loongarchMachine(): Machine {
  const m = new Machine('ls3a5000-7a2000', 'loongarch64', [0, 1, 2, 3].map((i) => ({ id: i, hwid: BigInt(i), path: `/cpus/cpu@${i}` })), new Uint8Array());
  m.addRam(0, 0x4000_0000);
  return m;
}


describe('trixie gdb-multiarch on a loongarch64 hypervisor zone', () => {
  const machine = loongarchMachine();
  const scheduler = new Scheduler({ budget: 5000 });
  let zone: Zone;
  let server: GdbServer;
  let symbols: Map<string, bigint>;
  let elf: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdb-la64-zone-'));
    writeFileSync(join(dir, 'loop.S'), SOURCE);
    ({ elf, symbols } = buildLoongarchProgram(join(dir, 'loop.S'), { name: 'zone-loop' }));
    execFileSync(tool('llvm-objcopy-19'), ['-O', 'binary', elf, join(dir, 'loop.bin')]);
    const text = new Uint8Array(readFileSync(join(dir, 'loop.bin')));
    const cfg = zoneConfigFromJson({
      arch: 'loongarch64', name: 'la-zone0', zone_id: 0, cpus: [0],
      memory_regions: [{ type: 'ram', physical_start: '0x200000', virtual_start: '0x200000', size: '0x1000000' }],
      interrupts: [], ivc_configs: [], kernel_filepath: 'loop.bin', dtb_filepath: '', kernel_load_paddr: '0x200000',
      dtb_load_paddr: '0x1000000', entry_point: '0x200000', pci_config: [], num_pci_devs: 0, alloc_pci_devs: [],
    }, 'la-zone0.json');
    zone = new Zone({
      machine,
      config: cfg,
      createCpu: ({ index, physical, host }) => new Loongarch64Cpu(host, index, physical.id),
      timerFrequency: 100_000_000,
      images: [{ name: 'loop', paddr: 0x20_0000, data: text }],
    });
    zone.start();
    scheduler.add(zone);
    server = new GdbServer({ target: zone, port: 0, name: cfg.name });
    await server.listen();
    scheduler.start();
  });
  afterAll(async () => {
    scheduler.stop();
    await server?.close();
  });

  it('halts the zone, shows its vCPU and registers, breaks, steps, watches a store, detaches', async () => {
    const counterAddr = symbols.get('counter')!;
    const counter = () => machine.physical.read(Number(counterAddr), 8)!;
    const run = await gdbBatch(server.port, elf, [
      'info threads', 'p/x $pc', 'p/x $a0',
      'break *store', 'continue', 'p/x $pc', 'delete',
      'stepi', 'p/x $pc', 'stepi', 'p/x $pc',
      'watch *(long *)&counter', 'continue', 'p/x $pc', 'p/x *(long *)&counter', 'p/x $t0', 'delete',
      'detach',
    ], { gdb: trixieGdb() });
    expect(run.stderr).not.toMatch(/error|warning/i);
    expect(run.stdout).toMatch(/\* 1 +Thread 1\.1 "la-zone0\/vcpu0 \(cpu 0\)" \(PLV0/);
    const [pc0, a0, atStore, step1, step2, atWatch, value, t0] = printedValues(run.stdout);
    expect(pc0! >= 0x20_0000n && pc0! < 0x20_0020n).toBe(true);
    expect(a0).toBe(counterAddr);
    expect(atStore).toBe(symbols.get('store'));
    expect(step1).toBe(symbols.get('store')! + 4n); // the st.d, then b loop
    expect(step2).toBe(symbols.get('loop'));
    expect(run.stdout).toMatch(/Hardware watchpoint 2: \*\(long \*\)&counter\s+Old value = \d+\s+New value = \d+/);
    expect(atWatch).toBe(symbols.get('store')! + 4n); // stopped after the store that changed it
    expect(value).toBe(t0);
    // Detached: the zone runs on.
    const before = counter();
    for (let i = 0; i < 200 && counter() === before; i++) await new Promise((r) => setTimeout(r, 25));
    expect(counter()).toBeGreaterThan(before);
  });
});
