/**
 * Interrupt specifiers: `interrupt-parent` (explicit or inherited), `interrupts`,
 * `interrupts-extended`, and nexus `interrupt-map` / `interrupt-map-mask` (PCI host bridges),
 * following the Devicetree Specification chapter 2.4. Cyclic or dangling references are DtbErrors.
 */
import type { DeviceTree } from './device-tree.js';
import { DtbError } from './errors.js';
import type { DtNode } from './node.js';

/** One interrupt: the controller (or nexus) it goes to and its specifier cells. */
export interface InterruptSpec {
  readonly controller: DtNode;
  readonly cells: readonly number[];
}

export interface InterruptMapEntry {
  readonly childAddress: readonly number[];
  readonly childInterrupt: readonly number[];
  readonly parent: DtNode;
  readonly parentAddress: readonly number[];
  readonly parentInterrupt: readonly number[];
}

function phandleTarget(tree: DeviceTree, node: DtNode, name: string): DtNode {
  const p = node.require(name);
  if (p.length !== 4) throw new DtbError(`${name} has ${p.length} bytes, expected one phandle`, { path: node.path });
  return tree.requirePhandle(p.u32(), `${node.path}:${name}`);
}

/** The node's interrupt parent: the nearest node with #interrupt-cells along interrupt-parent links and tree parents. */
export function interruptParent(tree: DeviceTree, node: DtNode): DtNode | undefined {
  const seen = new Set<DtNode>();
  let current = node;
  for (;;) {
    const next = current.has('interrupt-parent') ? phandleTarget(tree, current, 'interrupt-parent') : current.parent;
    if (next === undefined) return undefined;
    if (next.has('#interrupt-cells')) return next;
    if (seen.has(next)) throw new DtbError(`cyclic interrupt-parent chain through ${next.path}`, { path: node.path });
    seen.add(next);
    current = next;
  }
}

/** The node's interrupts from `interrupts-extended` (preferred, as Linux does) or `interrupts`; [] if none. */
export function interrupts(tree: DeviceTree, node: DtNode): InterruptSpec[] {
  const out: InterruptSpec[] = [];
  const extended = node.property('interrupts-extended');
  if (extended !== undefined) {
    const cells = extended.cells();
    for (let i = 0; i < cells.length;) {
      const controller = tree.requirePhandle(cells[i]!, `${node.path}:interrupts-extended`);
      const n = tree.interruptCells(controller);
      if (i + 1 + n > cells.length) {
        throw new DtbError(`interrupts-extended entry at cell ${i} needs ${n} cells for ${controller.path}, only ${cells.length - i - 1} left`, { path: node.path });
      }
      out.push({ controller, cells: cells.slice(i + 1, i + 1 + n) });
      i += 1 + n;
    }
    return out;
  }
  const plain = node.property('interrupts');
  if (plain === undefined) return out;
  const cells = plain.cells();
  const controller = interruptParent(tree, node);
  if (controller === undefined) throw new DtbError('has interrupts but no interrupt parent', { path: node.path });
  const n = tree.interruptCells(controller);
  if (n === 0 || cells.length % n !== 0) {
    throw new DtbError(`interrupts has ${cells.length} cells, not a multiple of #interrupt-cells ${n} of ${controller.path}`, { path: node.path });
  }
  for (let i = 0; i < cells.length; i += n) out.push({ controller, cells: cells.slice(i, i + n) });
  return out;
}

/**
 * The nexus's `interrupt-map` entries; [] when it has none. Entries are read as the specification
 * says (the parent unit address has the parent's #address-cells). Some real trees (Layerscape
 * extirq, IPQ8074 PCIe) write no parent unit address although the parent has #address-cells;
 * when the map only parses that way, it is read that way.
 */
export function interruptMap(tree: DeviceTree, nexus: DtNode): InterruptMapEntry[] {
  try {
    return readInterruptMap(tree, nexus, false);
  } catch (e) {
    if (!(e instanceof DtbError)) throw e;
    try {
      return readInterruptMap(tree, nexus, true);
    } catch {
      throw e;
    }
  }
}

