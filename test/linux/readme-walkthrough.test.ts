/**
 * README.md's "Debugging a Linux zone with gdb", run command for command from a scratch folder that
 * holds the repository's dist/, boards/ and .fixtures/ (so the commands run as written): the symbol
 * file, `hvisor run` with the arm64 root zone (its shell on the run's stdin/stdout), and gdb-multiarch
 * with the README's commands. Substitutions, for a test: `--gdb-base-port 0` (a free port; the banner
 * names it), a `shell touch` before `continue` to know when to type. The same boot serves the arm64
 * checks of kernel-debug-checks.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, fixture } from '../helpers/fixtures.js';
import { GuestConsole, until } from '../helpers/guest-console.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { breakInUname, compareWithProcKallsyms, compareWithPsAndDmesg, expectBreakInUname } from './kernel-debug-checks.js';

const exec = promisify(execFile);

/** The README section's fenced blocks, in order, as { lang, lines }. */
function walkthrough(): { lang: string; lines: string[] }[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('## Debugging a Linux zone with gdb');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, lines: m[2]!.trim().split('\n') }));
}

/** A shell line as argv (the README's commands use plain words and single quotes). */
function argv(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe('README: Debugging a Linux zone with gdb', () => {
  let hvisor: ChildProcess | undefined;
  afterEach(() => {
    hvisor?.kill('SIGKILL');
  });

  it('runs as written: symbols, the arm64 root zone, break in its uname by name, bt, monitor linux; and the arm64 checks', async () => {
    const dir = scratch('readme-');
    for (const d of ['dist', 'boards', '.fixtures']) symlinkSync(join(REPO, d), join(dir, d));
    const blocks = walkthrough();
    const shellLines = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.lines);
    const gdbBlocks = blocks.filter((b) => b.lang === 'gdb');
    expect(shellLines[0]).toBe('npm ci && npm run fixtures && npm run build'); // done by the suite's pretest
    const [symbolsLine, runLine] = shellLines.slice(1);
    expect(symbolsLine).toMatch(/^node dist\/src\/cli\/main\.js symbols /);
    expect(runLine).toMatch(/^node dist\/src\/cli\/main\.js run /);

    // 1. The symbol file (and, for the comparison, the same listed).
    const symbols = argv(symbolsLine!);
    await exec(symbols[0]!, symbols.slice(1), { cwd: dir });
    const listed = await exec(symbols[0]!, [...symbols.slice(1), '--list'], { cwd: dir, maxBuffer: 64 << 20 });

    // 2. The zone; the banner names its gdb port; its shell is on the run's terminal (here: pipes).
    const runArgs = argv(runLine!);
    hvisor = spawn(runArgs[0]!, [...runArgs.slice(1), '--gdb-base-port', '0'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const shell = new GuestConsole('zone0-linux', (b) => hvisor!.stdin!.write(b));
    hvisor.stdout!.on('data', (d: Buffer) => shell.append(d.toString()));
    hvisor.stderr!.on('data', (d: Buffer) => shell.append(d.toString()));
    await until(() => /zone 0 zone0-linux \(CPU 0\): gdb-multiarch/.test(shell.text()), 'the banner', 120_000, () => shell.text());
    const gdbPort = Number(shell.text().match(/zone 0 zone0-linux \(CPU 0\): gdb-multiarch -ex "target remote 127\.0\.0\.1:(\d+)"/)?.[1]);
    expect(gdbPort).toBeGreaterThan(0);
    const prompt = /\nzone0# $/;
    await shell.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 900_000);

    await compareWithProcKallsyms(shell, listed);

    // 4. gdb with the README's commands (the `(gdb) ` prompts stripped).
    const [launchLine, ...beforeUname] = gdbBlocks[0]!.lines;
    const gdbArgs = argv(launchLine!);
    expect(gdbArgs[0]).toBe('gdb-multiarch');
    expect(gdbArgs).toContain('target remote 127.0.0.1:1234');
    const symbolFile = gdbArgs.find((a) => a.startsWith('symbol-file '))!;
    const commands = (lines: string[]) => lines.map((l) => l.replace(/^\(gdb\) /, ''));
    const before = commands(beforeUname);
    expect(before.slice(-2)).toEqual(['break __arm64_sys_newuname', 'continue']);
    const atBreakpoint = commands(gdbBlocks[1]!.lines);
    expect(atBreakpoint.slice(-2)).toEqual(['delete', 'detach']);
    const session = await breakInUname({
      port: gdbPort,
      elf: join(dir, symbolFile.split(' ')[1]!),
      image: fixture('vmlinuz-arm64'),
      syscall: '__arm64_sys_newuname',
      flag: join(dir, 'continuing'),
      before: before.slice(0, -2),
      atBreakpoint: atBreakpoint.slice(0, -2),
      typeUname: async (continuing) => {
        await until(continuing, 'gdb to continue', 300_000, () => shell.text());
        shell.type('uname -a\n');
      },
    });
    // gdb prints monitor output on stderr in batch mode.
    const gdbOut = session.stdout + session.stderr;
    expect(gdbOut, session.stderr).toContain('Breakpoint 1');
    expectBreakInUname(gdbOut, '__arm64_sys_newuname', 'invoke_syscall');
    // ID registers as the core's mrs reads them (gdb prints name, hex, decimal).
    expect(gdbOut).toMatch(/^ID_AA64PFR0_EL1 +0x1000011 /m);
    expect(gdbOut).toMatch(/^MIDR_EL1 +0x410fd034 /m);
    // The zone's GIC: the PL011's interrupt 33 enabled by its driver, level-triggered, group 1, routed to the vCPU.
    expect(gdbOut).toMatch(/^ +33 +- +yes +(yes|no ) +(yes|no ) +(high|low ) +level +1 +0x[0-9a-f]+ +vcpu0$/m);
    await shell.waitFor(/GNU\/Linux[^\n]*\n[\s\S]*zone0# $/, 'uname to finish', 300_000);
    await compareWithPsAndDmesg(shell, prompt, gdbOut);
  }, 2_400_000);
});
