/**
 * Debian's arm64 Linux 6.1 in zone0 of QEMU virt aarch64, through the whole stack: `launch()` →
 * board machine → hypervisor zone with its own GICv3 → aarch64 core. The zone's device tree is
 * generated from the board's (bootargs and the initrd in /chosen); the initramfs is the fixture's
 * BusyBox one with a second cpio appended (Linux unpacks concatenated archives, later files win)
 * whose /init starts an interactive shell on the PL011. The test types commands on that console.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixture, fixtureMatching, REPO, tool } from '../helpers/fixtures.js';

const SHELL_INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox --install -s /bin
export PS1='zone0# '
echo SHELL-READY
exec sh
`;

/** The fixture initramfs followed by a cpio holding the interactive /init. */
function shellInitramfs(dir: string): string {
  const root = join(dir, 'overlay');
  mkdirSync(root);
  writeFileSync(join(root, 'init'), SHELL_INIT);
  chmodSync(join(root, 'init'), 0o755);
  const overlay = execFileSync(tool('cpio'), ['-o', '-H', 'newc', '--owner=0:0', '--quiet'], { cwd: root, input: 'init\n' });
  const path = join(dir, 'initramfs.cpio');
  // Each archive must start 4-byte aligned; zeros between them are skipped.
  const base = readFileSync(fixture('initramfs-arm64.cpio.gz'));
  writeFileSync(path, Buffer.concat([base, new Uint8Array((4 - (base.length % 4)) % 4), overlay]));
  return path;
}

/** The per-CPU counts of the /proc/interrupts row whose description matches `row`. */
function counts(table: string, row: RegExp): number[] {
  const line = table.split('\n').find((l) => row.test(l));
  if (line === undefined) throw new Error(`no ${row} row in:\n${table}`);
  return line.split(':')[1]!.trim().split(/\s+/).slice(0, 2).map(Number);
}

async function until(predicate: () => boolean, what: string, ms: number, text: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; console ends with:\n${text().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Debian arm64 Linux in zone0 of qemu-virt-aarch64', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on the zone\'s PL011 (2 vCPUs) and answers uname, cpuinfo and interrupts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'a64-zone0-'));
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux.json'), 'utf8'));
    config.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.initrd_filepath = shellInitramfs(dir);
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let out = '';
    const started = Date.now();
    instance = await launch({ board: 'qemu-virt-aarch64', zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: (t) => (out += t), log: () => {} });
    const plain = () => out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/^zone0-linux\s*│ ?/gm, '');
    await until(() => plain().includes('SHELL-READY') && /zone0# $/.test(plain()), 'the shell prompt', 240_000, plain);
    const booted = (Date.now() - started) / 1000;
    const zone = instance.hypervisor.zone(0)!;
    console.log(`zone0 shell after ${booted} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions on ${zone.cpus.length} vCPUs`);
    const type = (s: string) => instance!.consoles.type(0, new TextEncoder().encode(s));
    const answer = async (command: string, done: RegExp) => {
      const from = plain().length;
      type(`${command}\n`);
      await until(() => done.test(plain().slice(from)), command, 60_000, plain);
      return plain().slice(from);
    };
    const uname = await answer('uname -a', /GNU\/Linux[\s\S]*zone0# $/);
    expect(uname).toMatch(/Linux \(none\) 6\.1\.\d+-\d+-arm64 #1 SMP Debian 6\.1\.\d+.* aarch64 GNU\/Linux/);
    const cpuinfo = await answer('cat /proc/cpuinfo', /CPU revision[^\n]*\n[\s\S]*zone0# $/);
    expect([...cpuinfo.matchAll(/^processor\s*: (\d+)/gm)].map((m) => m[1])).toEqual(['0', '1']);
    expect(cpuinfo).toMatch(/CPU implementer\s*: 0x41/);
    expect(cpuinfo).toMatch(/CPU part\s*: 0xd03/);
    const interrupts = await answer('cat /proc/interrupts', /Err:[^\n]*\n[\s\S]*zone0# $/);
    expect(interrupts).toMatch(/^\s+CPU0\s+CPU1\s*$/m);
    // Both vCPUs take their timer PPI and IPIs; the PL011's SPI (typing) reached the shell.
    expect(counts(interrupts, /GICv3\s+27 Level\s+arch_timer/).every((n) => n > 0)).toBe(true);
    expect(counts(interrupts, /Function call interrupts/).every((n) => n > 0)).toBe(true);
    expect(counts(interrupts, /GICv3\s+33 Level\s+uart-pl011/).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The generated device tree carried the bootargs and the initrd; the GIC is the zone's GICv3.
    const log = plain();
    expect(log).toMatch(/Kernel command line: console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=\/init/);
    expect(log).toMatch(/GICv3: \d+ SPIs implemented/);
    expect(log).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(log).not.toMatch(/Initramfs unpacking failed|Internal error|Unable to handle|BUG:/);
  }, 300_000);
});
