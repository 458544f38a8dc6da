/**
 * Nodes and properties of a device tree. A node owns its properties and children in blob order
 * (the DTS printer and writer keep that order). Names are the full node names, `uart@9000000`;
 * the root's name is ''.
 */
import { DtbError } from './errors.js';
import {
  cellsToBigInt, decodeCells, decodeStrings, encodeValue, latin1, type PropertyValue,
} from './values.js';

/** Bumped by every edit, so caches over a tree (the phandle index) know when to rebuild. */
let editCount = 0;
export function treeEditCount(): number {
  return editCount;
}

export class DtProperty {
  /** The node holding this property, once attached. */
  owner: DtNode | undefined;

  constructor(readonly name: string, private bytes: Uint8Array) {}

  /** The raw value (not a copy: do not modify; use `set`). */
  get value(): Uint8Array {
    return this.bytes;
  }

  get length(): number {
    return this.bytes.length;
  }

  set(value: PropertyValue): void {
    this.bytes = encodeValue(value);
    editCount++;
  }

  private where(): string {
    return `${this.owner?.path ?? '?'}:${this.name}`;
  }

  /** All u32 cells; DtbError if the length is not a multiple of 4. */
  cells(): number[] {
    const cells = decodeCells(this.bytes);
    if (cells === undefined) throw new DtbError(`length ${this.bytes.length} is not a whole number of cells`, { path: this.where() });
    return cells;
  }

  /** Cell `index`; DtbError if it is not there. */
  u32(index = 0): number {
    if (this.bytes.length < (index + 1) * 4) {
      throw new DtbError(`has ${this.bytes.length} bytes, no cell ${index}`, { path: this.where() });
    }
    return new DataView(this.bytes.buffer, this.bytes.byteOffset).getUint32(index * 4);
  }

  /** The value as one unsigned integer of 1 or 2 cells (as `linux,initrd-start` allows either). */
  uint(): bigint {
    if (this.bytes.length !== 4 && this.bytes.length !== 8) {
      throw new DtbError(`has ${this.bytes.length} bytes, expected a 32- or 64-bit value`, { path: this.where() });
    }
    return cellsToBigInt(this.cells());
  }

  /** A 64-bit value (two cells). */
  u64(): bigint {
    if (this.bytes.length !== 8) throw new DtbError(`has ${this.bytes.length} bytes, expected 8`, { path: this.where() });
    return cellsToBigInt(this.cells());
  }

  /** The strings of a NUL-separated string list; DtbError if not NUL-terminated. */
  strings(): string[] {
    const strings = decodeStrings(this.bytes);
    if (strings === undefined) throw new DtbError('is not a NUL-terminated string list', { path: this.where() });
    return strings;
  }

  /** The first string. */
  string(): string {
    return this.strings()[0]!;
  }
}

export class DtNode {
  parent: DtNode | undefined;
  private readonly childList: DtNode[] = [];
  private readonly propertyList: DtProperty[] = [];
  // Name indexes: lookups and duplicate checks stay O(1) even for hostile blobs with huge nodes.
  private readonly childIndex = new Map<string, DtNode>();
  private readonly propertyIndex = new Map<string, DtProperty>();

  constructor(readonly name: string) {}

  get children(): readonly DtNode[] {
    return this.childList;
  }

  get properties(): readonly DtProperty[] {
    return this.propertyList;
  }

  /** Absolute path: '/' for the root, '/soc/serial@1000' below it. */
  get path(): string {
    if (this.parent === undefined) return '/';
    const parts: string[] = [];
    for (let n: DtNode | undefined = this; n?.parent !== undefined; n = n.parent) parts.push(n.name);
    return '/' + parts.reverse().join('/');
  }

  /** The name without its unit address: `serial` for `serial@1000`. */
  get baseName(): string {
    const at = this.name.indexOf('@');
    return at < 0 ? this.name : this.name.slice(0, at);
  }

  /** The unit address after '@', or undefined. */
  get unitAddress(): string | undefined {
    const at = this.name.indexOf('@');
    return at < 0 ? undefined : this.name.slice(at + 1);
  }

  get depth(): number {
    let d = 0;
    for (let n = this.parent; n !== undefined; n = n.parent) d++;
    return d;
  }

  /**
   * The child called `name`: an exact full name, or a name without unit address when exactly one
   * child has that base name (as Linux's path lookup allows `/memory` for `/memory@40000000`).
   */
  child(name: string): DtNode | undefined {
    const exact = this.childIndex.get(name);
    if (exact !== undefined || name.includes('@')) return exact;
    const byBase = this.childList.filter((c) => c.baseName === name);
    return byBase.length === 1 ? byBase[0] : undefined;
  }

