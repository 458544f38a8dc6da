/**
 * Debian's arm64 Linux 6.1 in zone0 of QEMU virt aarch64, through the whole stack: `launch()` →
 * board machine → hypervisor zone with its own GIC (v3 with redistributors and ICC_* registers, or
 * v2 with its memory-mapped CPU interface) → aarch64 core. The zone's device tree is
 * generated from the board's (bootargs and the initrd in /chosen); the initramfs is the fixture's
 * BusyBox one with a second cpio appended (Linux unpacks concatenated archives, later files win)
 * whose /init starts an interactive shell on the PL011. The test types commands on that console.
 * The GICv3 run's kernel gets a KASLR seed (hvisor run --kaslr-seed), the GICv2 run's none.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts } from '../helpers/guest-console.js';
import { readKernelSymbols } from '../../src/linux-guest/kernel-symbols.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';

/** Each GIC: the board variant, its zone config, and how Linux names the chip in /proc/interrupts. */
const GICS = [
  { gic: 'GICv3', board: 'qemu-virt-aarch64', config: 'zone0-linux.json', chip: 'GICv3', banner: /GICv3: \d+ SPIs implemented/, kaslrSeed: 0x5eedn },
  { gic: 'GICv2', board: 'qemu-virt-aarch64-gicv2', config: 'zone0-linux-gicv2.json', chip: 'GIC-0', banner: /Root IRQ handler: gic_handle_irq/, kaslrSeed: undefined },
] as const;

describe.each(GICS)('Debian arm64 Linux in zone0 of $board ($gic)', ({ board, config: configFile, chip, banner, kaslrSeed }) => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a BusyBox shell on the zone\'s PL011 (2 vCPUs) and answers uname, cpuinfo and interrupts', async () => {
    const dir = scratch('a64-zone0-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64', configFile), 'utf8'));
    const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.kernel_filepath = kernel;
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: shellInit('zone0# ') });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('zone0-linux', (b) => typeOn(b));
    const started = Date.now();
    instance = await launch({ board, zones: [join(dir, 'zone0.json')], gdbBasePort: false, ...(kaslrSeed !== undefined && { kaslrSeed }), output: console0.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 900_000);
    const booted = (Date.now() - started) / 1000;
    const zone = instance.hypervisor.zone(0)!;
    console.log(`zone0 shell after ${booted} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions on ${zone.cpus.length} vCPUs`);
    const answer = (command: string, done: RegExp) => console0.run(command, done);
    const uname = await answer('uname -a', /GNU\/Linux[\s\S]*zone0# $/);
    expect(uname).toMatch(/Linux \(none\) 6\.1\.\d+-\d+-arm64 #1 SMP Debian 6\.1\.\d+.* aarch64 GNU\/Linux/);
    const cpuinfo = await answer('cat /proc/cpuinfo', /CPU revision[^\n]*\n[\s\S]*zone0# $/);
    expect([...cpuinfo.matchAll(/^processor\s*: (\d+)/gm)].map((m) => m[1])).toEqual(['0', '1']);
    expect(cpuinfo).toMatch(/CPU implementer\s*: 0x41/);
    expect(cpuinfo).toMatch(/CPU part\s*: 0xd03/);
    const interrupts = await answer('cat /proc/interrupts', /Err:[^\n]*\n[\s\S]*zone0# $/);
    expect(interrupts).toMatch(/^\s+CPU0\s+CPU1\s*$/m);
    // Both vCPUs take their timer PPI and IPIs; the PL011's SPI (typing) reached the shell.
    expect(interruptCounts(interrupts, new RegExp(`${chip}\\s+27 Level\\s+arch_timer`), 2).every((n) => n > 0)).toBe(true);
    expect(interruptCounts(interrupts, /Function call interrupts/, 2).every((n) => n > 0)).toBe(true);
    expect(interruptCounts(interrupts, new RegExp(`${chip}\\s+33 Level\\s+uart-pl011`), 2).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The generated device tree carried the bootargs and the initrd; the GIC is the zone's.
    const log = console0.text();
    expect(log).toMatch(/Kernel command line: console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=\/init/);
    expect(log).toMatch(banner);
    expect(log).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(log).not.toMatch(/Initramfs unpacking failed|Internal error|Unable to handle|BUG:/);
    // With a kaslr-seed in /chosen the kernel runs away from its link address, as on a board whose
    // firmware passes one; without, where it was linked. (grep -m 1 stops at _stext, near the table's
    // start: formatting all of kallsyms is half a billion instructions, minutes on a loaded machine.)
    const linked = readKernelSymbols(new Uint8Array(readFileSync(kernel))).symbols.find((s) => s.name === '_stext')!.address;
    const running = BigInt('0x' + /^([0-9a-f]{16}) T _stext\r?$/m.exec(await console0.run('grep -m 1 -w _stext /proc/kallsyms', /\n[0-9a-f]{16} T _stext[\s\S]*zone0# $/, 300_000))![1]!);
    const kaslrLines = log.match(/^.*KASLR.*$/gm)?.join('\n') ?? 'no KASLR lines';
    if (kaslrSeed === undefined) expect(running, kaslrLines).toBe(linked);
    else expect(running, kaslrLines).not.toBe(linked);
  }, 1_200_000);
});
