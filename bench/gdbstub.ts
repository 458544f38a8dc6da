/**
 * gdb stub speed, ours beside QEMU's in the same run: gdb-multiarch drives both through the same
 * Python script on the same riscv64 ELF. Ours serves the real riscv64 core (BareRiscv64Machine).
 *
 *   npx tsc -p . && node dist/bench/gdbstub.js        (BENCH_ROUNDS=n alternating rounds, best of each; default 2)
 *
 * Measures `stepi 1000` the two ways gdb single-steps riscv (vCont;s with `set osabi none`,
 * breakpoint-at-next-pc + continue with the GNU/Linux ABI it picks for this ELF), `x/1000xw`
 * (1000 small `m` packets) and `dump binary memory` of 1 MiB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GdbServer } from '../gdbstub/server.js';
import { BareRiscv64Machine } from '../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../src/loader/elf.js';
import { portFreeAMomentAgo, waitForListener } from '../test/helpers/ports.js';
import { SingleCpuTarget } from '../test/gdbstub/single-cpu-target.js';

const SOURCE = `
  .text
  .globl _start
_start:
  la    a0, buf
  li    t1, 1000000
  li    t2, 0
  li    t3, 0
  li    t6, 0
loop:
  add   t2, t2, t1
  xor   t3, t3, t2
  slli  t4, t3, 3
  add   a5, a0, t6
  ld    t5, 0(a5)
  add   t5, t5, t4
  sd    t5, 0(a5)
  addi  t6, t6, 8
  andi  t6, t6, 0x7f8
  addi  t1, t1, -1
  bnez  t1, loop
done:
  j     done
  .bss
  .balign 4096
buf:
  .space 2048
`;

const GDB_SCRIPT = `
import gdb, os, time
gdb.execute('set pagination off'); gdb.execute('set confirm off')
gdb.execute('file ' + os.environ['BENCH_ELF'])
gdb.execute('target remote 127.0.0.1:' + os.environ['BENCH_PORT'])
gdb.execute('set suppress-cli-notifications on')
def timed(label, cmd, reps=1):
    best = None
    for _ in range(reps):
        t = time.monotonic(); gdb.execute(cmd, to_string=True); dt = time.monotonic() - t
        best = dt if best is None else min(best, dt)
    print('RESULT %s %.6f' % (label, best))
gdb.execute('stepi')
timed('stepi-linux', 'stepi 1000', 2)
gdb.execute('set osabi none')
timed('stepi-none', 'stepi 1000', 2)
timed('x1000', 'x/1000xw 0x80000000', 2)
timed('dump', 'dump binary memory ' + os.environ['BENCH_DUMP'] + ' 0x80000000 0x80100000', 3)
gdb.execute('kill')
`;

function runGdb(script: string, env: Record<string, string>): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const gdb = spawn('gdb-multiarch', ['-nx', '-q', '-batch', '-x', script], { env: { ...process.env, ...env } });
    let out = '';
    gdb.stdout.on('data', (d: Buffer) => (out += d.toString()));
    gdb.stderr.on('data', (d: Buffer) => (out += d.toString()));
    gdb.on('error', reject);
    gdb.on('close', () => {
      const results = new Map<string, number>();
      for (const m of out.matchAll(/^RESULT (\S+) ([\d.]+)$/gm)) results.set(m[1]!, Number(m[2]));
      if (results.size < 4) reject(new Error(`gdb did not finish the bench:\n${out.slice(-2000)}`));
      else resolve(results);
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gdbstub-bench-'));
  const elf = join(dir, 'bench.elf');
  writeFileSync(join(dir, 'bench.s'), SOURCE);
  writeFileSync(join(dir, 'bench.py'), GDB_SCRIPT);
  execFileSync('riscv64-linux-gnu-as', ['-march=rv64i', '-mabi=lp64', '-o', join(dir, 'bench.o'), join(dir, 'bench.s')]);
  execFileSync('riscv64-linux-gnu-ld', ['-N', '-Ttext=0x80000000', '-e', '_start', '--no-warn-rwx-segments', '-o', elf, join(dir, 'bench.o')]);

  const script = join(dir, 'bench.py');
  async function runOurs(): Promise<Map<string, number>> {
    // The real riscv64 core in this process, fresh for each round.
    const machine = new BareRiscv64Machine(16 << 20);
    const loaded = loadElf(new Uint8Array(readFileSync(elf)), machine.memory, { machine: EM_RISCV });
    machine.cpu.reset(loaded.entry, [0n]);
    const target = new SingleCpuTarget(machine.cpu, machine.memory, 'zone0', { pc: loaded.entry, args: [0n] });
    const server = new GdbServer({ target, port: 0 });
    await server.listen();
    try {
      return await runGdb(script, { BENCH_ELF: elf, BENCH_PORT: String(server.port), BENCH_DUMP: join(dir, 'ours.bin') });
    } finally {
      await server.close();
      target.dispose();
    }
  }
  async function runQemu(): Promise<Map<string, number>> {
    // QEMU halted at its reset vector; the same script.
    const port = await portFreeAMomentAgo('tcp');
    const qemu = spawn('qemu-system-riscv64', [
      '-M', 'virt', '-smp', '1', '-m', '256M', '-display', 'none', '-serial', 'null', '-monitor', 'none', '-nic', 'none',
      '-bios', 'none', '-kernel', elf, '-S', '-gdb', `tcp:127.0.0.1:${port}`,
    ], { stdio: 'ignore' });
    try {
      await waitForListener(port);
      return await runGdb(script, { BENCH_ELF: elf, BENCH_PORT: String(port), BENCH_DUMP: join(dir, 'qemu.bin') });
    } finally {
      qemu.kill();
    }
  }
  // Alternating rounds, best of each: a shared machine's load hits both sides alike.
  const ours = new Map<string, number>();
  const theirs = new Map<string, number>();
  const best = (into: Map<string, number>, from: Map<string, number>) => {
    for (const [k, v] of from) into.set(k, Math.min(v, into.get(k) ?? Infinity));
  };
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  for (let r = 0; r < rounds; r++) {
    best(ours, await runOurs());
    best(theirs, await runQemu());
  }

  const rows: Array<[string, string, (s: number) => string]> = [
    ['stepi-none', 'stepi 1000, vCont;s (osabi none)', (s) => `${(1000 / s).toFixed(0)} steps/s`],
    ['stepi-linux', 'stepi 1000, Z0 at next pc + continue (GNU/Linux ABI)', (s) => `${(1000 / s).toFixed(0)} steps/s`],
    ['x1000', 'x/1000xw (1000 m packets)', (s) => `${(s * 1000).toFixed(1)} ms`],
    ['dump', 'dump binary memory, 1 MiB', (s) => `${(s * 1000).toFixed(1)} ms (${(1 / s).toFixed(1)} MiB/s)`],
  ];
  console.log(`${'measure'.padEnd(56)}${'hvisor-ts stub'.padEnd(30)}QEMU ${execFileSync('qemu-system-riscv64', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^QEMU emulator version /, '')} stub`);
  for (const [key, label, fmt] of rows) {
    console.log(`${label.padEnd(56)}${fmt(ours.get(key)!).padEnd(30)}${fmt(theirs.get(key)!)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
