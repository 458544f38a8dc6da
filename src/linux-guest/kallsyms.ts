/**
 * The kallsyms tables every Linux kernel carries in its .rodata (scripts/kallsyms.c writes them,
 * kernel/kallsyms.c reads them), found and decoded in a raw kernel image or a copy of its memory:
 *
 *   kallsyms_num_syms      u32 N
 *   kallsyms_names         N entries: ULEB128 length (1 or 2 bytes), then that many token codes;
 *                          the first expanded character is the nm type letter
 *   kallsyms_markers       u32 per 256 names: byte offset of names[256k]
 *   kallsyms_token_table   256 NUL-terminated strings, one per code
 *   kallsyms_token_index   256 u16: offset of each string in the token table
 *   kallsyms_offsets       N 32-bit offsets, sorted by address: either u32 from kallsyms_relative_base
 *                          (a u64 right after them: a relocated pointer that an image may hold as 0),
 *                          or, in recent kernels, each `symbol - .` (PC-relative, no relative base)
 *
 * Linux up to 6.3 puts offsets and relative_base before num_syms; 6.4 moved them after the token
 * index. Labels are 8-byte aligned (4 in recent kernels). Between the markers and the token table there may be kallsyms_seqs_of_names (6.2, and
 * Debian's 6.1 by backport: 3 bytes per symbol); 6.4 moved it after relative_base.
 * Every label is 8-byte aligned on 64-bit kernels. Nothing here trusts the input: each table is
 * checked against the others, and a failure names what did not fit.
 */
import { HvisorError } from '../util/hvisor-error.js';

export interface KernelSymbol {
  readonly name: string;
  /** nm type letter as /proc/kallsyms shows it (T/t text, D/d data, R/r rodata, B/b bss, ...). */
  readonly type: string;
  /** Link-time virtual address (add the KASLR offset for the running kernel). */
  readonly address: bigint;
}

/**
 * What an offset is relative to: kallsyms_relative_base (its address is not known from the image
 * when relocations are left unapplied), or the image itself (offset = byte offset in the image).
 */
export type KallsymsOrigin = 'relative-base' | 'image';

export interface KallsymsLayout {
  readonly numSymsAt: number;
  readonly namesAt: number;
  readonly markersAt: number;
  readonly tokenTableAt: number;
  readonly tokenIndexAt: number;
  readonly offsetsAt: number;
  /** kallsyms_relative_base, absent when offsets are PC-relative. */
  readonly relativeBaseAt?: number;
  /** The value stored at kallsyms_relative_base (0 when the image leaves relocations unapplied). */
  readonly storedRelativeBase?: bigint;
}

export class KallsymsError extends HvisorError {}

const MAX_SYMBOLS = 1 << 21;
const MAX_NAME = 0x3fff;
/** Bytes of 256 compressed names: far above real kernels' 2-4 KiB, bounding the search. */
const MAX_BLOCK = 256 * 256;

/** Where the tables are in `image` (byte offsets) and what they hold, without the base address. */
export interface KallsymsTables {
  readonly layout: KallsymsLayout;
  readonly names: readonly string[];
  readonly types: readonly string[];
  /** Per symbol, from `origin`: nondecreasing. */
  readonly offsets: Float64Array;
  readonly origin: KallsymsOrigin;
}

export function findKallsyms(image: Uint8Array, what = 'kernel image'): KallsymsTables {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const tokens = findTokenTable(image, view, what);
  const names = findNames(image, view, tokens.tableAt, tokens.strings, what);
  const count = names.names.length;
  const offsets = findOffsets(view, names.numSymsAt, tokens.indexAt + 512, count, what);
  return {
    layout: {
      numSymsAt: names.numSymsAt,
      namesAt: names.numSymsAt + 8,
      markersAt: names.markersAt,
      tokenTableAt: tokens.tableAt,
      tokenIndexAt: tokens.indexAt,
      offsetsAt: offsets.at,
      ...(offsets.relativeBaseAt === undefined
        ? {}
        : { relativeBaseAt: offsets.relativeBaseAt, storedRelativeBase: view.getBigUint64(offsets.relativeBaseAt, true) }),
    },
    names: names.names,
    types: names.types,
    offsets: offsets.values,
    origin: offsets.relativeBaseAt === undefined ? 'image' : 'relative-base',
  };
}

