/**
 * The checks of debugging a stock Debian kernel in a zone (issue 19), shared by the README walkthrough
 * (arm64, nonroot zone1, through the CLI) and the riscv64 zone0 test: `hvisor symbols` against the
 * running kernel's /proc/kallsyms; a gdb session that breaks by name in the uname system call and
 * shows a backtrace by name; `monitor linux ps|dmesg|current|kaslr` against the shell's ps and dmesg.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Btf } from '../../src/linux-guest/btf.js';
import { gdbBatch, type GdbRun } from '../gdbstub/gdb-batch.js';
import type { GuestConsole } from '../helpers/guest-console.js';

export interface Sym {
  readonly address: string;
  readonly type: string;
  readonly name: string;
}

/** `hvisor symbols --list` or /proc/kallsyms lines. */
export const parseSymbols = (text: string): Sym[] =>
  [...text.matchAll(/^([0-9a-f]{16}) (\S) (\S+)$/gm)].map((m) => ({ address: m[1]!, type: m[2]!, name: m[3]! }));

/** Reading /proc/kallsyms whole is minutes of emulated work on a loaded 2-core machine. */
const SHELL_MS = 600_000;

/**
 * Every kallsyms entry of the running kernel (module and BPF lines carry a [tag]) is one of ours, and
 * a sample of text (and, where kallsyms has them, data) symbols sits at the same address with the same type.
 */
export async function compareWithProcKallsyms(shell: GuestConsole, prompt: RegExp, listed: { stdout: string; stderr: string }, mustName: readonly string[]): Promise<void> {
  const ours = parseSymbols(listed.stdout);
  const byName = new Map<string, Sym[]>();
  for (const s of ours) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const answer = (command: string) => shell.run(command, prompt, SHELL_MS);
  // One read of /proc/kallsyms (slow: the kernel formats every line), kept in the initramfs.
  const count = Number((await answer("cat /proc/kallsyms > /kallsyms; grep -vc '\\[' /kallsyms")).match(/^(\d+)\r?$/m)?.[1]);
  expect(count).toBe(Number(listed.stderr.match(/\((\d+) kallsyms entries/)?.[1]));
  const fromKallsyms = new Set(ours.slice(0, count));
  const unique = ours.filter((s) => fromKallsyms.has(s) && /^\w+$/.test(s.name) && byName.get(s.name)!.length === 1);
  const text = unique.filter((s) => /[Tt]/.test(s.type));
  const data = unique.filter((s) => /[DdBbRr]/.test(s.type));
  const sample = [...text.filter((_, i) => i % Math.floor(text.length / 30) === 0), ...data.filter((_, i) => i % Math.max(1, Math.floor(data.length / 20)) === 0).slice(0, 20)];
  for (const n of mustName) sample.push(byName.get(n)![0]!);
  const grep = await answer(`grep -E ' (${sample.map((s) => s.name).join('|')})$' /kallsyms`);
  const theirs = new Map(parseSymbols(grep).map((s) => [s.name, s]));
  for (const s of sample) expect(theirs.get(s.name), s.name).toEqual(s);
}

export interface GdbSessionOptions {
  readonly port: number;
  readonly elf: string;
  readonly image: string;
  readonly syscall: string;
  /** gdb commands after the breakpoint is hit, before `delete` and `detach`. */
  readonly atBreakpoint: readonly string[];
  /** Types `uname` on the zone's shell once gdb has continued (`continuing` says so). */
  readonly typeUname: (continuing: () => boolean) => Promise<void>;
  /** Commands before `break` (the walkthrough's `monitor linux kaslr`). */
  readonly before?: readonly string[];
  readonly flag: string;
}

/** gdb with the symbol file: break by name, the shell runs uname, the stop is in the system call. */
export async function breakInUname(o: GdbSessionOptions): Promise<GdbRun> {
  const comm = Btf.find(new Uint8Array(readFileSync(o.image))).member('task_struct', 'comm').offset;
  const { existsSync } = await import('node:fs');
  const typed = o.typeUname(() => existsSync(o.flag));
  const session = await gdbBatch(o.port, undefined, [
    `symbol-file ${o.elf}`,
    ...(o.before ?? []),
    `break ${o.syscall}`,
    `shell touch ${o.flag}`,
    'continue',
    ...o.atBreakpoint,
    'monitor linux ps extra',
    `x/s (char *)&init_task + ${comm}`,
    'delete',
    'detach',
  ], { timeoutMs: SHELL_MS });
  await typed;
  return session;
}

/** What the session printed: the stop in the system call, a named caller, the monitor's answers. */
export function expectBreakInUname(out: string, syscall: string, caller: string): void {
  expect(out).toMatch(new RegExp(`Breakpoint 1, 0x[0-9a-f]+ in ${syscall} \\(\\)`));
  expect(out).toMatch(new RegExp(`#0 +0x[0-9a-f]+ in ${syscall} \\(\\)`));
  expect(out).toMatch(new RegExp(`#1 +0x[0-9a-f]+ in ${caller} \\(\\)`));
  expect(out).toMatch(/vcpu\d: pid \d+ uname \(task_struct 0x[0-9a-f]+, state R, from /);
  expect(out).toMatch(/KASLR offset 0x0 \(_stext linked at 0x[0-9a-f]+, running at 0x[0-9a-f]+\)/);
  expect(out).toContain('linux ps takes no arguments');
  expect(out).toMatch(/"swapper\/0"/);
}

/**
 * The shell's ps: every process it lists (but ps itself and later ones) was in the kernel's list the
 * monitor printed, kernel threads under the same name; that list had the stopped uname and init.
 * The shell's dmesg tail is the monitor's (nothing is logged in between).
 */
export async function compareWithPsAndDmesg(shell: GuestConsole, prompt: RegExp, out: string): Promise<void> {
  const monitorPs = new Map([...out.matchAll(/^ *(\d+) +(\d+) +(\d+) ([RSDTtXZPI]) 0x[0-9a-f]+ (.+)$/gm)].map((m) => [Number(m[1]), m[5]!]));
  expect([...monitorPs.values()]).toContain('uname');
  expect(monitorPs.get(1)).toBe('init');
  const shellPs = await shell.run('ps', prompt, SHELL_MS);
  const rows = [...shellPs.matchAll(/^ *(\d+) +\S+ +\S+ +(.+?)\r?$/gm)].map((m) => ({ pid: Number(m[1]), command: m[2]! }));
  const psPid = rows.find((r) => r.command === 'ps')!.pid;
  const before = rows.filter((r) => r.pid < psPid);
  expect(before.length).toBeGreaterThan(10);
  for (const r of before) {
    expect(monitorPs.has(r.pid), `pid ${r.pid} ${r.command}`).toBe(true);
    if (r.command.startsWith('[')) expect(monitorPs.get(r.pid)).toBe(r.command);
  }
  const shellDmesg = (await shell.run('dmesg | tail -n 5', prompt, SHELL_MS)).replace(/\r/g, '').split('\n').slice(1, 6).join('\n');
  const monitorDmesg = out.match(/(?:^\[ *\d+\.\d{6}\] .*\n){5}/m)?.[0]?.trimEnd();
  expect(monitorDmesg).toBe(shellDmesg);
}
