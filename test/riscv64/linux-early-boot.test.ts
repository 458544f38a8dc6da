import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { LinuxMachine } from './linux-machine.js';

/**
 * Debian's riscv64 kernel (forky) on one hart of our core, with QEMU virt's device tree: its early
 * boot (relocation, MMU on, DT, SBI probing over earlycon=sbi, memory setup) up to the command-line
 * line. The full boot to the initramfs' BOOT-OK also works (about 840 M instructions; too long for CI).
 */
describe('Debian riscv64 Linux, early boot on the core', () => {
  it('prints its banner through SBI, finds QEMU virt, our SBI 2.0 extensions and its command line, with paging on', () => {
    const version = fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/);
    const kernel = new Uint8Array(readFileSync(`${version}/vmlinuz`));
    const initrd = new Uint8Array(readFileSync(fixture('initramfs-riscv64.cpio.gz')));
    const m = new LinuxMachine(kernel, fixture('qemu-dtb/qemu-virt-riscv64.dtb'), initrd, 'console=ttyS0 earlycon=sbi rdinit=/init panic=-1');
    const out = m.runUntil('Kernel command line:', 150_000_000);
    expect(out).toContain('Booting Linux on hartid 0');
    expect(out).toMatch(/Linux version \d+\.\d+\.\d+\S*-riscv64/);
    expect(out).toContain('Machine model: riscv-virtio,qemu');
    expect(out).toContain('SBI specification v2.0 detected');
    for (const ext of ['TIME', 'IPI', 'RFENCE', 'SRST', 'DBCN', 'HSM']) expect(out).toContain(`SBI ${ext} extension detected`);
    expect(out).toMatch(/node\s+0: \[mem 0x0+80000000-0x0+bfffffff\]/);
    expect(out).toContain('Kernel command line: console=ttyS0 earlycon=sbi rdinit=/init panic=-1');
    const satp = m.cpu.readRegister(65 + 0x180)!;
    expect(satp[7]! >> 4).toBeGreaterThanOrEqual(8); // Sv39 or wider is on
    expect(m.cpu.pc >> 63n).toBe(1n); // running at kernel virtual addresses
  }, 120_000);
});
