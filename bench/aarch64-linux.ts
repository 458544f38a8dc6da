/**
 * Debian's arm64 6.1 kernel to the initramfs's BOOT-OK in QEMU (virt, GICv3, cortex-a53, 2 CPUs, TCG)
 * and in zone0 of our qemu-virt-aarch64 (boards/guests/aarch64/zone0-linux.json); see linux-boot.ts.
 *
 * `node dist/bench/aarch64-linux.js [--ours-only|--qemu-only]` or `npm run bench -- aarch64-linux`.
 */
import { aarch64LinuxSpec, benchLinuxBoot } from './linux-boot.js';

await benchLinuxBoot(aarch64LinuxSpec(), process.argv.slice(2));
process.exit(0);
