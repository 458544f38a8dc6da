import { spawn } from 'node:child_process';
import { tool } from '../helpers/fixtures.js';

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
}

/** Runs Debian's gdb-multiarch in batch mode against a stub (a TCP port on 127.0.0.1, or a Unix socket's path): `target remote` then `commands`. */
export function gdbBatch(port: number | string, elf: string | undefined, commands: readonly string[], options: GdbBatchOptions = {}): Promise<GdbRun> {
  const args = ['-nx', '-q', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', 'set width 0'];
  if (elf) args.push('-ex', `file ${elf}`);
  args.push('-ex', `target ${options.extended ? 'extended-remote' : 'remote'} ${typeof port === 'string' ? port : `127.0.0.1:${port}`}`);
  for (const c of commands) args.push('-ex', c);
  return new Promise((resolve, reject) => {
    const gdb = spawn(tool('gdb-multiarch'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
