/**
 * BTF, the compact type information a CONFIG_DEBUG_INFO_BTF kernel keeps in .rodata (between
 * __start_BTF and __stop_BTF; Documentation/bpf/btf.rst): a 24-byte header (magic 0xeb9f), the type
 * section (records of kind-specific length, ids from 1), the string section. Here: struct and
 * union layouts by name (member offsets through anonymous members, sizes, member types), enough to
 * walk task lists and the printk ring buffer without DWARF. Per-CPU variables come from the
 * `.data..percpu` DATASEC.
 */
import { HvisorError } from '../util/hvisor-error.js';

const MAGIC = 0xeb9f;
const HEADER = 24;

const enum Kind {
  Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7, Typedef = 8, Volatile = 9, Const = 10,
  Restrict = 11, Func = 12, FuncProto = 13, Var = 14, Datasec = 15, Float = 16, DeclTag = 17, TypeTag = 18, Enum64 = 19,
}

export class BtfError extends HvisorError {}

interface BtfType {
  readonly kind: number;
  readonly name: string;
  readonly vlen: number;
  readonly kindFlag: boolean;
  /** size (int, struct, union, enum, datasec, float) or referenced type id. */
  readonly sizeOrType: number;
  /** Byte offset of the kind-specific data in the blob. */
  readonly extra: number;
}

export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Byte offset within the outermost struct (bitfields: the containing byte). */
  readonly offset: number;
}

export class Btf {
  private readonly types: BtfType[] = [];
  private readonly byName = new Map<string, number[]>();
  private readonly view: DataView;

  private constructor(private readonly blob: Uint8Array, private readonly strings: number, private readonly stringsEnd: number) {
    this.view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  }

  /** Parses a BTF blob starting at `at` in `bytes` (a copy is not made). */
  static parse(bytes: Uint8Array, at = 0, what = 'BTF'): Btf {
    const v = new DataView(bytes.buffer, bytes.byteOffset + at, bytes.byteLength - at);
    if (v.byteLength < HEADER || v.getUint16(0, true) !== MAGIC) throw new BtfError(`${what}: no BTF header (magic 0xeb9f)`);
    const hdrLen = v.getUint32(4, true);
    const typeOff = v.getUint32(8, true);
    const typeLen = v.getUint32(12, true);
    const strOff = v.getUint32(16, true);
    const strLen = v.getUint32(20, true);
    const end = hdrLen + Math.max(typeOff + typeLen, strOff + strLen);
    if (hdrLen < HEADER || end > v.byteLength) throw new BtfError(`${what}: sections run past the data (${end} > ${v.byteLength} bytes)`);
    const btf = new Btf(bytes.subarray(at, at + end), hdrLen + strOff, hdrLen + strOff + strLen);
    btf.readTypes(hdrLen + typeOff, hdrLen + typeOff + typeLen, what);
    return btf;
  }

  /** The kernel's BTF inside an image or memory copy: the first valid header found by its magic. */
  static find(bytes: Uint8Array, what = 'kernel image'): Btf {
    for (let p = bytes.indexOf(0x9f); p >= 0 && p + HEADER <= bytes.length; p = bytes.indexOf(0x9f, p + 1)) {
      if (bytes[p + 1] !== 0xeb || bytes[p + 2] !== 1 || bytes[p + 3] !== 0 || bytes[p + 4] !== HEADER) continue;
      try {
        const btf = Btf.parse(bytes, p, what);
        if (btf.types.length > 1000) return btf;
      } catch {
        // not this one
      }
    }
    throw new BtfError(`${what}: no BTF type information (a kernel without CONFIG_DEBUG_INFO_BTF)`);
  }

  private str(off: number): string {
    let e = this.strings + off;
    if (e >= this.stringsEnd) return '';
    const start = e;
    while (e < this.stringsEnd && this.blob[e] !== 0) e++;
    return String.fromCharCode(...this.blob.subarray(start, e));
  }

