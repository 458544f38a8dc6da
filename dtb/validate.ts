/**
 * Whole-tree consistency checks beyond the blob structure: phandles unique and resolvable,
 * interrupt-parent chains acyclic, `reg`, `ranges`, `interrupts` and `interrupt-map` matching
 * their cell counts, every interrupt reaching a controller through any interrupt-map nexus. The reader does not run these (dtc prints such trees too); boards do.
 */
import { regCells } from './addresses.js';
import type { DeviceTree } from './device-tree.js';
import { DtbError } from './errors.js';

/** Every problem found, in tree order; [] for a consistent tree. */
export function validateTree(tree: DeviceTree): DtbError[] {
  const problems: DtbError[] = [];
  const attempt = (check: () => unknown): void => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof DtbError)) throw e;
      problems.push(e);
    }
  };
  attempt(() => tree.phandles());
  if (problems.length > 0) return problems;
  for (const node of tree.nodes()) {
    // Cell counts only: PCI and other 3-cell addresses are valid but are not plain numbers.
    if (node.has('reg')) attempt(() => regCells(tree, node));
    if (node.has('ranges') && node.parent !== undefined) attempt(() => tree.ranges(node));
    if (node.has('interrupt-parent')) attempt(() => tree.interruptParent(node));
    if (node.has('interrupts') || node.has('interrupts-extended')) attempt(() => tree.resolvedInterrupts(node));
    if (node.has('interrupt-map')) attempt(() => tree.interruptMap(node));
  }
  return problems;
}

/** Throws the first problem validateTree finds. */
export function assertValidTree(tree: DeviceTree): void {
  const [first] = validateTree(tree);
  if (first !== undefined) throw first;
}
