import { dirname, isAbsolute, resolve } from 'node:path';
import { ARM64_IMAGE_MAGIC, parseArm64ImageHeader } from '../../loader/arm64-image.js';
import { parseElf64 } from '../../loader/elf.js';
import { ImageError } from '../../loader/image-error.js';
import { isEfiZboot, unpackEfiZboot } from '../../loader/efi-zboot.js';
import { isLoongarchImage, parseLoongarchImageHeader } from '../../loader/loongarch-image.js';
import { loongarchBootInfo } from '../../loader/loongarch-efi-boot.js';
import type { ZoneImage } from '../zone/zone.js';
import { parseZoneConfig, type ZoneConfig } from '../../config/zone-config.js';
import { CONFIG_FILE_MAX_BYTES, InputFileError, readInputFile, readInputFileSync, type InputLimit, type InputReader } from '../../util/input-file.js';

/**
 * The images a zone config names, ready to be placed at host-physical addresses. hvisor-tool copies
 * the kernel file whole to kernel_load_paddr and the dtb to dtb_load_paddr; we do the same, except
 * that an ELF kernel is loaded by its PT_LOAD segments (p_paddr, bss zero-filled). Relative paths
 * are resolved against the config file's folder (hvisor-tool uses its working directory). An empty
 * path means no image for that field (for dtb_filepath, `hvisor run` then generates the device tree).
 * Every image must fit in the zone's RAM: a larger file (or ELF segment) is refused before any of
 * it is read or allocated.
 */
