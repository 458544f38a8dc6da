import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { BareLoongarch64Machine } from '../../src/arch/loongarch64/bare-machine.js';
import { EM_LOONGARCH, loadElf } from '../../src/loader/elf.js';
import { tool } from '../helpers/fixtures.js';
import { PROGRAMS, buildLoongarchProgram } from '../loongarch64/toolchain.js';
import { qemuGdbSocket } from '../helpers/ports.js';
import { gdbBatch, trixieGdb } from './gdb-batch.js';
import { SingleCpuTarget } from './single-cpu-target.js';

// The real loongarch64 core behind the stub, attached by a LoongArch-capable gdb (trixie's
// gdb-multiarch in the fixtures' chroot; Debian 12's cannot) and checked two ways: gdb shows what the
// core holds, and the same script against qemu-system-loongarch64's own stub on the same ELF shows
// the same registers and memory.
const GPRS = Array.from({ length: 31 }, (_, i) => `r${i + 1}`);

function registerLines(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const m of text.matchAll(/^(\w+)\s+(0x[0-9a-f]+)/gm)) out.set(m[1]!, BigInt(m[2]!));
  return out;
}

/** The common script: single steps, a breakpoint, memory, a read watchpoint; `info registers` after each marker. */
const SCRIPT = [
  'echo <<stepi 150>>\\n', 'stepi 100', 'stepi 50', 'info registers',
  'break *bench_done', 'continue', 'echo <<bench_done>>\\n', 'info registers', 'x/16gx &buf', 'delete',
  'rwatch *(long *)((char *)&buf + 8)', 'continue', 'echo <<watch>>\\n', 'info registers',
];
const MARKERS = /<<(?:stepi 150|bench_done|watch)>>/;

describe('trixie gdb-multiarch: our stub over the real loongarch64 core vs qemu-system-loongarch64', () => {
  let elf: string;
  let symbols: Map<string, bigint>;
  let machine: BareLoongarch64Machine;
  let target: SingleCpuTarget;
  let server: GdbServer;
  let qemu: ChildProcess | undefined;

  beforeAll(async () => {
    ({ elf, symbols } = buildLoongarchProgram(join(PROGRAMS, 'bench-loongarch64.S'), { defines: ['ITERS=5000'], name: 'bench-gdb' }));
    machine = new BareLoongarch64Machine(256 << 20);
    const loaded = loadElf(new Uint8Array(readFileSync(elf)), machine.memory, { machine: EM_LOONGARCH });
    machine.cpu.reset(loaded.entry, []);
    target = new SingleCpuTarget(machine.cpu, machine.memory, 'zone0', { pc: loaded.entry, args: [] });
    server = new GdbServer({ target, port: 0 });
    await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    target?.dispose();
    qemu?.kill();
  });

  it('shows exactly the registers the core holds, and matches QEMU after the same script', async () => {
    const gdb = trixieGdb();
    const ours = await gdbBatch(server.port, elf, [...SCRIPT, 'monitor hold'], { gdb });
    expect(ours.stderr).not.toMatch(/warning|error/i);
    expect(ours.stdout).toMatch(/^pc\s+0x/m);
    const sections = ours.stdout.split(MARKERS);
    expect(sections.length, ours.stdout.slice(-3000) + ours.stderr).toBe(4);

    // gdb's last full view equals the core's own registers (the core stays where gdb left it).
    const core = (regno: number) => machine.cpu.readRegister(regno)!.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
    const final = registerLines(sections[3]!);
    GPRS.forEach((name, i) => expect(final.get(name), name).toBe(core(i + 1)));
    expect(final.get('pc')).toBe(core(33));
    expect(registerLines(sections[2]!).get('pc')).toBe(symbols.get('bench_done'));
    expect(ours.stdout).toMatch(/Hardware read watchpoint 2: \*\(long \*\)\(\(char \*\)&buf \+ 8\)\s+Value = /);

    // QEMU's stub on a Unix socket in a folder the chrooted gdb sees: no port to race for.
    const gdbSocket = qemuGdbSocket(gdb.scratch.host);
    qemu = spawn(tool('qemu-system-loongarch64'), [
      '-M', 'virt', '-smp', '1', '-m', '1G', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-nic', 'none',
      '-kernel', elf, '-S', '-gdb', gdbSocket.qemuArg,
    ], { stdio: 'ignore' });
    await gdbSocket.ready();
    const theirs = await gdbBatch(gdb.scratch.inside(gdbSocket.path), elf, [...SCRIPT, 'kill'], { gdb });
    const qemuSections = theirs.stdout.split(MARKERS);
    expect(qemuSections.length).toBe(4);
    for (let s = 1; s < 4; s++) {
      const a = registerLines(sections[s]!);
      const b = registerLines(qemuSections[s]!);
      for (const n of [...GPRS, 'pc']) expect(a.get(n), `section ${s} register ${n}`).toBe(b.get(n));
    }
    const words = (t: string) => [...t.matchAll(/\t(0x[0-9a-f]{16})/g)].map((m) => m[1]);
    expect(words(sections[2]!).length).toBe(16);
    expect(words(sections[2]!)).toEqual(words(qemuSections[2]!));
  });

  it('info all-registers shows each described register with a value, no fetch errors', async () => {
    const run = await gdbBatch(server.port, elf, ['info all-registers', 'p $fcsr', 'p $fcc0', 'p/x $f1'], { gdb: trixieGdb() });
    expect(run.stderr).toBe('');
    const shown = new Set([...run.stdout.matchAll(/^(\w+)\s+\S/gm)].map((m) => m[1]!));
    const described = machine.cpu.gdb.features.flatMap((f) => f.registers.map((r) => r.name));
    expect(described.filter((n) => !shown.has(n))).toEqual([]);
    expect(run.stdout).not.toMatch(/Could not fetch/);
    // The core has no LSX, LASX or LBT (CPUCFG2 says so): gdb 16 insists on their features, and shows them unavailable.
    const unavailable = [...run.stdout.matchAll(/^(\w+)\s+.*<unavailable>/gm)].map((m) => m[1]!);
    const extension = (n: string) => /^(vr|xr|scr)\d+$|^eflags$|^ftop$/.test(n);
    expect(unavailable.filter((n) => !extension(n))).toEqual([]);
    expect(unavailable).toEqual(expect.arrayContaining(['vr0', 'xr31', 'scr0', 'eflags', 'ftop']));
  });
});
