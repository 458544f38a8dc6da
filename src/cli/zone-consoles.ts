import chalk, { type ChalkInstance } from 'chalk';
import { BufferedCharBackend, type CharBackend } from '../devices/uart/char-backend.js';
import { BoundedOutput } from './bounded-output.js';
import { printable } from '../util/printable.js';
import { directInputs, type OutsideInputs } from '../devices/outside-input.js';

/** The pseudo-zone id of the hypervisor's own messages. */
const HYPERVISOR = -2;

/** Writes held before `release()` (the banner takes milliseconds; a guest could write millions). */
const MAX_HELD_WRITES = 10_000;

const palette: readonly ChalkInstance[] = [chalk.cyan, chalk.magenta, chalk.yellow, chalk.green, chalk.blue, chalk.red];

/**
 * Every zone's console on one terminal: output is cut into lines, each prefixed with the zone's
 * name in the zone's colour, so interleaved zones stay readable. UARTs belong to whichever zone
 * maps them (decided after the board is built), so a UART's backend looks its owner up when it
 * writes. Keyboard input goes to one zone's UART (zone0's by default).
 */
export class ZoneConsoles {
  private readonly names = new Map<number, string>();
  /** The zone whose line is on screen without its newline yet. */
  private openLine: number | undefined;
  private readonly uartOwner = new Map<string, number>();
  private readonly uarts = new Map<string, BufferedCharBackend>();
  private readonly decoder = new TextDecoder();

  /** Each zone's outside input sources (record/replay sits behind them). */
  inputs: (zone: number) => OutsideInputs = () => directInputs;
  /** Sees every zone's console bytes as they come (record/replay). */
  tap: ((zone: number, bytes: Uint8Array) => void) | undefined;
  /** Zones re-executing (reverse debugging): their console bytes were shown the first time (still tapped). */
  readonly quiet = new Set<number>();
  private readonly typers = new Map<string, (data: Uint8Array) => void>();

  /** Output waiting for `release()` (while a banner is printed, say); undefined once flowing. */
  private held: string[] | undefined;

  constructor(
    /** Where the text goes; stdout by default, dropping what a slow reader leaves behind. */
    private readonly sink: (text: string) => void = new BoundedOutput().write,
    hold = false,
  ) {
    if (hold) this.held = [];
  }

  /** Lets held output through, in order, and everything after it. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const text of held) this.sink(text);
  }

  private out(text: string): void {
    if (this.held === undefined) this.sink(text);
    else if (this.held.length < MAX_HELD_WRITES) this.held.push(text);
  }

  nameZone(id: number, name: string): void {
    this.names.set(id, name);
  }

  /** The UART at `path` belongs to zone `id` (its io region maps the UART's window). */
  assignUart(path: string, id: number): void {
    this.uartOwner.set(path, id);
    const backend = this.uart(path);
    this.typers.set(path, this.inputs(id).channel(`uart ${path}`, (data) => backend.push(data)));
  }

  /** The backend the board gives the UART at `path`. */
  uart(path: string): BufferedCharBackend {
    let backend = this.uarts.get(path);
    if (backend === undefined) {
      const bytes = new Uint8Array(1);
      backend = new BufferedCharBackend((b) => {
        bytes[0] = b;
        this.write(this.uartOwner.get(path), bytes);
      });
      this.uarts.set(path, backend);
    }
    return backend;
  }

  /** Keyboard input for zone `id`: to the first UART it owns. Returns false when it has none. */
  type(id: number, data: Uint8Array): boolean {
    for (const [path, owner] of this.uartOwner) {
      if (owner === id) {
        this.typers.get(path)?.(data);
        return true;
      }
    }
    return false;
  }

  /**
   * Console bytes of a zone (undefined: a UART no zone owns), shown as they come (a prompt with no
   * newline appears at once). A line another zone interrupts is ended and resumed under its prefix.
   */
  write(id: number | undefined, bytes: Uint8Array): void {
    if (id !== undefined && id >= 0) this.tap?.(id, bytes);
    if (id !== undefined && this.quiet.has(id)) return;
    const key = id ?? -1;
    let text = this.decoder.decode(bytes, { stream: true }).replace(/\r(?=\n)/g, '');
    if (text === '') return;
    let out = '';
    if (this.openLine !== undefined && this.openLine !== key) {
      out += '\n';
      this.openLine = undefined;
    }
    while (text !== '') {
      if (this.openLine === undefined) {
        out += this.prefix(id);
        this.openLine = key;
      }
      const nl = text.indexOf('\n');
      if (nl < 0) {
        out += text;
        break;
      }
      out += text.slice(0, nl + 1);
      text = text.slice(nl + 1);
      this.openLine = undefined;
    }
    this.out(out);
  }

  /** A message of the hypervisor's own (zone lifecycle, faults), under its own prefix. */
  log(line: string): void {
    // Names and messages may carry a config's or a guest's control characters: never raw.
    this.write(HYPERVISOR, new TextEncoder().encode(printable(line) + '\n'));
  }

  /** Ends a line left open (at exit). */
  flush(): void {
    if (this.openLine !== undefined) this.out('\n');
    this.openLine = undefined;
  }

  private prefix(id: number | undefined): string {
    if (id === undefined) return chalk.dim('(no zone)    │ ');
    if (id === HYPERVISOR) return chalk.bold('hvisor'.padEnd(12)) + chalk.dim(' │ ');
    const name = printable(this.names.get(id) ?? `zone${id}`);
    return palette[id % palette.length]!(name.padEnd(12).slice(0, 12)) + chalk.dim(' │ ');
  }
}
