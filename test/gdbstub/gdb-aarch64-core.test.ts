import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { tool } from '../helpers/fixtures.js';
import { loadElf, makeZone, type TestZone } from '../aarch64/test-host.js';
import { qemuGdbSocket } from '../helpers/ports.js';
import { gdbBatch } from './gdb-batch.js';
import { SingleCpuTarget } from './single-cpu-target.js';

// The real aarch64 core behind the stub: gdb shows what the core holds, and the same script against
// qemu-system-aarch64's stub (cortex-a57, EL1) on the same ELF shows the same registers and memory.
const SOURCE = `
  .text
  .globl _start
_start:
  adr   x10, buf
  mov   x1, #3000
  mov   x2, #0
  mov   x3, #0
  mov   x6, #0
  .globl loop
loop:
  add   x2, x2, x1
  eor   x3, x3, x2
  lsl   x4, x3, #3
  add   x5, x10, x6
  ldr   x7, [x5]
  add   x7, x7, x4
  str   x7, [x5]
  add   x6, x6, #8
  and   x6, x6, #0x7f8
  subs  x1, x1, #1
  b.ne  loop
  .globl done
done:
  ldr   x8, [x10]
  mov   sp, x10
  stp   x2, x3, [sp, #-16]!
1:
  b     1b
  .bss
  .balign 4096
  .globl buf
buf:
  .space 2048
`;

function build(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gdbstub-a64-'));
  writeFileSync(join(dir, 'p.s'), SOURCE);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-g', '-o', join(dir, 'p.o'), join(dir, 'p.s')]);
  execFileSync(tool('aarch64-linux-gnu-ld'), ['-Ttext=0x40080000', '-e', '_start', '--no-warn-rwx-segments', '-o', join(dir, 'p.elf'), join(dir, 'p.o')]);
  return join(dir, 'p.elf');
}

function registerLines(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const m of text.matchAll(/^(\w+)\s+(0x[0-9a-f]+)/gm)) out.set(m[1]!, BigInt(m[2]!));
  return out;
}

