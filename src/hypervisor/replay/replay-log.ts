import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HvisorError } from '../../util/hvisor-error.js';
import { InputFileError, readInputFileSync } from '../../util/input-file.js';

/**
 * A recorded run, one folder: `run.json` (how the run was launched), and per zone `zoneN.events`
 * (JSON lines: a header, then every outside input in the order it landed, then the end) and
 * `zoneN.console` (the console bytes the zone wrote, which a replay must write again).
 */
export const LOG_FORMAT = 'hvisor-ts record 1';

/** Outside input that landed in a zone at instruction `at` (and virtual time `ticks`). */
export interface InputEvent {
  readonly kind: 'input';
  readonly index: number;
  /** The source's name in its zone: `console`, `virtio-console0`, `net0`, ... */
  readonly source: string;
  readonly at: number;
  readonly ticks: number;
  /** vCPU 0's pc there (a cheap check that the replay is where the recording was). */
  readonly pc: string;
  /** Console bytes the zone had written by then. */
  readonly output: number;
  readonly data: Uint8Array;
}

/**
 * A lifecycle command from the control channel (`hvisor zone shutdown|restart ID`, noted in that
 * zone's log; `hvisor zone start FILE`, noted in the root zone's) taking effect at instruction `at`.
 */
export interface ControlEvent {
  readonly kind: 'control';
  readonly index: number;
  readonly command: ControlCommand;
  /** `start`: the zone config file started. */
  readonly file?: string;
  readonly at: number;
  readonly ticks: number;
  readonly pc: string;
  readonly output: number;
}

export type ControlCommand = 'shutdown' | 'restart' | 'start';
const CONTROL_COMMANDS: readonly string[] = ['shutdown', 'restart', 'start'];

/** A host value a model read during an instruction (a wall clock): replayed, not read again. */
export interface ValueEvent {
  readonly kind: 'value';
  readonly index: number;
  readonly source: string;
  readonly at: number;
  readonly value: string;
}

/** Where the recording stopped. */
export interface EndEvent {
  readonly kind: 'end';
  readonly index: number;
  readonly at: number;
  readonly ticks: number;
  readonly output: number;
}

export type LoggedEvent = InputEvent | ValueEvent | ControlEvent | EndEvent;

export interface ZoneLog {
  readonly zone: number;
  readonly name: string;
  readonly events: readonly LoggedEvent[];
  readonly console: Uint8Array;
}

export class ReplayLogError extends HvisorError {}

export function eventsFile(dir: string, zone: number): string {
  return join(dir, `zone${zone}.events`);
}

export function consoleFile(dir: string, zone: number): string {
  return join(dir, `zone${zone}.console`);
}

/** Console bytes are written out in chunks of this size (and at every event and at the end). */
const CONSOLE_FLUSH_BYTES = 64 * 1024;

/** Appends one zone's log as it happens (synchronously: a run killed mid-way keeps what it had). */
export class ZoneLogWriter {
  private readonly events: number;
  private readonly console: number;
  private readonly pending = new Uint8Array(CONSOLE_FLUSH_BYTES);
  private pendingLength = 0;
  private written = 0;
  private nextIndex = 0;
  private closed = false;

  constructor(dir: string, zone: number, name: string) {
    this.events = openSync(eventsFile(dir, zone), 'w', 0o600);
    this.console = openSync(consoleFile(dir, zone), 'w', 0o600);
    this.line({ format: LOG_FORMAT, zone, name });
  }

  /** Console bytes written so far. */
  get outputLength(): number {
    return this.written + this.pendingLength;
  }

  output(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.pendingLength + bytes.length > this.pending.length) this.flushConsole();
    if (bytes.length > this.pending.length) {
      writeSync(this.console, bytes);
      this.written += bytes.length;
      return;
    }
    this.pending.set(bytes, this.pendingLength);
    this.pendingLength += bytes.length;
  }

  input(source: string, at: number, ticks: number, pc: bigint, data: Uint8Array): void {
    if (this.closed) return;
    this.flushConsole();
    this.line({ i: this.nextIndex++, in: source, at, t: ticks, pc: pc.toString(16), out: this.outputLength, data: Buffer.from(data).toString('base64') });
  }

  control(command: ControlCommand, file: string | undefined, at: number, ticks: number, pc: bigint): void {
    if (this.closed) return;
    this.flushConsole();
    this.line({ i: this.nextIndex++, control: command, ...(file !== undefined && { file }), at, t: ticks, pc: pc.toString(16), out: this.outputLength });
  }

  value(source: string, at: number, value: bigint): void {
    if (this.closed) return;
    this.line({ i: this.nextIndex++, value: source, at, v: value.toString() });
  }

  end(at: number, ticks: number): void {
    if (this.closed) return;
    this.flushConsole();
    this.line({ i: this.nextIndex++, end: true, at, t: ticks, out: this.outputLength });
    this.closed = true;
    closeSync(this.events);
    closeSync(this.console);
  }

  private flushConsole(): void {
    if (this.pendingLength === 0) return;
    writeSync(this.console, this.pending, 0, this.pendingLength);
    this.written += this.pendingLength;
    this.pendingLength = 0;
  }

  private line(record: object): void {
    writeSync(this.events, JSON.stringify(record) + '\n');
  }
}

