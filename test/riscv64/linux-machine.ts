import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stops, describeStop } from '../../src/arch/cpu.js';
import { bareVcpuHost } from '../../src/arch/bare-vcpu-host.js';
import { Riscv64Cpu } from '../../src/arch/riscv64/riscv64-cpu.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { Ram } from '../../src/machine/ram.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { Ns16550a } from '../../src/devices/uart/ns16550a.js';
import { Plic } from '../../src/devices/irqchip/plic.js';
import { SifiveTest } from '../../src/devices/platform/sifive-test.js';
import { loadRawImage } from '../../src/loader/raw-image.js';
import { tool } from '../helpers/fixtures.js';

/** Reads all ones and ignores writes: "no device here" for probes (virtio-mmio, CFI flash, ECAM, fw-cfg). */
const absent: MmioDevice = { name: 'absent', read: () => 0xffffffff, write: () => {}, reset: () => {} };

/**
 * One hart of our core on QEMU virt's riscv64 layout with only what a serial-console Linux needs:
 * RAM, the PLIC (source 10 = UART), an NS16550A and sifive_test. The device tree is QEMU's own, with
 * /chosen patched through dtc (bootargs, initrd). Time runs with retired instructions (100 per µs).
 */
export class LinuxMachine {
  readonly memory = new AddressSpace();
  readonly console = new BufferedCharBackend();
  readonly cpu: Riscv64Cpu;
  powerOff: number | undefined;
  private skipped = 0;

  constructor(kernel: Uint8Array, dtb: string, initrd: Uint8Array, bootargs: string) {
    const ram = new Ram(1 << 30);
    this.memory.mapRam(0x8000_0000, 1 << 30, ram);
    const self = this;
    let cpu: Riscv64Cpu | undefined;
    const plic = new Plic({
      numSources: 0x61, ownedSources: Array.from({ length: 0x60 }, (_, i) => i + 1), vcpus: 4,
      contextOutputs: Array.from({ length: 8 }, (_, c) => irqLine((level) => { if (c === 1) cpu?.setInterrupt(9, level); })),
    });
    const uart = new Ns16550a({ backend: this.console, irq: plic.input(10) });
    const test = new SifiveTest({ powerOff: (code) => { self.powerOff = code; }, reset: () => { self.powerOff = -1; } });
    this.memory.mapMmio(0x0, 0x10_0000, absent, 'absent0');
    this.memory.mapMmio(0x10_0000, 0x1000, test);
    this.memory.mapMmio(0x10_1000, 0x0c00_0000 - 0x10_1000, absent, 'absent1');
    this.memory.mapMmio(0x0c00_0000, 0x60_0000, plic);
    this.memory.mapMmio(0x0c60_0000, 0x1000_0000 - 0x0c60_0000, absent, 'absent2');
    this.memory.mapMmio(0x1000_0000, 0x100, uart);
    this.memory.mapMmio(0x1000_0100, 0x8000_0000 - 0x1000_0100, absent, 'absent3');
    const host = bareVcpuHost({
      memory: this.memory,
      now: () => self.skipped + self.cpu.retired / 10,
      timerFrequency: 10_000_000,
      vcpuState: (v) => (v === 0 ? 'on' : v < 4 ? 'off' : 'invalid'),
      ipi: (v) => { if (v === 0) self.cpu.setInterrupt(1, true); },
      consoleWrite: (b) => { for (const x of b) self.console.write(x); },
    });
    cpu = this.cpu = new Riscv64Cpu(host, 0);
    const KERNEL = 0x8020_0000, INITRD = 0x8800_0000, DTB = 0x87e0_0000;
    loadRawImage(kernel, this.memory, KERNEL, 'vmlinuz');
    loadRawImage(initrd, this.memory, INITRD, 'initrd');
    loadRawImage(patchedDtb(dtb, bootargs, INITRD, INITRD + initrd.length), this.memory, DTB, 'dtb');
    this.cpu.reset(BigInt(KERNEL), [0n, BigInt(DTB)]);
  }

  /** Runs until the console shows `text`, the machine powers off, or `maxInstructions` pass. */
  runUntil(text: string, maxInstructions: number): string {
    const start = this.cpu.retired;
    for (;;) {
      const out = this.console.outputText;
      if (out.includes(text) || this.powerOff !== undefined) return out;
      if (this.cpu.retired - start > maxInstructions) return out;
      const stop = this.cpu.run(1_000_000);
      if (stop.kind === 'system-event') this.powerOff = stop.event === 'off' ? 0 : -1;
      if (stop === Stops.wait) {
        const d = this.cpu.nextTimerDeadline();
        if (d === Infinity) return out + '\n[hart waits with no timer]';
        this.skipped += Math.max(1, d - this.cpu.retired / 10 - this.skipped);
      } else if (stop !== Stops.budget && stop !== Stops.yield) {
        return out + `\n[hart stopped: ${describeStop(stop)}]`;
      }
    }
  }
}

/** QEMU's DTB with /chosen bootargs and initrd set, through dtc (decompile, edit, compile). */
function patchedDtb(dtb: string, bootargs: string, initrdStart: number, initrdEnd: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'rv64-linux-'));
  const dts = execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dts', dtb], { encoding: 'utf8' });
  const chosen = `chosen {\n\t\tbootargs = "${bootargs}";\n\t\tlinux,initrd-start = <0x0 0x${initrdStart.toString(16)}>;\n` +
    `\t\tlinux,initrd-end = <0x0 0x${initrdEnd.toString(16)}>;\n`;
  const patched = dts.replace(/chosen \{\n/, chosen);
  writeFileSync(join(dir, 'virt.dts'), patched);
  execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', '-o', join(dir, 'virt.dtb'), join(dir, 'virt.dts')]);
  return new Uint8Array(readFileSync(join(dir, 'virt.dtb')));
}
