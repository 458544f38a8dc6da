import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tool } from '../helpers/fixtures.js';
import { Stops, type RunResult } from '../../src/arch/cpu.js';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../../src/loader/elf.js';
import { buildProgram } from './toolchain.js';

/** SBI SRST system_reset(shutdown): ends a test program with a system-event stop. */
export const SHUTDOWN = `
  li a7, 0x53525354
  li a6, 0
  li a0, 0
  li a1, 0
  ecall
`;

export const LOAD = 0x8020_0000;

export interface SmodeRun {
  m: BareRiscv64Machine;
  stop: RunResult;
  symbols: Map<string, number>;
}

/** Symbols of an ELF via binutils' nm, so tests can name addresses in their program. */
function symbolsOf(elf: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' }).split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (addr !== undefined && name !== undefined) out.set(name, parseInt(addr, 16));
  }
  return out;
}

/** Builds `source` (an S-mode program starting at _start, linked at 0x8020_0000) and loads it on a bare machine. */
export function loadSmode(name: string, source: string): SmodeRun & { elf: string } {
  const elf = buildProgram(name, `  .section .text.boot, "ax"\n  .option norvc\n  .global _start\n_start:\n${source}\n`, { loadAddress: LOAD });
  const m = new BareRiscv64Machine();
  const image = loadElf(readFileSync(elf), m.memory, { machine: EM_RISCV });
  m.cpu.reset(image.entry, [0n, 0x8220_0000n]);
  return { m, stop: Stops.budget, symbols: symbolsOf(elf), elf };
}

export function runSmode(name: string, source: string, setup?: (m: BareRiscv64Machine) => void, budget = 1_000_000): SmodeRun {
  const r = loadSmode(name, source);
  setup?.(r.m);
  // An SBI console write yields the rest of the run (the hypervisor's scheduling): run on.
  do r.stop = r.m.run(budget);
  while (r.stop === Stops.yield);
  return r;
}

export const reg = (m: BareRiscv64Machine, n: number): bigint => m.cpu.reg(n);
