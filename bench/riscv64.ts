/**
 * riscv64 interpreter speed beside QEMU TCG on the shared fixed-instruction-count program
 * (test/riscv64/programs/bench-riscv64.S, 11 instructions x ITERS in its loop): ours runs the
 * S-mode build on a bare machine, QEMU runs the M-mode build with -bios none, both timed in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BareRiscv64Machine } from '../src/arch/riscv64/bare-machine.js';
import { describeStop, type RunResult } from '../src/arch/cpu.js';
import { EM_RISCV, loadElf } from '../src/loader/elf.js';
import { REPO_ROOT } from './repo-root.js';

export const BENCH_ITERS = 90_909_091;
/** Executed instructions (fixtures.md §4): S-mode program 11·N + 2951, M-mode 11·N + 3207 + 6 in QEMU's reset ROM. */
export const smodeInstructions = (iters: number): number => 11 * iters + 2951;
export const mmodeInstructions = (iters: number): number => 11 * iters + 3213;
/** The CKSUM line the default build prints (checked against the C reference model in fixtures.md). */
export const EXPECTED_CKSUM = 'CKSUM a=000eae3e1c3963b6 b=000194f640565600 m=0f6f7c812f1c6978';

export interface BenchResult {
  name: string;
  instructions: number;
  ourSeconds: number;
  ourMips: number;
  /** Our process's CPU time for the run: the host is shared and wall time is noisy. */
  ourCpuSeconds: number;
  ourOutput: string;
  qemuInstructions: number;
  qemuSeconds: number;
  qemuMips: number;
  /** QEMU's rate divided by ours. */
  ratio: number;
}

/** The CKSUM line of a bench program's output. */
const cksumLine = (s: string): string => s.split('\n').find((l) => l.startsWith('CKSUM'))?.trim() ?? '(no CKSUM line)';

/**
 * Checks that our run and QEMU's printed the same CKSUM line, then prints and returns both rates
 * (`qemuInstructions` is what QEMU's build executes; ours is our core's exact count).
 */
export function compareWithQemu(
  name: string,
  qemuBinary: string,
  ours: { instructions: number; seconds: number; cpuSeconds: number; output: string },
  qemu: { seconds: number; output: string },
  qemuInstructions: number,
): BenchResult {
  if (cksumLine(ours.output) !== cksumLine(qemu.output)) {
    throw new Error(`bench: checksums differ: ours "${cksumLine(ours.output)}", qemu "${cksumLine(qemu.output)}"`);
  }
  const ourMips = ours.instructions / ours.seconds / 1e6;
  const qemuMips = qemuInstructions / qemu.seconds / 1e6;
  const result: BenchResult = {
    name, instructions: ours.instructions, ourSeconds: ours.seconds, ourMips, ourCpuSeconds: ours.cpuSeconds,
    ourOutput: cksumLine(ours.output), qemuInstructions, qemuSeconds: qemu.seconds, qemuMips, ratio: qemuMips / ourMips,
  };
  console.log(
    `${name}: ours ${result.instructions} insns in ${result.ourSeconds.toFixed(3)} s = ${result.ourMips.toFixed(1)} MIPS ` +
      `(CPU ${result.ourCpuSeconds.toFixed(3)} s = ${(result.instructions / result.ourCpuSeconds / 1e6).toFixed(1)} MIPS); ` +
      `${qemuBinary} ${qemuInstructions} insns in ${result.qemuSeconds.toFixed(3)} s = ${result.qemuMips.toFixed(1)} MIPS; ` +
      `qemu/ours = ${result.ratio.toFixed(1)}x; ${result.ourOutput}`,
  );
  return result;
}

/** Builds the bench program (S-mode at 0x8020_0000 or M-mode at 0x8000_0000) with the Debian cross tools. */
export function buildBenchRiscv64(iters: number, smode: boolean, outDir = mkdtempSync(join(tmpdir(), 'bench-rv64-'))): string {
  const programs = join(REPO_ROOT, 'test', 'riscv64', 'programs');
  const name = `bench-riscv64${smode ? '-smode' : ''}-n${iters}`;
  const obj = join(outDir, `${name}.o`);
  const elf = join(outDir, `${name}.elf`);
  execFileSync('riscv64-linux-gnu-gcc', ['-march=rv64gc', '-mabi=lp64d', '-c', `-DITERS=${iters}`, ...(smode ? ['-DSMODE'] : []),
    join(programs, 'bench-riscv64.S'), '-o', obj]);
  execFileSync('riscv64-linux-gnu-ld', ['-T', join(programs, 'link.ld'), `--defsym=LOAD_ADDR=${smode ? '0x80200000' : '0x80000000'}`,
    '-z', 'max-page-size=4096', '--no-warn-rwx-segments', '-o', elf, obj]);
  return elf;
}

/** Runs an S-mode bench ELF on our core to its exit; returns the retired count, seconds and console output. */
export function runBenchOnOurCore(elf: string): { instructions: number; seconds: number; cpuSeconds: number; output: string; stop: RunResult } {
  const m = new BareRiscv64Machine();
  const image = loadElf(readFileSync(elf), m.memory, { machine: EM_RISCV, image: elf });
  m.cpu.reset(image.entry, [0n, 0n]);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const stop = m.runToEnd(20_000_000_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (m.finisher.status !== 0x5555) {
    throw new Error(`bench: our core stopped with ${describeStop(stop)} (finisher ${m.finisher.status})`);
  }
  return { instructions: m.cpu.retired, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, output: m.output(), stop };
}

/** Times qemu-system-riscv64 on the M-mode build (whole process, as fixtures/scripts/bench-qemu.sh does). */
export function runBenchOnQemu(elf: string): { seconds: number; output: string } {
  // The UART goes to a file: QEMU's stdio chardev on a pipe can lose output on a loaded host.
  const serial = `${elf}.serial`;
  const t0 = performance.now();
  const r = spawnSync('qemu-system-riscv64', ['-M', 'virt', '-smp', '1', '-m', '1G', '-display', 'none', '-monitor', 'none',
    '-nic', 'none', '-serial', `file:${serial}`, '-bios', 'none', '-kernel', elf], { encoding: 'utf8', timeout: 120_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  return { seconds, output: readFileSync(serial, 'utf8') };
}

export async function benchRiscv64(iters = BENCH_ITERS): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rv64-'));
  const ours = runBenchOnOurCore(buildBenchRiscv64(iters, true, dir));
  const qemu = runBenchOnQemu(buildBenchRiscv64(iters, false, dir));
  return compareWithQemu('riscv64', 'qemu-system-riscv64', ours, qemu, mmodeInstructions(iters));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchRiscv64(process.argv[2] !== undefined ? Number(process.argv[2]) : BENCH_ITERS);
}
