/**
 * `reg` and `ranges`: addresses in a bus's own space, and their translation up to the CPU's
 * physical address space, as Linux's of_translate_address walks it. Addresses and sizes in
 * `RegEntry` are numbers (exact below 2^53; larger values are a DtbError); raw `ranges` entries
 * keep bigint because PCI windows may legitimately describe 64-bit spaces.
 */
import type { DeviceTree } from './device-tree.js';
import { DtbError } from './errors.js';
import { MAX_DEPTH } from './format.js';
import type { DtNode } from './node.js';
import { bigIntToCells, cellsToBigInt } from './values.js';

export interface RegEntry {
  readonly address: number;
  readonly size: number;
}

/** One `reg` entry as raw cells (for buses whose addresses are not plain numbers, like PCI). */
export interface RegCells {
  readonly address: readonly number[];
  readonly size: readonly number[];
}

export type PciSpace = 'config' | 'io' | 'mem32' | 'mem64';

export interface RangeEntry {
  /** The child-bus address cells (#address-cells of the bus node). */
  readonly childCells: readonly number[];
  /** The parent-bus address cells. */
  readonly parentCells: readonly number[];
  /** The child address value (for PCI: the 64-bit address without phys.hi). */
  readonly childAddress: bigint;
  /** The parent address value, in the parent bus's space. */
  readonly parentAddress: bigint;
  /** The parent address translated to CPU-physical, or undefined where the parent bus is unmapped. */
  readonly cpuAddress: bigint | undefined;
  readonly size: bigint;
  /** For PCI buses (3 address cells): the space code of phys.hi, and its prefetchable bit. */
  readonly pciSpace?: PciSpace;
  readonly prefetchable?: boolean;
}

const PCI_SPACES: readonly PciSpace[] = ['config', 'io', 'mem32', 'mem64'];

/** A bus whose 3-cell addresses carry a PCI phys.hi word. */
function isPciBus(tree: DeviceTree, bus: DtNode): boolean {
  if (tree.addressCells(bus) !== 3) return false;
  const type = bus.property('device_type');
  return type === undefined || ['pci', 'pciex'].includes(bus.string('device_type') ?? '');
}

function toNumber(value: bigint, what: string, node: DtNode): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DtbError(`${what} 0x${value.toString(16)} does not fit a JS number (use regCells)`, { path: node.path });
  }
  return Number(value);
}

/** The bus a node's `reg` is expressed in: its parent (the root for itself). */
function busOf(node: DtNode): DtNode {
  return node.parent ?? node;
}

/** The node's `reg` as raw cells; [] when it has none; DtbError if it does not match the cells. */
export function regCells(tree: DeviceTree, node: DtNode): RegCells[] {
  const reg = node.property('reg');
  if (reg === undefined) return [];
  const bus = busOf(node);
  const ac = tree.addressCells(bus);
  const sc = tree.sizeCells(bus);
  const cells = reg.cells();
  const per = ac + sc;
  if (per === 0 || cells.length % per !== 0) {
    throw new DtbError(`reg has ${cells.length} cells, not a multiple of #address-cells ${ac} + #size-cells ${sc}`, { path: node.path });
  }
  const out: RegCells[] = [];
  for (let i = 0; i < cells.length; i += per) {
    out.push({ address: cells.slice(i, i + ac), size: cells.slice(i + ac, i + per) });
  }
  return out;
}

/** The node's `reg` in its parent bus's address space. */
export function readReg(tree: DeviceTree, node: DtNode): RegEntry[] {
  return regCells(tree, node).map((r) => ({
    address: toNumber(cellsToBigInt(r.address), 'reg address', node),
    size: toNumber(cellsToBigInt(r.size), 'reg size', node),
  }));
}

/**
 * The node's `reg` in CPU-physical addresses; undefined when its bus is not memory-mapped (no
 * `ranges` on the way up, as for I2C or SPI devices, or `/cpus`).
 */
