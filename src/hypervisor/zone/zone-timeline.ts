/**
 * A zone's history of outside input as record/replay (src/hypervisor/replay/) keeps it. Outside input
 * lands only between slices, and a zone with a timeline cuts its slices by instructions alone (never
 * by the host clock), so a replay meets every boundary the recording had, at the same count.
 */
export interface ZoneTimeline {
  /** A slice boundary at instruction `count`: a replay delivers the events recorded here. */
  atBoundary(count: number): void;
  /** A replay has an event due at `count`: the zone must not let time jump past it while idle. */
  due(count: number): boolean;
  /** Every vCPU waits with no deadline at `count` and nothing is due: a replay cannot go on from here. */
  stuck(count: number): void;
  /** The replay has run its history to the end (or diverged): the zone runs no further. */
  readonly ended: boolean;
}