function readInterruptMap(tree: DeviceTree, nexus: DtNode, noParentAddress: boolean): InterruptMapEntry[] {
  const map = nexus.property('interrupt-map');
  if (map === undefined) return [];
  const cells = map.cells();
  const childAc = tree.addressCells(nexus);
  const childIc = tree.interruptCells(nexus);
  const out: InterruptMapEntry[] = [];
  const take = (at: number, count: number, what: string): number[] => {
    if (at + count > cells.length) {
      throw new DtbError(`interrupt-map entry ${out.length} is cut short in its ${what} (cell ${at})`, { path: nexus.path });
    }
    return cells.slice(at, at + count);
  };
  for (let at = 0; at < cells.length;) {
    const childAddress = take(at, childAc, 'child unit address');
    at += childAc;
    const childInterrupt = take(at, childIc, 'child interrupt specifier');
    at += childIc;
    const parent = tree.requirePhandle(take(at, 1, 'interrupt parent')[0]!, `${nexus.path}:interrupt-map`);
    at += 1;
    // A parent without #address-cells contributes no unit-address cells (as Linux reads it).
    const parentAc = !noParentAddress && parent.has('#address-cells') ? tree.addressCells(parent) : 0;
    const parentAddress = take(at, parentAc, 'parent unit address');
    at += parentAc;
    const parentIc = tree.interruptCells(parent);
    const parentInterrupt = take(at, parentIc, 'parent interrupt specifier');
    at += parentIc;
    out.push({ childAddress, childInterrupt, parent, parentAddress, parentInterrupt });
  }
  return out;
}

/** Looks a child's (unit address, specifier) up in the nexus's interrupt-map after interrupt-map-mask. */
export function mapInterrupt(
  tree: DeviceTree, nexus: DtNode, childAddress: readonly number[], childInterrupt: readonly number[],
): InterruptSpec | undefined {
  const e = mapInterruptEntry(tree, nexus, childAddress, childInterrupt);
  return e === undefined ? undefined : { controller: e.parent, cells: e.parentInterrupt };
}

/** The interrupt-map entry matching a child's (unit address, specifier), or undefined. */
export function mapInterruptEntry(
  tree: DeviceTree, nexus: DtNode, childAddress: readonly number[], childInterrupt: readonly number[],
): InterruptMapEntry | undefined {
  const key = [...childAddress, ...childInterrupt];
  const mask = nexus.cells('interrupt-map-mask') ?? key.map(() => 0xffffffff);
  if (mask.length !== key.length) {
    throw new DtbError(`interrupt-map-mask has ${mask.length} cells, expected ${key.length}`, { path: nexus.path });
  }
  const masked = key.map((c, i) => (c & mask[i]!) >>> 0);
  for (const e of interruptMap(tree, nexus)) {
    const entryKey = [...e.childAddress, ...e.childInterrupt];
    if (entryKey.length === masked.length && entryKey.every((c, i) => c === masked[i])) return e;
  }
  return undefined;
}

/**
 * Follows an interrupt of `node` through interrupt-map nexuses (buses such as Arm's motherboard
 * bus, PCI hosts) to the interrupt controller that finally receives it, as Linux's
 * of_irq_parse_raw does: the child unit address is the start of the node's `reg`, then each
 * map entry's parent unit address. DtbError when a nexus has no matching entry.
 */
export function resolveInterrupt(tree: DeviceTree, node: DtNode, spec: InterruptSpec): InterruptSpec {
  let current = spec;
  let address: readonly number[] = node.property('reg')?.cells() ?? [];
  const seen = new Set<DtNode>();
  while (!current.controller.has('interrupt-controller') && current.controller.has('interrupt-map')) {
    const nexus = current.controller;
    if (seen.has(nexus)) throw new DtbError(`interrupt-map loops back to ${nexus.path}`, { path: node.path });
    seen.add(nexus);
    const ac = tree.addressCells(nexus);
    const childAddress = Array.from({ length: ac }, (_, i) => address[i] ?? 0);
    const entry = mapInterruptEntry(tree, nexus, childAddress, current.cells);
    if (entry === undefined) {
      throw new DtbError(`no interrupt-map entry of ${nexus.path} matches <${[...childAddress, ...current.cells].join(' ')}>`, { path: node.path });
    }
    current = { controller: entry.parent, cells: entry.parentInterrupt };
    address = entry.parentAddress;
  }
  return current;
}
