/**
 * The boards hvisor-ts knows. `hvisor board list` prints them in this order; each folder holds a
 * descriptor (arch, RAM, bindings, root zone) and, for the QEMU virt boards, a device-tree generator.
 */
import type { BoardDescriptor } from './board-descriptor.js';
import { UnknownBoardError } from './board-errors.js';
import { imx8mpEvk } from './imx8mp-evk/index.js';
import { ls3a5000With7a2000 } from './ls3a5000-7a2000/index.js';
import { qemuVirtAarch64, qemuVirtAarch64Gicv2 } from './qemu-virt-aarch64/index.js';
import { qemuVirtRiscv64, qemuVirtRiscv64Aia } from './qemu-virt-riscv64/index.js';
import { zcu102 } from './zcu102/index.js';

export const boards: readonly BoardDescriptor[] = [
  qemuVirtAarch64,
  qemuVirtAarch64Gicv2,
  qemuVirtRiscv64,
  qemuVirtRiscv64Aia,
  imx8mpEvk,
  zcu102,
  ls3a5000With7a2000,
];

/** The board called `name`; UnknownBoardError listing the known names otherwise. */
export function findBoard(name: string): BoardDescriptor {
  const board = boards.find((b) => b.name === name);
  if (board === undefined) throw new UnknownBoardError(name, boards.map((b) => b.name));
  return board;
}

export type { BoardDescriptor, BoardParams, BoardBinding, RamRange } from './board-descriptor.js';
export { BoardParameterError, UnknownBoardError, BoardNeedsDtbError } from './board-errors.js';
export type { ZoneConfigJson } from './zone-config-json.js';
