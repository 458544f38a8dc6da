import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { runCommand } from '../../src/cli/commands/run.js';
import { launch, LaunchError, type Instance } from '../../src/cli/launch.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { printedValues } from '../gdbstub/gdb-batch.js';

const run = promisify(execFile);

/** Resolves once `predicate` holds on the collected output (polled while the zones run). */
async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One zone's console text alone: its lines, prefixes removed. A line another zone's output cut in
 * two (ZoneConsoles ends it and resumes it under its prefix) shows as two lines here, which `\s`
 * in the patterns below matches.
 */
const zoneText = (text: string, zone: string) =>
  text.split('\n').filter((l) => l.startsWith(zone + ' ') || l.startsWith(zone + '│')).map((l) => l.replace(/^[^│]*│ /, '')).join('\n');

const beats = (text: string, zone: string) => (text.match(new RegExp(`^${zone}\\s*│ heartbeat \\d+$`, 'gm')) ?? []).length;

describe('hvisor run: the default board with zone0 and zoneR, a gdb stub each', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots both demo guests; gdb-multiarch on a zone\'s Unix socket halting zoneR leaves zone0 beating', async () => {
    let out = '';
    const sockets = mkdtempSync(join(tmpdir(), 'hvisor-gdb-'));
    instance = await launch({ board: 'qemu-virt-riscv64', zones: [], gdbBasePort: 0, gdbSocketDir: sockets, output: (t) => (out += t), log: () => {} });
    const plain = () => out.replace(/\x1b\[[0-9;]*m/g, '');
    await until(() => beats(plain(), 'zone0-demo') >= 1 && beats(plain(), 'zoneR') >= 1, 'a heartbeat from each zone');
    expect(plain()).toMatch(/^zone0-demo\s*│ hvisor-ts demo guest: up on hart 0$/m);
    expect(plain()).toMatch(/^zoneR\s*│ hvisor-ts demo guest: up on hart 3$/m);
    // The stubs are Unix sockets only their owner (and root) can open; the banner says how to attach.
    const path = join(sockets, 'zone1.sock');
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(instance.summary[1]).toBe(`zone 1 zoneR (CPU 3): gdb-multiarch -ex 'target remote ${path}'`);

    // The real client on zoneR's stub: it halts zoneR, reads its registers, and breaks in the timer
    // handler; it holds zoneR there until zone0 has beaten twice more (a marker file, no clock).
    const zoneR = instance.hypervisor.zone(1)!;
    const marker = join(sockets, 'zone0-beat-twice');
    let ranAfterAttach = false;
    let zone0AtBreak: number | undefined;
    const watch = setInterval(() => {
      const held = instance!.gdb.get(1)!.attached && zoneR.halted;
      if (!held && instance!.gdb.get(1)!.attached) ranAfterAttach = true;
      if (held && ranAfterAttach && zone0AtBreak === undefined) zone0AtBreak = beats(plain(), 'zone0-demo');
      if (zone0AtBreak !== undefined && held && beats(plain(), 'zone0-demo') >= zone0AtBreak + 2 && !existsSync(marker)) writeFileSync(marker, '');
    }, 20);
    const gdb = run(tool('gdb-multiarch'), [
      '-batch', '-nx',
      '-ex', 'set architecture riscv:rv64',
      '-ex', `target remote ${path}`,
      '-ex', 'info threads',
      '-ex', 'p/x $pc',
      '-ex', 'p/x $stvec',
      '-ex', 'hbreak *$stvec',
      '-ex', 'continue',
      '-ex', 'p/x $pc',
      '-ex', 'p/x $scause',
      '-ex', `shell while [ ! -f ${marker} ]; do sleep 0.05; done`,
      '-ex', 'p/x $pc',
      '-ex', 'detach',
    ], { timeout: 120_000 });
    const { stdout } = await gdb.finally(() => clearInterval(watch));
    const values = printedValues(stdout);
    expect(stdout).toMatch(/Thread 1\.1 "zoneR\/vcpu0 \(cpu 3\)" \(S-mode/);
    expect(values).toHaveLength(5);
    const [pcAtAttach, stvec, pcAtBreak, scause, pcAfterWait] = values as [bigint, bigint, bigint, bigint, bigint];
    expect(pcAtAttach >= 0x1_0000_0000n && pcAtAttach < 0x1_0100_0000n).toBe(true);
    expect(pcAtBreak).toBe(stvec);
    expect(scause).toBe((1n << 63n) | 5n); // supervisor timer interrupt
    // zone0 beat twice while zoneR sat at the breakpoint, which it never left.
    expect(existsSync(marker)).toBe(true);
    expect(pcAfterWait).toBe(stvec);
    // Detached, zoneR beats on.
    const zoneRAfter = beats(plain(), 'zoneR');
    await until(() => beats(plain(), 'zoneR') > zoneRAfter, 'zoneR beating after detach');
  }, 180_000);

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
    await until(() => /-> size\s+= 0x0000000008000000/.test(zoneText(plain(), 'zone0-uboot')), 'bdinfo');
    await until(() => beats(plain(), 'zoneR') >= 1 && beats(plain(), 'zoneU') >= 1, 'zoneR and zoneU heartbeats');
    const text = plain();
    const uboot = zoneText(text, 'zone0-uboot');
    expect(uboot).toMatch(/^U-Boot 2023\.01/m);
    expect(uboot).toMatch(/^DRAM:\s+128 MiB$/m); // the zone's RAM, from its generated device tree
    expect(uboot).toMatch(/^-> start\s+= 0x0000000080000000$/m);
    expect(uboot).toMatch(/^riscv64-linux-gnu-gcc/m); // `version` answered
    expect(beats(text, 'zoneR')).toBeGreaterThanOrEqual(1);
    expect(beats(text, 'zoneU')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^zoneU\s*│ hvisor-ts demo guest: up on hart 2$/m);
    expect(instance.hypervisor.list().map((z) => [z.id, z.name, z.state])).toEqual([
      [0, 'zone0-uboot', 'running'],
      [1, 'zoneR', 'running'],
      [2, 'zoneU', 'running'],
    ]);
  }, 90_000);

  it('serves hvisor-tool virtio_cfg.json devices into the virtio region of their zone only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvisor-run-virtio-'));
    const guests = join(REPO, 'boards/guests/riscv64');
    const zoneU = JSON.parse(readFileSync(join(guests, 'zoneU-heartbeat.json'), 'utf8'));
    zoneU.kernel_filepath = join(guests, 'heartbeat.bin');
    zoneU.memory_regions.push({ type: 'virtio', physical_start: '0x10001000', virtual_start: '0x10001000', size: '0x1000' });
    zoneU.interrupts = [1];
    writeFileSync(join(dir, 'zoneU.json'), JSON.stringify(zoneU));
    writeFileSync(join(dir, 'disk.img'), new Uint8Array(1 << 20));
    writeFileSync(join(dir, 'virtio.json'), JSON.stringify({
      zones: [{ id: 2, memory_region: [{ zone0_ipa: '0x101000000', zonex_ipa: '0x101000000', size: '0x1000000' }],
        devices: [{ type: 'blk', addr: '0x10001000', len: '0x200', irq: 1, img: 'disk.img', status: 'enable' }] }],
    }));
    instance = await launch({
      board: 'qemu-virt-riscv64',
      zones: [join(guests, 'zone0-demo.json'), join(dir, 'zoneU.json')],
      virtio: join(dir, 'virtio.json'),
      gdbBasePort: false,
      output: () => {},
      log: () => {},
    });
    const zone = instance.hypervisor.zone(2)!;
    expect(zone.memory.read(0x1000_1000, 4)).toBe(0x74726976n); // "virt"
    expect(zone.memory.read(0x1000_1004, 4)).toBe(2n); // virtio-mmio version 2
    expect(zone.memory.read(0x1000_1008, 4)).toBe(2n); // block device
    expect(zone.monitor('devices')).toContain('virtio-blk@10001000');
    // zone0 has no virtio region there: a stage-2 hole, not the device.
    expect(instance.hypervisor.zone(0)!.memory.read(0x1000_1000, 4)).toBeUndefined();
    await expect(launch({ board: 'qemu-virt-riscv64', zones: [], virtio: join(dir, 'missing.json'), gdbBasePort: false })).rejects.toThrow(/missing\.json: \(top level\): cannot read the virtio config/);
  });

  it('refuses a board without demo guests and a zone list without the root zone first', async () => {
    await expect(launch({ board: 'qemu-virt-aarch64', zones: [], gdbBasePort: false })).rejects.toThrow(LaunchError);
    await expect(launch({ board: 'qemu-virt-riscv64', zones: [join(REPO, 'boards/guests/riscv64/zoneR-heartbeat.json')], gdbBasePort: false })).rejects.toThrow(/first zone must be the root zone/);
  });

  it('hvisor run --pci hands the board\'s PCI functions file to the zones, naming a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvisor-run-pci-'));
    writeFileSync(join(dir, 'pci.json'), JSON.stringify({ functions: [{ bdf: '00:01.0', type: 'floppy' }] }));
    // A private control socket: never the default one a real instance on this machine may serve.
    const control = join(dir, 'control.sock');
    const cli = (pci: string) => yargs(['run', '--board', 'qemu-virt-aarch64', '--zone', join(REPO, 'boards/guests/aarch64/zone0-linux-pci.json'), '--pci', pci, '--no-gdb', '--seconds', '0', '--control', control])
      .command(runCommand).strict().fail((msg, err) => {
        throw err ?? new Error(msg);
      }).parseAsync();
    await expect(cli(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json/);
    await expect(cli(join(dir, 'pci.json'))).rejects.toThrow(/pci\.json: functions\[0\]\.type: one of "virtio-blk", "virtio-net", "nvme", got "floppy"/);
  });
});
