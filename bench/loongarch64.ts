/**
 * loongarch64 interpreter speed beside QEMU TCG on the shared fixed-instruction-count program
 * (test/loongarch64/programs/bench-loongarch64.S, 11 instructions x ITERS in its loop, built with
 * clang-19/lld-19): the same ELF on our bare machine and on qemu-system-loongarch64 (PLV0, direct
 * address mode), both timed in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BareLoongarch64Machine } from '../src/arch/loongarch64/bare-machine.js';
import { describeStop } from '../src/arch/cpu.js';
import { EM_LOONGARCH, loadElf } from '../src/loader/elf.js';
import { REPO_ROOT } from './repo-root.js';
import { compareWithQemu, type BenchResult } from './riscv64.js';

export const BENCH_ITERS = 90_909_091;
/** Executed instructions (the program's header): 11·N + 2952 in direct address mode, the final idle included. */
export const benchInstructions = (iters: number): number => 11 * iters + 2952;

export function buildBenchLoongarch64(iters: number, outDir = mkdtempSync(join(tmpdir(), 'bench-la64-'))): string {
  const programs = join(REPO_ROOT, 'test', 'loongarch64', 'programs');
  const obj = join(outDir, `bench-loongarch64-n${iters}.o`);
  const elf = join(outDir, `bench-loongarch64-n${iters}.elf`);
  execFileSync('clang-19', ['--target=loongarch64-unknown-none', '-c', `-DITERS=${iters}`, join(programs, 'bench-loongarch64.S'), '-o', obj]);
  execFileSync('ld.lld-19', ['-T', join(programs, 'link.ld'), '--defsym=LOAD_ADDR=0x200000', '-z', 'max-page-size=4096', '-o', elf, obj]);
  return elf;
}

export function runBenchOnOurCore(elf: string): { instructions: number; seconds: number; cpuSeconds: number; output: string } {
  const m = new BareLoongarch64Machine();
  const image = loadElf(readFileSync(elf), m.memory, { machine: EM_LOONGARCH, image: elf });
  m.cpu.reset(image.entry, []);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const stop = m.runToEnd(20_000_000_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (m.sleep.value !== 0x34) throw new Error(`bench: our core stopped with ${describeStop(stop)} before the program powered off`);
  return { instructions: m.cpu.retired, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, output: m.output() };
}

export function runBenchOnQemu(elf: string): { seconds: number; output: string } {
  const serial = `${elf}.serial`;
  const t0 = performance.now();
  const r = spawnSync('qemu-system-loongarch64', ['-M', 'virt', '-smp', '1', '-m', '1G', '-display', 'none', '-monitor', 'none',
    '-nic', 'none', '-serial', `file:${serial}`, '-kernel', elf], { encoding: 'utf8', timeout: 120_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  return { seconds, output: readFileSync(serial, 'utf8') };
}

export async function benchLoongarch64(iters = BENCH_ITERS): Promise<BenchResult> {
  const elf = buildBenchLoongarch64(iters);
  const ours = runBenchOnOurCore(elf);
  const qemu = runBenchOnQemu(elf);
  if (ours.instructions !== benchInstructions(iters)) {
    throw new Error(`bench: our core retired ${ours.instructions} instructions, the program executes ${benchInstructions(iters)}`);
  }
  return compareWithQemu('loongarch64', 'qemu-system-loongarch64', ours, qemu, benchInstructions(iters));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchLoongarch64(process.argv[2] !== undefined ? Number(process.argv[2]) : BENCH_ITERS);
}
