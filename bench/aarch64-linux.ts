/**
 * Debian's arm64 6.1 kernel to the initramfs's BOOT-OK in QEMU (virt, GICv3, cortex-a53, 2 CPUs, TCG)
 * and in zone0 of our qemu-virt-aarch64 (boards/guests/aarch64/zone0-linux.json); see linux-boot.ts.
 *
 * `node dist/bench/aarch64-linux.js [--ours-only|--qemu-only]` or `npm run bench -- aarch64-linux`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchLinuxBoot, fixturePath } from './linux-boot.js';

/** The newest vmlinuz-* of the arm64 kernel package (its version changes with Debian updates). */
function arm64Kernel(): string {
  const boot = fixturePath('debian/arm64-6.1/boot');
  const hits = readdirSync(boot).filter((f) => f.startsWith('vmlinuz-')).sort();
  if (hits.length === 0) throw new Error(`no vmlinuz-* in ${boot}: run \`bash scripts/fixtures.sh\``);
  return join(boot, hits[hits.length - 1]!);
}

const kernel = arm64Kernel();
await benchLinuxBoot({
  arch: 'aarch64',
  board: 'qemu-virt-aarch64',
  zoneConfig: 'boards/guests/aarch64/zone0-linux.json',
  kernel,
  kernelName: kernel.split('/').pop()!,
  initramfs: 'initramfs-arm64.cpio.gz',
  qemu: ['qemu-system-aarch64', '-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '1G'],
}, process.argv.slice(2));
process.exit(0);
