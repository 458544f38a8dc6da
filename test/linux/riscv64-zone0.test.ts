/**
 * Debian's riscv64 Linux in zone0 of QEMU virt riscv64, through the whole stack: `launch()` →
 * board machine → hypervisor zone with its own PLIC and SBI → riscv64 core. The zone's device tree
 * is generated from the board's (bootargs and the initrd in /chosen); the initramfs is the fixture's
 * BusyBox one with a second cpio appended (Linux unpacks concatenated archives, later files win)
 * whose /init starts an interactive shell on the NS16550A. The test types commands on that console.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts as counts } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';

describe('Debian riscv64 Linux in zone0 of qemu-virt-riscv64', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on the zone\'s NS16550A (2 harts) and answers uname, cpuinfo and interrupts', async () => {
    const dir = scratch('rv64-zone0-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/riscv64/zone0-linux.json'), 'utf8'));
    config.kernel_filepath = join(fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/), 'vmlinuz');
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-riscv64.cpio.gz', init: shellInit('zone0# ') });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('zone0-linux', (b) => typeOn(b));
    const started = Date.now();
    instance = await launch({ board: 'qemu-virt-riscv64', zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: console0.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 360_000);
    const booted = (Date.now() - started) / 1000;
    const zone = instance.hypervisor.zone(0)!;
    console.log(`zone0 shell after ${booted} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions on ${zone.cpus.length} harts`);
    const answer = (command: string, done: RegExp) => console0.run(command, done);
    // Kernel messages (e.g. "crng init done") may follow the prompt: wait for the prompt, not the end.
    const uname = await answer('uname -a', /GNU\/Linux[\s\S]*\nzone0# /);
    expect(uname).toMatch(/Linux \(none\) \d+\.\d+\.\d+\S*-riscv64 #1 SMP .*Debian .* riscv64 GNU\/Linux/);
    const cpuinfo = await answer('cat /proc/cpuinfo', /processor[\s\S]*\n\nzone0# /);
    expect([...cpuinfo.matchAll(/^processor\s*: (\d+)/gm)].map((m) => m[1])).toEqual(['0', '1']);
    expect([...cpuinfo.matchAll(/^hart\s*: (\d+)/gm)].map((m) => m[1])).toEqual(['0', '1']);
    // The ISA comes from the board's riscv,isa; Linux lists what it found usable (Zba/Zbb, Sstc).
    for (const m of cpuinfo.matchAll(/^isa\s*: (\S+)/gm)) expect(m[1]).toMatch(/^rv64imafdc\w*_zicsr_zifencei.*_zba_zbb.*_sstc$/);
    expect(cpuinfo).toMatch(/^mmu\s*: sv(39|48|57)$/m);
    const interrupts = await answer('cat /proc/interrupts', /IPI[\s\S]*\nzone0# /);
    expect(interrupts).toMatch(/^\s+CPU0\s+CPU1\s*$/m);
    // Both harts take timer interrupts and IPIs; the NS16550A's PLIC source 10 (typing) reached the shell.
    expect(counts(interrupts, /RISC-V INTC\s+5 Edge\s+riscv-timer/, 2).every((n) => n > 0)).toBe(true);
    expect(counts(interrupts, /Function call interrupts/, 2).every((n) => n > 0)).toBe(true);
    expect(counts(interrupts, /PLIC\s+10 \w+\s+ttyS0/, 2).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The generated device tree carried the bootargs and the initrd; SBI and the PLIC are the zone's.
    const log = console0.text();
    expect(log).toMatch(/Kernel command line: console=ttyS0 earlycon=uart8250,mmio,0x10000000 rdinit=\/init/);
    expect(log).toMatch(/SBI specification v\d+\.\d+ detected/);
    expect(log).toMatch(/riscv-plic: plic@c000000: mapped 97 interrupts with 2 handlers for 4 contexts/);
    expect(log).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(log).not.toMatch(/Initramfs unpacking failed|Oops|Unable to handle|BUG:|Kernel panic/);
  }, 480_000);
});
