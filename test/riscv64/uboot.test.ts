import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Stops, describeStop } from '../../src/arch/cpu.js';
import { bareVcpuHost } from '../../src/arch/bare-vcpu-host.js';
import { Riscv64Cpu } from '../../src/arch/riscv64/riscv64-cpu.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { disconnectedIrq } from '../../src/machine/irq-line.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { Ram } from '../../src/machine/ram.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { Ns16550a } from '../../src/devices/uart/ns16550a.js';
import { loadRawImage } from '../../src/loader/raw-image.js';
import { fixture } from '../helpers/fixtures.js';

/** Debian's u-boot-qemu package (installed by scripts/fixtures.sh). */
const UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin';

/** Reads all ones and ignores writes: "no device here" for the probes U-Boot makes (virtio-mmio, CFI flash, ECAM). */
const absent: MmioDevice = { name: 'absent', read: () => 0xffffffff, write: () => {}, reset: () => {} };

/**
 * Debian's S-mode U-Boot on one hart of our core, with QEMU virt's own device tree, a real NS16550A
 * model on 0x1000_0000 and nothing else: it must reach its prompt and answer commands.
 */
class UbootMachine {
  readonly memory = new AddressSpace();
  readonly console = new BufferedCharBackend();
  readonly cpu: Riscv64Cpu;
  private ticks = 0;

  constructor() {
    const ram = new Ram(1 << 30); // the DTB says 1 GiB; U-Boot relocates itself to its top
    this.memory.mapRam(0x8000_0000, 1 << 30, ram);
    this.memory.mapMmio(0x1000_0000, 0x100, new Ns16550a({ backend: this.console, irq: disconnectedIrq }));
    this.memory.mapMmio(0, 0x1000_0000, absent, 'absent-low');
    this.memory.mapMmio(0x1000_0100, 0x8000_0000 - 0x1000_0100, absent, 'absent-high');
    const self = this;
    const host = bareVcpuHost({
      memory: this.memory,
      now: () => self.ticks + self.cpu.retired / 10,
      timerFrequency: 10_000_000,
      consoleWrite: (b) => { for (const x of b) self.console.write(x); },
    });
    this.cpu = new Riscv64Cpu(host, 0);
    if (!existsSync(UBOOT)) throw new Error(`missing ${UBOOT}: run \`bash scripts/fixtures.sh\` (installs u-boot-qemu)`);
    loadRawImage(readFileSync(UBOOT), this.memory, 0x8020_0000, 'u-boot.bin');
    const dtb = readFileSync(fixture('qemu-dtb/qemu-virt-riscv64.dtb'));
    loadRawImage(dtb, this.memory, 0x8220_0000, 'qemu-virt-riscv64.dtb');
    this.cpu.reset(0x8020_0000n, [0n, 0x8220_0000n]);
  }

  /** Runs until the console output (from `from` on) contains `text`; a wfi skips time ahead to the timer. */
  runUntil(text: string, from: number, maxInstructions: number): string {
    const start = this.cpu.retired;
    for (;;) {
      const out = this.console.outputText.slice(from);
      if (out.includes(text)) return out;
      if (this.cpu.retired - start > maxInstructions) throw new Error(`no "${text}" after ${maxInstructions} instructions:\n${out}`);
      const stop = this.cpu.run(200_000);
      if (stop === Stops.wait) {
        const d = this.cpu.nextTimerDeadline();
        if (d === Infinity) throw new Error(`hart waits with no timer:\n${out}`);
        this.ticks += Math.max(1, d - this.cpu.retired / 10 - this.ticks);
      } else if (stop !== Stops.budget && stop !== Stops.yield) {
        throw new Error(`hart stopped: ${describeStop(stop)}\n${out}`);
      }
    }
  }

  command(line: string, maxInstructions = 200_000_000): string {
    const from = this.console.outputText.length;
    this.console.push(`${line}\n`);
    const out = this.runUntil('=> ', from + line.length + 1, maxInstructions);
    return out;
  }
}

describe('Debian U-Boot (qemu-riscv64_smode) on the riscv64 core', () => {
  it('boots to its prompt and answers version, bdinfo and fdt print /cpus', () => {
    const m = new UbootMachine();
    const banner = m.runUntil('Hit any key to stop autoboot', 0, 400_000_000);
    expect(banner).toContain('U-Boot 2023.01');
    expect(banner).toMatch(/DRAM:\s+1 GiB/);
    m.console.push(' ');
    m.runUntil('=> ', banner.length, 100_000_000);
    expect(m.command('version')).toMatch(/U-Boot 2023\.01[^\n]*\n/);
    const bd = m.command('bdinfo');
    expect(bd).toMatch(/boot_params\s*=/);
    expect(bd).toMatch(/-> start\s*= 0x0*80000000\s+-> size\s*= 0x0*40000000/);
    expect(bd).toMatch(/relocaddr\s*= 0x0*bf/); // relocated near the top of the 1 GiB
    const cpus = m.command('fdt addr $fdtcontroladdr; fdt print /cpus');
    expect(cpus).toContain('timebase-frequency = <0x00989680>');
    expect(cpus).toContain('riscv,isa = "rv64imafdch');
    expect(cpus).toMatch(/cpu@0 \{/);
  }, 120_000);
});
