/**
 * QEMU as a per-instruction oracle: one instruction per translation block, the CPU state logged
 * before each (`-singlestep -d cpu,fpu,nochain`), into a FIFO read as it is written (QEMU cannot
 * log into a pipe it inherits), so a lockstep test compares while QEMU runs, in bounded memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';

/**
 * Runs `qemu-system-<arch>` with `machineArgs` and feeds every log line to `onLine`; `onLine`
 * returning false stops QEMU at once. Resolves when QEMU has exited and the log is drained.
 */
export async function runQemuCpuLog(
  binary: string,
  machineArgs: readonly string[],
  workDir: string,
  onLine: (line: string) => boolean,
): Promise<{ code: number | null; stderr: string }> {
  const fifo = join(workDir, 'cpu.log');
  execFileSync('mkfifo', [fifo]);
  const qemu = spawn(tool(binary), [...machineArgs, '-display', 'none', '-serial', 'null', '-monitor', 'none', '-nic', 'none',
    '-singlestep', '-d', 'cpu,fpu,nochain', '-D', fifo], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let rest = '';
  let going = true;
  const log = createReadStream(fifo, { encoding: 'latin1', highWaterMark: 1 << 20 });
  log.on('data', (chunk) => {
    const text = rest + (chunk as string);
    let start = 0;
    let nl: number;
    while (going && (nl = text.indexOf('\n', start)) >= 0) {
      going = onLine(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (!going) qemu.kill('SIGKILL');
  });
  const [code] = await Promise.all([
    new Promise<number | null>((resolve) => qemu.on('close', resolve)),
    new Promise<void>((resolve) => log.on('close', () => resolve())),
  ]);
  return { code, stderr };
}
