/** A board parameter (cpus, memory, GIC version) that the board cannot be built with. */
export class BoardParameterError extends Error {
  constructor(
    readonly board: string,
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`board ${board}: ${parameter} ${reason}`);
  }
}

/** A board name not in boards/index.ts. */
export class UnknownBoardError extends Error {
  constructor(
    readonly board: string,
    readonly known: readonly string[],
  ) {
    super(`unknown board "${board}" (known: ${known.join(', ')})`);
  }
}

/** A board that has no built-in device tree was asked for one without `--dtb`. */
export class BoardNeedsDtbError extends Error {
  constructor(
    readonly board: string,
    readonly hint: string,
  ) {
    super(`board ${board} has no generated device tree: give its DTB with --dtb (${hint})`);
  }
}
