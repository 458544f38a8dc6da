import { HvisorError } from '../src/util/hvisor-error.js';
/** A board parameter (cpus, memory, GIC version) that the board cannot be built with. */
export class BoardParameterError extends HvisorError {
  constructor(
    readonly board: string,
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`board ${board}: ${parameter} ${reason}`);
  }
}

/** A DTB made for another machine: its root compatible names none of the SoCs the board models. */
export class BoardDtbMismatchError extends HvisorError {
  constructor(
    readonly board: string,
    readonly dtbCompatible: readonly string[],
    readonly boardCompatible: readonly string[],
  ) {
    const dtb = dtbCompatible.length === 0 ? 'no compatible' : `compatible "${dtbCompatible.join('", "')}"`;
    super(`board ${board} models ${boardCompatible.join(', ')}, but the DTB's root (/) has ${dtb}: pick its board (hvisor board list) or --force to use it anyway`);
  }
}

/** A board name not in boards/index.ts. */
export class UnknownBoardError extends HvisorError {
  constructor(
    readonly board: string,
    readonly known: readonly string[],
  ) {
    super(`unknown board "${board}" (known: ${known.join(', ')})`);
  }
}

/** A board that has no built-in device tree was asked for one without `--dtb`. */
export class BoardNeedsDtbError extends HvisorError {
  constructor(
    readonly board: string,
    readonly hint: string,
  ) {
    super(`board ${board} has no generated device tree: give its DTB with --dtb (${hint})`);
  }
}
