/**
 * Issue 18, item 9: configs and command lines the board cannot honour are refused with one typed
 * line naming the file, the field or flag, and why; names with control characters never reach the
 * terminal raw.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCli } from '../../src/cli/cli.js';
import { launch } from '../../src/cli/launch.js';
import { ZoneConsoles } from '../../src/cli/zone-consoles.js';
import { ConfigError } from '../../src/config/config-error.js';
import { formatZoneList } from '../../src/hypervisor/control/control-client.js';
import { printable } from '../../src/util/printable.js';
import { Ram, RamAllocationError } from '../../src/machine/ram.js';
import { REPO } from '../helpers/fixtures.js';

const guests = join(REPO, 'boards/guests/riscv64');
const dir = mkdtempSync(join(tmpdir(), 'hvisor-refusals-'));

/** zoneU (riscv, CPU 2) with `mutate` applied, written beside heartbeat.bin's absolute path. */
function zoneU(mutate: (j: any) => void): string {
  const j = JSON.parse(readFileSync(join(guests, 'zoneU-heartbeat.json'), 'utf8'));
  j.kernel_filepath = join(guests, 'heartbeat.bin');
  mutate(j);
  const file = join(dir, `zoneU-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(j));
  return file;
}

const run = (zones: string[], extra: object = {}) =>
  launch({ board: 'qemu-virt-riscv64', zones: [join(guests, 'zone0-demo.json'), ...zones], gdbBasePort: false, output: () => {}, log: () => {}, ...extra });

/** The error `promise` rejects with: typed, one line. */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  const e = await promise.then(() => new Error('accepted'), (x: Error) => x);
  expect(e.message).not.toBe('accepted');
  expect(e.message).not.toMatch(/\n/);
  expect(e.name).not.toBe('Error');
  expect(e.name).not.toBe('TypeError');
  return e;
}

describe('configs the board cannot honour', () => {
  it('a GIC on a riscv64 board, interrupts the zone\'s PLIC does not have, interrupts with no controller', async () => {
    const gic = await refusal(run([zoneU((j) => (j.arch_config = { gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000', gits_base: '0', gits_size: '0' }))]));
    expect(gic).toBeInstanceOf(ConfigError);
    expect(gic.message).toMatch(/zoneU-\w+\.json: arch_config\.gic_version: board qemu-virt-riscv64 is riscv64: a zone's interrupt controller is a PLIC/);
    const high = await refusal(run([zoneU((j) => (j.interrupts = [7, 500]))]));
    expect(high.message).toMatch(/^zone 2 \(zoneU, \S+\) interrupts: 500 is not an interrupt of board qemu-virt-riscv64's controller/);
    const zero = await refusal(run([zoneU((j) => (j.interrupts = [0]))]));
    expect(zero.message).toMatch(/: interrupts\[0\]: 0: the zone's PLIC sources are 1\.\.96 on board qemu-virt-riscv64$/);
    const none = await refusal(run([zoneU((j) => ((j.interrupts = [3]), (j.arch_config.plic_size = '0')))]));
    expect(none.message).toMatch(/: interrupts\[0\]: 3: the zone has no interrupt controller to take it/);
  });

  it('interrupts beyond the zone\'s GIC on aarch64', async () => {
    const j = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-uboot.json'), 'utf8'));
    j.interrupts = [33, 1000];
    for (const k of ['kernel_filepath', 'dtb_filepath']) if (j[k] && !j[k].startsWith('/')) j[k] = join(REPO, 'boards/guests/aarch64', j[k]);
    const file = join(dir, 'aarch64-zone0.json');
    writeFileSync(file, JSON.stringify(j));
    const e = await refusal(launch({ board: 'qemu-virt-aarch64', zones: [file], gdbBasePort: false, output: () => {}, log: () => {} }));
    expect(e.message).toMatch(/interrupts: 1000 is not an interrupt of board qemu-virt-aarch64's controller/);
  });

  it('a virtio device for a zone the run does not start waits for `hvisor zone start`, and the summary says so', async () => {
    const virtio = join(dir, 'virtio.json');
    writeFileSync(virtio, JSON.stringify({ zones: [{ id: 7, memory_region: [], devices: [{ type: 'console', addr: '0x10001000', len: '0x200', irq: 1, status: 'enable' }] }] }));
    const instance = await run([], { virtio });
    try {
      expect(instance.summary).toContain(`${virtio}: zone 7's virtio devices wait for \`hvisor zone start\` (this run starts zone 0)`);
    } finally {
      await instance.close();
    }
  });

  it('RAM the host cannot give is a typed error, not "Array buffer allocation failed"', () => {
    expect(() => new Ram(2 ** 52)).toThrow(new RamAllocationError(2 ** 52));
    expect(new RamAllocationError(2 ** 52).message).toBe('cannot allocate 4503599627370496 bytes (4194304.0 GiB) of guest RAM: the host refused; ask for less');
  });
});

