/**
 * EFI zboot images (Linux drivers/firmware/efi/libstub/zboot-header.S): a PE/COFF file whose DOS
 * header carries "zimg" at offset 4, the compressed payload's offset and size at 8 and 12, and the
 * compression's name at 24 ("gzip", "zstd", ...). The payload is the kernel's own EFI image (on
 * LoongArch, arm64 and riscv64 the raw Image with its boot header). Debian's loong64 `vmlinuz` is one.
 */
import { gunzipSync } from 'node:zlib';
import { ImageError } from './image-error.js';
import { zstdDecompress, ZstdError } from './zstd.js';

const ZIMG = 0x676d697a; // "zimg" little-endian

export function isEfiZboot(bytes: Uint8Array): boolean {
  return bytes.length >= 64 && bytes[0] === 0x4d && bytes[1] === 0x5a && new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true) === ZIMG;
}

/** The decompressed payload of a zboot image, at most `maxBytes` long. */
export function unpackEfiZboot(bytes: Uint8Array, image: string, maxBytes: number): Uint8Array {
  if (!isEfiZboot(bytes)) throw new ImageError(image, 'not an EFI zboot image (no "MZ" ... "zimg" header)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = dv.getUint32(8, true);
  const size = dv.getUint32(12, true);
  if (offset + size > bytes.length) {
    throw new ImageError(image, `EFI zboot payload [0x${offset.toString(16)}, +0x${size.toString(16)}) runs past the file's ${bytes.length} bytes`);
  }
  const nameBytes = bytes.subarray(24, 56);
  const end = nameBytes.indexOf(0);
  const method = new TextDecoder().decode(nameBytes.subarray(0, end < 0 ? nameBytes.length : end));
  const payload = bytes.subarray(offset, offset + size);
  try {
    if (method === 'zstd' || method === 'zstd22') return zstdDecompress(payload, maxBytes);
    if (method === 'gzip') {
      const out = gunzipSync(payload, { maxOutputLength: maxBytes });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
  } catch (e) {
    if (e instanceof ZstdError || (e instanceof Error && 'code' in e)) throw new ImageError(image, `EFI zboot ${method} payload: ${e.message}`);
    throw e;
  }
  throw new ImageError(image, `EFI zboot payload compressed with "${method}": only zstd and gzip are supported`);
}
