import { HvisorError } from '../../util/hvisor-error.js';

/** The first place a replay departs from its recording: zone, event, what was expected and what came. */
export class ReplayDivergence extends HvisorError {
  constructor(
    readonly zone: number,
    /** The log's event the replay had reached: the next one not yet delivered. */
    readonly event: number,
    readonly expected: string,
    readonly got: string,
    /** The last event delivered (what it was and where), when there was one. */
    after?: string,
  ) {
    super(`replay diverged in zone ${zone} at event ${event}${after !== undefined ? ` (after event ${event - 1}: ${after})` : ''}: expected ${expected}, got ${got}`);
  }
}
