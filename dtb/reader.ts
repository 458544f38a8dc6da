/**
 * Parses a flattened device tree blob. Every header field is checked against the blob before it
 * is used, every loop is bounded by the blob size, and any malformation is a DtbError naming the
 * byte offset (or node path) where it was found.
 */
import { DeviceTree, type MemoryReservation } from './device-tree.js';
import { DtbError } from './errors.js';
import {
  FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_MAGIC, FDT_NOP, FDT_PROP, FDT_V16_HEADER_SIZE,
  FDT_V17_HEADER_SIZE, MAX_DEPTH,
} from './format.js';
import { DtNode, DtProperty } from './node.js';
import { assertValidTree } from './validate.js';
import { latin1 } from './values.js';

export interface FdtHeader {
  readonly magic: number;
  readonly totalSize: number;
  readonly offDtStruct: number;
  readonly offDtStrings: number;
  readonly offMemRsvmap: number;
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuidPhys: number;
  readonly sizeDtStrings: number;
  /** v17 only; for v16 blobs, the bytes from off_dt_struct to the end of the blob. */
  readonly sizeDtStruct: number;
}

/** Reads and checks the header: magic, version, and every block inside the blob. */
export function readHeader(blob: Uint8Array): FdtHeader {
  if (blob.length < FDT_V16_HEADER_SIZE) throw new DtbError(`blob of ${blob.length} bytes is shorter than an FDT header`, { offset: 0 });
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const word = (i: number): number => view.getUint32(i * 4);
  const magic = word(0);
  if (magic !== FDT_MAGIC) throw new DtbError(`bad magic 0x${magic.toString(16)}, expected 0xd00dfeed`, { offset: 0 });
  const totalSize = word(1);
  const version = word(5);
  const lastCompVersion = word(6);
  if (version < 16) throw new DtbError(`unsupported version ${version} (need 16 or later)`, { offset: 20 });
  if (lastCompVersion > 17) throw new DtbError(`last compatible version ${lastCompVersion} is newer than 17`, { offset: 24 });
  if (lastCompVersion > version) throw new DtbError(`last compatible version ${lastCompVersion} exceeds version ${version}`, { offset: 24 });
  const headerSize = version >= 17 ? FDT_V17_HEADER_SIZE : FDT_V16_HEADER_SIZE;
  if (totalSize < headerSize) throw new DtbError(`totalsize ${totalSize} is smaller than the ${headerSize}-byte header`, { offset: 4 });
  if (totalSize > blob.length) throw new DtbError(`totalsize ${totalSize} exceeds the ${blob.length} bytes given`, { offset: 4 });
  if (blob.length < headerSize) throw new DtbError(`blob too short for a v${version} header`, { offset: 0 });

  const offDtStruct = word(2);
  const offDtStrings = word(3);
  const offMemRsvmap = word(4);
  const sizeDtStrings = word(8);
  // v16 has no size_dt_struct: the structure block may run to the end of the blob (whole tokens).
  const sizeDtStruct = version >= 17 ? word(9) : (totalSize - Math.min(offDtStruct, totalSize)) & ~3;

  const block = (name: string, offset: number, size: number, fieldOffset: number, align: number): void => {
    if (offset < headerSize || offset > totalSize) {
      throw new DtbError(`${name} offset ${offset} is outside the blob (header ${headerSize}, totalsize ${totalSize})`, { offset: fieldOffset });
    }
    if (offset % align !== 0) throw new DtbError(`${name} offset ${offset} is not ${align}-byte aligned`, { offset: fieldOffset });
    if (size > totalSize - offset) throw new DtbError(`${name} block (offset ${offset}, size ${size}) runs past totalsize ${totalSize}`, { offset: fieldOffset });
  };
  block('memory reservation', offMemRsvmap, 16, 16, 8);
  block('structure', offDtStruct, sizeDtStruct, version >= 17 ? 36 : 8, 4);
  block('strings', offDtStrings, sizeDtStrings, 32, 1);
  if (sizeDtStruct % 4 !== 0) throw new DtbError(`structure block size ${sizeDtStruct} is not a multiple of 4`, { offset: 36 });
  return {
    magic, totalSize, offDtStruct, offDtStrings, offMemRsvmap, version, lastCompVersion,
    bootCpuidPhys: word(7), sizeDtStrings, sizeDtStruct,
  };
}

function readReservations(view: DataView, header: FdtHeader): MemoryReservation[] {
  const out: MemoryReservation[] = [];
  for (let at = header.offMemRsvmap; ; at += 16) {
    if (at + 16 > header.totalSize) throw new DtbError('memory reservation block has no terminating entry', { offset: at });
    const address = view.getBigUint64(at);
    const size = view.getBigUint64(at + 8);
    if (address === 0n && size === 0n) return out;
    out.push({ address, size });
  }
}

