import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, LaunchError, type Instance } from '../../src/cli/launch.js';
import { REPO, tool } from '../helpers/fixtures.js';

const run = promisify(execFile);

/** Resolves once `predicate` holds on the collected output (polled while the zones run). */
async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const beats = (text: string, zone: string) => (text.match(new RegExp(`^${zone}\\s*│ heartbeat \\d+$`, 'gm')) ?? []).length;

describe('hvisor run: the default board with zone0 and zoneR, a gdb stub each', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots both demo guests, and gdb-multiarch halting zoneR leaves zone0 beating', async () => {
    let out = '';
    instance = await launch({ board: 'qemu-virt-riscv64', zones: [], gdbBasePort: 0, output: (t) => (out += t), log: () => {} });
    const plain = () => out.replace(/\x1b\[[0-9;]*m/g, '');
    await until(() => beats(plain(), 'zone0-demo') >= 1 && beats(plain(), 'zoneR') >= 1, 'a heartbeat from each zone');
    expect(plain()).toMatch(/^zone0-demo\s*│ hvisor-ts demo guest: up on hart 0$/m);
    expect(plain()).toMatch(/^zoneR\s*│ hvisor-ts demo guest: up on hart 3$/m);

    // The real client on zoneR's stub: it halts zoneR, reads its registers, and breaks in the timer handler.
    const port = instance.gdb.get(1)!.port;
    const zone0Before = beats(plain(), 'zone0-demo');
    const gdb = run(tool('gdb-multiarch'), [
      '-batch', '-nx',
      '-ex', 'set architecture riscv:rv64',
      '-ex', `target remote 127.0.0.1:${port}`,
      '-ex', 'info threads',
      '-ex', 'p/x $pc',
      '-ex', 'p/x $stvec',
      '-ex', 'hbreak *$stvec',
      '-ex', 'continue',
      '-ex', 'p/x $pc',
      '-ex', 'p/x $scause',
      '-ex', 'shell sleep 2.5',
      '-ex', 'detach',
    ], { timeout: 30_000 });
    const { stdout } = await gdb;
    const values = [...stdout.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]!));
    expect(stdout).toMatch(/Thread 1\.1 "zoneR\/vcpu0 \(cpu 3\)" \(S-mode/);
    expect(values).toHaveLength(4);
    const [pcAtAttach, stvec, pcAtBreak, scause] = values as [bigint, bigint, bigint, bigint];
    expect(pcAtAttach >= 0x1_0000_0000n && pcAtAttach < 0x1_0100_0000n).toBe(true);
    expect(pcAtBreak).toBe(stvec);
    expect(scause).toBe((1n << 63n) | 5n); // supervisor timer interrupt
    // zone0 kept running while zoneR sat at the breakpoint for 2.5 s.
    expect(beats(plain(), 'zone0-demo')).toBeGreaterThanOrEqual(zone0Before + 2);
    // Detached, zoneR beats on.
    const zoneRAfter = beats(plain(), 'zoneR');
    await until(() => beats(plain(), 'zoneR') > zoneRAfter, 'zoneR beating after detach');
  }, 60_000);

  it('three zones: Debian\'s U-Boot in zone0 on its generated device tree, zoneR and zoneU beating beside it', async () => {
    tool('qemu-system-riscv64'); // the fixtures script installs u-boot-qemu with QEMU
    let out = '';
    const guests = join(REPO, 'boards/guests/riscv64');
    instance = await launch({
      board: 'qemu-virt-riscv64',
      zones: ['zone0-uboot.json', 'zoneR-heartbeat.json', 'zoneU-heartbeat.json'].map((f) => join(guests, f)),
      gdbBasePort: false,
      output: (t) => (out += t),
      log: () => {},
    });
    const plain = () => out.replace(/\x1b\[[0-9;]*m/g, '');
    await until(() => plain().includes('Hit any key to stop autoboot'), 'U-Boot\'s autoboot prompt', 40_000);
    instance.consoles.type(0, new TextEncoder().encode(' '));
    await until(() => /zone0-uboot\s*│ => $/m.test(plain()), 'the U-Boot prompt');
    instance.consoles.type(0, new TextEncoder().encode('version\rbdinfo\r'));
    await until(() => /-> size\s+= 0x0000000008000000/.test(plain()), 'bdinfo');
    await until(() => beats(plain(), 'zoneR') >= 1 && beats(plain(), 'zoneU') >= 1, 'zoneR and zoneU heartbeats');
    const text = plain();
    expect(text).toMatch(/^zone0-uboot\s*│ U-Boot 2023\.01/m);
    expect(text).toMatch(/^zone0-uboot\s*│ DRAM:\s+128 MiB$/m); // the zone's RAM, from its generated device tree
    expect(text).toMatch(/^zone0-uboot\s*│ -> start\s+= 0x0000000080000000$/m);
    expect(text).toMatch(/^zone0-uboot\s*│ riscv64-linux-gnu-gcc/m); // `version` answered
    expect(beats(text, 'zoneR')).toBeGreaterThanOrEqual(1);
    expect(beats(text, 'zoneU')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^zoneU\s*│ hvisor-ts demo guest: up on hart 2$/m);
    expect(instance.hypervisor.list().map((z) => [z.id, z.name, z.state])).toEqual([
      [0, 'zone0-uboot', 'running'],
      [1, 'zoneR', 'running'],
      [2, 'zoneU', 'running'],
    ]);
  }, 90_000);

  it('refuses a board without demo guests and a zone list without the root zone first', async () => {
    await expect(launch({ board: 'qemu-virt-aarch64', zones: [], gdbBasePort: false })).rejects.toThrow(LaunchError);
    await expect(launch({ board: 'qemu-virt-riscv64', zones: [join(REPO, 'boards/guests/riscv64/zoneR-heartbeat.json')], gdbBasePort: false })).rejects.toThrow(/first zone must be the root zone/);
  });
});
