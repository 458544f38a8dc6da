import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../../src/loader/elf.js';
import { tool } from '../helpers/fixtures.js';
import { PROGRAMS, buildProgram } from '../riscv64/toolchain.js';
import { qemuGdbSocket } from '../helpers/ports.js';
import { gdbBatch } from './gdb-batch.js';
import { SingleCpuTarget } from './single-cpu-target.js';

// The real riscv64 core behind the stub, checked two ways: gdb shows what the core holds, and the
// same gdb script against qemu-system-riscv64's own stub on the same ELF shows the same registers.
const X_NAMES = 'ra sp gp tp t0 t1 t2 fp s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6'.split(' ');

function registerLines(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const m of text.matchAll(/^(\w+)\s+(0x[0-9a-f]+)/gm)) out.set(m[1]!, BigInt(m[2]!));
  return out;
}

function execSymbol(elf: string, name: string): string {
  const line = execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`${elf}: no symbol ${name}`);
  return line.split(' ')[0]!;
}

/** QEMU's reset ROM leaves a1 (fdt), a2 (fw info) and t0 (entry) set: both sides start from zero. */
const ZERO_BOOT_ARGS = ['set var $a1 = 0', 'set var $a2 = 0', 'set var $t0 = 0'];
/** The common script; `info registers` after each marker is compared. */
const SCRIPT = [
  // 100 steps the way gdb steps a GNU/Linux riscv ELF (breakpoint at the next pc + continue), then 50 by vCont;s.
  'echo <<stepi 150>>\\n', 'stepi 100', 'set osabi none', 'stepi 50', 'info registers',
  'break bench_done', 'continue', 'echo <<bench_done>>\\n', 'info registers', 'x/16gx &buf', 'delete',
  'rwatch *(long *)&buf', 'continue', 'echo <<watch>>\\n', 'info registers',
];

describe('gdb-multiarch: our stub over the real riscv64 core vs qemu-system-riscv64', () => {
  let elf: string;
  let machine: BareRiscv64Machine;
  let target: SingleCpuTarget;
  let server: GdbServer;
  let qemu: ChildProcess | undefined;

  beforeAll(async () => {
    elf = buildProgram('bench-gdb', readFileSync(join(PROGRAMS, 'bench-riscv64.S'), 'utf8'), { defines: ['SMODE', 'ITERS=5000'] });
    machine = new BareRiscv64Machine(16 << 20);
    const loaded = loadElf(new Uint8Array(readFileSync(elf)), machine.memory, { machine: EM_RISCV });
    machine.cpu.reset(loaded.entry, [0n]);
    target = new SingleCpuTarget(machine.cpu, machine.memory, 'zone0', { pc: loaded.entry, args: [0n] });
    server = new GdbServer({ target, port: 0 });
    await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    target?.dispose();
    qemu?.kill();
  });

  it('shows exactly the registers the core holds, and matches QEMU after the same script', async () => {
    const ours = await gdbBatch(server.port, elf, [...ZERO_BOOT_ARGS, ...SCRIPT, 'monitor hold']);
    expect(ours.stderr).not.toMatch(/warning|error/i);
    const sections = ours.stdout.split(/<<(?:stepi 150|bench_done|watch)>>/);
    expect(sections.length).toBe(4);

    // gdb's last full view equals the core's own registers (the core stays where gdb left it).
    const atDone = registerLines(sections[2]!);
    const core = (regno: number) => {
      const bytes = machine.cpu.readRegister(regno)!;
      return bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
    };
    const final = registerLines(sections[3]!);
    X_NAMES.forEach((name, i) => expect(final.get(name), name).toBe(core(i + 1)));
    expect(final.get('pc')).toBe(core(32));
    expect(atDone.get('pc')).toBe(BigInt(`0x${execSymbol(elf, 'bench_done')}`));
    expect(ours.stdout).toMatch(/Hardware read watchpoint 2: \*\(long \*\)&buf\s+Value = /);

    const gdbSocket = qemuGdbSocket();
    qemu = spawn(tool('qemu-system-riscv64'), [
      '-M', 'virt', '-smp', '1', '-m', '256M', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-nic', 'none',
      '-bios', 'none', '-kernel', elf, '-S', '-gdb', gdbSocket.qemuArg,
    ], { stdio: 'ignore' });
    await gdbSocket.ready();
    const theirs = await gdbBatch(gdbSocket.path, elf, ['tbreak *_start', 'continue', ...ZERO_BOOT_ARGS, ...SCRIPT, 'kill']);
    const qemuSections = theirs.stdout.split(/<<(?:stepi 150|bench_done|watch)>>/);
    expect(qemuSections.length).toBe(4);
    for (let s = 1; s < 4; s++) {
      const a = registerLines(sections[s]!);
      const b = registerLines(qemuSections[s]!);
      const names = [...X_NAMES, 'pc'];
      for (const n of names) expect(a.get(n), `section ${s} register ${n}`).toBe(b.get(n));
    }
    // x/16gx &buf: same memory contents.
    const words = (t: string) => [...t.matchAll(/\t(0x[0-9a-f]{16})/g)].map((m) => m[1]);
    expect(words(sections[2]!).length).toBe(16);
    expect(words(sections[2]!)).toEqual(words(qemuSections[2]!));
  });
});

describe('gdb-multiarch: every register the riscv64 core describes can be read', () => {
  it('info all-registers shows each described register with a value, no fetch errors', async () => {
    const machine = new BareRiscv64Machine(1 << 20);
    machine.cpu.reset(0x8000_0000n, [0n]);
    const target = new SingleCpuTarget(machine.cpu, machine.memory);
    const server = new GdbServer({ target, port: 0 });
    await server.listen();
    try {
      const run = await gdbBatch(server.port, undefined, ['info all-registers']);
      // No ELF on purpose; gdb says so, and nothing else.
      expect(run.stderr.replace(/^warning: No executable has been specified.*\n.*\n/m, '')).toBe('');
      const shown = new Set([...run.stdout.matchAll(/^(\w+)\s+\S/gm)].map((m) => m[1]!));
      const described = machine.cpu.gdb.features.flatMap((f) => f.registers.map((r) => r.name));
      expect(described.filter((n) => !shown.has(n))).toEqual([]);
      expect(run.stdout).not.toMatch(/unavailable|Could not fetch/);
    } finally {
      await server.close();
      target.dispose();
    }
  });
});
