/** The arm64 Image header against Debian's real arm64 kernel (the header fields cross-checked with od). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../src/loader/image-error.js';
import { loadArm64Image, parseArm64ImageHeader } from '../../src/loader/arm64-image.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import { fixtureMatching } from '../helpers/fixtures.js';

function od(path: string, offset: number): bigint {
  const out = execFileSync('od', ['-A', 'n', '-t', 'x8', '-j', String(offset), '-N', '8', path], { encoding: 'utf8' });
  return BigInt(`0x${out.trim()}`);
}

describe('arm64 Image header', () => {
  it("parses Debian's arm64 vmlinuz like od reads it and loads it 2 MiB-aligned", () => {
    const path = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    const bytes = readFileSync(path);
    const h = parseArm64ImageHeader(bytes, path);
    expect(BigInt(h.textOffset)).toBe(od(path, 8));
    expect(BigInt(h.imageSize)).toBe(od(path, 16));
    expect(h.flags).toBe(od(path, 24));
    expect(h.imageSize).toBeGreaterThan(bytes.length); // bss beyond the file
    expect(h.bigEndian).toBe(false);
    expect(h.pageSize).toBe(4096);
    const memory = new AddressSpace();
    memory.mapRam(0x4000_0000, 0x400_0000, new Ram(0x400_0000));
    const loaded = loadArm64Image(bytes, memory, 0x4000_0000 + 0x1000, path);
    expect(loaded.entry).toBe(0x4020_0000 + h.textOffset);
    expect(Buffer.from(memory.readDebug(loaded.entry, 64)).equals(bytes.subarray(0, 64))).toBe(true);
  });

  it('refuses a gzip file, a short file and an image that does not fit in RAM, naming the problem', () => {
    expect(() => parseArm64ImageHeader(new Uint8Array([0x1f, 0x8b, ...new Array(70).fill(0)]), 'k.gz')).toThrow(/gzip/);
    expect(() => parseArm64ImageHeader(new Uint8Array(10), 'tiny')).toThrow(ImageError);
    const hdr = new Uint8Array(64);
    const dv = new DataView(hdr.buffer);
    dv.setBigUint64(16, 0x1000_0000n, true);
    dv.setUint32(56, 0x644d5241, true);
    const memory = new AddressSpace();
    memory.mapRam(0x4000_0000, 0x10_0000 * 4, new Ram(0x10_0000 * 4));
    expect(() => loadArm64Image(hdr, memory, 0x4000_0000, 'big')).toThrow(/is not RAM/);
  });
});
