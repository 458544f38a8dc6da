/**
 * The link-time virtual address of a kernel image's kallsyms offsets. The tables hold offsets only
 * (from kallsyms_relative_base, or from the image itself); the absolute address comes from the image:
 *
 * - kallsyms_relative_base as stored, when the build applied its relocations (riscv, x86);
 * - else (arm64 links with --no-apply-dynamic-relocs: the slot reads 0) the R_*_RELATIVE entry of
 *   .rela.dyn, which the image carries for the boot-time relocator, that targets that slot: its
 *   addend is the base, and its r_offset minus the slot's file offset is the image's link address;
 * - for PC-relative offsets (image offsets), the 2 MiB-aligned base that turns the most 64-bit
 *   kernel pointers found in the image (initialised data, or .rela.dyn addends) into text symbols.
 *   Kernel pointers start 0xffff on arm64 and riscv64, 0x9000 on LoongArch (its cached direct-mapped
 *   window, where the kernel is linked).
 */
import { KallsymsError, type KallsymsTables } from './kallsyms.js';
import type { SymbolArch } from './elf-symbol-file.js';

/** R_AARCH64_RELATIVE, R_RISCV_RELATIVE. */
const RELATIVE_RELOCATIONS = new Set([1027, 3]);
const RELA_BYTES = 24;
const KERNEL_BASE_ALIGN = 0x20_0000;

export interface LinkAddress {
  /** The address of offset 0 in `tables.offsets`. */
  readonly origin: bigint;
  /** The link address of the image's first byte, when known (ksymtab entries are image-relative). */
  readonly imageBase?: bigint;
  /** How it was found, for reports. */
  readonly how: string;
}

/** Bits 63:48 of a kernel text pointer. */
const KERNEL_POINTER_TOP: Record<SymbolArch, number> = { aarch64: 0xffff, riscv64: 0xffff, loongarch64: 0x9000 };

export function linkAddress(image: Uint8Array, tables: KallsymsTables, what = 'kernel image', arch: SymbolArch = 'aarch64'): LinkAddress {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const { layout } = tables;
  if (tables.origin === 'relative-base') {
    if (layout.storedRelativeBase !== undefined && layout.storedRelativeBase !== 0n) {
      return { origin: layout.storedRelativeBase, how: 'kallsyms_relative_base' };
    }
    const found = relocatedSlot(view, layout.relativeBaseAt!);
    if (found === undefined) throw new KallsymsError(`${what}: kallsyms_relative_base reads 0 and no relocation in the image sets it`);
    return { ...found, how: 'the relocation of kallsyms_relative_base' };
  }
  const base = pointerVote(view, tables, KERNEL_POINTER_TOP[arch]);
  if (base === undefined) throw new KallsymsError(`${what}: no kernel pointers in the image point at its symbols; cannot tell its link address`);
  return { origin: base, imageBase: base, how: 'kernel pointers in the image' };
}

/** The addend of the RELATIVE relocation whose target is the image offset `slot` (one, or none). */
function relocatedSlot(view: DataView, slot: number): { origin: bigint; imageBase: bigint } | undefined {
  const size = BigInt(view.byteLength);
  const found = new Map<bigint, bigint>();
  for (let p = 8; p + 16 <= view.byteLength; p += 8) {
    if (!RELATIVE_RELOCATIONS.has(view.getUint32(p, true)) || view.getUint32(p + 4, true) !== 0) continue;
    const offset = view.getBigUint64(p - 8, true);
    const addend = view.getBigUint64(p + 8, true);
    const imageBase = offset - BigInt(slot);
    // The image is linked at a 2 MiB-aligned kernel address, and the base lies inside the image.
    if ((imageBase & BigInt(KERNEL_BASE_ALIGN - 1)) !== 0n || offset >> 48n !== 0xffffn) continue;
    if (addend < imageBase || addend - imageBase >= size) continue;
    found.set(addend, imageBase);
  }
  if (found.size !== 1) return undefined;
  const [origin, imageBase] = [...found][0]!;
  return { origin, imageBase };
}

function pointerVote(view: DataView, tables: KallsymsTables, top: number): bigint | undefined {
  const text = new Set<number>();
  for (let i = 0; i < tables.offsets.length; i++) {
    const t = tables.types[i];
    if (t === 'T' || t === 't') text.add(tables.offsets[i]!);
  }
  const span = Math.ceil(view.byteLength / KERNEL_BASE_ALIGN) + 1;
  const votes = new Map<number, number>();
  for (let p = 0; p + 8 <= view.byteLength; p += 8) {
    const hi = view.getUint32(p + 4, true);
    if (hi >>> 16 !== top) continue;
    const lo = view.getUint32(p, true);
    const chunk = Math.floor(lo / KERNEL_BASE_ALIGN);
    for (let k = 0; k < span && k <= chunk; k++) {
      const baseLo = (chunk - k) * KERNEL_BASE_ALIGN;
      if (text.has(lo - baseLo)) {
        const key = hi * 4096 + (chunk - k);
        votes.set(key, (votes.get(key) ?? 0) + 1);
      }
    }
  }
  let best: number | undefined;
  let bestVotes = 0;
  for (const [key, n] of votes) {
    if (n > bestVotes) {
      best = key;
      bestVotes = n;
    }
  }
  // A real base collects thousands (function-pointer tables); noise collects a handful.
  if (best === undefined || bestVotes < 64) return undefined;
  const hi = Math.floor(best / 4096);
  const lo = (best % 4096) * KERNEL_BASE_ALIGN;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
