/**
 * A Linux boot to the fixture initramfs's BOOT-OK (its /init prints it and powers off), in QEMU and in
 * zone0 of our board through launch(), one after the other in the same run. Prints both wall times
 * to BOOT-OK, CPU times, our instruction count and MIPS, and the ratio (issues 3/4: at most 20x).
 * QEMU's instruction count is not printed: Debian's QEMU ships no TCG plugins to count with.
 * bench/aarch64-linux.ts and bench/riscv64-linux.ts say what differs per architecture.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, type Instance, type LaunchOptions } from '../src/cli/launch.js';
import { REPO_ROOT } from './repo-root.js';

const MARKER = 'BOOT-OK';
const TIMEOUT_MS = 900_000;

export interface LinuxBootSpec {
  /** "aarch64", "riscv64": the first word of the report. */
  readonly arch: string;
  /** Our board, and the zone config (relative to the repository) whose kernel_args both boots use. */
  readonly board: string;
  readonly zoneConfig: string;
  /** The kernel and the initramfs (a fixture under .fixtures/). */
  readonly kernel: string;
  readonly initramfs: string;
  /** How the report names the kernel. */
  readonly kernelName: string;
  /** QEMU's binary and machine options; the console, kernel, initrd and bootargs are added. */
  readonly qemu: readonly string[];
  /** Where QEMU finds a file of ours (a QEMU in a chroot sees copies inside it); default: the path itself. */
  readonly qemuFile?: (path: string) => string;
}

/** A path under .fixtures/ that must exist. */
export function fixturePath(relative: string): string {
  const p = join(REPO_ROOT, '.fixtures', relative);
  if (!existsSync(p)) throw new Error(`missing fixture ${p}: run \`bash scripts/fixtures.sh\``);
  return p;
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

/** QEMU's boot of the kernel and initramfs; its CPU time comes from bash's `times` builtin. */
function bootQemu(spec: LinuxBootSpec, append: string): Promise<BootTiming> {
  const qemu = [...spec.qemu, '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-nic', 'none', '-no-reboot',
    '-kernel', spec.qemuFile?.(spec.kernel) ?? spec.kernel, '-initrd', spec.qemuFile?.(fixturePath(spec.initramfs)) ?? fixturePath(spec.initramfs), '-append', append];
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

/**
 * Our boot through launch(): zone0 of the board with the same kernel, initramfs and bootargs.
 * `options` adds launch options (a recording); `atBoot` runs on the booted instance before it closes.
 */
export async function bootOurs(
  spec: LinuxBootSpec,
  config: Record<string, unknown>,
  options: Partial<LaunchOptions> = {},
  atBoot?: (instance: Instance) => Promise<void>,
): Promise<OurBootTiming> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${spec.arch}-linux-`));
  writeFileSync(join(dir, 'zone0.json'), JSON.stringify({ ...config, kernel_filepath: spec.kernel, initrd_filepath: fixturePath(spec.initramfs) }));
  let out = '';
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = await launch({ board: spec.board, zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: (t) => (out += t), log: () => {}, ...options });
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
    await atBoot?.(instance);
    return { bootSeconds, cpuSeconds: (c.user + c.system) / 1e6, console: out, instructions, vcpus: zone.cpus.length };
  } finally {
    await instance.close();
  }
}

/** Runs both boots (or one: `--ours-only`, `--qemu-only` in `argv`) and prints the report. */
export async function benchLinuxBoot(spec: LinuxBootSpec, argv: readonly string[]): Promise<void> {
  const which = argv.includes('--ours-only') ? 'ours' : argv.includes('--qemu-only') ? 'qemu' : 'both';
  const config = JSON.parse(readFileSync(join(REPO_ROOT, spec.zoneConfig), 'utf8')) as Record<string, unknown>;
  const append = String(config['kernel_args']);
  console.log(`${spec.arch} Linux boot to ${MARKER}: ${spec.kernelName} + ${spec.initramfs}, "${append}"`);
  let qemu: BootTiming | undefined;
  let ours: OurBootTiming | undefined;
  if (which !== 'ours') {
    qemu = await bootQemu(spec, append);
    console.log(`  qemu: ${qemu.bootSeconds.toFixed(2)} s wall to ${MARKER}, ${qemu.cpuSeconds.toFixed(2)} s CPU (whole run, 2 vCPU threads)`);
  }
  if (which !== 'qemu') {
    ours = await bootOurs(spec, config);
    const mips = ours.instructions / ours.bootSeconds / 1e6;
    console.log(`  ours: ${ours.bootSeconds.toFixed(2)} s wall to ${MARKER}, ${ours.cpuSeconds.toFixed(2)} s CPU, ` +
      `${ours.instructions} instructions on ${ours.vcpus} vCPUs, ${mips.toFixed(1)} MIPS (${(ours.instructions / ours.cpuSeconds / 1e6).toFixed(1)} on CPU time)`);
  }
  if (qemu && ours) {
    console.log(`  ours/qemu: ${(ours.bootSeconds / qemu.bootSeconds).toFixed(1)}x wall, ${(ours.cpuSeconds / qemu.cpuSeconds).toFixed(1)}x CPU (target: at most 20x)`);
  }
}

/** Debian's arm64 6.1 (the newest vmlinuz-* of the package: its version changes with Debian updates) in zone0 of qemu-virt-aarch64. */
export function aarch64LinuxSpec(): LinuxBootSpec {
  const boot = fixturePath('debian/arm64-6.1/boot');
  const hits = readdirSync(boot).filter((f) => f.startsWith('vmlinuz-')).sort();
  if (hits.length === 0) throw new Error(`no vmlinuz-* in ${boot}: run \`bash scripts/fixtures.sh\``);
  const kernel = join(boot, hits[hits.length - 1]!);
  return {
    arch: 'aarch64',
    board: 'qemu-virt-aarch64',
    zoneConfig: 'boards/guests/aarch64/zone0-linux.json',
    kernel,
    kernelName: kernel.split('/').pop()!,
    initramfs: 'initramfs-arm64.cpio.gz',
    qemu: ['qemu-system-aarch64', '-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'],
  };
}
