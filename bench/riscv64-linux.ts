/**
 * Debian forky's riscv64 kernel with the fixture initramfs (its /init prints BOOT-OK and powers off),
 * booted to BOOT-OK in QEMU (virt, OpenSBI, 2 harts, TCG) and in zone0 of our qemu-virt-riscv64
 * through launch() (boards/guests/riscv64/zone0-linux.json), one after the other in the same run.
 * Prints both wall times to BOOT-OK, CPU times, our instruction count and MIPS, and the ratio.
 * QEMU's instruction count is not printed: Debian's QEMU ships no TCG plugins to count with.
 * QEMU's figure includes OpenSBI (M-mode firmware); ours starts the kernel directly in S-mode with
 * the hypervisor answering SBI calls.
 *
 * `node dist/bench/riscv64-linux.js [--ours-only|--qemu-only]` or `npm run bench -- riscv64-linux`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../src/cli/launch.js';
import { REPO_ROOT } from './repo-root.js';

const MARKER = 'BOOT-OK';
const TIMEOUT_MS = 900_000;
const ZONE_CONFIG = 'boards/guests/riscv64/zone0-linux.json';

function fixturePath(relative: string): string {
  const p = join(REPO_ROOT, '.fixtures', relative);
  if (!existsSync(p)) throw new Error(`missing fixture ${p}: run \`bash scripts/fixtures.sh\``);
  return p;
}

/** The kernel lives in its modules folder, named by version (e.g. 7.2.12+deb14-riscv64): take the newest. */
function riscv64Kernel(): string {
  const modules = fixturePath('debian/rv64/usr/lib/modules');
  const versions = readdirSync(modules).filter((v) => /riscv64$/.test(v) && existsSync(join(modules, v, 'vmlinuz'))).sort();
  if (versions.length === 0) throw new Error(`no <version>/vmlinuz in ${modules}: run \`bash scripts/fixtures.sh\``);
  return join(modules, versions[versions.length - 1]!, 'vmlinuz');
}

export interface BootTiming {
  /** Wall seconds from start to the BOOT-OK line. */
  readonly bootSeconds: number;
  /** CPU seconds (user + system) of the whole run (QEMU: the process; ours: this process). */
  readonly cpuSeconds: number;
  readonly console: string;
}

export interface OurBootTiming extends BootTiming {
  readonly instructions: number;
  readonly vcpus: number;
}

/** QEMU's boot (OpenSBI as firmware) of the same kernel and initramfs; CPU time from bash's `times`. */
export function bootQemu(kernel: string, initrd: string, append: string): Promise<BootTiming> {
  const qemu = ['qemu-system-riscv64', '-M', 'virt', '-smp', '2', '-m', '1G', '-bios', 'default',
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-nic', 'none', '-no-reboot',
    '-kernel', kernel, '-initrd', initrd, '-append', append];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // `times` prints the children's user and system times once QEMU exits (after the guest powers off).
    const child = spawn('bash', ['-c', '"$@" </dev/null; times >&2', 'bench', ...qemu], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let bootSeconds: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      out += d;
      if (bootSeconds === undefined && out.includes(MARKER)) bootSeconds = (performance.now() - t0) / 1000;
    });
    child.stderr.setEncoding('latin1').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      if (bootSeconds === undefined) return reject(new Error(`QEMU never printed ${MARKER}:\n${out.slice(-2000)}${err.slice(-1000)}`));
      // Second line of `times`: children's "XmY.YYYs XmY.YYYs".
      const m = [...err.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
      const cpuSeconds = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
      resolve({ bootSeconds, cpuSeconds, console: out });
    });
  });
}

/** Our boot through launch(): zone0 of qemu-virt-riscv64 with the same kernel, initramfs and bootargs. */
export async function bootOurs(kernel: string, initrd: string): Promise<OurBootTiming> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rv64-linux-'));
  const config = JSON.parse(readFileSync(join(REPO_ROOT, ZONE_CONFIG), 'utf8'));
  config.kernel_filepath = kernel;
  config.initrd_filepath = initrd;
  writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
  let out = '';
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = await launch({ board: 'qemu-virt-riscv64', zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: (t) => (out += t), log: () => {} });
  try {
    const zone = instance.hypervisor.zone(0)!;
    const end = Date.now() + TIMEOUT_MS;
    while (!out.includes(MARKER)) {
      if (zone.state === 'crashed') throw new Error(`zone0 crashed: ${JSON.stringify(zone.crash, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}\n${out.slice(-2000)}`);
      if (Date.now() > end) throw new Error(`zone0 never printed ${MARKER}:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const bootSeconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const instructions = zone.cpus.reduce((n, cpu) => n + cpu.retired, 0);
    return { bootSeconds, cpuSeconds: (c.user + c.system) / 1e6, console: out, instructions, vcpus: zone.cpus.length };
  } finally {
    await instance.close();
  }
}

export async function benchRiscv64Linux(which: 'both' | 'ours' | 'qemu' = 'both'): Promise<void> {
  const kernel = riscv64Kernel();
  const initrd = fixturePath('initramfs-riscv64.cpio.gz');
  const config = JSON.parse(readFileSync(join(REPO_ROOT, ZONE_CONFIG), 'utf8'));
  const append = String(config.kernel_args);
  const version = kernel.split('/').at(-2);
  console.log(`riscv64 Linux boot to ${MARKER}: vmlinuz ${version} + initramfs-riscv64.cpio.gz, "${append}"`);
  let qemu: BootTiming | undefined;
  let ours: OurBootTiming | undefined;
  if (which !== 'ours') {
    qemu = await bootQemu(kernel, initrd, append);
    console.log(`  qemu: ${qemu.bootSeconds.toFixed(2)} s wall to ${MARKER}, ${qemu.cpuSeconds.toFixed(2)} s CPU (whole run, 2 vCPU threads)`);
  }
  if (which !== 'qemu') {
    ours = await bootOurs(kernel, initrd);
    const mips = ours.instructions / ours.bootSeconds / 1e6;
    console.log(`  ours: ${ours.bootSeconds.toFixed(2)} s wall to ${MARKER}, ${ours.cpuSeconds.toFixed(2)} s CPU, ` +
      `${ours.instructions} instructions on ${ours.vcpus} vCPUs, ${mips.toFixed(1)} MIPS (${(ours.instructions / ours.cpuSeconds / 1e6).toFixed(1)} on CPU time)`);
  }
  if (qemu && ours) {
    console.log(`  ours/qemu: ${(ours.bootSeconds / qemu.bootSeconds).toFixed(1)}x wall, ${(ours.cpuSeconds / qemu.cpuSeconds).toFixed(1)}x CPU (target: at most 20x)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = process.argv[2];
  await benchRiscv64Linux(flag === '--ours-only' ? 'ours' : flag === '--qemu-only' ? 'qemu' : 'both');
  process.exit(0);
}
