import type { ZoneTimeline } from '../zone/zone-timeline.js';
import type { RecordedZone } from './recorded-zone.js';
import { ZoneLogWriter, type ControlCommand } from './replay-log.js';

/**
 * Records one zone: each outside input at the instruction count and virtual time it lands, host
 * values read during instructions, the console bytes the zone writes, and where the run ended. As
 * the zone's timeline it only makes the zone cut its slices by instructions (see ZoneTimeline).
 */
export class ZoneRecorder implements ZoneTimeline {
  private readonly log: ZoneLogWriter;
  readonly ended = false;

  constructor(
    private readonly zone: RecordedZone,
    dir: string,
  ) {
    this.log = new ZoneLogWriter(dir, zone.id, zone.name);
  }

  atBoundary(): void {}

  due(): boolean {
    return false;
  }

  stuck(): void {}

  /** Input of source `name` lands now (its model gets it right after). */
  input(name: string, data: Uint8Array): void {
    // An idle stretch ends here, at the virtual time the log notes.
    this.zone.outsideInputLands();
    this.log.input(name, this.zone.instructionCount, this.zone.now(), this.zone.cpus[0]?.pc ?? 0n, data);
  }

  /** A lifecycle command takes effect now (between slices). */
  control(command: ControlCommand, file?: string): void {
    this.zone.outsideInputLands();
    this.log.control(command, file, this.zone.instructionCount, this.zone.now(), this.zone.cpus[0]?.pc ?? 0n);
  }

  value(source: string, read: () => bigint): bigint {
    const v = read();
    this.log.value(source, this.zone.instructionCount, v);
    return v;
  }

  output(bytes: Uint8Array): void {
    this.log.output(bytes);
  }

  /** The recording ends here (at a slice boundary: nothing runs while it is written). */
  end(): void {
    this.log.end(this.zone.instructionCount, this.zone.now());
  }
}