  /** Whether a child of exactly this full name exists. */
  hasChild(name: string): boolean {
    return this.childIndex.has(name);
  }

  property(name: string): DtProperty | undefined {
    return this.propertyIndex.get(name);
  }

  has(name: string): boolean {
    return this.property(name) !== undefined;
  }

  /** The property, or a DtbError naming this node. */
  require(name: string): DtProperty {
    const p = this.property(name);
    if (p === undefined) throw new DtbError(`missing property ${name}`, { path: this.path });
    return p;
  }

  u32(name: string): number | undefined {
    return this.property(name)?.u32();
  }

  cells(name: string): number[] | undefined {
    return this.property(name)?.cells();
  }

  u64(name: string): bigint | undefined {
    return this.property(name)?.u64();
  }

  string(name: string): string | undefined {
    return this.property(name)?.string();
  }

  strings(name: string): string[] | undefined {
    return this.property(name)?.strings();
  }

  /** The `compatible` strings, [] when absent. */
  get compatible(): string[] {
    return this.strings('compatible') ?? [];
  }

  isCompatible(compatible: string): boolean {
    return this.compatible.includes(compatible);
  }

  /** `status` is absent, "okay" or "ok". */
  get enabled(): boolean {
    const status = this.property('status');
    if (status === undefined) return true;
    const s = latin1(status.value).replace(/\0.*$/s, '');
    return s === 'okay' || s === 'ok';
  }

  /** Sets (replacing in place, so order is kept) or appends a property. */
  setProperty(name: string, value: PropertyValue): DtProperty {
    const existing = this.property(name);
    if (existing !== undefined) {
      existing.set(value);
      return existing;
    }
    return this.appendProperty(new DtProperty(name, encodeValue(value)));
  }

  /** Appends a property object; DtbError if the node already has one of that name. */
  appendProperty(property: DtProperty): DtProperty {
    if (this.has(property.name)) throw new DtbError(`duplicate property ${property.name}`, { path: this.path });
    property.owner = this;
    this.propertyList.push(property);
    this.propertyIndex.set(property.name, property);
    editCount++;
    return property;
  }

  removeProperty(name: string): boolean {
    const p = this.propertyIndex.get(name);
    if (p === undefined) return false;
    const i = this.propertyList.indexOf(p);
    p.owner = undefined;
    this.propertyIndex.delete(name);
    this.propertyList.splice(i, 1);
    editCount++;
    return true;
  }

  /** Creates and appends a child; DtbError if one of that exact name exists. */
  addChild(name: string): DtNode {
    return this.appendChild(new DtNode(name));
  }

  appendChild(node: DtNode): DtNode {
    if (node.name === '' || node.name.includes('/')) throw new DtbError(`bad node name ${JSON.stringify(node.name)}`, { path: this.path });
    if (this.childIndex.has(node.name)) throw new DtbError(`duplicate node ${node.name}`, { path: this.path });
    if (node.parent !== undefined) node.parent.removeChild(node);
    node.parent = this;
    this.childList.push(node);
    this.childIndex.set(node.name, node);
    editCount++;
    return node;
  }

  removeChild(nameOrNode: string | DtNode): boolean {
    const node = typeof nameOrNode === 'string' ? this.childIndex.get(nameOrNode) : nameOrNode;
    const i = node === undefined ? -1 : this.childList.indexOf(node);
    if (i < 0) return false;
    node!.parent = undefined;
    this.childIndex.delete(node!.name);
    this.childList.splice(i, 1);
    editCount++;
    return true;
  }

  /** This node and all below it, depth first, in blob order (iterative: no recursion limit). */
  *walk(): Generator<DtNode> {
    const stack: DtNode[] = [this];
    while (stack.length > 0) {
      const n = stack.pop()!;
      yield n;
      for (let i = n.childList.length - 1; i >= 0; i--) stack.push(n.childList[i]!);
    }
  }

  /** A deep copy (detached); iterative, like every walk here. */
  clone(): DtNode {
    const copies = new Map<DtNode, DtNode>();
    for (const n of this.walk()) {
      const copy = new DtNode(n.name);
      for (const p of n.propertyList) copy.appendProperty(new DtProperty(p.name, p.value.slice()));
      copies.set(n, copy);
      if (n !== this) copies.get(n.parent!)!.appendChild(copy);
    }
    return copies.get(this)!;
  }
}