describe('command lines', () => {
  // yargs may throw from parseAsync itself (a middleware's error through .fail): both count.
  const cli = async (args: string[]) =>
    refusal(Promise.resolve().then(() => buildCli(args).fail((m, err) => {
      throw err ?? new Error(m);
    }).parseAsync()));

  it('every bad flag or combination is one typed line', async () => {
    const cases: [string[], string][] = [
      [['run', '--board', 'a', '--board', 'b'], '--board given 2 times ("a", "b"): give it once'],
      [['board', 'show', 'qemu-virt-riscv64', '--memory', '1G', '--memory', '2G'], '--memory given 2 times ("1G", "2G"): give it once'],
      [['run', '--seconds', 'soon'], '--seconds: not a number'],
      [['run', '--seconds', '-1'], '--seconds: a number of seconds from 0 up, got -1'],
      [['run', '--kaslr-seed', 'soon'], '--kaslr-seed: a 64-bit number (decimal or 0x hex) or "random", got "soon"'],
      [['run', '--kaslr-seed', '18446744073709551616'], '--kaslr-seed: a 64-bit number (decimal or 0x hex) or "random", got "18446744073709551616"'],
      [['run', '--cpus', '1.5'], '--cpus: an integer from 1 to 512, got 1.5'],
      [['run', '--gdb-base-port', '70000'], '--gdb-base-port: an integer from 0 to 65535, got 70000'],
      [['run', '--dtb', join(dir, 'x.dtb')], `${join(dir, 'x.dtb')}: cannot read the board DTB (ENOENT)`],
      [['run', '--dtb', '/dev/zero'], '/dev/zero: the board DTB must be a regular file, but this is a character device'],
      [['run', '--gdb-socket-dir', dir, '--gdb-host', '::1'], '--gdb-socket-dir and --gdb-host cannot be used together: with --gdb-socket-dir the stubs listen on Unix sockets, not TCP'],
      [['run', '--no-gdb', '--gdb-base-port', '1234'], '--no-gdb and --gdb-base-port cannot be used together: --no-gdb serves no stub'],
      [['run', '--no-gdb', '-S'], '--no-gdb and --wait-gdb cannot be used together: no gdb could say continue'],
      [['run', '--zone', ''], '--zone #1: empty'],
      [['run', '--record', join(dir, 'r'), '--replay', join(dir, 'r')], '--record and --replay cannot be used together: a run records or replays, not both'],
      [['run', '--replay', dir, '--zone', 'z.json'], '--replay DIR launches the run DIR/run.json describes: --zone cannot be given with it'],
      [['run', '--replay', dir], `${join(dir, 'run.json')}: cannot read the recorded run (ENOENT)`],
      [['run', '--record', ''], '--record: empty'],
      [['zone', 'shutdown', 'x'], 'ID: not a number'],
      [['zone', 'restart', '-id', '-2'], 'ID: a zone id (an integer from 0), got -2'],
      [['dtb', 'x.dtb', '--pad', 'lots'], '--pad: not a number'],
    ];
    for (const [args, message] of cases) expect((await cli(args)).message, args.join(' ')).toBe(message);
  });
});

describe('names with control characters', () => {
  it('are escaped on the terminal: zone console prefixes, hypervisor lines, zone lists', () => {
    const evil = 'z\x1b]0;pwned\x07\x1b[2J';
    expect(printable(evil)).toBe('z\\x1b]0;pwned\\x07\\x1b[2J');
    let out = '';
    const consoles = new ZoneConsoles((t) => (out += t));
    consoles.nameZone(1, evil);
    consoles.write(1, new TextEncoder().encode('hello\n'));
    consoles.log(`zone 1 (${evil}): started`);
    const plain = out.replace(/\x1b\[[0-9;]*m/g, ''); // our own colours
    expect(plain).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(plain).toContain('hvisor       │ zone 1 (z\\x1b]0;pwned\\x07\\x1b[2J): started');
    const list = formatZoneList([{ id: 1, name: evil, cpus: [2], state: 'running', halted: false, stage2Faults: 0 }]);
    expect(list).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    expect(list).toContain('z\\x1b]0;pwned\\x07\\x1b[2J');
  });
});
