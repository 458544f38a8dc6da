/**
 * The checks of debugging a stock Debian kernel in a zone (issue 19), shared by the README walkthrough
 * (arm64, nonroot zone1, through the CLI) and the riscv64 zone0 test: `hvisor symbols` against the
 * running kernel's /proc/kallsyms (whole, by digest; data symbols through gdb); a gdb session that breaks by name in the uname system call and
 * shows a backtrace by name; `monitor linux ps|dmesg|current|kaslr` against the shell's ps and dmesg.
 */
import { createHash } from 'node:crypto';
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

/** The shell's answers take minutes when several Linux boots share a loaded 2-core machine. */
const SHELL_MS = 600_000;
/** Lines of /proc/kallsyms that cross the console as text (the rest is compared by digest). */
const HEAD_LINES = 200;

/**
 * The running kernel's /proc/kallsyms is our kallsyms table, whole: the same symbols in the same order,
 * each at the same address with the same type. The guest digests its own listing (the kernel's lines;
 * module and BPF lines carry a "[owner]" and are not in the image) so only a count and an MD5 cross
 * the console; its first lines come across too, so that a mismatch shows where the tables part. What
 * `hvisor symbols` adds after the table (exported data from __ksymtab, where the kernel has no
 * CONFIG_KALLSYMS_ALL: its report on stderr counts both) is data the kernel does not list.
 */
export async function compareWithProcKallsyms(shell: GuestConsole, listed: { stdout: string; stderr: string }): Promise<void> {
  const ours = parseSymbols(listed.stdout);
  const tableEntries = Number(/(\d+) kallsyms entries/.exec(listed.stderr)?.[1]);
  const kernelLines = "grep -v '\\[' /proc/kallsyms";
  const out = (await shell.run(`${kernelLines} | wc -l; ${kernelLines} | md5sum; head -n ${HEAD_LINES} /proc/kallsyms; echo KALLSYMS-END`, /KALLSYMS-END\r?\n[\s\S]*zone\d# $/, SHELL_MS)).replace(/\r/g, '');
  const theirs = parseSymbols(out);
  expect(theirs).toEqual(ours.slice(0, HEAD_LINES));
  const [, count, digest] = /^(\d+)\n([0-9a-f]{32}) +-$/m.exec(out) ?? [];
  expect(Number(count)).toBe(tableEntries);
  const table = ours.slice(0, tableEntries);
  expect(digest).toBe(createHash('md5').update(table.map((s) => `${s.address} ${s.type} ${s.name}\n`).join('')).digest('hex'));
  const inTable = new Set(table.map((s) => s.name));
  for (const s of ours.slice(tableEntries)) expect(s.type === 'D' && !inTable.has(s.name), `${s.name} after the table`).toBe(true);
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
    // Data symbols from the file: init_task's comm (offset from BTF), jiffies counting.
    `x/s (char *)&init_task + ${comm}`,
    'p/x *(unsigned long *)&jiffies',
    'delete',
    'detach',
  ], { timeoutMs: SHELL_MS });
  await typed;
  return session;
}

/** What the session printed: the stop in the system call, a named caller, the monitor's answers. */
export function expectBreakInUname(out: string, syscall: string, caller: string, kaslrOffset = 0n): void {
  expect(out).toMatch(new RegExp(`Breakpoint 1, 0x[0-9a-f]+ in ${syscall} \\(\\)`));
  expect(out).toMatch(new RegExp(`#0 +0x[0-9a-f]+ in ${syscall} \\(\\)`));
  expect(out).toMatch(new RegExp(`#1 +0x[0-9a-f]+ in ${caller} \\(\\)`));
  expect(out).toMatch(/vcpu\d: pid \d+ uname \(task_struct 0x[0-9a-f]+, state R, from /);
  expect(out).toMatch(new RegExp(`KASLR offset 0x${kaslrOffset.toString(16)} \\(_stext linked at 0x[0-9a-f]+, running at 0x[0-9a-f]+\\)`));
  expect(out).toContain('linux ps takes no arguments');
  expect(out).toMatch(/<init_task\+\d+>:\s+"swapper\/0"/);
  expect(out).toMatch(/^\$\d+ = 0x[0-9a-f]{5,}$/m);
}

/**
 * The shell's ps: every process it lists (but ps itself and later ones) was in the kernel's list the
 * monitor printed, kernel threads under the same name; that list had the stopped uname and init.
 * The shell's dmesg tail is the monitor's (nothing is logged in between).
 */
export async function compareWithPsAndDmesg(shell: GuestConsole, prompt: RegExp, out: string): Promise<void> {
  const monitorPs = new Map([...out.matchAll(/^ *(\d+) +(\d+) +(\d+) ([RSDTtXZPI]) 0x[0-9a-f]+ (.+)$/gm)].map((m) => [Number(m[1]), m[5]!]));
  expect([...monitorPs.values()]).toContain('uname');
  expect(monitorPs.has(1)).toBe(true);
  const shellPs = await shell.run('ps', prompt, SHELL_MS);
  // Column-agnostic: a row starts with its pid; a kernel thread's row ends with [its name]. ps is the newest.
  const rows = [...shellPs.matchAll(/^ *(\d+) +(.*?)\r?$/gm)].map((m) => ({ pid: Number(m[1]), command: /(\[[^\]]*\])\s*$/.exec(m[2]!)?.[1] ?? m[2]! }));
  const psPid = Math.max(...rows.map((r) => r.pid));
  const before = rows.filter((r) => r.pid < psPid);
  expect(before.length).toBeGreaterThan(10);
  for (const r of before) {
    expect(monitorPs.has(r.pid), `pid ${r.pid} ${r.command}`).toBe(true);
    // /proc shows a workqueue worker as comm-workqueue (kworker/0:1-events): comm is its prefix.
    if (r.command.startsWith('[')) expect(r.command.slice(1, -1).startsWith(monitorPs.get(r.pid)!.slice(1, -1)), `pid ${r.pid} ${r.command}`).toBe(true);
  }
  const shellDmesg = (await shell.run('dmesg | tail -n 5', prompt, SHELL_MS)).replace(/\r/g, '').split('\n').slice(1, 6).join('\n');
  const monitorDmesg = out.match(/(?:^\[ *\d+\.\d{6}\] .*\n){5}/m)?.[0]?.trimEnd();
  expect(monitorDmesg).toBe(shellDmesg);
}
