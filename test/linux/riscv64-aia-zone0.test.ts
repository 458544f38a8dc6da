/**
 * Debian's riscv64 Linux in zone0 of qemu-virt-riscv64-aia (hvisor's qemu-aia platform): the zone's
 * interrupt controller is its own APLIC in MSI mode and IMSIC files reached through the core's
 * Ssaia CSRs. One boot serves every check: the drivers bound, the UART's interrupts and the IPIs
 * arriving as IMSIC MSIs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts as counts } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';

describe('Debian riscv64 Linux in zone0 of qemu-virt-riscv64-aia', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('boots to a shell with the APLIC (MSI mode) and IMSIC drivers bound; the UART and the IPIs come as IMSIC MSIs', async () => {
    const dir = scratch('rv64-aia-zone0-');
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/riscv64/zone0-linux-aia.json'), 'utf8'));
    config.kernel_filepath = join(fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/), 'vmlinuz');
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-riscv64.cpio.gz', init: shellInit('zone0# ') });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('zone0-linux-', (b) => typeOn(b));
    instance = await launch({ board: 'qemu-virt-riscv64-aia', zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: console0.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 360_000);
    const answer = (command: string, done: RegExp) => console0.run(command, done);
    const cpuinfo = await answer('cat /proc/cpuinfo', /processor[\s\S]*\n\nzone0# /);
    for (const m of cpuinfo.matchAll(/^isa\s*: (\S+)/gm)) expect(m[1]).toMatch(/_smaia_ssaia_/);
    const interrupts = await answer('cat /proc/interrupts', /IPI[\s\S]*\nzone0# /);
    const log = console0.text();
    expect(interrupts).toMatch(/^\s+CPU0\s+CPU1\s*$/m);
    // The NS16550A's APLIC source 10 reaches the shell as an MSI of the APLIC's MSI domain.
    expect(counts(interrupts, /APLIC-MSI-\S+\s+10 Level\s+(?:\S+\s+)?ttyS0/, 2).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // IPIs: both harts take them, and the IMSIC provides them (no SBI IPI).
    expect(counts(interrupts, /Function call interrupts/, 2).every((n) => n > 0)).toBe(true);
    expect(counts(interrupts, /Rescheduling interrupts/, 2).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(counts(interrupts, /RISC-V INTC\s+5 Edge\s+riscv-timer/, 2).every((n) => n > 0)).toBe(true);
    expect(log).toMatch(/riscv-imsic: imsics@28000000:\s+providing IPIs using interrupt 1/);
    expect(log).toMatch(/riscv-intc: 64 local interrupts mapped using AIA/);
    // One S file per hart, no guest files, at the board's S-level IMSIC base.
    expect(log).toMatch(/riscv-imsic: imsics@28000000:\s+hart-index-bits: 1,\s+guest-index-bits: 0/);
    expect(log).toMatch(/riscv-imsic: imsics@28000000: per-CPU IDs 255 at base address 0x0+28000000/);
    expect(log).toMatch(/riscv-aplic d000000\.aplic: 96 interrupts forwarded to MSI base 0x0+28000000/);
    expect(log).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(log).not.toMatch(/Initramfs unpacking failed|Oops|Unable to handle|BUG:|Kernel panic/);
  }, 480_000);
});
