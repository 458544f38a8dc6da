/**
 * Oracle: random unprivileged instruction sequences (integer, loads/stores, exclusives, LSE atomics,
 * conditional branches; Advanced SIMD and FP on raw register contents under random FPCR rounding
 * modes) assembled with binutils and run under qemu-aarch64 (user mode) and on our core; every
 * register, NZCV, FPSR and a 512-byte data buffer must agree.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Stops, describeStop, type RunResult } from '../../src/arch/cpu.js';
import { tool } from '../helpers/fixtures.js';
import { BUFFER_BYTES, randomProgram, VREG_BYTES } from './random-program.js';
import { loadElf, makeZone } from './test-host.js';

const DUMP_BYTES = 256 + VREG_BYTES + BUFFER_BYTES;

export function assemble(source: string, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'a64oracle-'));
  const s = join(dir, `${name}.s`);
  writeFileSync(s, source);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-march=armv8.1-a+crc+simd+fp', '-o', join(dir, `${name}.o`), s]);
  execFileSync(tool('aarch64-linux-gnu-ld'), ['-static', '-nostdlib', '-o', join(dir, name), join(dir, `${name}.o`)]);
  return join(dir, name);
}

function runQemu(elf: string): Buffer {
  return execFileSync(tool('qemu-aarch64'), ['-cpu', 'max', elf], { maxBuffer: 1 << 20 });
}

function runOurs(elf: string): Buffer {
  const z = makeZone(0, 0x100_0000);
  const { entry, symbols } = loadElf(z.memory, elf);
  z.cpu.reset(entry, []);
  z.cpu.setBreakpoint(symbols.get('dump_done')!, true);
  let r: RunResult;
  do r = z.cpu.run(100_000);
  while (r === Stops.budget);
  if (r !== Stops.breakpoint) throw new Error(`stopped with ${describeStop(r)}`);
  return Buffer.from(z.memory.readDebug(Number(symbols.get('dump')!), DUMP_BYTES));
}

function words(b: Buffer): string[] {
  const names = [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'fpsr:nzcv'];
  const out: string[] = [];
  for (let i = 0; i < DUMP_BYTES / 8; i++) {
    const name = i < 32 ? names[i] : i < 96 ? `v${(i - 32) >> 1}.d[${i & 1}]` : `buf[${i - 96}]`;
    out.push(`${name}=0x${b.readBigUInt64LE(i * 8).toString(16)}`);
  }
  return out;
}

describe('qemu-aarch64 oracle', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`random sequence #${seed} (400 instructions) matches qemu-aarch64`, () => {
      const elf = assemble(randomProgram(seed, 400), `rand${seed}`);
      const expected = runQemu(elf);
      expect(expected.length).toBe(DUMP_BYTES);
      expect(words(runOurs(elf))).toEqual(words(expected));
    });
  }
  for (const seed of [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]) {
    it(`random sequence #${seed} with Advanced SIMD and FP (400 instructions) matches qemu-aarch64`, () => {
      const elf = assemble(randomProgram(seed, 400, true), `simd${seed}`);
      const expected = runQemu(elf);
      expect(expected.length).toBe(DUMP_BYTES);
      expect(words(runOurs(elf))).toEqual(words(expected));
    });
  }
});
