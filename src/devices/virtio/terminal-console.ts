import type { Readable, Writable } from 'node:stream';
import type { ConsoleEndpoint } from './console-endpoint.js';

/**
 * A zone console on the host terminal (or any pair of streams): raw mode on a TTY so keys reach
 * the guest one by one, as with QEMU's `-serial stdio`.
 */
export class TerminalConsole implements ConsoleEndpoint {
  readonly description = 'terminal';
  private listener: ((chunk: Buffer) => void) | undefined;

  constructor(
    private readonly input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown } = process.stdin,
    private readonly output: Writable = process.stdout,
  ) {}

  write(bytes: Uint8Array): void {
    this.output.write(bytes);
  }

  attach(sink: (bytes: Uint8Array) => void): void {
    if (this.input.isTTY === true) this.input.setRawMode?.(true);
    this.listener = (chunk: Buffer) => sink(new Uint8Array(chunk));
    this.input.on('data', this.listener);
    this.input.resume();
  }

  async close(): Promise<void> {
    if (this.listener !== undefined) this.input.off('data', this.listener);
    if (this.input.isTTY === true) this.input.setRawMode?.(false);
    this.input.pause();
  }
}
