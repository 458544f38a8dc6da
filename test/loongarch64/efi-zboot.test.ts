import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { isEfiZboot, unpackEfiZboot } from '../../src/loader/efi-zboot.js';
import { ImageError } from '../../src/loader/image-error.js';
import { parseLoongarchImageHeader } from '../../src/loader/loongarch-image.js';
import { loongarchBootInfo } from '../../src/loader/loongarch-efi-boot.js';
import { fixture } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'zboot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A zboot file as zboot-header.S lays it out: "MZ", "zimg", payload offset and size, the method's name. */
function zboot(payload: Uint8Array, method: string): Uint8Array {
  const out = new Uint8Array(0x100 + payload.length);
  const dv = new DataView(out.buffer);
  out.set([0x4d, 0x5a], 0);
  out.set(new TextEncoder().encode('zimg'), 4);
  dv.setUint32(8, 0x100, true);
  dv.setUint32(12, payload.length, true);
  out.set(new TextEncoder().encode(method), 24);
  out.set(payload, 0x100);
  return out;
}

describe('EFI zboot images and the LoongArch Image inside', () => {
  it("unpacks Debian's loong64 vmlinuz (zstd) to a LoongArch Image, as the zstd tool does", () => {
    const vmlinuz = readFileSync(fixture('vmlinuz-loong64'));
    expect(isEfiZboot(vmlinuz)).toBe(true);
    const image = unpackEfiZboot(vmlinuz, 'vmlinuz', 1 << 30);
    const header = parseLoongarchImageHeader(image, 'Image');
    expect(header.loadOffset).toBe(0x20_0000);
    expect(header.effectiveSize).toBeGreaterThanOrEqual(image.length);
    expect(header.entry).toBeGreaterThan(header.loadOffset);
    // The zstd tool unpacks the same payload to the same bytes.
    const dv = new DataView(vmlinuz.buffer, vmlinuz.byteOffset);
    writeFileSync(join(dir, 'payload.zst'), vmlinuz.subarray(dv.getUint32(8, true), dv.getUint32(8, true) + dv.getUint32(12, true)));
    execFileSync('zstd', ['-q', '-d', '-f', join(dir, 'payload.zst'), '-o', join(dir, 'payload')]);
    expect(Buffer.from(image).equals(readFileSync(join(dir, 'payload')))).toBe(true);
  }, 120_000);

  it('reads gzip payloads; refuses other methods, a payload past the file and a corrupt one with an ImageError', () => {
    const data = new TextEncoder().encode('payload '.repeat(100));
    expect(Buffer.from(unpackEfiZboot(zboot(gzipSync(data), 'gzip'), 'k', 1 << 20)).equals(Buffer.from(data))).toBe(true);
    expect(() => unpackEfiZboot(zboot(data, 'lzma'), 'k', 1 << 20)).toThrow(/compressed with "lzma"/);
    const short = zboot(gzipSync(data), 'gzip');
    new DataView(short.buffer).setUint32(12, 1 << 20, true);
    expect(() => unpackEfiZboot(short, 'k', 1 << 20)).toThrow(/runs past the file/);
    const corrupt = zboot(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0, 0]), 'zstd');
    expect(() => unpackEfiZboot(corrupt, 'k', 1 << 20)).toThrow(ImageError);
    expect(() => parseLoongarchImageHeader(data, 'k')).toThrow(/not a LoongArch Linux Image/);
  });

  it('boot tables: a0 = 1, a1 the command line, a2 an EFI system table naming the memory map and the device tree', () => {
    const info = loongarchBootInfo({ base: 0, commandLine: 'console=ttyS0', dtb: 0x10_0000, ram: [{ base: 0, size: 0x1000_0000 }] });
    const [a0, a1, a2] = info.registers;
    expect(a0).toBe(1n);
    const dv = new DataView(info.blob.buffer);
    expect(new TextDecoder().decode(info.blob.subarray(Number(a1), Number(a1) + 13))).toBe('console=ttyS0');
    const systab = Number(a2);
    expect(dv.getBigUint64(systab, true)).toBe(0x5453595320494249n); // "IBI SYST"
    expect(dv.getUint32(systab + 104, true)).toBe(2);
    const tables = Number(dv.getBigUint64(systab + 112, true));
    expect(dv.getBigUint64(tables + 24 + 16, true)).toBe(0x10_0000n); // DEVICE_TREE_GUID's table
    const memmap = Number(dv.getBigUint64(tables + 16, true));
    expect(dv.getBigUint64(memmap, true)).toBe(40n); // one 40-byte descriptor
    expect(dv.getUint32(memmap + 40, true)).toBe(7); // EfiConventionalMemory
    expect(dv.getBigUint64(memmap + 40 + 24, true)).toBe(0x10000n); // 256 MiB in 4 KiB pages
  });
});
