/**
 * An ELF64 symbol file gdb loads with `symbol-file`/`add-symbol-file`: no code, only section headers
 * (SHT_NOBITS, so gdb reads instructions from the target) and a .symtab. Sections are the runs of
 * same-kind symbols in address order (text, rodata, data, bss, by the nm type letter), so gdb
 * classifies each symbol as code or data; sizes run to the next higher address in the same section.
 */
import type { KernelSymbol } from './kallsyms.js';

export type SymbolArch = 'aarch64' | 'riscv64' | 'loongarch64';

const EM = { aarch64: 183, riscv64: 243, loongarch64: 258 } as const;
/**
 * riscv64: RVC + double-float ABI, what Debian's riscv64 kernel is built for (gdb picks the ABI from
 * e_flags); loongarch64: LP64D, object ABI v1, as Debian's loong64 objects are marked.
 */
const E_FLAGS = { aarch64: 0, riscv64: 0x5, loongarch64: 0x43 } as const;

const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;

type Kind = 'text' | 'rodata' | 'data' | 'bss';

const SECTION_FLAGS: Record<Kind, number> = {
  text: SHF_ALLOC | SHF_EXECINSTR,
  rodata: SHF_ALLOC,
  data: SHF_ALLOC | SHF_WRITE,
  bss: SHF_ALLOC | SHF_WRITE,
};

function kindOf(type: string): Kind {
  switch (type.toLowerCase()) {
    case 't':
    case 'w':
      return 'text';
    case 'r':
      return 'rodata';
    case 'b':
      return 'bss';
    default:
      return 'data'; // d, v (weak object), g/s (small data), a, ...
  }
}

interface Section {
  readonly kind: Kind;
  readonly start: bigint;
  end: bigint;
  name: string;
}

export interface SymbolFileStats {
  readonly symbols: number;
  readonly sections: number;
}

