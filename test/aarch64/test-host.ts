/** A tiny zone for core tests: RAM, a UART that captures bytes, a VcpuHost that records events (and the system events runs stop with). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import type { VcpuHost } from '../../src/arch/cpu.js';
import { bareVcpuHost } from '../../src/arch/bare-vcpu-host.js';
import { Aarch64Cpu, type Aarch64CpuOptions } from '../../src/arch/aarch64/aarch64-cpu.js';

export class CaptureUart implements MmioDevice {
  readonly name = 'capture-uart';
  readonly bytes: number[] = [];
  read(offset: number): number {
    return offset === 0x18 ? 0x90 : 0; // PL011 FR: TX empty
  }
  write(offset: number, _size: number, value: number): void {
    if (offset === 0) this.bytes.push(value & 0xff);
  }
  reset(): void {
    this.bytes.length = 0;
  }
  text(): string {
    return Buffer.from(this.bytes).toString('latin1');
  }
}

export interface TestZone {
  readonly memory: AddressSpace;
  readonly ram: Ram;
  readonly uart: CaptureUart;
  readonly host: VcpuHost & { events: string[]; hypercalls: bigint[][]; ticks: number };
  readonly cpu: Aarch64Cpu;
}

export function makeZone(ramBase = 0x4000_0000, ramSize = 0x100_0000, options: Partial<Aarch64CpuOptions> = {}): TestZone {
  const memory = new AddressSpace();
  const ram = new Ram(ramSize);
  memory.mapRam(ramBase, ramSize, ram);
  const uart = new CaptureUart();
  memory.mapMmio(0x0900_0000, 0x1000, uart);
  const events: string[] = [];
  const hypercalls: bigint[][] = [];
  const host: TestZone['host'] = Object.assign(
    bareVcpuHost({
      memory,
      timerFrequency: 62_500_000,
      now: () => host.ticks,
      startVcpu(vcpu, entry, arg) {
        events.push(`start ${vcpu} 0x${entry.toString(16)} 0x${arg.toString(16)}`);
        return vcpu === 1 ? 'ok' : 'invalid';
      },
      vcpuState: (vcpu) => (vcpu === 0 ? 'on' : vcpu === 1 ? 'off' : 'invalid'),
      hypercall(code, args) {
        hypercalls.push([code, ...args]);
        return 0x1234n;
      },
    }),
    { events, hypercalls, ticks: 0 },
  );
  const cpu = new Aarch64Cpu({ index: 0, physicalId: 0, host, ...options });
  // The host's record of power events, as a zone sees them: from the stops that carry them.
  const run = cpu.run.bind(cpu);
  cpu.run = (budget, step) => {
    const stop = run(budget, step);
    if (stop.kind === 'system-event') events.push(stop.event);
    return stop;
  };
  return { memory, ram, uart, host, cpu };
}

/** Loads the PT_LOAD segments of a little-endian ELF64 file; returns the entry and symbols. */
export function loadElf(memory: AddressSpace, path: string): { entry: bigint; symbols: Map<string, bigint> } {
  const f = readFileSync(path);
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (f.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path}: not an ELF file`);
  const entry = dv.getBigUint64(24, true);
  const phoff = Number(dv.getBigUint64(32, true));
  const shoff = Number(dv.getBigUint64(40, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue;
    const off = Number(dv.getBigUint64(p + 8, true));
    const paddr = Number(dv.getBigUint64(p + 24, true));
    const filesz = Number(dv.getBigUint64(p + 32, true));
    const memsz = Number(dv.getBigUint64(p + 40, true));
    memory.writeDebug(paddr, f.subarray(off, off + filesz));
    if (memsz > filesz) memory.writeDebug(paddr + filesz, new Uint8Array(memsz - filesz));
  }
  const symbols = new Map<string, bigint>();
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (dv.getUint32(sh + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = Number(dv.getBigUint64(sh + 24, true));
    const size = Number(dv.getBigUint64(sh + 32, true));
    const link = dv.getUint32(sh + 40, true);
    const strOff = Number(dv.getBigUint64(shoff + link * shentsize + 24, true));
    for (let s = off; s < off + size; s += 24) {
      const nameOff = dv.getUint32(s, true);
      let end = strOff + nameOff;
      while (f[end] !== 0) end++;
      const name = f.toString('latin1', strOff + nameOff, end);
      if (name) symbols.set(name, dv.getBigUint64(s + 8, true));
    }
  }
  return { entry, symbols };
}

/** Assembles a bare-metal snippet (entry `_start`, linked at 0x4008_0000) into an ELF file. */
export function assembleBare(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'a64snip-'));
  const src = join(dir, 'snippet.S');
  const out = join(dir, 'snippet.elf');
  writeFileSync(src, `    .text\n    .global _start\n_start:\n${source}\n`);
  execFileSync(tool('aarch64-linux-gnu-gcc'), ['-nostdlib', '-static', '-Wl,-Ttext=0x40080000', '-Wl,--build-id=none', '-o', out, src]);
  return out;
}

/** A zone with `source` loaded and the core reset at its entry. */
export function zoneWith(source: string, options: Partial<Aarch64CpuOptions> = {}): TestZone & { symbols: Map<string, bigint> } {
  const z = makeZone(0x4000_0000, 0x100_0000, options);
  const { entry, symbols } = loadElf(z.memory, assembleBare(source));
  z.cpu.reset(entry, []);
  return { ...z, symbols };
}

/** Builds test/aarch64/programs/<name>.S as a bare-metal ELF linked at 0x4008_0000. */
export function buildProgram(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'a64sys-'));
  const out = join(dir, `${name}.elf`);
  const src = join(import.meta.dirname, 'programs', `${name}.S`);
  execFileSync(tool('aarch64-linux-gnu-gcc'), ['-nostdlib', '-static', '-Wl,-Ttext=0x40080000', '-Wl,--build-id=none', '-o', out, src]);
  return out;
}
