/**
 * Real guest: Debian bookworm's arm64 kernel (raw Image) entered at EL1 with x0 = a DTB made from
 * QEMU's own virt device tree (bootargs with earlycon). The kernel must identify our core exactly
 * as it identifies QEMU's cortex-a53, find PSCI 1.0 / SMCCC 1.1 behind HVC, and get through early
 * memory setup with the MMU on (page tables, TLBI, exceptions) in its first 35 M instructions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Aarch64Cpu } from '../../src/arch/aarch64/aarch64-cpu.js';
import { Stops, type RunResult } from '../../src/arch/cpu.js';
import { bareVcpuHost } from '../../src/arch/bare-vcpu-host.js';
import { errorOf } from '../helpers/run-result.js';
import { loadArm64Image } from '../../src/loader/arm64-image.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import { fixture, fixtureMatching, tool } from '../helpers/fixtures.js';
import { CaptureUart } from './test-host.js';

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 0x2000_0000;
const DTB_ADDR = 0x4800_0000;

/** QEMU's virt DTB with 512 MiB of memory and an earlycon command line (edited as DTS with dtc). */
function bootDtb(): Uint8Array {
  const dtc = tool('dtc');
  const dts = execFileSync(dtc, ['-q', '-I', 'dtb', '-O', 'dts', fixture('qemu-dtb/qemu-virt-aarch64-gicv3.dtb')], { encoding: 'utf8' })
    .replace(/chosen \{[^}]*\}/, 'chosen {\n\t\tbootargs = "earlycon=pl011,0x9000000 console=ttyAMA0 maxcpus=1";\n\t}')
    .replace(/(memory@40000000 \{\s*reg = <0x00 0x40000000 0x00) 0x40000000>/, '$1 0x20000000>');
  const dir = mkdtempSync(join(tmpdir(), 'a64dtb-'));
  writeFileSync(join(dir, 'virt.dts'), dts);
  return execFileSync(dtc, ['-q', '-I', 'dts', '-O', 'dtb', join(dir, 'virt.dts')]);
}

describe('Debian arm64 kernel', () => {
  it('boots through early setup on our core, identified as a Cortex-A53 with PSCI 1.0', () => {
    const memory = new AddressSpace();
    memory.mapRam(RAM_BASE, RAM_SIZE, new Ram(RAM_SIZE));
    const uart = new CaptureUart();
    memory.mapMmio(0x0900_0000, 0x1000, uart);
    let cpu: Aarch64Cpu | undefined;
    const host = bareVcpuHost({ memory, timerFrequency: 62_500_000, now: () => (cpu?.retired ?? 0) * 0.625, vcpuState: (v) => (v === 0 ? 'on' : 'off') });
    cpu = new Aarch64Cpu({ index: 0, physicalId: 0, host });
    const kernel = loadArm64Image(readFileSync(fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/)), memory, RAM_BASE);
    memory.writeDebug(DTB_ADDR, bootDtb());
    cpu.reset(BigInt(kernel.entry), [BigInt(DTB_ADDR)]);
    let r: RunResult = Stops.budget;
    while (cpu.retired < 35_000_000 && (r === Stops.budget || r === Stops.wait)) r = cpu.run(1_000_000);
    const log = uart.text();
    if (process.env.KLOG) console.log(log.split("\n").slice(-5).join("\n"), cpu.retired);
    expect(errorOf(r)).toBeUndefined();
    expect(log).toMatch(/Booting Linux on physical CPU 0x0000000000 \[0x410fd034\]/);
    expect(log).toMatch(/Linux version 6\.1\.\d+.*Debian/);
    expect(log).toMatch(/Machine model: linux,dummy-virt/);
    expect(log).toMatch(/earlycon: pl11 at MMIO 0x0000000009000000/);
    expect(log).toMatch(/psci: PSCIv1\.1 detected in firmware\./);
    expect(log).toMatch(/psci: SMC Calling Convention v1\.1/);
    expect(log).toMatch(/Kernel command line: earlycon=pl011,0x9000000 console=ttyAMA0 maxcpus=1/);
    expect(log).toMatch(/Memory: \d+K\/524288K available/);
    expect(log).not.toMatch(/Internal error|Unable to handle|BUG:/);
  }, 120_000);
});
