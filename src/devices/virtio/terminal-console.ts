import type { Readable, Writable } from 'node:stream';
import type { ConsoleEndpoint } from './console-endpoint.js';

/** Ctrl-A, as QEMU's `-serial mon:stdio` uses it. */
const ESCAPE = 0x01;

export interface TerminalConsoleOptions {
  /** Called on Ctrl-A x (in raw mode Ctrl-C belongs to the guest, so this is how the user quits). */
  readonly onQuit?: () => void;
}

/**
 * A zone console on the host terminal (or any pair of streams): raw mode on a TTY so keys reach
 * the guest one by one, as with QEMU's `-serial stdio`. Ctrl-A x quits; Ctrl-A Ctrl-A sends one
 * Ctrl-A to the guest; Ctrl-A followed by anything else sends both keys.
 */
export class TerminalConsole implements ConsoleEndpoint {
  readonly description = 'terminal';
  private listener: ((chunk: Buffer) => void) | undefined;
  private escaped = false;

  constructor(
    private readonly input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown } = process.stdin,
    private readonly output: Writable = process.stdout,
    private readonly options: TerminalConsoleOptions = {},
  ) {}

  write(bytes: Uint8Array): void {
    this.output.write(bytes);
  }

  attach(sink: (bytes: Uint8Array) => void): void {
    if (this.input.isTTY === true) this.input.setRawMode?.(true);
    this.listener = (chunk: Buffer) => {
      const keys = this.filter(chunk);
      if (keys.length > 0) sink(keys);
    };
    this.input.on('data', this.listener);
    this.input.resume();
  }

  async close(): Promise<void> {
    if (this.listener !== undefined) this.input.off('data', this.listener);
    if (this.input.isTTY === true) this.input.setRawMode?.(false);
    this.input.pause();
  }

  /** Takes the escape sequences out of the key stream. */
  private filter(chunk: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const key of chunk) {
      if (!this.escaped) {
        if (key === ESCAPE) this.escaped = true;
        else out.push(key);
        continue;
      }
      this.escaped = false;
      if (key === 0x78 /* x */) this.options.onQuit?.();
      else if (key === ESCAPE) out.push(ESCAPE);
      else out.push(ESCAPE, key);
    }
    return Uint8Array.from(out);
  }
}
