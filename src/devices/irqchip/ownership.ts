import { HvisorError } from '../../util/hvisor-error.js';
/** Raised when a zone wires or raises an interrupt its controller model does not own. */
export class InterruptNotOwnedError extends HvisorError {
  constructor(
    readonly controller: string,
    readonly interrupt: number,
  ) {
    super(`${controller}: interrupt ${interrupt} is not assigned to this zone`);
  }
}

/** Raised for controller options that cannot describe a real controller (names the option). */
export class InterruptControllerConfigError extends HvisorError {
  constructor(
    readonly controller: string,
    readonly reason: string,
  ) {
    super(`${controller}: ${reason}`);
  }
}