/** A log is read whole; this bounds what a replay holds. */
const MAX_LOG_BYTES = 1 << 30;

/** Reads and checks one zone's log; a bad file is a one-line error naming file and line. */
export function readZoneLog(dir: string, zone: number): ZoneLog {
  const file = eventsFile(dir, zone);
  const text = new TextDecoder().decode(read(file, `zone ${zone}'s event log`));
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (n: number, why: string): never => {
    throw new ReplayLogError(`${file}:${n + 1}: ${why}`);
  };
  const parse = (n: number): Record<string, unknown> => {
    try {
      const v: unknown = JSON.parse(lines[n]!);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    return bad(n, 'not a JSON object');
  };
  if (lines.length === 0) bad(0, 'empty (no header)');
  const header = parse(0);
  if (header['format'] !== LOG_FORMAT) bad(0, `not a ${LOG_FORMAT} log (format ${JSON.stringify(header['format'])})`);
  if (header['zone'] !== zone) bad(0, `the log of zone ${JSON.stringify(header['zone'])}, not of zone ${zone}`);
  const count = (n: number, r: Record<string, unknown>, key: string): number => {
    const v = r[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : bad(n, `"${key}": a whole number from 0 up, got ${JSON.stringify(v)}`);
  };
  const string = (n: number, r: Record<string, unknown>, key: string, pattern: RegExp): string => {
    const v = r[key];
    return typeof v === 'string' && pattern.test(v) ? v : bad(n, `"${key}": expected ${pattern}, got ${JSON.stringify(v)}`);
  };
  const events: LoggedEvent[] = [];
  let lastAt = 0;
  for (let n = 1; n < lines.length; n++) {
    const r = parse(n);
    const index = count(n, r, 'i');
    if (index !== events.length) bad(n, `event ${index} where event ${events.length} was expected`);
    if (events.at(-1)?.kind === 'end') bad(n, 'an event after the end');
    const at = count(n, r, 'at');
    if (at < lastAt) bad(n, `event ${index} at instruction ${at}, before the previous event's ${lastAt}`);
    lastAt = at;
    if (typeof r['in'] === 'string') {
      const data = string(n, r, 'data', /^[A-Za-z0-9+/]*={0,2}$/);
      events.push({ kind: 'input', index, source: r['in'], at, ticks: count(n, r, 't'), pc: string(n, r, 'pc', /^[0-9a-f]{1,16}$/), output: count(n, r, 'out'), data: Uint8Array.from(Buffer.from(data, 'base64')) });
    } else if (typeof r['value'] === 'string') {
      events.push({ kind: 'value', index, source: r['value'], at, value: string(n, r, 'v', /^\d{1,20}$/) });
    } else if (typeof r['control'] === 'string') {
      const command = r['control'];
      if (!CONTROL_COMMANDS.includes(command)) bad(n, `"control": ${CONTROL_COMMANDS.join(', ')}, got ${JSON.stringify(command)}`);
      const file = r['file'];
      if (command === 'start' && typeof file !== 'string') bad(n, '"file": the zone config a start names, as a string');
      events.push({ kind: 'control', index, command: command as ControlCommand, ...(typeof file === 'string' && { file }), at, ticks: count(n, r, 't'), pc: string(n, r, 'pc', /^[0-9a-f]{1,16}$/), output: count(n, r, 'out') });
    } else if (r['end'] === true) {
      events.push({ kind: 'end', index, at, ticks: count(n, r, 't'), output: count(n, r, 'out') });
    } else bad(n, 'neither an input ("in"), a value ("value"), a lifecycle command ("control") nor the end ("end")');
  }
  return { zone, name: typeof header['name'] === 'string' ? header['name'] : `zone${zone}`, events, console: read(consoleFile(dir, zone), `zone ${zone}'s console log`) };
}

function read(file: string, what: string): Uint8Array {
  try {
    return readInputFileSync(file, { what, maxBytes: MAX_LOG_BYTES });
  } catch (e) {
    if (e instanceof InputFileError) throw new ReplayLogError(e.message);
    throw e;
  }
}
