/**
 * The boards hvisor-ts knows. `hvisor board list` prints them in this order; each folder holds a
 * descriptor (arch, RAM, bindings, root zone) and, for the QEMU virt boards, a device-tree generator.
 */
import { boardMatches, type BoardDescriptor } from './board-descriptor.js';
import { UnknownBoardError } from './board-errors.js';
import { imx8mpEvk } from './imx8mp-evk/index.js';
import { ls3a5000With7a2000 } from './ls3a5000-7a2000/index.js';
import { qemuVirtAarch64, qemuVirtAarch64Gicv2 } from './qemu-virt-aarch64/index.js';
import { qemuVirtRiscv64, qemuVirtRiscv64Aia } from './qemu-virt-riscv64/index.js';
import { rk3568 } from './rk3568/index.js';
import { rk3588 } from './rk3588/index.js';
import { zcu102 } from './zcu102/index.js';

export const boards: readonly BoardDescriptor[] = [
  qemuVirtAarch64,
  qemuVirtAarch64Gicv2,
  qemuVirtRiscv64,
  qemuVirtRiscv64Aia,
  imx8mpEvk,
  zcu102,
  rk3568,
  rk3588,
  ls3a5000With7a2000,
];

/**
 * The board that models a DTB, by its root `compatible`; where several do (the GICv2 and GICv3
 * variants of QEMU virt), the one whose interrupt-controller binding the tree has.
 */
export function boardForDtb(rootCompatible: readonly string[], nodeCompatibles: ReadonlySet<string>): BoardDescriptor | undefined {
  const candidates = boards.filter((b) => boardMatches(b, rootCompatible));
  const hasController = (b: BoardDescriptor) => b.bindings.some((x) => x.role === 'interrupt-controller' && nodeCompatibles.has(x.compatible) && !x.compatible.includes('its') && !x.compatible.includes('v2m'));
  return candidates.find(hasController) ?? candidates[0];
}

/**
 * A stand-in for a DTB whose SoC no board models (`hvisor board show --dtb` on any of the 577 DTBs
 * Debian ships): memory, CPUs and devices as read, generic models bound by compatible, no root zone.
 */
export function unmodelledBoard(arch: BoardDescriptor['arch'], rootCompatible: readonly string[]): BoardDescriptor {
  const soc = rootCompatible.at(-1) ?? 'a DTB without a root compatible';
  return {
    name: 'unmodelled',
    title: `no board models ${soc} (the DTB as read; only generic device models bind)`,
    arch,
    rootCompatible,
    hvisorPlatform: 'none',
    defaults: { cpus: 0, memoryBytes: 0 },
    bindings: [],
    exampleZones: [],
  };
}

/** The board called `name`; UnknownBoardError listing the known names otherwise. */
export function findBoard(name: string): BoardDescriptor {
  const board = boards.find((b) => b.name === name);
  if (board === undefined) throw new UnknownBoardError(name, boards.map((b) => b.name));
  return board;
}

export type { BoardDescriptor, BoardParams, BoardBinding, RamRange } from './board-descriptor.js';
export { boardMatches } from './board-descriptor.js';
export { BoardParameterError, UnknownBoardError, BoardNeedsDtbError, BoardDtbMismatchError } from './board-errors.js';
export type { ZoneConfigJson } from './zone-config-json.js';
