/**
 * QEMU as a register-level oracle: run a QEMU machine under the qtest protocol (-S, no guest code
 * runs) and replay MMIO accesses; the same list replayed on our model must read the same values.
 */
import { spawn } from 'node:child_process';
import { tool } from '../helpers/fixtures.js';

export type Access =
  | { readonly op: 'r'; readonly addr: number; readonly size: 1 | 2 | 4 }
  | { readonly op: 'w'; readonly addr: number; readonly size: 1 | 2 | 4; readonly value: number };

export const r = (addr: number, size: 1 | 2 | 4 = 4): Access => ({ op: 'r', addr, size });
export const w = (addr: number, value: number, size: 1 | 2 | 4 = 4): Access => ({ op: 'w', addr, size, value });

/**
 * Replays `accesses` on `qemu-system-<arch> <machineArgs>`; resolves to every read's value in order.
 * QEMU does not exit when qtest's stdin closes, so it is killed once every command is answered.
 */
export function qemuReplay(binary: string, machineArgs: readonly string[], accesses: readonly Access[]): Promise<number[]> {
  const name = { 1: 'b', 2: 'w', 4: 'l' } as const;
  const script =
    accesses
      .map((a) =>
        a.op === 'r'
          ? `read${name[a.size]} 0x${a.addr.toString(16)}`
          : `write${name[a.size]} 0x${a.addr.toString(16)} 0x${(a.value >>> 0).toString(16)}`,
      )
      .join('\n') + '\n';
  const qemu = spawn(tool(binary), [...machineArgs, '-S', '-display', 'none', '-nodefaults', '-qtest', 'stdio', '-qtest-log', '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${binary}: qtest timed out: ${stderr}`)), 30_000);
    const answers = () => stdout.split('\n').filter((l) => l.startsWith('OK') || l.startsWith('FAIL'));
    function finish(err?: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      qemu.kill('SIGKILL');
      if (err) return reject(err);
      const out: number[] = [];
      const lines = answers();
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        if (l.startsWith('FAIL')) return reject(new Error(`qtest: ${l} for access ${i}`));
        if (accesses[i]!.op === 'r') out.push(Number(BigInt(l.split(' ')[1]!) & 0xffff_ffffn));
      }
      resolve(out);
    }
    qemu.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (answers().length >= accesses.length) finish();
    });
    qemu.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    qemu.on('error', (e) => finish(e));
    qemu.on('exit', (code) => finish(new Error(`${binary} exited ${code} after ${answers().length} of ${accesses.length} answers: ${stderr}`)));
    qemu.stdin.end(script);
  });
}

/** Replays the same accesses on a model mapped at `base`. */
export function modelReplay(
  device: { read(o: number, s: 1 | 2 | 4): number; write(o: number, s: 1 | 2 | 4, v: number): void },
  base: number,
  accesses: readonly Access[],
): number[] {
  const out: number[] = [];
  for (const a of accesses) {
    if (a.op === 'r') out.push(device.read(a.addr - base, a.size) >>> 0);
    else device.write(a.addr - base, a.size, a.value);
  }
  return out;
}

/** A recording IrqLine for tests. */
export class TestIrq {
  level = false;
  edges = 0;
  set(level: boolean): void {
    if (level && !this.level) this.edges++;
    this.level = level;
  }
  pulse(): void {
    this.edges++;
  }
}
