/**
 * Writes a tree as a version-17 blob laid out exactly as dtc lays it out (header, memory
 * reservations at offset 40, structure block, strings block with dtc's suffix sharing), so
 * `writeDtb(parseDtb(x))` equals `dtc -I dtb -O dtb x` byte for byte.
 */
import type { DeviceTree } from './device-tree.js';
import { DtbError } from './errors.js';
import {
  FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_LAST_COMPATIBLE_VERSION, FDT_MAGIC, FDT_PROP,
  FDT_V17_HEADER_SIZE, FDT_VERSION,
} from './format.js';
import type { DtNode } from './node.js';

class ByteSink {
  bytes = new Uint8Array(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u32(v: number): void {
    this.reserve(4);
    new DataView(this.bytes.buffer).setUint32(this.length, v >>> 0);
    this.length += 4;
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  latin1(s: string): void {
    this.reserve(s.length + 1);
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i) & 0xff;
    this.bytes[this.length++] = 0;
  }

  align4(): void {
    this.reserve(3);
    while (this.length % 4 !== 0) this.bytes[this.length++] = 0;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** dtc's strings table: a name is stored once, and may reuse the tail of a longer one. */
class StringTable {
  private text = '';
  private readonly offsets = new Map<string, number>();

  offset(name: string): number {
    let at = this.offsets.get(name);
    if (at === undefined) {
      at = this.text.indexOf(name + '\0');
      if (at < 0) {
        at = this.text.length;
        this.text += name + '\0';
      }
      this.offsets.set(name, at);
    }
    return at;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.text, (c) => c.charCodeAt(0) & 0xff);
  }
}

function writeStructure(root: DtNode, sink: ByteSink, strings: StringTable): void {
  const stack: { node: DtNode; open: boolean }[] = [{ node: root, open: true }];
  while (stack.length > 0) {
    const { node, open } = stack.pop()!;
    if (!open) {
      sink.u32(FDT_END_NODE);
      continue;
    }
    for (let i = 0; i < node.name.length; i++) {
      if (node.name.charCodeAt(i) === 0 || node.name.charCodeAt(i) > 0xff) {
        throw new DtbError('node name has a character that is not a non-NUL byte', { path: node.path });
      }
    }
    sink.u32(FDT_BEGIN_NODE);
    sink.latin1(node.name);
    sink.align4();
    for (const p of node.properties) {
      sink.u32(FDT_PROP);
      sink.u32(p.length);
      sink.u32(strings.offset(p.name));
      sink.raw(p.value);
      sink.align4();
    }
    stack.push({ node, open: false });
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, open: true });
  }
  sink.u32(FDT_END);
}

/**
 * Free space after the strings block, as dtc's -p / -S / -a give it: room for a bootloader or the
 * hypervisor to patch /chosen in place. Precedence as in dtc: `padding` overrides `minSize`,
 * and `align` rounds the total (blob plus padding) up.
 */
export interface WriteOptions {
  /** Exactly this many zero bytes at the end (dtc -p). */
  readonly padding?: number;
  /** Pad the blob to at least this total size (dtc -S). */
  readonly minSize?: number;
  /** Round the total size up to a multiple of this (dtc -a, a power of two). */
  readonly align?: number;
}

function paddingFor(size: number, options: WriteOptions): number {
  let pad = 0;
  if (options.minSize !== undefined && options.minSize > 0) pad = Math.max(0, options.minSize - size);
  if (options.padding !== undefined && options.padding > 0) pad = options.padding;
  if (options.align !== undefined && options.align > 0) {
    const a = options.align;
    if ((a & (a - 1)) !== 0) throw new DtbError(`alignment ${a} is not a power of two`);
    pad = Math.ceil((size + pad) / a) * a - size;
  }
  return pad;
}

/** The tree as a v17 DTB. */
export function writeDtb(tree: DeviceTree, options: WriteOptions = {}): Uint8Array {
  const structure = new ByteSink();
  const strings = new StringTable();
  writeStructure(tree.root, structure, strings);
  const structBytes = structure.result();
  const stringBytes = strings.bytes();

  const reserveOffset = FDT_V17_HEADER_SIZE;
  const reserveSize = (tree.memoryReservations.length + 1) * 16;
  const structOffset = reserveOffset + reserveSize;
  const stringsOffset = structOffset + structBytes.length;
  const used = stringsOffset + stringBytes.length;
  const total = used + paddingFor(used, options);

  const blob = new Uint8Array(total);
  const view = new DataView(blob.buffer);
  const header = [
    FDT_MAGIC, total, structOffset, stringsOffset, reserveOffset, FDT_VERSION, FDT_LAST_COMPATIBLE_VERSION,
    tree.bootCpuId, stringBytes.length, structBytes.length,
  ];
  header.forEach((v, i) => view.setUint32(i * 4, v >>> 0));
  tree.memoryReservations.forEach((r, i) => {
    view.setBigUint64(reserveOffset + i * 16, BigInt.asUintN(64, r.address));
    view.setBigUint64(reserveOffset + i * 16 + 8, BigInt.asUintN(64, r.size));
  });
  blob.set(structBytes, structOffset);
  blob.set(stringBytes, stringsOffset);
  return blob;
}