/** The ELF bytes for `symbols` (addresses already final: link address plus any KASLR offset). */
export function writeElfSymbolFile(symbols: readonly KernelSymbol[], arch: SymbolArch): { bytes: Uint8Array; stats: SymbolFileStats } {
  const sorted = [...symbols].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  // Sections: runs of one kind in address order; a run ends where the next kind starts.
  const sections: Section[] = [];
  const sectionOf: number[] = [];
  for (const s of sorted) {
    const kind = kindOf(s.type);
    let last = sections[sections.length - 1];
    if (last === undefined || last.kind !== kind) {
      if (last !== undefined) last.end = s.address;
      last = { kind, start: s.address, end: s.address, name: '' };
      sections.push(last);
    }
    last.end = s.address;
    sectionOf.push(sections.length - 1);
  }
  const counts = new Map<Kind, number>();
  for (const sec of sections) {
    const n = counts.get(sec.kind) ?? 0;
    counts.set(sec.kind, n + 1);
    sec.name = `.${sec.kind}${n === 0 ? '' : `.${n}`}`;
  }
  // Sizes: to the next higher address within the section; the last symbol of a section gets 0.
  const sizes: bigint[] = new Array(sorted.length).fill(0n);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sectionOf[j] === sectionOf[i]; j++) {
      if (sorted[j]!.address > sorted[i]!.address) {
        sizes[i] = sorted[j]!.address - sorted[i]!.address;
        break;
      }
    }
  }
  for (const sec of sections) if (sec.end === sec.start) sec.end = sec.start + 1n;

  const strtab = new StringTable();
  const shstrtab = new StringTable();
  // Locals first (ELF requires it); sh_info of .symtab is the first non-local index.
  const order = sorted.map((_, i) => i);
  const binding = (t: string) => (/[wWvV]/.test(t) ? STB_WEAK : t === t.toUpperCase() ? STB_GLOBAL : STB_LOCAL);
  order.sort((a, b) => Number(binding(sorted[a]!.type) !== STB_LOCAL) - Number(binding(sorted[b]!.type) !== STB_LOCAL) || a - b);
  const firstGlobal = 1 + order.filter((i) => binding(sorted[i]!.type) === STB_LOCAL).length;
  const symtab = new Uint8Array(24 * (order.length + 1));
  const sv = new DataView(symtab.buffer);
  order.forEach((i, k) => {
    const s = sorted[i]!;
    const at = 24 * (k + 1);
    const kind = kindOf(s.type);
    sv.setUint32(at, strtab.add(s.name), true);
    symtab[at + 4] = (binding(s.type) << 4) | (kind === 'text' ? STT_FUNC : STT_OBJECT);
    sv.setUint16(at + 6, 1 + sectionOf[i]!, true); // section headers: 0 null, then ours
    sv.setBigUint64(at + 8, s.address, true);
    sv.setBigUint64(at + 16, sizes[i]!, true);
  });

  // Layout: header, .symtab, .strtab, .shstrtab, section headers.
  const names = sections.map((s) => shstrtab.add(s.name));
  const symtabName = shstrtab.add('.symtab');
  const strtabName = shstrtab.add('.strtab');
  const shstrtabName = shstrtab.add('.shstrtab');
  const strBytes = strtab.bytes();
  const shstrBytes = shstrtab.bytes();
  const symtabOff = 64;
  const strtabOff = symtabOff + symtab.length;
  const shstrOff = strtabOff + strBytes.length;
  const shOff = (shstrOff + shstrBytes.length + 7) & ~7;
  const shnum = 1 + sections.length + 3;
  const out = new Uint8Array(shOff + 64 * shnum);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, EM[arch], true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shOff), true);
  v.setUint32(48, E_FLAGS[arch], true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, shnum - 1, true);
  out.set(symtab, symtabOff);
  out.set(strBytes, strtabOff);
  out.set(shstrBytes, shstrOff);
  const header = (index: number, h: { name: number; type: number; flags: number; addr: bigint; offset: number; size: bigint; link?: number; info?: number; align: number; entsize?: number }) => {
    const at = shOff + 64 * index;
    v.setUint32(at, h.name, true);
    v.setUint32(at + 4, h.type, true);
    v.setBigUint64(at + 8, BigInt(h.flags), true);
    v.setBigUint64(at + 16, h.addr, true);
    v.setBigUint64(at + 24, BigInt(h.offset), true);
    v.setBigUint64(at + 32, h.size, true);
    v.setUint32(at + 40, h.link ?? 0, true);
    v.setUint32(at + 44, h.info ?? 0, true);
    v.setBigUint64(at + 48, BigInt(h.align), true);
    v.setBigUint64(at + 56, BigInt(h.entsize ?? 0), true);
  };
  sections.forEach((s, i) =>
    header(1 + i, { name: names[i]!, type: SHT_NOBITS, flags: SECTION_FLAGS[s.kind], addr: s.start, offset: shOff, size: s.end - s.start, align: 1 }),
  );
  const symIndex = 1 + sections.length;
  header(symIndex, { name: symtabName, type: SHT_SYMTAB, flags: 0, addr: 0n, offset: symtabOff, size: BigInt(symtab.length), link: symIndex + 1, info: firstGlobal, align: 8, entsize: 24 });
  header(symIndex + 1, { name: strtabName, type: SHT_STRTAB, flags: 0, addr: 0n, offset: strtabOff, size: BigInt(strBytes.length), align: 1 });
  header(symIndex + 2, { name: shstrtabName, type: SHT_STRTAB, flags: 0, addr: 0n, offset: shstrOff, size: BigInt(shstrBytes.length), align: 1 });
  return { bytes: out, stats: { symbols: sorted.length, sections: sections.length } };
}

/** An ELF string table: offset 0 is the empty string; equal strings are stored once. */
class StringTable {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly seen = new Map<string, number>();
  private readonly encoder = new TextEncoder();

  add(s: string): number {
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const at = this.size;
    const bytes = this.encoder.encode(s + '\0');
    this.parts.push(bytes);
    this.size += bytes.length;
    this.seen.set(s, at);
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
