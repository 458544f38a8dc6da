/**
 * Debian forky's loong64 kernel (its EFI zboot vmlinuz as packaged) to the initramfs's BOOT-OK in QEMU
 * (LoongArch virt, 2 vCPUs as the zone has, TCG, direct kernel boot) and in zone0 of our ls3a5000-7a2000
 * (boards/guests/loongarch64/zone0-linux.json); see linux-boot.ts. Debian 12's QEMU 7.2 cannot boot
 * this kernel (ELF-only -kernel, no boot arguments): the QEMU here is trixie's, in the minimal trixie
 * root scripts/fixtures.sh makes (run via chroot; the kernel and initramfs are copied into its /tmp).
 * Its loader reads gzip zboot images only, so it gets the Image our loader unpacks from the zstd one.
 *
 * `node dist/bench/loongarch64-linux.js [--ours-only|--qemu-only]` or `npm run bench -- loongarch64-linux`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isEfiZboot, unpackEfiZboot } from '../src/loader/efi-zboot.js';
import { benchLinuxBoot, fixturePath } from './linux-boot.js';

const root = fixturePath('trixie-gdb');
// One fixed folder, each file replaced whole (written beside, then renamed): a run killed midway (the
// README test stops `npm run bench` early) leaves one copy behind, not one per run.
const inside = join(root, 'tmp', 'hvisor-ts-bench-loongarch64-linux');
mkdirSync(inside, { recursive: true });
const kernel = fixturePath('vmlinuz-loong64');
await benchLinuxBoot({
  arch: 'loongarch64',
  board: 'ls3a5000-7a2000',
  zoneConfig: 'boards/guests/loongarch64/zone0-linux.json',
  kernel,
  kernelName: 'vmlinuz-loong64 (EFI zboot)',
  initramfs: 'initramfs-loong64.cpio.gz',
  qemu: ['chroot', root, 'qemu-system-loongarch64', '-M', 'virt', '-smp', '2', '-m', '1G'],
  qemuFile: (path) => {
    const bytes = readFileSync(path);
    const target = join(inside, basename(path));
    writeFileSync(`${target}.${process.pid}`, isEfiZboot(bytes) ? unpackEfiZboot(bytes, path, 1 << 30) : bytes);
    renameSync(`${target}.${process.pid}`, target);
    return join('/', inside.slice(root.length + 1), basename(path));
  },
}, process.argv.slice(2));
process.exit(0);
