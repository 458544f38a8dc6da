/**
 * Debian's arm64 Linux 6.1 in zone0 of qemu-virt-aarch64 driving our virtio-mmio devices with its own
 * drivers (modules from the same kernel package, loaded by the initramfs): one boot serves
 * - virtio-blk: an ext4 image made by the host's mkfs.ext4; the guest reads a file the host put there,
 *   writes one, syncs (a FLUSH reaches the image file as fsync), the host's debugfs reads it back
 *   while it is still mounted, and e2fsck finds the unmounted file system clean;
 * - virtio-console: a shell on /dev/hvc0, served on a TCP port; the test types on it with node:net;
 * - virtio-gpu: the DRM driver's fbdev emulation with fbcon draws tty1; the PNG dump must show the
 *   text written there in the character cells it occupies, on a blank background elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import type { FileBlockImage } from '../../src/devices/virtio/block-image.js';
import type { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import type { VirtioGpuBackend } from '../../src/devices/virtio/virtio-gpu-backend.js';
import { fixtureMatching, REPO, tool } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies, scratch } from '../helpers/linux-initramfs.js';
import { connectVirtioConsole, virtioWindowAt } from '../virtio/socket-guest-console.js';

const BLK = 0xa00_3c00;
const CONSOLE = 0xa00_3800;
const GPU = 0xa00_3400;
const WIDTH = 640;
const HEIGHT = 480;
/** Written to tty1 (fbcon) after a clear: 8x16 font, so it fills the first 21 cells of text row 0. */
const FB_TEXT = 'HVISOR-TS-FRAMEBUFFER';
/** Waits for the guest: seconds alone, minutes when the 2-core machine is shared by several boots. */
const GUEST_MS = 300_000;
const TEST_MS = 900_000;

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
mkdir -p /mnt
echo MODULES-LOADED
# The virtio-console shell: its own session, so it gets hvc0 as controlling terminal.
setsid sh -c 'exec sh -i </dev/hvc0 >/dev/hvc0 2>&1' &
export PS1='zone0# '
echo SHELL-READY
exec sh
`;

/** The RGB pixels of a PNG from our encoder (8-bit RGB, filter 0 on every row; anything else is refused). */
function decodePng(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  const idat: Uint8Array[] = [];
  for (let at = 8; at < png.length; ) {
    const len = v.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width * 3 + 1)];
    if (filter !== 0) throw new Error(`row ${y} uses PNG filter ${filter}`);
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}

describe('Debian arm64 Linux drives virtio-blk, virtio-console and virtio-gpu in zone0', () => {
  let instance: Instance | undefined;
  let console0: GuestConsole;
  let dir: string;
  let image: string;

  beforeAll(async () => {
    dir = scratch('a64-virtio-');
    console.log(`scratch folder (images, console log, screen.png): ${dir}`);
    image = join(dir, 'disk.ext4');
    const content = join(dir, 'content');
    mkdirSync(content);
    writeFileSync(join(content, 'from-host.txt'), 'written by the host before boot\n');
    // No journal: after `sync` the metadata is in place, where debugfs (which does not replay a journal) reads it.
    execFileSync(tool('mkfs.ext4'), ['-q', '-F', '-L', 'hvisorts', '-O', '^has_journal', '-E', 'lazy_itable_init=0', '-d', content, image, '8M'], { stdio: 'pipe' });
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux-virtio.json'), 'utf8'));
    config.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.interrupts = [33, 74, 76, 78];
    const modules = modulesWithDependencies(arm64ModuleTree(), ['virtio_mmio', 'virtio_blk', 'crc32c_generic', 'ext4', 'virtio_console', 'virtio_gpu']);
    config.initrd_filepath = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: INIT, modules });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'virtio.json'), JSON.stringify({
      zones: [{
        id: 0,
        devices: [
          { type: 'blk', addr: `0x${BLK.toString(16)}`, len: '0x200', irq: 78, img: image, status: 'enable' },
          { type: 'console', addr: `0x${CONSOLE.toString(16)}`, len: '0x200', irq: 76, tcp: 0, status: 'enable' },
          { type: 'gpu', addr: `0x${GPU.toString(16)}`, len: '0x200', irq: 74, width: WIDTH, height: HEIGHT, status: 'enable' },
        ],
      }],
    }));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    console0 = new GuestConsole('zone0-virtio', (b) => typeOn(b));
    const started = Date.now();
    instance = await launch({ board: 'qemu-virt-aarch64', zones: [join(dir, 'zone0.json')], virtio: join(dir, 'virtio.json'), gdbBasePort: false, output: (text) => {
      console0.append(text);
      appendFileSync(join(dir, 'zone0-console.log'), text); // for a look after a failure
    }, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 1_200_000);
    const zone = instance.hypervisor.zone(0)!;
    console.log(`zone0 shell after ${(Date.now() - started) / 1000} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions`);
  }, 1_300_000);

  afterAll(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('loads the virtio modules and probes the three devices with the DTB\'s interrupts', async () => {
    const log = console0.text();
    expect(log).not.toMatch(/INSMOD-FAILED|Internal error|Unable to handle|BUG:|virtio_mmio.*error/i);
    expect(log).toMatch(/virtio_blk virtio\d+: \[vda\] 16384 512-byte logical blocks/);
    const interrupts = await console0.run('cat /proc/interrupts', /Err:[^\n]*\n[\s\S]*zone0# $/, GUEST_MS);
    expect(interrupts).toMatch(/GICv3\s+78 Edge\s+virtio\d+/);
    expect(interrupts).toMatch(/GICv3\s+76 Edge\s+virtio\d+/);
    expect(interrupts).toMatch(/GICv3\s+74 Edge\s+virtio\d+/);
  }, TEST_MS);

  it('mounts the host-made ext4 image on virtio-blk, reads the host\'s file, and the host reads the guest\'s after sync', async () => {
    const mounted = await console0.run('mount -t ext4 /dev/vda /mnt && cat /mnt/from-host.txt', /zone0# $/, GUEST_MS);
    expect(mounted).toContain('written by the host before boot');
    const disk = (virtioWindowAt(instance!.hypervisor.zone(0)!, BLK).built.backend as VirtioBlkBackend).image as FileBlockImage;
    const flushes = disk.flushes;
    await console0.run('echo "written by zone0 through virtio-blk" > /mnt/from-guest.txt && sync && echo SYNCED', /SYNCED\s+zone0# $/, GUEST_MS);
    // sync ends with a FLUSH, which the backend turns into fsync of the image file.
    expect(disk.flushes).toBeGreaterThan(flushes);
    const cat = execFileSync(tool('debugfs'), ['-R', 'cat /from-guest.txt', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(cat).toBe('written by zone0 through virtio-blk\n');
    await console0.run('umount /mnt && echo UMOUNTED', /UMOUNTED\s+zone0# $/, GUEST_MS);
    // A clean unmount leaves a file system e2fsck finds consistent.
    execFileSync(tool('e2fsck'), ['-f', '-n', image], { stdio: 'pipe' });
  }, TEST_MS);

  it('runs a shell on virtio-console served on a TCP port', async () => {
    const { console: hvc, socket } = await connectVirtioConsole(instance!.hypervisor.zone(0)!, CONSOLE);
    try {
      const out = await hvc.run('echo HVC-$((6 * 7)); tty', /HVC-42\s+\/dev\/hvc0/, GUEST_MS);
      expect(out).toMatch(/HVC-42\s+\/dev\/hvc0/);
    } finally {
      socket.destroy();
    }
  }, TEST_MS);

  it('shows fbcon\'s text on the virtio-gpu framebuffer (PNG dump)', async () => {
    await console0.run(`printf '\\033[2J\\033[H${FB_TEXT}\\n' > /dev/tty1; echo DRAWN`, /DRAWN\s+zone0# $/, GUEST_MS);
    const gpu = virtioWindowAt(instance!.hypervisor.zone(0)!, GPU).built.backend as VirtioGpuBackend;
    // fbcon's damage worker flushes shortly after the write.
    const end = Date.now() + GUEST_MS;
    let png: Uint8Array | undefined;
    for (;;) {
      png = gpu.png();
      if (png !== undefined && textCells(decodePng(png)) === FB_TEXT.length) break;
      if (png !== undefined) writeFileSync(join(dir, 'screen.png'), png);
      if (Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(png).toBeDefined();
    writeFileSync(join(dir, 'screen.png'), png!);
    const screen = decodePng(png!);
    expect([screen.width, screen.height]).toEqual([WIDTH, HEIGHT]);
    expect(textCells(screen)).toBe(FB_TEXT.length);
    // Right of the text on row 0 and everything below row 2 (the prompt-less cursor may sit on row 1) is background.
    expect(inked(screen, FB_TEXT.length * 8 + 8, 0, WIDTH, 16)).toBe(0);
    expect(inked(screen, 0, 32, WIDTH, HEIGHT)).toBe(0);
  }, TEST_MS);
});

/** Pixels in [x0,x1)x[y0,y1) that differ from the bottom-right pixel (the background). */
function inked(s: { width: number; height: number; rgb: Uint8Array }, x0: number, y0: number, x1: number, y1: number): number {
  const bg = (s.width * s.height - 1) * 3;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = (y * s.width + x) * 3;
      if (s.rgb[p] !== s.rgb[bg] || s.rgb[p + 1] !== s.rgb[bg + 1] || s.rgb[p + 2] !== s.rgb[bg + 2]) n++;
    }
  }
  return n;
}

/** How many leading 8x16 cells of text row 0 have ink (a printable, non-space glyph draws some). */
function textCells(s: { width: number; height: number; rgb: Uint8Array }): number {
  let cells = 0;
  while (cells * 8 < s.width && inked(s, cells * 8, 0, cells * 8 + 8, 16) > 0) cells++;
  return cells;
}
