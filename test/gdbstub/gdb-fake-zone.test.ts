import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GdbServer } from '../../gdbstub/server.js';
import { FakeZone, RAM_BASE } from './fake-zone.js';
import { buildGuestProgram, type GuestProgram } from './guest-program.js';
import { gdbBatch, printedValues } from './gdb-batch.js';
import { CSR_BASE, PC } from './riscv64-description.js';

// Debian's gdb-multiarch 13.1 (the real client) driving the stub that serves a fake riscv64 zone.
let program: GuestProgram;
const sym = (name: string) => program.symbols.get(name)!;
const X_NAMES = 'zero ra sp gp tp t0 t1 t2 fp s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6'.split(' ');

/** `name 0xvalue ...` lines of gdb's register output. */
function registerLines(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const m of text.matchAll(/^(\w+)\s+(0x[0-9a-f]+)/gm)) out.set(m[1]!, BigInt(m[2]!));
  return out;
}

/** `$N = 0x...` values printed by `p/x`, in order. */

describe('gdb-multiarch against the stub serving a fake riscv64 zone', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  beforeAll(() => {
    program = buildGuestProgram();
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  async function serve(name = 'zone0'): Promise<{ zone: FakeZone; server: GdbServer }> {
    const zone = new FakeZone(name, program.image, [RAM_BASE, RAM_BASE]);
    const server = new GdbServer({ target: zone, port: 0, name });
    await server.listen();
    cleanup.push(async () => {
      await server.close();
      zone.dispose();
    });
    return { zone, server };
  }

  it('connects and shows every register exactly as the zone holds it, per thread', async () => {
    const { zone, server } = await serve();
    zone.vcpus.forEach((v, t) => {
      for (let i = 1; i < 32; i++) v.r[i] = (BigInt(i) << 40n) | (BigInt(t) << 32n) | 0xa5a5n;
      v.r[CSR_BASE + 0x180] = 0x8000000000080200n + BigInt(t); // satp
      v.r[CSR_BASE + 0x100] = 0x22n; // sstatus
    });
    const run = await gdbBatch(server.port, program.elf, [
      'info registers', 'info registers satp sstatus priv', 'thread 2', 'info registers', 'info registers satp', 'monitor hold',
    ]);
    expect(run.stderr).not.toMatch(/warning|error|unknown|invalid/i);
    const halves = run.stdout.split(/\[Switching to thread 2/);
    expect(halves.length).toBe(2);
    halves.forEach((text, t) => {
      const regs = registerLines(text);
      const v = zone.vcpus[t]!;
      for (let i = 1; i < 32; i++) expect(regs.get(X_NAMES[i]!), X_NAMES[i]).toBe(v.r[i]);
      expect(regs.get('pc')).toBe(v.r[PC]);
      expect(regs.get('satp')).toBe(v.r[CSR_BASE + 0x180]);
    });
    expect(run.stdout).toMatch(/^sstatus\s+0x22/m);
    expect(run.stdout).toMatch(/^priv\s+0x1\s+prv:1 \[Supervisor\]/m);
  });

  it('single-steps: stepi and stepi 100 move the selected vCPU exactly as executing 101 instructions does', async () => {
    const { zone, server } = await serve();
    const reference = new FakeZone('ref', program.image, [RAM_BASE, RAM_BASE]);
    for (let i = 0; i < 101; i++) {
      await new Promise<void>((resolve) => {
        reference.onStop(() => resolve());
        reference.resume(new Map([[1, 'step']]), 'stop');
      });
    }
    // osabi none: gdb steps with vCont;s (with the GNU/Linux ABI it plants a breakpoint and continues).
    const run = await gdbBatch(server.port, program.elf, [
      'set osabi none', 'stepi', 'p/x $pc', 'stepi 100', 'p/x $pc', 'p/x $t0', 'p/x $t1', 'monitor hold',
    ]);
    const [afterOne, pc, t0, t1] = printedValues(run.stdout);
    expect(afterOne).toBe(RAM_BASE + 4n);
    expect(pc).toBe(reference.vcpus[0]!.pc);
    expect(t0).toBe(reference.vcpus[0]!.r[5]);
    expect(t1).toBe(reference.vcpus[0]!.r[6]);
    expect(zone.retired).toBe(101);
    expect(zone.vcpus[1]!.pc).toBe(RAM_BASE); // the other vCPU never moved
    reference.dispose();
  });

  it('single-steps the way gdb does for a GNU/Linux riscv ELF: breakpoint at the next pc and continue', async () => {
    const { zone, server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['stepi', 'p/x $pc', 'stepi 20', 'p/x $pc', 'monitor hold']);
    const [afterOne, after21] = printedValues(run.stdout);
    expect(afterOne).toBe(RAM_BASE + 4n);
    expect(after21).toBe(zone.vcpus[0]!.pc);
    expect(zone.breakpoints.size).toBe(0);
  });

  it('stops at break and hbreak, and at watch/rwatch/awatch with old and new values', async () => {
    const { server } = await serve();
    const run = await gdbBatch(server.port, program.elf, [
      'break loop', 'continue', 'continue', 'delete', 'hbreak bump', 'continue', 'p/x $pc', 'delete',
      'thread 1', 'watch *(long *)&counters', 'continue', 'continue', 'delete',
      'rwatch *(long *)((char *)&counters + 8)', 'continue', 'delete',
      'awatch *(long *)((char *)&counters + 8)', 'continue', 'continue', 'delete',
    ]);
    expect(run.stdout).toMatch(/hit Breakpoint 1, loop \(\)/);
    expect(run.stdout).toMatch(/Hardware assisted breakpoint 2 at 0x[0-9a-f]+: file .*\n\n.*hit Breakpoint 2, bump \(\)/);
    expect(run.stdout).toMatch(/Hardware watchpoint 3: \*\(long \*\)&counters\s+Old value = \d+\s+New value = \d+/);
    const writes = run.stdout.slice(0, run.stdout.indexOf('Hardware read watchpoint 4'));
    const news = [...writes.matchAll(/New value = (\d+)/g)].map((m) => Number(m[1]));
    expect(news.length).toBe(2);
    expect(news[1]).toBe(news[0]! + 1);
    expect(run.stdout).toMatch(/Hardware read watchpoint 4: \*\(long \*\)\(\(char \*\)&counters \+ 8\)\s+Value = \d+/);
    expect(run.stdout).toMatch(/Hardware access \(read\/write\) watchpoint 5: .*\s+(Value|Old value) = \d+/);
    expect(printedValues(run.stdout)[0]).toBe(sym('bump'));
  });

  it('reads memory with x/64x and writes memory and registers with set var', async () => {
    const { zone, server } = await serve();
    const run = await gdbBatch(server.port, program.elf, [
      'x/64xw _start',
      'set var *(long *)&counters = 0x1122334455667788',
      'set var $t2 = 0xfeedface',
      'set var $sepc = 0x80000abc',
      'set var $pc = exit_now',
      'p/x *(long *)&counters', 'p/x $t2', 'p/x $sepc', 'monitor hold',
    ]);
    const words = [...run.stdout.matchAll(/^0x[0-9a-f]+(?: <[^>]+>)?:((?:[\t ]+0x[0-9a-f]{8})+)/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    expect(words.length).toBe(64);
    const image = new Uint8Array(256);
    image.set(program.image.subarray(0, 256));
    const before = new DataView(image.buffer); // what RAM held when x ran (set var came later)
    words.forEach((w, i) => expect(BigInt(w), `word ${i}`).toBe(BigInt(before.getUint32(i * 4, true))));
    const view = new DataView(zone.ram.buffer);
    const off = Number(sym('counters') - RAM_BASE);
    expect(view.getBigUint64(off, true)).toBe(0x1122334455667788n);
    expect(zone.vcpus[0]!.r[7]).toBe(0xfeedfacen);
    expect(zone.vcpus[0]!.r[CSR_BASE + 0x141]).toBe(0x80000abcn);
    expect(zone.vcpus[0]!.pc).toBe(sym('exit_now'));
    expect(printedValues(run.stdout)).toEqual([0x1122334455667788n, 0xfeedfacen, 0x80000abcn]);
  });

  it('lists vCPUs as threads with names and state, and switches between them', async () => {
    const { server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['info threads', 'thread 2', 'p/x $a0', 'thread 1', 'p/x $a0']);
    expect(run.stdout).toMatch(/\* 1\s+Thread 1\.1 "zone0\/vcpu0" \(S-mode, halted\) _start \(\)/);
    expect(run.stdout).toMatch(/ {2}2\s+Thread 1\.2 "zone0\/vcpu1" \(S-mode, halted\) _start \(\)/);
    expect(printedValues(run.stdout)).toEqual([1n, 0n]);
  });

  it('interrupts a running zone with Ctrl-C (SIGINT forwarded as 0x03)', async () => {
    const { zone, server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['continue', 'p/x $pc', 'p/x *(long *)&counters'], {
      // Interrupted once the zone has run well past the checks below, not after a time.
      interruptWhen: () => zone.resumes > 0 && !zone.halted && zone.retired > 20_000,
      interruptAfterMs: 0,
    });
    expect(run.stdout).toMatch(/received signal SIGINT, Interrupt\./);
    expect(zone.retired).toBeGreaterThan(1000);
    const [pc, counter] = printedValues(run.stdout);
    expect(pc! >= sym('loop') && pc! <= sym('exit_now')).toBe(true);
    expect(counter).toBeGreaterThan(100n);
  });

  it('runs monitor commands', async () => {
    const { zone, server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['monitor help', 'monitor zone', 'monitor regs']);
    // gdb prints monitor output on stderr in batch mode.
    expect(run.stderr).toMatch(/^phys on\|off/m);
    expect(run.stderr).toMatch(/^zone0: 2 vCPUs, RAM 80000000\+10000$/m);
    expect(run.stderr).toMatch(/^vcpu1 pc=80000000$/m);
    expect(zone.monitorLog).toEqual(['help', 'zone', 'regs']);
  });

  it('keeps gdb waiting through a monitor command slower than its remote timeout; the replies stay in step', async () => {
    const { zone, server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['monitor slow', 'monitor zone', 'monitor slow-fail', 'p/x $pc', 'monitor regs']);
    expect(run.stderr).toMatch(/^slow answer after 5 s\nzone0: 2 vCPUs, RAM 80000000\+10000\nerror: the slow command failed\n/m);
    expect(run.stdout).toMatch(/^\$1 = 0x80000000$/m);
    expect(run.stderr).toMatch(/^vcpu1 pc=80000000$/m);
    expect(run.stderr).not.toMatch(/Ignoring packet error|Invalid hex/);
    expect(zone.monitorLog).toEqual(['slow', 'zone', 'slow-fail', 'regs']);
  }, 60_000);

  it('reports the zone powering off as an exit with its code', async () => {
    const { server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['set var $pc = exit_now', 'continue']);
    expect(run.stdout).toMatch(/\[Inferior 1 \(process 1\) exited with code 07\]/);
    // The port stays open for the next debugger, which finds the zone where it stopped.
    const again = await gdbBatch(server.port, program.elf, ['p/x $pc']);
    expect(printedValues(again.stdout)).toEqual([sym('exit_now') + 12n]);
  });

  it('works as a target extended-remote', async () => {
    const { server } = await serve();
    const run = await gdbBatch(server.port, program.elf, ['info threads', 'stepi', 'p/x $pc', 'detach'], { extended: true });
    expect(run.stderr).not.toMatch(/warning|error/i);
    expect(run.stdout).toMatch(/Thread 1\.2 "zone0\/vcpu1"/);
    expect(printedValues(run.stdout)).toEqual([RAM_BASE + 4n]);
    expect(run.stdout).toMatch(/\[Inferior 1 \(process 1\) detached\]/);
  });

  it('detaches (the zone runs on), accepts a new gdb, and kill resets only the zone', async () => {
    const { zone, server } = await serve();
    const first = await gdbBatch(server.port, program.elf, ['break loop', 'continue', 'detach']);
    expect(first.stdout).toMatch(/\[Inferior 1 \(process 1\) detached\]/);
    const retired = zone.retired;
    expect(zone.halted).toBe(false);
    expect(zone.breakpoints.size).toBe(0);
    await vi.waitFor(() => expect(zone.retired).toBeGreaterThan(retired), { timeout: 20_000, interval: 10 });
    const second = await gdbBatch(server.port, program.elf, ['p/x *(long *)&counters', 'kill']);
    expect(printedValues(second.stdout)[0]).toBeGreaterThan(0n);
    expect(second.stdout).toMatch(/\[Inferior 1 \(process 1\) killed\]/);
    expect(zone.kills).toBe(1);
    const third = await gdbBatch(server.port, program.elf, ['p/x $pc', 'p/x *(long *)&counters']);
    expect(printedValues(third.stdout)).toEqual([RAM_BASE, 0n]);
  });

  it('serves two zones on two ports to two gdbs at once; halting one leaves the other running', async () => {
    const a = await serve('zone0');
    const b = await serve('zoneR');
    // gdb A holds zone0 until gdb B has zoneR running (a marker file) and the sampler has seen both
    // that way several times (a second marker: no fixed sleep, a loaded machine only makes it slower);
    // gdb B interrupts zoneR once gdb A has detached.
    const dir = mkdtempSync(join(tmpdir(), 'gdbstub-two-'));
    const marker = join(dir, 'zoneR-running');
    const sampled = join(dir, 'sampled');
    const samples: Array<[number, number]> = [];
    const sampler = setInterval(() => {
      const bRunning = b.server.attached && !b.zone.halted;
      if (bRunning && !existsSync(marker)) writeFileSync(marker, '');
      if (a.server.attached && a.zone.halted && bRunning) samples.push([a.zone.retired, b.zone.retired]);
      if (samples.length >= 8 && !existsSync(sampled)) writeFileSync(sampled, '');
    }, 20);
    const [ra, rb] = await Promise.all([
      gdbBatch(a.server.port, program.elf, [
        'p/x $pc', `shell while [ ! -f ${sampled} ]; do sleep 0.05; done`, 'monitor zone', 'detach',
      ]),
      gdbBatch(b.server.port, program.elf, ['p/x $pc', 'continue', 'monitor zone'], {
        // After the samples, not merely after the marker: a gdb A slow to attach (a loaded machine) is
        // not attached yet either, and interrupting B then would leave A waiting for samples forever.
        interruptWhen: () => existsSync(sampled) && !a.server.attached,
        interruptAfterMs: 100,
      }),
    ]);
    clearInterval(sampler);
    expect(ra.stderr).toMatch(/^zone0: /m);
    expect(printedValues(ra.stdout)[0]).toBe(RAM_BASE);
    expect(rb.stderr).toMatch(/^zoneR: /m);
    expect(rb.stdout).toMatch(/received signal SIGINT/);
    // While gdb held zone0 halted, zoneR kept executing.
    expect(samples.length).toBeGreaterThan(3);
    expect(new Set(samples.map(([x]) => x)).size).toBe(1);
    expect(samples[samples.length - 1]![1]).toBeGreaterThan(samples[0]![1]);
  });
});
