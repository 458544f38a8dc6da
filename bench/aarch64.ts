/**
 * aarch64 core speed beside QEMU TCG on the shared fixed-instruction-count program
 * (test/aarch64/programs/bench-aarch64.S, 11 instructions x ITERS in its loop, 11·N + 2930 in all):
 * both run the same ELF at EL1 with the MMU off, printing on a PL011 and ending with PSCI SYSTEM_OFF.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aarch64Cpu } from '../src/arch/aarch64/aarch64-cpu.js';
import { Stops, type RunResult } from '../src/arch/cpu.js';
import { bareVcpuHost } from '../src/arch/bare-vcpu-host.js';
import { EM_AARCH64, loadElf } from '../src/loader/elf.js';
import { AddressSpace } from '../src/machine/address-space.js';
import type { MmioDevice } from '../src/machine/mmio-device.js';
import { Ram } from '../src/machine/ram.js';
import { REPO_ROOT } from './repo-root.js';

export const BENCH_ITERS = 90_909_091;
export const benchInstructions = (iters: number): number => 11 * iters + 2930;
export const EXPECTED_CKSUM = 'CKSUM a=000eae3e1c3963b6 b=000194f640565600 m=0f6f7c812f1c6978';

export interface Aarch64BenchResult {
  instructions: number;
  ourSeconds: number;
  ourMips: number;
  /** Our rate on process CPU time (the shared host is often loaded; wall time then undercounts). */
  ourCpuMips: number;
  ourOutput: string;
  qemuSeconds: number;
  qemuMips: number;
  qemuOutput: string;
  /** QEMU's rate divided by ours. */
  ratio: number;
}

/** Builds the bench ELF (loaded at 0x4008_0000) for `iters` loop iterations with the Debian cross tools. */
export function buildBenchAarch64(iters: number, outDir = mkdtempSync(join(tmpdir(), 'bench-a64-'))): string {
  const programs = join(REPO_ROOT, 'test', 'aarch64', 'programs');
  const obj = join(outDir, `bench-aarch64-n${iters}.o`);
  const elf = join(outDir, `bench-aarch64-n${iters}.elf`);
  execFileSync('aarch64-linux-gnu-gcc', ['-c', `-DITERS=${iters}`, join(programs, 'bench-aarch64.S'), '-o', obj]);
  execFileSync('aarch64-linux-gnu-ld', ['-T', join(programs, 'link.ld'), '--defsym=LOAD_ADDR=0x40080000',
    '-z', 'max-page-size=4096', '--no-warn-rwx-segments', '-o', elf, obj]);
  return elf;
}

/** A PL011 data register that collects what the program prints. */
class Pl011Sink implements MmioDevice {
  readonly name = 'pl011-sink';
  readonly bytes: number[] = [];
  read(offset: number): number {
    return offset === 0x18 ? 0x90 : 0;
  }
  write(offset: number, _size: number, value: number): void {
    if (offset === 0) this.bytes.push(value & 0xff);
  }
  reset(): void {
    this.bytes.length = 0;
  }
}

/** Runs a bench ELF on our core to PSCI SYSTEM_OFF. */
export function runBenchOnOurCore(elf: string): { instructions: number; seconds: number; cpuSeconds: number; output: string; stop: RunResult } {
  const memory = new AddressSpace();
  memory.mapRam(0x4000_0000, 0x100_0000, new Ram(0x100_0000));
  const uart = new Pl011Sink();
  memory.mapMmio(0x0900_0000, 0x1000, uart);
  const start = performance.now();
  const host = bareVcpuHost({ memory, timerFrequency: 62_500_000, now: () => ((performance.now() - start) / 1000) * 62_500_000 });
  const loaded = loadElf(readFileSync(elf), memory, { image: elf, machine: EM_AARCH64 });
  const cpu = new Aarch64Cpu({ index: 0, physicalId: 0, host });
  cpu.reset(loaded.entry, []);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let stop: RunResult;
  do stop = cpu.run(50_000_000);
  while (stop === Stops.budget);
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpuSeconds = (c.user + c.system) / 1e6;
  return { instructions: cpu.retired, seconds, cpuSeconds, output: Buffer.from(uart.bytes).toString('latin1'), stop };
}

/** Runs the same ELF under qemu-system-aarch64 (virt, cortex-a53, TCG) and times the whole process. */
export function runBenchOnQemu(elf: string): { seconds: number; output: string } {
  // The UART goes to a file: QEMU's stdio chardev on a pipe can lose output on a loaded host.
  const serial = `${elf}.serial`;
  const t0 = performance.now();
  const r = spawnSync('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '1', '-m', '1G',
    '-display', 'none', '-serial', `file:${serial}`, '-monitor', 'none', '-nic', 'none', '-no-reboot', '-kernel', elf],
  { encoding: 'latin1', timeout: 120_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  return { seconds, output: readFileSync(serial, 'latin1') };
}

export async function benchAarch64(iters = BENCH_ITERS, print = true): Promise<Aarch64BenchResult> {
  const elf = buildBenchAarch64(iters);
  const ours = runBenchOnOurCore(elf);
  const qemu = runBenchOnQemu(elf);
  const instructions = benchInstructions(iters);
  if (ours.instructions !== instructions) throw new Error(`bench: our core retired ${ours.instructions}, expected ${instructions}`);
  const ourMips = instructions / ours.seconds / 1e6;
  const qemuMips = instructions / qemu.seconds / 1e6;
  const result: Aarch64BenchResult = {
    instructions,
    ourSeconds: ours.seconds,
    ourMips,
    ourCpuMips: instructions / ours.cpuSeconds / 1e6,
    ourOutput: ours.output.trim(),
    qemuSeconds: qemu.seconds,
    qemuMips,
    qemuOutput: qemu.output.trim(),
    ratio: qemuMips / ourMips,
  };
  if (print) {
    console.log(`aarch64 bench: ${instructions} instructions`);
    console.log(`  ours: ${ours.seconds.toFixed(3)} s, ${ourMips.toFixed(1)} MIPS (${result.ourCpuMips.toFixed(1)} MIPS on CPU time)  ${result.ourOutput}`);
    console.log(`  qemu: ${qemu.seconds.toFixed(3)} s, ${qemuMips.toFixed(1)} MIPS  ${result.qemuOutput}`);
    console.log(`  qemu/ours: ${result.ratio.toFixed(1)}x`);
  }
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const iters = process.argv[2] ? Number(process.argv[2]) : BENCH_ITERS;
  await benchAarch64(iters);
}
