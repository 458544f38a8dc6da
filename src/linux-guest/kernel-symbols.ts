/**
 * A kernel image's own symbols: the arch from its boot header (arm64 `Image` magic "ARM\x64" at 56,
 * riscv "RSC\x05" at 0x38, LoongArch "MZ" and LINUX_PE_MAGIC at 0x38), kallsyms decoded, and
 * addresses made absolute at the link address.
 */
import { findKallsyms, kallsymsSymbols, KallsymsError, type KernelSymbol } from './kallsyms.js';
import { linkAddress } from './link-address.js';
import { findExports } from './ksymtab.js';
import type { SymbolArch } from './elf-symbol-file.js';
import { isLoongarchImage } from '../loader/loongarch-image.js';
import { isEfiZboot, unpackEfiZboot } from '../loader/efi-zboot.js';

export interface KernelSymbols {
  readonly arch: SymbolArch;
  readonly symbols: readonly KernelSymbol[];
  /** How the absolute addresses were found (for the report). */
  readonly how: string;
}

export function kernelArch(image: Uint8Array, what: string): SymbolArch {
  const word = (at: number) => (image.length >= at + 4 ? new DataView(image.buffer, image.byteOffset).getUint32(at, true) : 0);
  if (word(56) === 0x644d5241) return 'aarch64';
  if (word(0x38) === 0x05435352) return 'riscv64';
  if (isLoongarchImage(image)) return 'loongarch64';
  const gz = image[0] === 0x1f && image[1] === 0x8b ? ' (it is gzip-compressed: decompress it first)' : '';
  throw new KallsymsError(`${what}: not an arm64, riscv64 or LoongArch kernel Image (no boot header magic)${gz}`);
}

export interface KernelSymbolOptions {
  /**
   * The arch, where the boot header may be gone: a copy of a running arm64 kernel has lost it (Linux
   * reserves its image from _stext; the 64 KiB before it become free pages).
   */
  readonly arch?: SymbolArch;
  /** Bytes the kernel occupies from the image start, bss included (bounds exported symbols). */
  readonly span?: number;
  /**
   * Maps an address to its offset in the image where the image alone cannot tell (a relocated copy
   * of a running kernel: the vCPU's page tables can).
   */
  imageOffsetOf?(address: bigint): number | undefined;
}

/** Largest kernel Image an EFI zboot file may unpack to. */
const MAX_UNPACKED = 512 << 20;

/**
 * The symbols of a kernel file as distributions ship it: an Image, or an EFI zboot image (Debian's
 * loong64 `vmlinuz`) whose compressed payload is the Image.
 */
export function readKernelFileSymbols(file: Uint8Array, what = 'kernel image'): KernelSymbols {
  return readKernelSymbols(isEfiZboot(file) ? unpackEfiZboot(file, what, MAX_UNPACKED) : file, what);
}

/**
 * `image` is a kernel file, or a copy of a running kernel's memory from its load address (its
 * relocations applied: the addresses are the running ones).
 */
export function readKernelSymbols(image: Uint8Array, what = 'kernel image', options: KernelSymbolOptions = {}): KernelSymbols {
  const steps = kernelSymbolSteps(image, what, options);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/** The same, yielding to `pause` between the steps (each a scan of the image), for callers that must stay responsive. */
export async function readKernelSymbolsPaced(image: Uint8Array, what: string, options: KernelSymbolOptions, pause: () => Promise<void>): Promise<KernelSymbols> {
  const steps = kernelSymbolSteps(image, what, options);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    await pause();
  }
}

function* kernelSymbolSteps(image: Uint8Array, what: string, options: KernelSymbolOptions): Generator<void, KernelSymbols> {
  const arch = options.arch ?? kernelArch(image, what);
  const tables = findKallsyms(image, what);
  yield;
  const base = linkAddress(image, tables, what, arch);
  const symbols = kallsymsSymbols(tables, base.origin);
  let how = `${tables.names.length} kallsyms entries, addresses from ${base.how}`;
  let imageBase = base.imageBase;
  const stext = symbols.find((s) => s.name === '_stext');
  const stextOffset = stext === undefined ? undefined : options.imageOffsetOf?.(stext.address);
  if (imageBase === undefined && stext !== undefined && stextOffset !== undefined) imageBase = stext.address - BigInt(stextOffset);
  if (imageBase !== undefined) {
    yield;
    const declared = options.span ?? Number(new DataView(image.buffer, image.byteOffset).getBigUint64(16, true));
    const added = exportedData(image, symbols, imageBase, declared > 0 && declared < 1 << 30 ? declared : image.length);
    symbols.push(...added);
    how += `; ${added.length} more from __ksymtab`;
  }
  return { arch, symbols, how };
}

/**
 * Exported symbols kallsyms lacks (data, without CONFIG_KALLSYMS_ALL), as global data ('D'), within
 * `span` bytes of the image start (the boot header's image_size, offset 16 in arm64, riscv and LoongArch headers).
 */
function exportedData(image: Uint8Array, symbols: readonly KernelSymbol[], imageBase: bigint, span: number): KernelSymbol[] {
  const known = new Map<number, string[]>();
  const names = new Set<string>();
  for (const s of symbols) {
    names.add(s.name);
    if (s.type !== 'T' && s.type !== 't') continue;
    const at = Number(s.address - imageBase);
    const list = known.get(at);
    if (list === undefined) known.set(at, [s.name]);
    else list.push(s.name);
  }
  return findExports(image, known, span)
    .filter((e) => !names.has(e.name))
    .map((e) => ({ name: e.name, type: 'D', address: imageBase + BigInt(e.imageOffset) }));
}
