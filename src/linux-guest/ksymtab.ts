/**
 * Exported symbols (EXPORT_SYMBOL*) from the image's __ksymtab/__ksymtab_gpl: 12-byte entries of
 * PC-relative s32 {value, name, namespace} (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS: arm64, riscv),
 * names in __ksymtab_strings. They name data too (jiffies, init_task) where kallsyms was built
 * without CONFIG_KALLSYMS_ALL. The tables are found from entries that agree with kallsyms: value
 * at a known function, name equal to that function's name; runs of valid entries around them.
 */
const ENTRY = 12;
const MAX_NAME = 256;
/** Bytes a C/asm symbol name is made of. */
const IDENTIFIER = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$') IDENTIFIER[c.charCodeAt(0)] = 1;

export interface ExportedSymbol {
  readonly name: string;
  /** Byte offset from the image start (may lie past the file, in bss). */
  readonly imageOffset: number;
}

/** `known`: image offset → names of kallsyms text symbols there. `span`: bytes the kernel occupies. */
export function findExports(image: Uint8Array, known: ReadonlyMap<number, readonly string[]>, span: number): ExportedSymbol[] {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const nameAt = (at: number): string | undefined => {
    if (at < 0 || at >= image.length) return undefined;
    let e = at;
    while (e < image.length && e - at <= MAX_NAME && image[e] !== 0) {
      if (!IDENTIFIER[image[e]!]) return undefined;
      e++;
    }
    if (e === at || image[e] !== 0) return undefined;
    return String.fromCharCode(...image.subarray(at, e));
  };
  const entry = (p: number): ExportedSymbol | undefined => {
    if (p < 0 || p + ENTRY > image.length) return undefined;
    const value = p + view.getInt32(p, true);
    if (value < 0 || value >= span) return undefined;
    const name = nameAt(p + 4 + view.getInt32(p + 4, true));
    return name === undefined ? undefined : { name, imageOffset: value };
  };
  const out = new Map<number, ExportedSymbol>();
  for (let p = 0; p + ENTRY <= image.length; p += 4) {
    if (out.has(p)) continue;
    const names = known.get(p + view.getInt32(p, true));
    if (names === undefined) continue;
    const e = entry(p);
    if (e === undefined || !names.includes(e.name)) continue;
    // A confirmed entry: take the whole run of valid entries around it.
    for (let q = p; !out.has(q); q -= ENTRY) {
      const r = entry(q);
      if (r === undefined) break;
      out.set(q, r);
    }
    for (let q = p + ENTRY; !out.has(q); q += ENTRY) {
      const r = entry(q);
      if (r === undefined) break;
      out.set(q, r);
    }
  }
  return [...out.values()];
}
