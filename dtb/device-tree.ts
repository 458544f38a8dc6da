/**
 * A whole device tree: the root node, the memory reservations and the boot CPU, with lookups by
 * path, alias and phandle, and the typed accessors of addresses.ts, interrupts.ts and chosen.ts.
 */
import { cpuReg, ranges, readReg, translateAddress, type RangeEntry, type RegEntry } from './addresses.js';
import { aliases, chosen, type Chosen } from './chosen.js';
import { DtbError } from './errors.js';
import {
  interruptMap, interruptParent, interrupts, mapInterrupt, resolveInterrupt, type InterruptMapEntry, type InterruptSpec,
} from './interrupts.js';
import { DtNode, treeEditCount } from './node.js';

export interface MemoryReservation {
  readonly address: bigint;
  readonly size: bigint;
}

export class DeviceTree {
  private phandleIndex: Map<number, DtNode> | undefined;
  private indexedAt = -1;

  constructor(
    readonly root: DtNode = new DtNode(''),
    /** The /memreserve/ entries, in blob order. */
    public memoryReservations: MemoryReservation[] = [],
    /** boot_cpuid_phys from the header. */
    public bootCpuId = 0,
  ) {}

  /** Every node, depth first in blob order. */
  nodes(): Generator<DtNode> {
    return this.root.walk();
  }

  /**
   * The node at `path`: absolute (`/soc/serial@1000`, unit addresses optional where unique) or
   * starting with an alias (`serial0`, `serial0/child`). Undefined if there is none.
   */
  node(path: string): DtNode | undefined {
    let start: DtNode | undefined = this.root;
    let rest = path;
    if (!path.startsWith('/')) {
      const slash = path.indexOf('/');
      const alias = slash < 0 ? path : path.slice(0, slash);
      const target = aliases(this).get(alias);
      if (target === undefined || !target.startsWith('/')) return undefined;
      start = this.node(target);
      rest = slash < 0 ? '' : path.slice(slash);
    }
    for (const part of rest.split('/')) {
      if (part === '' || start === undefined) continue;
      start = start.child(part);
    }
    return start;
  }

  /** Like `node`, but a DtbError naming the path when it is missing. */
  requireNode(path: string): DtNode {
    const n = this.node(path);
    if (n === undefined) throw new DtbError('no such node', { path });
    return n;
  }

  /** Nodes whose `compatible` lists `compatible`, in blob order. */
  compatibleNodes(compatible: string): DtNode[] {
    return [...this.nodes()].filter((n) => n.isCompatible(compatible));
  }

  /** The node's phandle (`phandle`, or the legacy `linux,phandle`), or undefined. */
  phandleOf(node: DtNode): number | undefined {
    return (node.property('phandle') ?? node.property('linux,phandle'))?.u32();
  }

  /** The node a phandle refers to, or undefined (0 and 0xffffffff are never valid). */
  nodeByPhandle(phandle: number): DtNode | undefined {
    return this.phandles().get(phandle);
  }

  /** The node a phandle refers to; a DtbError naming `from` (path and property) when dangling. */
  requirePhandle(phandle: number, from: string): DtNode {
    const n = this.nodeByPhandle(phandle);
    if (n === undefined) throw new DtbError(`phandle 0x${phandle.toString(16)} refers to no node`, { path: from });
    return n;
  }

  /** The node's phandle, giving it a fresh one (max + 1) if it has none. */
  ensurePhandle(node: DtNode): number {
    const existing = this.phandleOf(node);
    if (existing !== undefined) return existing;
    let next = 1;
    for (const p of this.phandles().keys()) next = Math.max(next, p + 1);
    node.setProperty('phandle', [next]);
    return next;
  }

  /** phandle → node; DtbError on a duplicate or malformed phandle. Cached until the next edit. */
  phandles(): ReadonlyMap<number, DtNode> {
    if (this.phandleIndex !== undefined && this.indexedAt === treeEditCount()) return this.phandleIndex;
    const index = new Map<number, DtNode>();
    for (const n of this.nodes()) {
      for (const name of ['phandle', 'linux,phandle']) {
        const p = n.property(name);
        if (p === undefined) continue;
        if (p.length !== 4) throw new DtbError(`${name} has ${p.length} bytes, expected 4`, { path: n.path });
        const value = p.u32();
        if (value === 0 || value === 0xffffffff) throw new DtbError(`invalid ${name} 0x${value.toString(16)}`, { path: n.path });
        const other = index.get(value);
        if (other !== undefined && other !== n) {
          throw new DtbError(`phandle 0x${value.toString(16)} is also used by ${other.path}`, { path: n.path });
        }
        index.set(value, n);
      }
    }
    this.phandleIndex = index;
    this.indexedAt = treeEditCount();
    return index;
  }