/** The symbols of `tables` with `origin` as the address of offset 0 (see {@link KallsymsTables.origin}). */
export function kallsymsSymbols(tables: KallsymsTables, origin: bigint): KernelSymbol[] {
  const out: KernelSymbol[] = [];
  for (let i = 0; i < tables.names.length; i++) {
    out.push({ name: tables.names[i]!, type: tables.types[i]!, address: origin + BigInt(tables.offsets[i]!) });
  }
  return out;
}


/** kallsyms_token_index: 256 increasing u16 starting at 0, right after a table of 256 printable strings. */
function findTokenTable(image: Uint8Array, view: DataView, what: string): { tableAt: number; indexAt: number; strings: string[] } {
  const end = image.length - 512;
  for (let p = 0; p <= end; p += 4) {
    if (view.getUint16(p, true) !== 0) continue;
    const first = view.getUint16(p + 2, true);
    if (first < 2 || first > 64) continue;
    let ok = true;
    let prev = 0;
    for (let i = 1; i < 256; i++) {
      const v = view.getUint16(p + 2 * i, true);
      if (v <= prev + 1 || v > prev + 128) {
        ok = false;
        break;
      }
      prev = v;
    }
    if (!ok) continue;
    const last = prev;
    for (let start = (p - last - 2) & ~3; start >= p - last - 136 && start >= 0; start -= 4) {
      const strings = tokenStrings(image, start, view, p);
      if (strings !== undefined) return { tableAt: start, indexAt: p, strings };
    }
  }
  throw new KallsymsError(`${what}: no kallsyms token table found (a kernel built without CONFIG_KALLSYMS, or compressed: decompress it first)`);
}

function tokenStrings(image: Uint8Array, start: number, view: DataView, indexAt: number): string[] | undefined {
  const strings: string[] = [];
  for (let i = 0; i < 256; i++) {
    const at = start + view.getUint16(indexAt + 2 * i, true);
    if (i > 0 && image[at - 1] !== 0) return undefined;
    let e = at;
    while (e < indexAt && image[e] !== 0) {
      if (image[e]! < 0x20 || image[e]! > 0x7e) return undefined;
      e++;
    }
    if (e === at || e >= indexAt) return undefined;
    strings.push(String.fromCharCode(...image.subarray(at, e)));
    if (i === 255 && indexAt - (e + 1) >= 8) return undefined; // more than alignment padding
  }
  return strings;
}

/**
 * kallsyms_names (after num_syms) ending, aligned, where kallsyms_markers begin. The markers sit
 * before the token table, possibly with kallsyms_seqs_of_names (3 or 4 bytes per symbol) between
 * them, so candidates are runs of increasing u32 starting at 0, each confirmed by decoding names.
 */
function findNames(image: Uint8Array, view: DataView, tokenTableAt: number, tokens: readonly string[], what: string): { numSymsAt: number; markersAt: number; names: string[]; types: string[] } {
  const lowest = Math.max(8, tokenTableAt - 4 * MAX_SYMBOLS - 256 * 1024);
  for (let q = (tokenTableAt - 8) & ~3; q >= lowest; q -= 4) {
    if (view.getUint32(q, true) !== 0) continue;
    const m1 = view.getUint32(q + 4, true);
    if (m1 < 256 * 2 || m1 > MAX_BLOCK) continue;
    const markers = [0];
    for (let p = q + 4; p + 4 <= tokenTableAt; p += 4) {
      const v = view.getUint32(p, true);
      if (v <= markers[markers.length - 1]! || v > markers[markers.length - 1]! + MAX_BLOCK) break;
      markers.push(v);
    }
    for (let namesAt = (q - m1) & ~3; namesAt >= 8 && namesAt >= q - markers[markers.length - 1]! - MAX_BLOCK; namesAt -= 4) {
      // num_syms right before the names, or before 4 bytes of padding (8-byte alignment).
      for (const numSymsAt of [namesAt - 4, namesAt - 8]) {
        if (numSymsAt === namesAt - 8 && ((namesAt & 7) !== 0 || view.getUint32(namesAt - 4, true) !== 0)) continue;
        const count = view.getUint32(numSymsAt, true);
        const blocks = Math.ceil(count / 256);
        if (count === 0 || count > MAX_SYMBOLS || blocks > markers.length || markers[blocks - 1]! > q - namesAt) continue;
        const decoded = decodeNames(image, namesAt, count, q, markers, tokens);
        if (decoded !== undefined) return { numSymsAt, markersAt: q, ...decoded };
      }
    }
  }
  throw new KallsymsError(`${what}: kallsyms_names/markers not found before the token table at ${hexOf(tokenTableAt)}`);
}

