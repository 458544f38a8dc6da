import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { Aarch64Cpu } from '../../src/arch/aarch64/aarch64-cpu.js';
import { Scheduler } from '../../src/hypervisor/zone/scheduler.js';
import { Zone } from '../../src/hypervisor/zone/zone.js';
import { tool } from '../helpers/fixtures.js';
import { qemuVirtAarch64 } from '../hypervisor/boards.js';
import { config } from '../hypervisor/zone-fixture.js';
import { gdbBatch, printedValues } from './gdb-batch.js';

// The product path: the hypervisor's Zone (two of them, real aarch64 cores, the real scheduler)
// behind one stub each, two gdb-multiarch sessions at once.
const SOURCE = `
  .text
  .globl _start
_start:
  adr   x10, counter
loop:
  ldr   x1, [x10]
  add   x1, x1, #1
  str   x1, [x10]
  b     loop
  .balign 4096
counter:
  .quad 0
`;
const COUNTER_OFFSET = 0x1000n;

function buildImage(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'gdbstub-zone-'));
  writeFileSync(join(dir, 'p.s'), SOURCE);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'p.o'), join(dir, 'p.s')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'p.o'), join(dir, 'p.bin')]);
  return new Uint8Array(readFileSync(join(dir, 'p.bin')));
}


describe('gdb-multiarch on two hypervisor zones at once', () => {
  const { machine } = qemuVirtAarch64();
  const scheduler = new Scheduler({ budget: 5000 });
  const zones: Zone[] = [];
  const servers: GdbServer[] = [];
  const logs: [string[], string[]] = [[], []];
  const counter = (z: Zone) => machine.physical.read(z.config.kernelLoadPaddr + Number(COUNTER_OFFSET), 8)!;

  beforeAll(async () => {
    const image = buildImage();
    for (const which of [0, 1] as const) {
      const cfg = config(which, (j) => {
        j.pci_config = [];
        j.num_pci_devs = 0;
        j.alloc_pci_devs = [];
      });
      const zone = new Zone({
        machine,
        config: cfg,
        createCpu: ({ index, physical, host }) => new Aarch64Cpu({ index, physicalId: physical.id, host }),
        timerFrequency: 62_500_000,
        images: [{ name: 'loop', paddr: cfg.kernelLoadPaddr, data: image }],
        log: (line) => logs[which].push(line),
      });
      zone.start();
      scheduler.add(zone);
      zones.push(zone);
      const server = new GdbServer({ target: zone, port: 0, name: cfg.name });
      await server.listen();
      servers.push(server);
    }
    scheduler.start();
  });
  afterAll(async () => {
    scheduler.stop();
    for (const s of servers) await s.close();
  });

  it('halting zone0 in gdb leaves zone1 running; threads, registers, memory, monitor, Ctrl-C, detach', async () => {
    const [z0, z1] = zones as [Zone, Zone];
    const entry0 = BigInt(z0.config.entryPoint);
    // gdb 0 holds zone0 until gdb 1 has zone1 running (a marker file) and the sampler has seen
    // zone1 progress while zone0 was held, in 8 samples or more (a second marker: no fixed window, a
    // loaded machine only makes it slower); gdb 1 interrupts zone1 once gdb 0 has detached.
    const dir = mkdtempSync(join(tmpdir(), 'gdbstub-zones-'));
    const marker = join(dir, 'zone1-running');
    const sampled = join(dir, 'sampled');
    const samples: Array<[bigint, bigint]> = [];
    const sampler = setInterval(() => {
      const z1Running = servers[1]!.attached && !z1.halted;
      if (z1Running && !existsSync(marker)) writeFileSync(marker, '');
      if (servers[0]!.attached && z0.halted && z1Running) samples.push([counter(z0), counter(z1)]);
      if (samples.length >= 8 && samples.at(-1)![1] > samples[0]![1] && !existsSync(sampled)) writeFileSync(sampled, '');
    }, 20);
    const [g0, g1] = await Promise.all([
      gdbBatch(servers[0]!.port, undefined, [
        'info threads', 'p/x $pc', `p/x *(long *)${entry0 + COUNTER_OFFSET}`,
        `shell while [ ! -f ${sampled} ]; do sleep 0.05; done`,
        `p/x *(long *)${entry0 + COUNTER_OFFSET}`, 'monitor zone', 'monitor help', 'detach',
      ]),
      gdbBatch(servers[1]!.port, undefined, ['p/x $pc', 'continue', 'p/x $x10'], {
        interruptWhen: () => existsSync(marker) && !servers[0]!.attached,
        interruptAfterMs: 100,
      }),
    ]);
    clearInterval(sampler);

    // zone0: two vCPUs as threads (the second still off), gdb's view is the core's.
    expect(g0.stdout).toMatch(/\* 1 +Thread 1\.1 "root-linux\/vcpu0 \(cpu 0\)" \(EL1h?[^)]*halted\)/);
    expect(g0.stdout).toMatch(/ {2}2 +Thread 1\.2 "root-linux\/vcpu1 \(cpu 1\)" \([^)]*off\)/);
    const [pc, before, after] = printedValues(g0.stdout);
    expect(pc! >= entry0 && pc! < entry0 + 0x20n).toBe(true);
    expect(after).toBe(before); // halted all along: not one more increment
    expect(g0.stderr).toMatch(/root-linux/);
    // zone1: interrupted with Ctrl-C while running on.
    expect(g1.stdout).toMatch(/received signal SIGINT/);
    expect(printedValues(g1.stdout)[1]).toBe(BigInt(z1.config.entryPoint) + COUNTER_OFFSET);
    // While gdb held zone0, zone1's counter kept growing.
    expect(samples.length).toBeGreaterThanOrEqual(8);
    expect(samples.every(([a]) => a === before)).toBe(true);
    expect(samples[samples.length - 1]![1]).toBeGreaterThan(samples[0]![1]);
    // After detach zone0 runs on.
    const detached = counter(z0);
    await vi.waitFor(() => expect(counter(z0)).toBeGreaterThan(detached), { timeout: 20_000, interval: 20 });
    expect(z0.halted).toBe(false);
  });

  it('gdb kill restarts only that zone (images reloaded), the port serves the next gdb', async () => {
    const [z0, z1] = zones as [Zone, Zone];
    const z0Before = counter(z0);
    const run = await gdbBatch(servers[1]!.port, undefined, [`p/x *(long *)${BigInt(z1.config.entryPoint) + COUNTER_OFFSET}`, 'kill']);
    expect(printedValues(run.stdout)[0]).toBeGreaterThan(0n);
    expect(run.stdout).toMatch(/\[Inferior 1 \(process 1\) killed\]/);
    expect(z1.state).toBe('running');
    expect(logs[1].filter((l) => l.endsWith(': restarting')).length).toBe(1);
    expect(logs[0].filter((l) => l.endsWith(': restarting')).length).toBe(0);
    const again = await gdbBatch(servers[1]!.port, undefined, ['p/x $x10', 'detach']);
    expect(printedValues(again.stdout)[0]).toBe(BigInt(z1.config.entryPoint) + COUNTER_OFFSET);
    expect(z0.halted).toBe(false);
    await vi.waitFor(() => expect(counter(z0)).toBeGreaterThan(z0Before), { timeout: 20_000, interval: 20 });
  });
});