  /** /aliases as alias → path (values that are not paths are kept as written). */
  aliases(): Map<string, string> {
    return aliases(this);
  }

  /** /chosen: bootargs, stdout-path (resolved), initrd range. */
  chosen(): Chosen {
    return chosen(this);
  }

  /** `#address-cells` of a node (for its children): default 2 as the specification says. */
  addressCells(node: DtNode): number {
    return cellCount(node, '#address-cells', 2);
  }

  /** `#size-cells` of a node (for its children): default 1. */
  sizeCells(node: DtNode): number {
    return cellCount(node, '#size-cells', 1);
  }

  /** `reg` in the parent bus's address space. */
  reg(node: DtNode): RegEntry[] {
    return readReg(this, node);
  }

  /**
   * `reg` translated through every `ranges` above it to CPU-physical addresses; undefined when
   * the node's bus is not memory-mapped (I2C, SPI, /cpus, a bus without `ranges`).
   */
  cpuReg(node: DtNode): RegEntry[] | undefined {
    return cpuReg(this, node);
  }

  /** The bus node's `ranges` entries (empty `ranges` = identity = []). Undefined if absent. */
  ranges(bus: DtNode): RangeEntry[] | undefined {
    return ranges(this, bus);
  }

  /** A child address (cells in `bus`'s #address-cells) translated to CPU-physical; undefined if unmapped. */
  translate(bus: DtNode, childAddress: readonly number[]): bigint | undefined {
    return translateAddress(this, bus, childAddress);
  }

  /** The interrupt parent (explicit, inherited, or the nearest ancestor with #interrupt-cells). */
  interruptParent(node: DtNode): DtNode | undefined {
    return interruptParent(this, node);
  }

  /** `#interrupt-cells` of a controller or nexus; DtbError if absent. */
  interruptCells(controller: DtNode): number {
    const n = controller.property('#interrupt-cells');
    if (n === undefined) throw new DtbError('missing #interrupt-cells', { path: controller.path });
    return boundedCells(n.u32(), controller, '#interrupt-cells');
  }

  /** The node's interrupts from `interrupts-extended` or `interrupts`, each with its controller. */
  interrupts(node: DtNode): InterruptSpec[] {
    return interrupts(this, node);
  }

  /** A nexus node's `interrupt-map` entries (PCI host bridges). */
  interruptMap(nexus: DtNode): InterruptMapEntry[] {
    return interruptMap(this, nexus);
  }

  /** Maps a child's (unit address, interrupt specifier) through a nexus's masked interrupt-map. */
  mapInterrupt(nexus: DtNode, childAddress: readonly number[], childInterrupt: readonly number[]): InterruptSpec | undefined {
    return mapInterrupt(this, nexus, childAddress, childInterrupt);
  }

  /** The node's interrupts followed through interrupt-map nexuses to the controllers that receive them. */
  resolvedInterrupts(node: DtNode): InterruptSpec[] {
    return interrupts(this, node).map((spec) => resolveInterrupt(this, node, spec));
  }

  /** A deep copy. */
  clone(): DeviceTree {
    return new DeviceTree(this.root.clone(), this.memoryReservations.map((r) => ({ ...r })), this.bootCpuId);
  }
}

/** Cell counts larger than this are certainly corrupt (the real maximum in use is 3 or 4). */
const MAX_CELLS = 16;

function boundedCells(value: number, node: DtNode, name: string): number {
  if (value > MAX_CELLS) throw new DtbError(`${name} = ${value} is implausible`, { path: node.path });
  return value;
}

function cellCount(node: DtNode, name: string, fallback: number): number {
  const p = node.property(name);
  if (p === undefined) return fallback;
  if (p.length !== 4) throw new DtbError(`${name} has ${p.length} bytes, expected 4`, { path: node.path });
  return boundedCells(p.u32(), node, name);
}
