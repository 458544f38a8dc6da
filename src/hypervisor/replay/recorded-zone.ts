import type { Zone } from '../zone/zone.js';

/** What record/replay uses of a zone. */
export type RecordedZone = Pick<Zone, 'id' | 'name' | 'instructionCount' | 'now' | 'cpus' | 'warpTime' | 'outsideInputLands'>;

/** vCPU 0's pc, as logs spell it. */
export function pcOf(zone: RecordedZone): string {
  return (zone.cpus[0]?.pc ?? 0n).toString(16);
}
