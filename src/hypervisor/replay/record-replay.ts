import { mkdirSync } from 'node:fs';
import type { OutsideInputs } from '../../devices/outside-input.js';
import type { Zone } from '../zone/zone.js';
import { readZoneLog, ReplayLogError, type ControlCommand, type ControlEvent } from './replay-log.js';
import { HvisorError } from '../../util/hvisor-error.js';
import { ZoneRecorder } from './zone-recorder.js';
import { ZoneReplayer, type ZoneReplayEnd } from './zone-replayer.js';
import type { ReplayDivergence } from './replay-divergence.js';

export type RecordReplayMode = 'record' | 'replay';

/** How a replay ended: every zone reached its recorded end with everything equal, or the first divergence. */
export type ReplayOutcome =
  | { readonly ok: true; readonly zones: readonly { readonly zone: number; readonly events: number; readonly instructions: number; readonly output: number }[] }
  | { readonly ok: false; readonly divergence: ReplayDivergence };

/**
 * `hvisor run --record DIR` / `--replay DIR` for a whole run: one ZoneRecorder or ZoneReplayer per
 * zone, attached as the zone starts. The sources of outside input reach it through `inputs(zone)`
 * (OutsideInputs: models never see zones), host values through `value`, console bytes through `output`.
 */
export class RecordReplay {
  private readonly recorders = new Map<number, ZoneRecorder>();
  private readonly replayers = new Map<number, ZoneReplayer>();
  private readonly zones = new Map<number, Zone>();
  /** Per zone, each source's way into its model (registered before or after the zone starts). */
  private readonly sources = new Map<number, Map<string, (data: Uint8Array) => void>>();
  private settle: ((outcome: ReplayOutcome) => void) | undefined;
  /** A replay carries out the recorded lifecycle commands through this (the hypervisor's own). */
  lifecycle: ((zone: number, event: ControlEvent) => void) | undefined;
  /** Zones re-executing (reverse debugging): what they write and read was recorded the first time. */
  private readonly rerunning = new Set<number>();
  /**
   * Replay: settles once every zone reached its end (each runs on live from there: a debugger can
   * take it on), or at the first divergence (the zones stop where they are).
   */
  readonly outcome: Promise<ReplayOutcome>;

  constructor(
    readonly mode: RecordReplayMode,
    readonly dir: string,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    if (mode === 'record') mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** A zone starts: its log is opened (record) or read and checked (replay; a bad log throws ReplayLogError). */
  attach(zone: Zone): void {
    this.zones.set(zone.id, zone);
    if (this.mode === 'record') {
      const recorder = new ZoneRecorder(zone, this.dir);
      this.recorders.set(zone.id, recorder);
      zone.timeline = recorder;
      return;
    }
    const log = readZoneLog(this.dir, zone.id);
    if (log.events.at(-1)?.kind !== 'end') throw new ReplayLogError(`${this.dir}: zone ${zone.id}'s log has no end (the recording was cut short)`);
    const replayer = new ZoneReplayer(zone, log, this.sourcesOf(zone.id), (end) => this.zoneEnded(end), (e) => this.lifecycle?.(zone.id, e));
    this.replayers.set(zone.id, replayer);
    zone.timeline = replayer;
  }

  /**
   * A lifecycle command from the control channel is about to take effect: a recording notes it in
   * the zone's log (`start`: in the root zone's, which a replay follows to start it); a replay
   * refuses it (its zones' lifecycle comes from the log).
   */
  control(command: ControlCommand, zone: number, file?: string): void {
    if (this.mode === 'replay') throw new HvisorError(`this run replays ${this.dir}: its zones start, stop and restart as the recording did`);
    this.recorders.get(command === 'start' ? 0 : zone)?.control(command, file);
    this.zones.get(command === 'start' ? 0 : zone)?.history?.outsideInput();
  }

  /** The zone's outside input sources, for the models and endpoints that feed it. */
  inputs(zone: number): OutsideInputs {
    return {
      channel: (name, deliver) => {
        this.sourcesOf(zone).set(name, deliver);
        return (data) => {
          const recorder = this.recorders.get(zone);
          recorder?.input(name, data);
          // A replay delivers the log's input, never live input (until it is over).
          if (this.replayers.get(zone)?.done !== false) {
            // Reverse execution cannot bring live input again: its history starts after it.
            this.zones.get(zone)?.history?.outsideInput();
            deliver(data);
          }
        };
      },
    };
  }

  private sourcesOf(zone: number): Map<string, (data: Uint8Array) => void> {
    let m = this.sources.get(zone);
    if (m === undefined) this.sources.set(zone, (m = new Map()));
    return m;
  }

  /** A host value read during an instruction of whichever zone is running (`read` gives the live one). */
  value(source: string, read: () => bigint): bigint {
    const zone = [...this.zones.values()].find((z) => z.accessingVcpu !== undefined);
    if (zone === undefined) return read();
    const replayer = this.replayers.get(zone.id);
    if (replayer?.done === false) return replayer.value(source, zone.instructionCount, read);
    // A live value: reverse execution cannot read it again (its history starts after it).
    zone.history?.outsideInput();
    const recorder = this.recorders.get(zone.id);
    if (recorder !== undefined && !this.rerunning.has(zone.id)) return recorder.value(source, read);
    return read();
  }

  /** Zone `zone` re-executes (on) or runs on (off): its console bytes and host reads are not recorded again. */
  quiet(zone: number, on: boolean): void {
    if (on) this.rerunning.add(zone);
    else this.rerunning.delete(zone);
  }

  /** Console bytes a zone wrote. */
  output(zone: number, bytes: Uint8Array): void {
    if (!this.rerunning.has(zone)) this.recorders.get(zone)?.output(bytes);
    this.replayers.get(zone)?.output(bytes);
  }

  /** A zone stopped or crashed on its own: a replay checks the recording ended there too. */
  zoneStopped(zone: Zone): void {
    this.replayers.get(zone.id)?.stopped(zone.instructionCount, zone.state === 'crashed' ? 'crashed' : 'stopped');
  }

  /** The run ends: each recording notes where its zone stopped. */
  close(): void {
    for (const r of this.recorders.values()) r.end();
  }

  private zoneEnded(end: ZoneReplayEnd): void {
    if (!end.ok) {
      this.settle?.({ ok: false, divergence: end.divergence });
      this.settle = undefined;
      for (const r of this.replayers.values()) r.abandon();
      return;
    }
    const results = [...this.replayers.entries()].map(([zone, r]) => ({ zone, result: r.result }));
    if (results.some((r) => r.result === undefined)) return;
    const zones = results.map(({ zone, result }) => {
      const { events, instructions, output } = result as Extract<ZoneReplayEnd, { ok: true }>;
      return { zone, events, instructions, output };
    });
    this.settle?.({ ok: true, zones });
    this.settle = undefined;
  }
}