export function cpuReg(tree: DeviceTree, node: DtNode): RegEntry[] | undefined {
  const out: RegEntry[] = [];
  for (const r of regCells(tree, node)) {
    const cpu = translateAddress(tree, busOf(node), r.address);
    if (cpu === undefined) return undefined;
    out.push({ address: toNumber(cpu, 'translated reg address', node), size: toNumber(cellsToBigInt(r.size), 'reg size', node) });
  }
  return out;
}

/** The bus node's `ranges`: undefined when absent, [] when empty (identity mapping). */
export function ranges(tree: DeviceTree, bus: DtNode): RangeEntry[] | undefined {
  const prop = bus.property('ranges');
  if (prop === undefined) return undefined;
  const cells = prop.cells();
  if (cells.length === 0) return [];
  const childAc = tree.addressCells(bus);
  const parentAc = tree.addressCells(busOf(bus));
  const sc = tree.sizeCells(bus);
  const per = childAc + parentAc + sc;
  if (per === 0 || cells.length % per !== 0) {
    throw new DtbError(
      `ranges has ${cells.length} cells, not a multiple of child ${childAc} + parent ${parentAc} + size ${sc} cells`,
      { path: bus.path },
    );
  }
  const pci = isPciBus(tree, bus);
  const out: RangeEntry[] = [];
  for (let i = 0; i < cells.length; i += per) {
    const childCells = cells.slice(i, i + childAc);
    const parentCells = cells.slice(i + childAc, i + childAc + parentAc);
    const entry: RangeEntry = {
      childCells,
      parentCells,
      childAddress: cellsToBigInt(pci ? childCells.slice(1) : childCells),
      parentAddress: addressValue(tree, busOf(bus), parentCells),
      cpuAddress: bus.parent === undefined ? undefined : translateAddress(tree, busOf(bus), parentCells),
      size: cellsToBigInt(cells.slice(i + childAc + parentAc, i + per)),
      ...(pci ? { pciSpace: PCI_SPACES[(childCells[0]! >>> 24) & 3]!, prefetchable: (childCells[0]! & 0x40000000) !== 0 } : {}),
    };
    out.push(entry);
  }
  return out;
}

/** The numeric value of an address in `bus`'s space (PCI: without phys.hi). */
function addressValue(tree: DeviceTree, bus: DtNode, cells: readonly number[]): bigint {
  return cellsToBigInt(isPciBus(tree, bus) ? cells.slice(1) : cells);
}

/** PCI ranges match by I/O versus memory space, as Linux's PCI bus translator does. */
function pciSpaceClass(hi: number): number {
  const space = (hi >>> 24) & 3;
  return space === 0 ? 0 : space === 1 ? 1 : 2;
}

/**
 * Translates an address in `bus`'s space (cells of its #address-cells) to a CPU-physical address,
 * walking `ranges` up to the root. Undefined where a bus has no `ranges` or no range covers it.
 */
export function translateAddress(tree: DeviceTree, bus: DtNode, address: readonly number[]): bigint | undefined {
  let cells = [...address];
  let node = bus;
  for (let depth = 0; depth <= MAX_DEPTH && node.parent !== undefined; depth++) {
    const entries = ranges(tree, node);
    if (entries === undefined) return undefined;
    const parent = node.parent;
    const parentAc = tree.addressCells(parent);
    const value = addressValue(tree, node, cells);
    let parentValue: bigint | undefined;
    let parentHi: number | undefined;
    if (entries.length === 0) {
      parentValue = value;
    } else {
      const pci = isPciBus(tree, node);
      for (const r of entries) {
        if (pci && pciSpaceClass(r.childCells[0]!) !== pciSpaceClass(cells[0] ?? 0)) continue;
        if (value >= r.childAddress && value - r.childAddress < r.size) {
          parentValue = r.parentAddress + (value - r.childAddress);
          parentHi = r.parentCells[0];
          break;
        }
      }
      if (parentValue === undefined) return undefined;
    }
    if (isPciBus(tree, parent)) cells = [parentHi ?? 0, ...bigIntToCells(parentValue, 2)];
    else cells = bigIntToCells(parentValue, parentAc);
    node = parent;
  }
  return cellsToBigInt(cells);
}
