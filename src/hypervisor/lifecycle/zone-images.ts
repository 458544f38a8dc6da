import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ARM64_IMAGE_MAGIC, parseArm64ImageHeader } from '../../loader/arm64-image.js';
import { parseElf64 } from '../../loader/elf.js';
import { ImageError } from '../../loader/image-error.js';
import type { ZoneImage } from '../zone/zone.js';
import type { ZoneConfig } from '../../config/zone-config.js';

/**
 * The images a zone config names, ready to be placed at host-physical addresses. hvisor-tool copies
 * the kernel file whole to kernel_load_paddr and the dtb to dtb_load_paddr; we do the same, except
 * that an ELF kernel is loaded by its PT_LOAD segments (p_paddr, bss zero-filled). Relative paths
 * are resolved against the config file's folder (hvisor-tool uses its working directory). An empty
 * path means no image for that field (for dtb_filepath, `hvisor run` then generates the device tree).
 */
export function readZoneImages(config: ZoneConfig, read: (path: string) => Uint8Array = (p) => readFileSync(p)): ZoneImage[] {
  const base = dirname(config.source);
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const load = (field: string, p: string): Uint8Array => {
    try {
      return read(path(p));
    } catch (e) {
      throw new ImageError(path(p), `${config.source}: ${field} cannot be read (${(e as Error).message})`);
    }
  };
  const images: ZoneImage[] = [];
  if (config.kernelFilepath !== '') images.push(...kernelImages(config, path(config.kernelFilepath), load('kernel_filepath', config.kernelFilepath)));
  if (config.dtbFilepath !== '') {
    images.push({ name: path(config.dtbFilepath), paddr: config.dtbLoadPaddr, data: load('dtb_filepath', config.dtbFilepath) });
  }
  if (config.initrdFilepath !== undefined && config.initrdFilepath !== '' && config.initrdLoadPaddr !== undefined) {
    images.push({ name: path(config.initrdFilepath), paddr: config.initrdLoadPaddr, data: load('initrd_filepath', config.initrdFilepath) });
  }
  return images;
}

/** The kernel file: an ELF by its PT_LOAD segments, anything else whole at kernel_load_paddr. */
function kernelImages(config: ZoneConfig, kernelPath: string, kernel: Uint8Array): ZoneImage[] {
  const images: ZoneImage[] = [];
  if (kernel.length >= 4 && kernel[0] === 0x7f && kernel[1] === 0x45 && kernel[2] === 0x4c && kernel[3] === 0x46) {
    const elf = parseElf64(kernel, kernelPath);
    elf.segments.forEach((s, k) => {
      if (s.memSize === 0) return;
      const data = new Uint8Array(s.memSize);
      data.set(kernel.subarray(s.offset, s.offset + s.fileSize));
      if (s.paddr > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError(kernelPath, `segment ${k} p_paddr 0x${s.paddr.toString(16)} is beyond 2^53`);
      images.push({ name: `${kernelPath} segment ${k}`, paddr: Number(s.paddr), data });
    });
  } else {
    if (kernel.length === 0) throw new ImageError(kernelPath, 'empty kernel image');
    if (isArm64Image(kernel)) {
      // arm64 booting.rst: the Image runs at a 2 MiB-aligned base + text_offset, entered at its start.
      const { textOffset } = parseArm64ImageHeader(kernel, kernelPath);
      if ((config.kernelLoadPaddr - textOffset) % 0x20_0000 !== 0) {
        throw new ImageError(kernelPath, `${config.source}: kernel_load_paddr 0x${config.kernelLoadPaddr.toString(16)} is not a 2 MiB-aligned base + text_offset 0x${textOffset.toString(16)} (arm64 Image)`);
      }
    }
    images.push({ name: kernelPath, paddr: config.kernelLoadPaddr, data: kernel });
  }
  return images;
}

function isArm64Image(bytes: Uint8Array): boolean {
  return bytes.length >= 64 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(56, true) === ARM64_IMAGE_MAGIC;
}
