import { HvisorError } from '../../util/hvisor-error.js';

/** A lifecycle request that cannot be done: says why, with the errno hvisor would return. */
export class LifecycleError extends HvisorError {
  constructor(errno: number, message: string) {
    super(message, errno);
  }
}
