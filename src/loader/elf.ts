import type { AddressSpace } from '../machine/address-space.js';
import { ImageError } from './image-error.js';
import { copyIntoRam } from './raw-image.js';

export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;

const PT_LOAD = 1;

export interface ElfSegment {
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly offset: number;
  readonly fileSize: number;
  readonly memSize: number;
  readonly flags: number;
}

export interface ElfImage {
  readonly machine: number;
  readonly entry: bigint;
  readonly segments: readonly ElfSegment[];
}

export interface LoadedElf extends ElfImage {
  /** Lowest and highest (exclusive) guest-physical address written. */
  readonly low: number;
  readonly high: number;
}

/** Parses an ELF64 little-endian executable's header and PT_LOAD segments; bad input throws ImageError. */
export function parseElf64(bytes: Uint8Array, image = 'elf', machine?: number): ElfImage {
  const fail = (problem: string): never => { throw new ImageError(image, problem); };
  if (bytes.length < 64) fail(`too short for an ELF64 header (${bytes.length} bytes)`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail('not an ELF file (bad magic)');
  if (bytes[4] !== 2) fail(`not ELF64 (EI_CLASS ${bytes[4]})`);
  if (bytes[5] !== 1) fail(`not little-endian (EI_DATA ${bytes[5]})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  if (type !== 2 && type !== 3) fail(`not an executable (e_type ${type})`);
  const em = dv.getUint16(18, true);
  if (machine !== undefined && em !== machine) fail(`built for machine ${em}, expected ${machine}`);
  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) fail('no program headers');
  if (phentsize < 56) fail(`program header entry size ${phentsize} < 56`);
  if (phoff + BigInt(phentsize * phnum) > BigInt(bytes.length)) fail('program headers run past the end of the file');
  const segments: ElfSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const o = Number(phoff) + k * phentsize;
    if (dv.getUint32(o, true) !== PT_LOAD) continue;
    const flags = dv.getUint32(o + 4, true);
    const offset = dv.getBigUint64(o + 8, true);
    const vaddr = dv.getBigUint64(o + 16, true);
    const paddr = dv.getBigUint64(o + 24, true);
    const fileSize = dv.getBigUint64(o + 32, true);
    const memSize = dv.getBigUint64(o + 40, true);
    if (fileSize > memSize) fail(`segment ${k}: file size ${fileSize} exceeds memory size ${memSize}`);
    if (offset + fileSize > BigInt(bytes.length)) fail(`segment ${k}: data [${offset}, +${fileSize}) runs past the end of the file`);
    if (memSize > 1n << 40n) fail(`segment ${k}: memory size ${memSize} is implausible`);
    segments.push({ vaddr, paddr, offset: Number(offset), fileSize: Number(fileSize), memSize: Number(memSize), flags });
  }
  if (segments.length === 0) fail('no PT_LOAD segment');
  return { machine: em, entry, segments };
}

/**
 * Loads the PT_LOAD segments of an ELF64 image into guest RAM at their physical addresses (p_paddr)
 * plus `bias`, zero-filling the bss. Segments reaching outside RAM throw ImageError.
 */
export function loadElf(bytes: Uint8Array, memory: AddressSpace, options: { image?: string; machine?: number; bias?: number } = {}): LoadedElf {
  const image = options.image ?? 'elf';
  const elf = parseElf64(bytes, image, options.machine);
  let low = Infinity;
  let high = 0;
  for (const [k, s] of elf.segments.entries()) {
    if (s.memSize === 0) continue;
    const at = s.paddr + BigInt(options.bias ?? 0);
    if (at < 0n || at + BigInt(s.memSize) > 2n ** 53n) throw new ImageError(image, `segment ${k} at 0x${at.toString(16)} is outside any guest-physical space`);
    const addr = Number(at);
    copyIntoRam(memory, addr, bytes.subarray(s.offset, s.offset + s.fileSize), image, `segment ${k}`);
    if (s.memSize > s.fileSize) copyIntoRam(memory, addr + s.fileSize, new Uint8Array(s.memSize - s.fileSize), image, `segment ${k} bss`);
    low = Math.min(low, addr);
    high = Math.max(high, addr + s.memSize);
  }
  return { ...elf, low, high };
}