const ZERO = ['set var $x0 = 0', 'set var $x1 = 0', 'set var $x2 = 0', 'set var $x3 = 0'];
const SCRIPT = [
  'echo <<stepi 100>>\\n', 'stepi 100', 'info registers',
  'break done', 'continue', 'echo <<done>>\\n', 'info registers', 'x/8gx &buf', 'delete',
  'watch *(long *)((char *)&buf - 16)', 'continue', 'echo <<watch>>\\n', 'info registers',
];
const CORE = [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc'];

describe('gdb-multiarch: our stub over the real aarch64 core vs qemu-system-aarch64', () => {
  let elf: string;
  let zone: TestZone;
  let target: SingleCpuTarget;
  let server: GdbServer;
  let qemu: ChildProcess | undefined;

  beforeAll(async () => {
    elf = build();
    zone = makeZone();
    const { entry } = loadElf(zone.memory, elf);
    zone.cpu.reset(entry, []);
    target = new SingleCpuTarget(zone.cpu, zone.memory, 'zone0', { pc: entry, args: [] });
    server = new GdbServer({ target, port: 0 });
    await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    target?.dispose();
    qemu?.kill();
  });

  it('shows exactly the registers the core holds, and matches QEMU after the same script', async () => {
    const ours = await gdbBatch(server.port, elf, [...ZERO, ...SCRIPT, 'monitor hold']);
    expect(ours.stderr).not.toMatch(/warning|error/i);
    const sections = ours.stdout.split(/<<(?:stepi 100|done|watch)>>/);
    expect(sections.length).toBe(4);
    expect(ours.stdout).toMatch(/Hardware watchpoint 2: .*\s+Old value = 0\s+New value = /);

    const core = (regno: number) => zone.cpu.readRegister(regno)!.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
    const final = registerLines(sections[3]!);
    CORE.forEach((name, regno) => expect(final.get(name), name).toBe(core(regno)));
    expect(final.get('cpsr')).toBe(core(33));

    const gdbSocket = qemuGdbSocket();
    qemu = spawn(tool('qemu-system-aarch64'), [
      '-M', 'virt', '-cpu', 'cortex-a57', '-smp', '1', '-m', '256M', '-display', 'none', '-serial', 'null', '-monitor', 'none',
      '-nic', 'none', '-kernel', elf, '-S', '-gdb', gdbSocket.qemuArg,
    ], { stdio: 'ignore' });
    await gdbSocket.ready();
    const theirs = await gdbBatch(gdbSocket.path, elf, [...ZERO, ...SCRIPT, 'kill']);
    const qemuSections = theirs.stdout.split(/<<(?:stepi 100|done|watch)>>/);
    expect(qemuSections.length).toBe(4);
    for (let s = 1; s < 4; s++) {
      const a = registerLines(sections[s]!);
      const b = registerLines(qemuSections[s]!);
      for (const n of CORE) expect(a.get(n), `section ${s} register ${n}`).toBe(b.get(n));
      // Condition flags (cpsr[31:28]); the mode bits differ by design (QEMU's reset EL1h vs our zone's state).
      expect(a.get('cpsr')! >> 28n, `section ${s} NZCV`).toBe(b.get('cpsr')! >> 28n);
    }
    const words = (t: string) => [...t.matchAll(/\t(0x[0-9a-f]{16})/g)].map((m) => m[1]);
    expect(words(sections[2]!).length).toBe(8);
    expect(words(sections[2]!)).toEqual(words(qemuSections[2]!));
  });
});

describe('gdb-multiarch: every register the aarch64 core describes can be read', () => {
  it('info all-registers shows each described register with a value, no fetch errors', async () => {
    const zone = makeZone();
    zone.cpu.reset(0x4008_0000n, []);
    const target = new SingleCpuTarget(zone.cpu, zone.memory);
    const server = new GdbServer({ target, port: 0 });
    await server.listen();
    try {
      const run = await gdbBatch(server.port, undefined, ['info all-registers']);
      // No ELF on purpose; gdb says so, and nothing else.
      expect(run.stderr.replace(/^warning: No executable has been specified.*\n.*\n/m, '')).toBe('');
      const shown = new Set([...run.stdout.matchAll(/^(\w+)\s+\S/gm)].map((m) => m[1]!));
      const described = zone.cpu.gdb.features.flatMap((f) => f.registers.map((r) => r.name));
      expect(described.filter((n) => !shown.has(n))).toEqual([]);
      expect(run.stdout).not.toMatch(/unavailable|Could not fetch/);
    } finally {
      await server.close();
      target.dispose();
    }
  });
});

describe('gdb-multiarch: info registers system shows what the guest reads with mrs', () => {
  const ID_REGISTERS = ['midr_el1', 'mpidr_el1', 'id_aa64pfr0_el1', 'id_aa64pfr1_el1', 'id_aa64dfr0_el1', 'id_aa64isar0_el1',
    'id_aa64isar1_el1', 'id_aa64mmfr0_el1', 'id_aa64mmfr1_el1', 'ctr_el0', 'clidr_el1', 'dczid_el0', 'mvfr0_el1'];
  it('the ID, cache-type and debug registers, each equal to the mrs result in x0..', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdbstub-a64-id-'));
    const source = `  .text\n  .globl _start\n_start:\n${ID_REGISTERS.map((r, i) => `  mrs x${i}, ${r}\n`).join('')}  .globl done\ndone:\n  b done\n`;
    writeFileSync(join(dir, 'id.s'), source);
    execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'id.o'), join(dir, 'id.s')]);
    execFileSync(tool('aarch64-linux-gnu-ld'), ['-Ttext=0x40080000', '-e', '_start', '-o', join(dir, 'id.elf'), join(dir, 'id.o')]);
    const zone = makeZone();
    const { entry } = loadElf(zone.memory, join(dir, 'id.elf'));
    zone.cpu.reset(entry, []);
    const target = new SingleCpuTarget(zone.cpu, zone.memory, 'zone0', { pc: entry, args: [] });
    const server = new GdbServer({ target, port: 0 });
    await server.listen();
    try {
      const run = await gdbBatch(server.port, join(dir, 'id.elf'), ['break done', 'continue', 'info registers', 'echo <<system>>\\n', 'info registers system']);
      const [general, system] = run.stdout.split('<<system>>');
      const x = registerLines(general!);
      const sys = registerLines(system!);
      ID_REGISTERS.forEach((r, i) => expect(sys.get(r.toUpperCase()), r).toBe(x.get(`x${i}`)));
      // The whole ID space and the debug registers are described (QEMU's cortex-a57 lists ~160 system registers).
      for (const name of ['ID_AA64ZFR0_EL1', 'ID_AA64MMFR2_EL1', 'ID_ISAR0_EL1', 'CCSIDR_EL1', 'MDSCR_EL1', 'OSLSR_EL1', 'DBGBCR15_EL1', 'DBGWVR0_EL1']) {
        expect(sys.has(name), name).toBe(true);
      }
      expect(sys.size).toBeGreaterThan(120);
    } finally {
      await server.close();
      target.dispose();
    }
  });
});
