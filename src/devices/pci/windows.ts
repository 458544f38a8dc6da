import { HvisorError } from '../../util/hvisor-error.js';
/** The three kinds of PCI address space a host bridge forwards (DT `ranges` space codes 1, 2, 3). */
export type PciSpace = 'io' | 'mem32' | 'mem64';

/** One CPU ↔ PCI window of a host bridge: CPU addresses [cpuBase, cpuBase+size) reach PCI [pciBase, ...). */
export interface PciWindow {
  readonly space: PciSpace;
  readonly cpuBase: number;
  readonly pciBase: number;
  readonly size: number;
  readonly prefetchable?: boolean;
}

export class PciRangesError extends HvisorError {}

/**
 * Decodes a PCI host bridge's DT `ranges` property (cells as u32): each entry is a 3-cell PCI
 * address (phys.hi carries the space code and prefetchable bit), a parent address of
 * `parentAddressCells` cells, and a size of `sizeCells` cells.
 */
export function parsePciRanges(cells: readonly number[], parentAddressCells: number, sizeCells = 2): PciWindow[] {
  const entry = 3 + parentAddressCells + sizeCells;
  if (parentAddressCells < 1 || parentAddressCells > 2 || sizeCells < 1 || sizeCells > 2) {
    throw new PciRangesError(`ranges: unsupported cell counts (parent #address-cells ${parentAddressCells}, #size-cells ${sizeCells})`);
  }
  if (cells.length % entry !== 0) {
    throw new PciRangesError(`ranges: ${cells.length} cells is not a multiple of the ${entry}-cell entry`);
  }
  const num = (from: number, n: number): number => (n === 2 ? cells[from]! * 0x1_0000_0000 + cells[from + 1]! : cells[from]!);
  const out: PciWindow[] = [];
  for (let i = 0; i < cells.length; i += entry) {
    const hi = cells[i]!;
    const code = (hi >>> 24) & 3;
    const space: PciSpace | undefined = code === 1 ? 'io' : code === 2 ? 'mem32' : code === 3 ? 'mem64' : undefined;
    if (space === undefined) throw new PciRangesError(`ranges entry ${i / entry}: space code ${code} is configuration space, not a window`);
    const size = num(i + 3 + parentAddressCells, sizeCells);
    if (size <= 0) throw new PciRangesError(`ranges entry ${i / entry}: empty window`);
    out.push({ space, pciBase: num(i + 1, 2), cpuBase: num(i + 3, parentAddressCells), size, prefetchable: (hi & 0x4000_0000) !== 0 });
  }
  return out;
}

export function windowContains(w: PciWindow, pciAddr: number, size: number): boolean {
  return pciAddr >= w.pciBase && pciAddr + size <= w.pciBase + w.size;
}

/** Whether a BAR of this kind may live in this window (64-bit BARs may sit in 32-bit windows, not the reverse). */
export function spaceAccepts(w: PciWindow, barIsIo: boolean): boolean {
  return barIsIo ? w.space === 'io' : w.space !== 'io';
}
