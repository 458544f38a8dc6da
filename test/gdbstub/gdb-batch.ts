import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fixture, tool } from '../helpers/fixtures.js';

/** A gdb to run: the command, its leading arguments, and how it names a host file. */
export interface GdbProgram {
  readonly command: string;
  readonly args: readonly string[];
  path(hostPath: string): string;
  /** A host folder this gdb sees as it is (a QEMU gdb socket goes there: a socket cannot be copied in), and its name for a path under it. */
  readonly scratch: { readonly host: string; inside(hostPath: string): string };
}

/** Debian 12's gdb-multiarch (13.1): aarch64, riscv and the rest, but no LoongArch. */
export function debianGdb(): GdbProgram {
  return { command: tool('gdb-multiarch'), args: [], path: (p) => p, scratch: { host: tmpdir(), inside: (p) => p } };
}

/**
 * Debian trixie's gdb-multiarch (16.x), which debugs LoongArch, in the minimal root scripts/fixtures.sh
 * makes; run with chroot, it sees the stubs on 127.0.0.1 and the files copied into its /tmp.
 */
export function trixieGdb(): GdbProgram {
  const root = fixture('trixie-gdb/.done').slice(0, -'/.done'.length);
  const shared = mkdtempSync(join(root, 'tmp', 'hvisor-ts-'));
  return {
    command: tool('chroot'),
    args: [root, 'gdb-multiarch'],
    path(hostPath) {
      copyFileSync(hostPath, join(shared, basename(hostPath)));
      return join('/tmp', basename(shared), basename(hostPath));
    },
    scratch: { host: shared, inside: (p) => join('/tmp', basename(shared), relative(shared, p)) },
  };
}

export interface GdbRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

export interface GdbBatchOptions {
  /**
   * Send SIGINT to gdb (which forwards it to the stub as Ctrl-C) once `interruptWhen` holds
   * (polled every 20 ms; default: at once), then `interruptAfterMs` later.
   */
  readonly interruptAfterMs?: number;
  readonly interruptWhen?: () => boolean;
  /** Kill gdb if it has not finished (default 30 s). */
  readonly timeoutMs?: number;
  /** `target remote` (default) or `target extended-remote`. */
  readonly extended?: boolean;
  /** Which gdb (default: Debian 12's gdb-multiarch). */
  readonly gdb?: GdbProgram;
}

/** Runs gdb-multiarch in batch mode against a stub (a TCP port on 127.0.0.1, or a Unix socket's path): `target remote` then `commands`. */
export function gdbBatch(port: number | string, elf: string | undefined, commands: readonly string[], options: GdbBatchOptions = {}): Promise<GdbRun> {
  const gdbProgram = options.gdb ?? debianGdb();
  const args = [...gdbProgram.args, '-nx', '-q', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', 'set width 0'];
  if (elf) args.push('-ex', `file ${gdbProgram.path(elf)}`);
  args.push('-ex', `target ${options.extended ? 'extended-remote' : 'remote'} ${typeof port === 'string' ? port : `127.0.0.1:${port}`}`);
  for (const c of commands) args.push('-ex', c);
  return new Promise((resolve, reject) => {
    const gdb = spawn(gdbProgram.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    gdb.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    gdb.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let interrupt: NodeJS.Timeout | undefined;
    if (options.interruptAfterMs !== undefined) {
      const delay = options.interruptAfterMs;
      const poll = () => {
        if (!options.interruptWhen || options.interruptWhen()) interrupt = setTimeout(() => gdb.kill('SIGINT'), delay);
        else interrupt = setTimeout(poll, 20);
      };
      poll();
    }
    const killer = setTimeout(() => gdb.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    gdb.on('error', reject);
    gdb.on('close', (code) => {
      clearTimeout(killer);
      if (interrupt) clearTimeout(interrupt);
      resolve({ stdout, stderr, code });
    });
  });
}

/** The hex values gdb printed (`$N = 0x...` lines, from `p/x`), in order. */
export function printedValues(text: string): bigint[] {
  return [...text.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]!));
}
