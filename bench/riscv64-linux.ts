/**
 * Debian forky's riscv64 kernel to the initramfs's BOOT-OK in QEMU (virt, OpenSBI, 2 harts, TCG) and in
 * zone0 of our qemu-virt-riscv64 (boards/guests/riscv64/zone0-linux.json); see linux-boot.ts. QEMU's
 * figure includes OpenSBI (M-mode firmware); ours starts the kernel directly in S-mode with the
 * hypervisor answering SBI calls.
 *
 * `node dist/bench/riscv64-linux.js [--ours-only|--qemu-only]` or `npm run bench -- riscv64-linux`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchLinuxBoot, fixturePath } from './linux-boot.js';

/** The kernel lives in its modules folder, named by version (e.g. 7.2.12+deb14-riscv64): take the newest. */
function riscv64Kernel(): string {
  const modules = fixturePath('debian/rv64/usr/lib/modules');
  const versions = readdirSync(modules).filter((v) => /riscv64$/.test(v) && existsSync(join(modules, v, 'vmlinuz'))).sort();
  if (versions.length === 0) throw new Error(`no <version>/vmlinuz in ${modules}: run \`bash scripts/fixtures.sh\``);
  return join(modules, versions[versions.length - 1]!, 'vmlinuz');
}

const kernel = riscv64Kernel();
await benchLinuxBoot({
  arch: 'riscv64',
  board: 'qemu-virt-riscv64',
  zoneConfig: 'boards/guests/riscv64/zone0-linux.json',
  kernel,
  kernelName: `vmlinuz ${kernel.split('/').at(-2)}`,
  initramfs: 'initramfs-riscv64.cpio.gz',
  qemu: ['qemu-system-riscv64', '-M', 'virt', '-smp', '2', '-m', '1G', '-bios', 'default'],
}, process.argv.slice(2));
process.exit(0);