export interface ParseOptions {
  /**
   * Also check references (validateTree): unique, resolvable phandles, acyclic interrupt-parent
   * chains, `reg`/`ranges`/`interrupts`/`interrupt-map` matching their cells. Off by default,
   * since dtc itself prints such trees.
   */
  readonly checkReferences?: boolean;
}

/** Parses a DTB (version 16 or 17) into a tree. */
export function parseDtb(blob: Uint8Array, options: ParseOptions = {}): DeviceTree {
  const tree = parseStructure(blob);
  if (options.checkReferences === true) assertValidTree(tree);
  return tree;
}

function parseStructure(blob: Uint8Array): DeviceTree {
  const header = readHeader(blob);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const memoryReservations = readReservations(view, header);

  const stringsStart = header.offDtStrings;
  const stringsEnd = stringsStart + header.sizeDtStrings;
  const nameCache = new Map<number, string>();
  const propertyName = (nameOffset: number, at: number): string => {
    const cached = nameCache.get(nameOffset);
    if (cached !== undefined) return cached;
    if (nameOffset >= header.sizeDtStrings) {
      throw new DtbError(`property name offset ${nameOffset} is outside the ${header.sizeDtStrings}-byte strings block`, { offset: at + 8 });
    }
    const start = stringsStart + nameOffset;
    const end = blob.indexOf(0, start);
    if (end < 0 || end >= stringsEnd) throw new DtbError(`property name at strings offset ${nameOffset} is not NUL-terminated`, { offset: at + 8 });
    const name = latin1(blob, start, end);
    nameCache.set(nameOffset, name);
    return name;
  };

  const structEnd = header.offDtStruct + header.sizeDtStruct;
  const need = (at: number, bytes: number, what: string): void => {
    if (at + bytes > structEnd) throw new DtbError(`${what} runs past the end of the structure block`, { offset: at });
  };
  let root: DtNode | undefined;
  let current: DtNode | undefined;
  let depth = 0;
  let at = header.offDtStruct;
  for (;;) {
    need(at, 4, 'token');
    const token = view.getUint32(at);
    const tokenAt = at;
    at += 4;
    switch (token) {
      case FDT_BEGIN_NODE: {
        const nameEnd = blob.indexOf(0, at);
        if (nameEnd < 0 || nameEnd >= structEnd) throw new DtbError('node name is not NUL-terminated', { offset: at });
        const name = latin1(blob, at, nameEnd);
        at = (nameEnd + 4) & ~3;
        if (current === undefined) {
          if (root !== undefined) throw new DtbError('a second root node', { offset: tokenAt });
          if (name !== '') throw new DtbError(`root node has name ${JSON.stringify(name)}`, { offset: tokenAt + 4 });
          root = current = new DtNode('');
        } else {
          if (++depth > MAX_DEPTH) throw new DtbError(`nodes nested deeper than ${MAX_DEPTH}`, { offset: tokenAt, path: current.path });
          if (name === '' || name.includes('/')) {
            throw new DtbError(`bad node name ${JSON.stringify(name)}`, { offset: tokenAt + 4, path: current.path });
          }
          if (current.hasChild(name)) {
            throw new DtbError(`duplicate node name ${name}`, { offset: tokenAt + 4, path: current.path });
          }
          current = current.appendChild(new DtNode(name));
        }
        break;
      }
      case FDT_END_NODE:
        if (current === undefined) throw new DtbError('end of node without a node', { offset: tokenAt });
        current = current.parent;
        if (current !== undefined) depth--;
        break;
      case FDT_PROP: {
        if (current === undefined) throw new DtbError('property outside any node', { offset: tokenAt });
        need(at, 8, 'property header');
        const length = view.getUint32(at);
        const name = propertyName(view.getUint32(at + 4), tokenAt);
        at += 8;
        if (length > structEnd - at) {
          throw new DtbError(`property ${name} value of ${length} bytes runs past the end of the structure block`, { offset: tokenAt + 4 });
        }
        if (current.has(name)) throw new DtbError(`duplicate property ${name}`, { offset: tokenAt, path: current.path });
        current.appendProperty(new DtProperty(name, blob.slice(at, at + length)));
        at = (at + length + 3) & ~3;
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (root === undefined) throw new DtbError('structure block has no root node', { offset: tokenAt });
        if (current !== undefined) throw new DtbError('end of structure inside an open node', { offset: tokenAt, path: current.path });
        return new DeviceTree(root, memoryReservations, header.bootCpuidPhys);
      default:
        throw new DtbError(`bad token 0x${token.toString(16)}`, { offset: tokenAt, path: current?.path });
    }
    if (current === undefined && root !== undefined) {
      // After the root closes only NOPs may precede FDT_END.
      need(at, 4, 'token');
      const next = view.getUint32(at);
      if (next !== FDT_END && next !== FDT_NOP) throw new DtbError(`token 0x${next.toString(16)} after the root node closed`, { offset: at });
    }
  }
}