  private readTypes(start: number, end: number, what: string): void {
    this.types.push({ kind: 0, name: 'void', vlen: 0, kindFlag: false, sizeOrType: 0, extra: 0 });
    const v = this.view;
    for (let p = start; p < end; ) {
      if (p + 12 > end) throw new BtfError(`${what}: truncated type record at ${p}`);
      const info = v.getUint32(p + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const type: BtfType = { kind, name: this.str(v.getUint32(p, true)), vlen, kindFlag: info >>> 31 === 1, sizeOrType: v.getUint32(p + 8, true), extra: p + 12 };
      p += 12 + extraBytes(kind, vlen, what);
      const id = this.types.length;
      this.types.push(type);
      if (type.name !== '') {
        const list = this.byName.get(type.name);
        if (list === undefined) this.byName.set(type.name, [id]);
        else list.push(id);
      }
    }
  }

  /** The id of the struct or union `name` (a complete one, not a forward declaration). */
  structId(name: string): number {
    for (const id of this.byName.get(name) ?? []) {
      const t = this.types[id]!;
      if (t.kind === Kind.Struct || t.kind === Kind.Union) return id;
    }
    throw new BtfError(`BTF has no struct ${name}`);
  }

  /** Size in bytes of a type, through typedefs and qualifiers. */
  sizeOf(id: number): number {
    const t = this.types[this.resolve(id)]!;
    switch (t.kind) {
      case Kind.Ptr:
        return 8;
      case Kind.Array:
        return this.view.getUint32(t.extra + 8, true) * this.sizeOf(this.view.getUint32(t.extra, true));
      default:
        return t.sizeOrType;
    }
  }

  structSize(name: string): number {
    return this.sizeOf(this.structId(name));
  }

  /** Skips typedef, const, volatile, restrict and type tags. */
  resolve(id: number): number {
    for (let guard = 0; guard < 64; guard++) {
      const t = this.types[id];
      if (t === undefined) throw new BtfError(`BTF type id ${id} out of range`);
      if (t.kind !== Kind.Typedef && t.kind !== Kind.Volatile && t.kind !== Kind.Const && t.kind !== Kind.Restrict && t.kind !== Kind.TypeTag) return id;
      id = t.sizeOrType;
    }
    throw new BtfError('BTF typedef chain too long');
  }

  /** Direct and anonymous-nested members of a struct/union type id, offsets from its start. */
  members(id: number, base = 0, out: BtfMember[] = []): BtfMember[] {
    const t = this.types[this.resolve(id)]!;
    if (t.kind !== Kind.Struct && t.kind !== Kind.Union) return out;
    for (let i = 0; i < t.vlen; i++) {
      const at = t.extra + 12 * i;
      const name = this.str(this.view.getUint32(at, true));
      const type = this.view.getUint32(at + 4, true);
      const raw = this.view.getUint32(at + 8, true);
      const bits = t.kindFlag ? raw & 0xffffff : raw;
      const offset = base + Math.floor(bits / 8);
      if (name === '') this.members(type, offset, out);
      else out.push({ name, type, offset });
    }
    return out;
  }

  /** A member by path (`tasks`, `thread_info.cpu`), with its byte offset from the struct start. */
  member(struct: string, path: string): BtfMember {
    let id = this.structId(struct);
    let offset = 0;
    let found: BtfMember | undefined;
    for (const part of path.split('.')) {
      id = this.elementOf(id);
      found = this.members(id).find((m) => m.name === part);
      if (found === undefined) throw new BtfError(`BTF: struct ${struct} has no member ${path}`);
      offset += found.offset;
      id = found.type;
    }
    return { ...found!, offset };
  }

  /** An array's element type (the path then names element 0's members); other types as they are. */
  private elementOf(id: number): number {
    const t = this.types[this.resolve(id)]!;
    return t.kind === Kind.Array ? this.view.getUint32(t.extra, true) : id;
  }

  /** Byte offset of `path` in `struct`, or undefined when absent (kernel versions differ). */
  offsetOf(struct: string, path: string): number | undefined {
    try {
      return this.member(struct, path).offset;
    } catch (e) {
      if (e instanceof BtfError) return undefined;
      throw e;
    }
  }

  /** Offsets of the per-CPU variables (`.data..percpu` DATASEC): name → offset from __per_cpu_start. */
  percpuVariables(): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of this.types) {
      if (t.kind !== Kind.Datasec || t.name !== '.data..percpu') continue;
      for (let i = 0; i < t.vlen; i++) {
        const at = t.extra + 12 * i;
        const v = this.types[this.view.getUint32(at, true)];
        if (v?.kind === Kind.Var) out.set(v.name, this.view.getUint32(at + 4, true));
      }
    }
    return out;
  }
}

function extraBytes(kind: number, vlen: number, what: string): number {
  switch (kind) {
    case Kind.Int: case Kind.Var: case Kind.DeclTag:
      return 4;
    case Kind.Array:
      return 12;
    case Kind.Struct: case Kind.Union: case Kind.Datasec: case Kind.Enum64:
      return 12 * vlen;
    case Kind.Enum: case Kind.FuncProto:
      return 8 * vlen;
    case Kind.Ptr: case Kind.Fwd: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
    case Kind.Func: case Kind.Float: case Kind.TypeTag:
      return 0;
    default:
      throw new BtfError(`${what}: unknown BTF kind ${kind}`);
  }
}
