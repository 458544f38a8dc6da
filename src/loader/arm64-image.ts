/**
 * The arm64 Linux `Image` header (Documentation/arch/arm64/booting.rst): 64 bytes at the start of
 * the raw kernel, giving the load offset from a 2 MiB-aligned base, the effective size (including
 * bss) and flags; magic "ARM\x64" at offset 56. Debian's arm64 `vmlinuz` is such an Image.
 */
import type { AddressSpace } from '../machine/address-space.js';
import { hex } from '../machine/address-space.js';
import { ImageError } from './image-error.js';
import { copyIntoRam } from './raw-image.js';

export const ARM64_IMAGE_MAGIC = 0x644d5241; // "ARM\x64" little-endian
const HEADER_BYTES = 64;
const BASE_ALIGN = 0x20_0000;

export interface Arm64ImageHeader {
  /** Offset of the image from a 2 MiB-aligned base. */
  readonly textOffset: number;
  /** Bytes the kernel occupies once running (bss included); 0 in kernels before 3.17. */
  readonly imageSize: number;
  readonly flags: bigint;
  readonly bigEndian: boolean;
  /** Kernel page size in bytes, or undefined when the header leaves it unspecified. */
  readonly pageSize: 4096 | 16384 | 65536 | undefined;
  /** Bit 3: the base may be anywhere in RAM (otherwise as close to the start of DRAM as possible). */
  readonly placeAnywhere: boolean;
}

export function parseArm64ImageHeader(bytes: Uint8Array, image = 'Image'): Arm64ImageHeader {
  if (bytes.length < HEADER_BYTES) throw new ImageError(image, `too short for an arm64 Image header (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(56, true);
  if (magic !== ARM64_IMAGE_MAGIC) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (it is gzip-compressed: decompress it first)' : '';
    throw new ImageError(image, `not an arm64 Image: magic at offset 56 is ${hex(magic)}, expected ${hex(ARM64_IMAGE_MAGIC)}${gz}`);
  }
  const textOffset64 = dv.getBigUint64(8, true);
  const imageSize64 = dv.getBigUint64(16, true);
  const flags = dv.getBigUint64(24, true);
  if (textOffset64 >= BigInt(BASE_ALIGN)) throw new ImageError(image, `text_offset ${hex(textOffset64)} is not below 2 MiB`);
  if (imageSize64 > 1n << 32n) throw new ImageError(image, `image_size ${hex(imageSize64)} is implausible`);
  const pageBits = Number((flags >> 1n) & 3n);
  return {
    // Kernels before 3.17 leave image_size 0 and expect text_offset 0x80000.
    textOffset: imageSize64 === 0n ? 0x80000 : Number(textOffset64),
    imageSize: Number(imageSize64),
    flags,
    bigEndian: (flags & 1n) === 1n,
    pageSize: ([undefined, 4096, 16384, 65536] as const)[pageBits],
    placeAnywhere: ((flags >> 3n) & 1n) === 1n,
  };
}

export interface LoadedArm64Image {
  readonly header: Arm64ImageHeader;
  /** Where the kernel starts executing (base + text_offset), with x0 = DTB address. */
  readonly entry: number;
  /** End of the memory the kernel claims (entry + image_size, or + file size when unspecified). */
  readonly end: number;
}

/**
 * Loads the Image at the first 2 MiB-aligned base at or above `base` (a zone's kernel load address
 * or RAM start) plus text_offset. Big-endian kernels and images outside RAM are refused.
 */
export function loadArm64Image(bytes: Uint8Array, memory: AddressSpace, base: number, image = 'Image'): LoadedArm64Image {
  const header = parseArm64ImageHeader(bytes, image);
  if (header.bigEndian) throw new ImageError(image, 'big-endian kernels are not supported');
  const aligned = Math.ceil(base / BASE_ALIGN) * BASE_ALIGN;
  const entry = aligned + header.textOffset;
  const size = Math.max(header.imageSize, bytes.length);
  copyIntoRam(memory, entry, bytes, image, 'kernel Image');
  if (size > bytes.length) {
    // The bss must be RAM too; the kernel clears it itself.
    const end = entry + size;
    const r = memory.find(end - 1);
    if (r?.kind !== 'ram') throw new ImageError(image, `kernel needs [${hex(entry)}, ${hex(end)}) but ${hex(end - 1)} is not RAM`);
  }
  return { header, entry, end: entry + size };
}
