/**
 * Debian's loong64 Linux in zone0 of the Loongson 3A5000 + 7A2000 board, through the whole stack:
 * `launch()` → board machine → hypervisor zone → LA464 core. The kernel file is Debian's EFI zboot
 * image as the package ships it (our loader unpacks its zstd payload and hands the kernel EFI boot
 * tables as firmware would); the zone's device tree is generated from the board's, with the interrupt
 * path Linux drives (CPU interrupt controller, EIOINTC over IOCSR, the zone's own PCH-PIC). The
 * initramfs is the fixture's BusyBox one with an /init that starts a shell on the NS16550A.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixture, REPO } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts as counts } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';

describe('Debian loong64 Linux in zone0 of ls3a5000-7a2000', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on the zone\'s NS16550A (2 vCPUs), answers uname, cpuinfo and interrupts, and again after a zone restart', async () => {
    const dir = scratch('la64-zone0-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/loongarch64/zone0-linux.json'), 'utf8'));
    config.kernel_filepath = fixture('vmlinuz-loong64');
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-loong64-shell.cpio.gz', init: shellInit('zone0# ') });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('zone0-linux', (b) => typeOn(b));
    const started = Date.now();
    instance = await launch({ board: 'ls3a5000-7a2000', zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: console0.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 1_500_000);
    const zone = instance.hypervisor.zone(0)!;
    console.log(`zone0 shell after ${(Date.now() - started) / 1000} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions on ${zone.cpus.length} vCPUs`);
    const answer = (command: string, done: RegExp) => console0.run(command, done);
    const uname = await answer('uname -a', /GNU\/Linux[\s\S]*\nzone0# /);
    expect(uname).toMatch(/Linux \(none\) \d+\.\d+\.\d+\S*-loong64 #1 SMP .*Debian .* loongarch64 GNU\/Linux/);
    const cpuinfo = await answer('cat /proc/cpuinfo', /processor[\s\S]*\n\nzone0# /);
    expect([...cpuinfo.matchAll(/^processor\s*: (\d+)/gm)].map((m) => m[1])).toEqual(zone.cpus.map((_, i) => String(i)));
    expect(cpuinfo).toMatch(/^Model Name\s*: Loongson-3A5000$/m);
    expect(cpuinfo).toMatch(/^CPU Family\s*: Loongson-64bit$/m);
    const interrupts = await answer('cat /proc/interrupts', /ERR[\s\S]*\nzone0# |IPI[\s\S]*\nzone0# /);
    const cpus = zone.cpus.length;
    // The constant timer ticks on every CPU; the NS16550A's PCH-PIC input 2 (typing) reached the shell.
    expect(interrupts).toMatch(new RegExp(`^\\s+${zone.cpus.map((_, i) => `CPU${i}`).join('\\s+')}\\s*$`, 'm'));
    expect(counts(interrupts, /CPUINTC\s+11\s+(\S+\s+)?timer/, cpus).every((n) => n > 0)).toBe(true);
    expect(counts(interrupts, /PCH PIC\s+\d+\s+(\S+\s+)?ttyS0/, cpus).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // IPIs over IOCSR (CPUINTC 12): both CPUs took some (reschedule, function call).
    expect(counts(interrupts, /CPUINTC\s+12\s+(\S+\s+)?IPI/, cpus).every((n) => n > 0)).toBe(true);
    const ipis = interrupts.split('\n').filter((l) => /^\s*IPI\d*:/.test(l)).map((l) => l.split(':')[1]!.trim().split(/\s+/).slice(0, cpus).map(Number));
    expect(ipis.length).toBeGreaterThan(0);
    for (let c = 0; c < cpus; c++) expect(ipis.reduce((n, row) => n + row[c]!, 0)).toBeGreaterThan(0);
    const log = console0.text();
    expect(log).toMatch(/efi: EFI v2\.10 by hvisor-ts/);
    expect(log).toMatch(/Kernel command line: console=ttyS0 earlycon=uart8250,mmio,0x1fe001e0 rdinit=\/init/);
    expect(log).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(log).not.toMatch(/Initramfs unpacking failed|Oops|Unable to handle|BUG:|Kernel panic|UBSAN/);

    // Restart: the images (kernel, boot tables, device tree, initrd) are placed again, the vCPUs, PCH-PIC,
    // EIOINTC and IPI block reset, the secondary waits for its boot IPI again; the kernel boots to the shell.
    const before = console0.text().length;
    instance.hypervisor.restartZone(0);
    const second = await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell after a restart', 1_500_000, before);
    expect(second).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(await answer('cat /proc/interrupts', /ERR[\s\S]*\nzone0# /)).toMatch(/PCH PIC\s+\d+\s+(\S+\s+)?ttyS0/);
    expect(console0.text().slice(before)).not.toMatch(/Oops|Unable to handle|BUG:|Kernel panic|UBSAN/);
  }, 2_400_000);
});