function decodeNames(image: Uint8Array, namesAt: number, count: number, markersAt: number, markers: readonly number[], tokens: readonly string[]): { names: string[]; types: string[] } | undefined {
  const names: string[] = [];
  const types: string[] = [];
  let off = 0;
  for (let i = 0; i < count; i++) {
    if ((i & 0xff) === 0 && markers[i >> 8] !== off) return undefined;
    let at = namesAt + off;
    if (at >= markersAt) return undefined;
    let len = image[at]!;
    at++;
    if (len & 0x80) {
      len = (len & 0x7f) | (image[at]! << 7);
      at++;
    }
    if (len === 0 || len > MAX_NAME || at + len > markersAt) return undefined;
    let text = '';
    for (let k = 0; k < len; k++) text += tokens[image[at + k]!];
    if (text.length < 2) return undefined;
    types.push(text[0]!);
    names.push(text.slice(1));
    off = at + len - namesAt;
  }
  // The markers follow names[] after at most 7 bytes of padding.
  const gap = markersAt - (namesAt + off);
  if (gap < 0 || gap > 7) return undefined;
  return { names, types };
}

/**
 * kallsyms_offsets after the token index (6.4+) or before num_syms (up to 6.3): N u32 from
 * kallsyms_relative_base (a u64 following them: 0 or a kernel address), or else N PC-relative s32
 * (`symbol - .`); either must read as nondecreasing addresses.
 */
function findOffsets(view: DataView, numSymsAt: number, tokenIndexEnd: number, count: number, what: string): { at: number; values: Float64Array; relativeBaseAt?: number } {
  const baseRelative = (at: number, relativeBaseAt: number) => {
    if (at < 0 || relativeBaseAt + 8 > view.byteLength) return undefined;
    // The base is a kernel address, or 0 where the image leaves it to a relocation.
    const base = view.getBigUint64(relativeBaseAt, true);
    if (base !== 0n && base >> 48n !== 0xffffn) return undefined;
    const values = new Float64Array(count);
    let prev = 0;
    for (let i = 0; i < count; i++) {
      const v = view.getUint32(at + 4 * i, true);
      if (v < prev) return undefined;
      values[i] = prev = v;
    }
    return { at, values, relativeBaseAt };
  };
  const pcRelative = (at: number) => {
    if (at + 4 * count > view.byteLength) return undefined;
    const values = new Float64Array(count);
    let prev = -Infinity;
    for (let i = 0; i < count; i++) {
      const v = at + 4 * i + view.getInt32(at + 4 * i, true);
      if (v < prev || v < 0) return undefined;
      values[i] = prev = v;
    }
    return { at, values };
  };
  const after = [tokenIndexEnd, (tokenIndexEnd + 7) & ~7];
  for (const at of after) {
    const end = at + 4 * count;
    const found = baseRelative(at, (end + 7) & ~7) ?? pcRelative(at);
    if (found !== undefined) return found;
  }
  for (const relativeBaseAt of [numSymsAt - 8, numSymsAt - 12]) {
    const found = baseRelative((relativeBaseAt - 4 * count) & ~3, relativeBaseAt);
    if (found !== undefined) return found;
  }
  throw new KallsymsError(`${what}: kallsyms_offsets not found (after the token index or before num_syms)`);
}

function hexOf(n: number): string {
  return '0x' + n.toString(16);
}
