/**
 * QEMU as the oracle for what a PCI function looks like to a driver: run qemu-system-aarch64's
 * virt machine under the qtest protocol (no guest code runs; -S) and replay a fixed list of ECAM
 * and BAR accesses. The same list replayed on our models gives values to compare.
 */
import { spawn } from 'node:child_process';
import { tool } from '../helpers/fixtures.js';

export type Access = { op: 'r'; addr: number; size: 1 | 2 | 4 } | { op: 'w'; addr: number; size: 1 | 2 | 4; value: number };

/** Runs the accesses against QEMU; resolves with the value of every read, in order. */
export function qemuReplay(deviceArgs: string[], accesses: readonly Access[]): Promise<number[]> {
  const name = { 1: 'b', 2: 'w', 4: 'l' } as const;
  const script = accesses
    .map((a) => (a.op === 'r' ? `read${name[a.size]} 0x${a.addr.toString(16)}` : `write${name[a.size]} 0x${a.addr.toString(16)} 0x${a.value.toString(16)}`))
    .join('\n') + '\n';
  // QEMU's qtest server does not exit at end of input: read exactly one answer per command, then kill it.
  const qemu = spawn(
    tool('qemu-system-aarch64'),
    ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '256M', '-S', '-display', 'none', '-nodefaults', '-qtest', 'stdio', '-qtest-log', '/dev/null', ...deviceArgs],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const answers: string[] = [];
    const timer = setTimeout(() => finish(new Error(`qtest answered ${answers.length} of ${accesses.length} commands in 30 s: ${stderr}`)), 30_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      qemu.kill('SIGKILL');
      if (error) return reject(error);
      const out: number[] = [];
      for (const [i, l] of answers.entries()) {
        if (l.startsWith('FAIL')) return reject(new Error(`qtest: ${l} for access ${i}`));
        if (accesses[i]!.op === 'r') out.push(Number(BigInt(l.split(' ')[1]!) & 0xffff_ffffn));
      }
      resolve(out);
    };
    qemu.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    qemu.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      let nl;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        if (line.startsWith('OK') || line.startsWith('FAIL')) answers.push(line);
      }
      if (answers.length === accesses.length) finish();
    });
    qemu.on('exit', (code) => answers.length < accesses.length && finish(new Error(`qemu exited ${code}: ${stderr}`)));
    qemu.stdin.end(script);
  });
}