export function readZoneImages(config: ZoneConfig, read: InputReader = readInputFileSync): ZoneImage[] {
  const path = (p: string) => zoneFilePath(config, p);
  const maxBytes = zoneRamBytes(config);
  const load = (field: string, p: string): Uint8Array => {
    try {
      return read(path(p), { what: field, maxBytes });
    } catch (e) {
      throw new ImageError(path(p), `${config.source}: ${field} cannot be read (${e instanceof InputFileError ? e.reason : (e as Error).message})`);
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
  const maxBytes = zoneRamBytes(config);
  if (kernel.length >= 4 && kernel[0] === 0x7f && kernel[1] === 0x45 && kernel[2] === 0x4c && kernel[3] === 0x46) {
    const elf = parseElf64(kernel, kernelPath);
    elf.segments.forEach((s, k) => {
      if (s.memSize === 0) return;
      if (s.memSize > maxBytes) throw new ImageError(kernelPath, `segment ${k} needs ${s.memSize} bytes, more than the zone's ${maxBytes} bytes of RAM`);
      const data = new Uint8Array(s.memSize);
      data.set(kernel.subarray(s.offset, s.offset + s.fileSize));
      if (s.paddr > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError(kernelPath, `segment ${k} p_paddr 0x${s.paddr.toString(16)} is beyond 2^53`);
      images.push({ name: `${kernelPath} segment ${k}`, paddr: Number(s.paddr), data });
    });
  } else {
    if (kernel.length === 0) throw new ImageError(kernelPath, 'empty kernel image');
    const payload = isEfiZboot(kernel) ? unpackEfiZboot(kernel, kernelPath, maxBytes) : kernel;
    if (config.arch === 'loongarch64' && isLoongarchImage(payload)) return loongarchKernel(config, kernelPath, payload);
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

/**
 * A LoongArch Linux Image (or the payload of its EFI zboot file), entered as its header says, with
 * the EFI boot registers and tables we provide as its firmware at the start of the zone's lowest RAM
 * (the kernel keeps the first 2 MiB to itself, as under QEMU's direct boot).
 */
function loongarchKernel(config: ZoneConfig, kernelPath: string, image: Uint8Array): ZoneImage[] {
  const header = parseLoongarchImageHeader(image, kernelPath);
  const ram = config.memoryRegions.filter((r) => r.type === 'ram').sort((a, b) => a.virtualStart - b.virtualStart);
  const gpa = (paddr: number) => {
    const r = ram.find((m) => paddr >= m.physicalStart && paddr < m.physicalStart + m.size);
    return r === undefined ? undefined : paddr - r.physicalStart + r.virtualStart;
  };
  const kernelGpa = gpa(config.kernelLoadPaddr);
  if (kernelGpa !== header.loadOffset) {
    throw new ImageError(kernelPath, `${config.source}: kernel_load_paddr 0x${config.kernelLoadPaddr.toString(16)} must be where the zone sees the Image's load offset 0x${header.loadOffset.toString(16)} (LoongArch Image header)`);
  }
  const low = ram[0];
  if (low === undefined || low.virtualStart + 0x2000 > header.loadOffset) {
    throw new ImageError(kernelPath, `${config.source}: no zone RAM below the kernel for the EFI boot tables (${low === undefined ? 'the zone has no RAM' : `the lowest RAM region starts at 0x${low.virtualStart.toString(16)}`})`);
  }
  const info = loongarchBootInfo({
    base: low.virtualStart,
    commandLine: config.kernelArgs ?? '',
    dtb: gpa(config.dtbLoadPaddr) ?? 0,
    ram: ram.map((r) => ({ base: r.virtualStart, size: r.size })),
  });
  const entry = BigInt(kernelGpa + header.entry - header.loadOffset);
  return [
    { name: `${kernelPath} (EFI boot tables)`, paddr: low.physicalStart, data: info.blob },
    { name: kernelPath, paddr: config.kernelLoadPaddr, data: image, boot: { entry, registers: info.registers } },
  ];
}

/** A path a config names, resolved against the config file's folder. */
export function zoneFilePath(config: ZoneConfig, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(config.source), p);
}

/** The images a config names, by field (what `readZoneImages` will read). */
export function zoneImageFiles(config: ZoneConfig): { field: string; path: string }[] {
  const files: { field: string; path: string }[] = [];
  if (config.kernelFilepath !== '') files.push({ field: 'kernel_filepath', path: config.kernelFilepath });
  if (config.dtbFilepath !== '') files.push({ field: 'dtb_filepath', path: config.dtbFilepath });
  if (config.initrdFilepath !== undefined && config.initrdFilepath !== '' && config.initrdLoadPaddr !== undefined) files.push({ field: 'initrd_filepath', path: config.initrdFilepath });
  return files.map((f) => ({ field: f.field, path: zoneFilePath(config, f.path) }));
}

/** The most an image may have: the zone's RAM (capped where a typed array ends). */
export function zoneRamBytes(config: ZoneConfig): number {
  const ram = config.memoryRegions.filter((r) => r.type === 'ram').reduce((n, r) => n + r.size, 0);
  return Math.min(ram, 2 ** 32);
}

function isArm64Image(bytes: Uint8Array): boolean {
  return bytes.length >= 64 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(56, true) === ARM64_IMAGE_MAGIC;
}

/**
 * Reads a zone config and the images it names off the event loop, each checked as
 * `readInputFileSync` would, and returns a reader serving those bytes to the synchronous
 * `startZoneFile`: a zone started on a running instance never stalls the others on its files.
 */
export async function prefetchZoneFiles(configPath: string): Promise<InputReader> {
  const files = new Map<string, Uint8Array | Error>();
  const fetch = async (path: string, limit: InputLimit) => {
    try {
      files.set(path, await readInputFile(path, limit));
    } catch (e) {
      files.set(path, e as Error);
    }
  };
  await fetch(configPath, { what: 'zone config', maxBytes: CONFIG_FILE_MAX_BYTES });
  const text = files.get(configPath);
  if (text instanceof Uint8Array) {
    let config: ZoneConfig | undefined;
    try {
      config = parseZoneConfig(new TextDecoder().decode(text), configPath);
    } catch {
      // startZoneFile reports it.
    }
    if (config !== undefined) {
      const maxBytes = zoneRamBytes(config);
      for (const f of zoneImageFiles(config)) await fetch(f.path, { what: f.field, maxBytes });
    }
  }
  return (path) => {
    const got = files.get(path);
    if (got === undefined) throw new Error(`not read beforehand: ${path}`);
    if (got instanceof Error) throw got;
    return got;
  };
}
