/**
 * The LoongArch Linux Image header (Documentation/arch/loongarch/booting.rst): "MZ" at 0, the entry
 * point at 8, the effective size (bss included) at 16, the load offset from the start of RAM at 24,
 * and LINUX_PE_MAGIC at 0x38. Early kernels gave entry and offset as DMW virtual addresses: only the
 * physical bits count, as QEMU's loader takes them.
 */
import { ImageError } from './image-error.js';

export const LINUX_PE_MAGIC = 0x818223cd;
const PHYS_MASK = (1n << 48n) - 1n;

export interface LoongarchImageHeader {
  /** Physical address the boot CPU starts at (direct address mode), for an image placed at loadOffset. */
  readonly entry: number;
  readonly loadOffset: number;
  readonly effectiveSize: number;
}

export function isLoongarchImage(bytes: Uint8Array): boolean {
  return bytes.length >= 64 && bytes[0] === 0x4d && bytes[1] === 0x5a && new DataView(bytes.buffer, bytes.byteOffset, 64).getUint32(0x38, true) === LINUX_PE_MAGIC;
}

export function parseLoongarchImageHeader(bytes: Uint8Array, image: string): LoongarchImageHeader {
  if (!isLoongarchImage(bytes)) throw new ImageError(image, 'not a LoongArch Linux Image (no "MZ" and PE magic 0x818223cd at 0x38)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entry = Number(dv.getBigUint64(8, true) & PHYS_MASK);
  const size = Number(dv.getBigUint64(16, true));
  const loadOffset = Number(dv.getBigUint64(24, true) & PHYS_MASK);
  if (size < bytes.length || size > 2 ** 32) throw new ImageError(image, `effective size 0x${size.toString(16)} is implausible for a ${bytes.length}-byte image`);
  if (entry < loadOffset || entry >= loadOffset + bytes.length) {
    throw new ImageError(image, `entry 0x${entry.toString(16)} lies outside the image loaded at 0x${loadOffset.toString(16)}`);
  }
  return { entry, loadOffset, effectiveSize: size };
}
