/**
 * README.md's "Debugging a Linux zone with gdb", run command for command from a scratch folder that
 * holds the repository's dist/, boards/ and .fixtures/ (so the commands run as written): the symbol
 * file, `hvisor run` with the root and the nonroot arm64 zone, zone1's shell on its virtio console, and
 * gdb-multiarch with the README's commands. Substitutions, for a test: `--gdb-base-port 0` (free
 * ports; the banner names them), node:net in place of socat, a `shell touch` before `continue` to
 * know when to type. The same boot serves the arm64 checks of kernel-debug-checks.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
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
  let socket: Socket | undefined;
  afterEach(() => {
    socket?.destroy();
    hvisor?.kill('SIGKILL');
  });

  it('runs as written: symbols, two arm64 zones, break in zone1\'s uname by name, bt, monitor linux; and the arm64 checks', async () => {
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
    const listed = await exec(symbols[0]!, [...symbols.slice(1, 4), '--list'], { cwd: dir, maxBuffer: 64 << 20 });

    // 2. The two zones; the banner names zone1's gdb port and its console's.
    const runArgs = argv(runLine!);
    let out = '';
    hvisor = spawn(runArgs[0]!, [...runArgs.slice(1), '--gdb-base-port', '0'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    hvisor.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    hvisor.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const banner = (re: RegExp) => Number(out.match(re)?.[1]);
    await until(() => /virtio-console@a003000: tcp 127\.0\.0\.1:\d+/.test(out), 'the banner', 120_000, () => out);
    const gdbPort = banner(/zone 1 zone1-linux \(CPU 1\): gdb-multiarch -ex "target remote 127\.0\.0\.1:(\d+)"/);
    const consolePort = banner(/zone 1 virtio-console@a003000: tcp 127\.0\.0\.1:(\d+)/);
    expect(gdbPort).toBeGreaterThan(0);

    // 3. zone1's shell (in place of socat): poke until the prompt answers.
    socket = connect(consolePort, '127.0.0.1');
    const shell = new GuestConsole('hvc0', (b) => socket!.write(b));
    socket.setEncoding('utf8');
    socket.on('data', (t: string) => shell.append(t));
    await new Promise<void>((resolve, reject) => socket!.once('connect', resolve).once('error', reject));
    const prompt = /\nzone1# $/;
    let poked = 0;
    await until(() => {
      if (/READY-2/.test(shell.text())) return true;
      if (Date.now() - poked > 10_000) {
        shell.type('echo READY-$((1+1))\n');
        poked = Date.now();
      }
      return false;
    }, 'zone1\'s shell', 900_000, () => out + shell.text());
    await shell.waitFor(/READY-2[\s\S]*zone1# $/, 'the prompt', 60_000);

    await compareWithProcKallsyms(shell, listed);

    // 4. gdb with the README's commands (the `(gdb) ` prompts stripped).
    const [launchLine, ...beforeUname] = gdbBlocks[0]!.lines;
    const gdbArgs = argv(launchLine!);
    expect(gdbArgs[0]).toBe('gdb-multiarch');
    expect(gdbArgs).toContain('target remote 127.0.0.1:1235');
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
    // zone1's GIC: its virtio-console's interrupt 72 enabled by the driver, group 1, routed to its vCPU.
    expect(gdbOut).toMatch(/^ +72 +- +yes +(yes|no ) +(yes|no ) +(high|low ) +(edge |level) +1 +0x[0-9a-f]+ +vcpu0$/m);
    await shell.waitFor(/GNU\/Linux[^\n]*\n[\s\S]*zone1# $/, 'uname to finish', 300_000);
    await compareWithPsAndDmesg(shell, prompt, gdbOut);
    // zone0 ran on: its shell was up on the terminal.
    expect(out).toMatch(/zone0-linux\s*│ SHELL-READY/);
  }, 2_400_000);
});
