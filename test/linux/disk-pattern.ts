/**
 * The disk check the Linux-in-a-zone tests share: the host fills an image with seeded bytes; the guest
 * prints the md5 of its first 64 KiB, writes a pattern (in the initramfs as /pattern.bin) at 4 KiB
 * block 128 and reads it back past the page cache; the host then finds the pattern in the file, where
 * the guest put it, and the rest as it made it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { mulberry32 } from '../helpers/prng.js';

export const PATTERN_BYTES = 64 * 1024;
/** Where the guest writes the pattern: 4 KiB block 128 (512 KiB into the disk). */
export const PATTERN_BLOCK = 128;

export const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** `n` bytes drawn from mulberry32(seed): the same on every run. */
export function seededBytes(seed: number, n: number): Uint8Array {
  const next = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** /init lines for /dev/`disk`: READ-<disk> <md5 of the first 64 KiB>, the pattern written, BACK-<disk> <md5 read back>. */
export function diskPatternScript(disk: string): string {
  return `echo "READ-${disk} $(dd if=/dev/${disk} bs=4096 count=16 2>/dev/null | md5sum)"
dd if=/pattern.bin of=/dev/${disk} bs=4096 seek=${PATTERN_BLOCK} conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
echo "BACK-${disk} $(dd if=/dev/${disk} bs=4096 skip=${PATTERN_BLOCK} count=16 iflag=direct 2>/dev/null | md5sum)"`;
}

/** The guest read `image`'s bytes and the pattern back (its output), and `file` now holds the pattern where it wrote it. */
export function expectDiskPattern(out: string, disk: string, file: string, image: Uint8Array, pattern: Uint8Array): void {
  expect(out).toContain(`READ-${disk} ${md5(image.subarray(0, PATTERN_BYTES))}`);
  expect(out).toContain(`BACK-${disk} ${md5(pattern)}`);
  const now = new Uint8Array(readFileSync(file));
  const at = PATTERN_BLOCK * 4096;
  expect(md5(now.subarray(at, at + PATTERN_BYTES))).toBe(md5(pattern));
  expect(md5(now.subarray(0, at))).toBe(md5(image.subarray(0, at)));
}
