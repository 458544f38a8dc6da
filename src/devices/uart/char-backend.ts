/**
 * The host side of a UART: bytes the guest transmits go to `write`; bytes the host (a terminal, a
 * test, a socket) types are pushed with `push` and the UART pulls them as its receive FIFO drains.
 * The UART registers a listener so it can raise its RX interrupt the moment input arrives.
 */
export interface CharBackend {
  /** Guest → host: one transmitted byte. */
  write(byte: number): void;
  /** Host → guest: whether an input byte is waiting. */
  readonly hasInput: boolean;
  /** Host → guest: takes the next input byte, or -1 when there is none. */
  read(): number;
  /** The UART's callback for "input became available" (one listener; a new one replaces it). */
  onInput(listener: (() => void) | undefined): void;
}

/**
 * An in-memory backend: output is forwarded to a sink (such as the terminal) or, without one,
 * collected for tests (a guest's output is never kept twice); input is a queue the host pushes into.
 */
export class BufferedCharBackend implements CharBackend {
  private readonly input: number[] = [];
  private head = 0;
  private listener: (() => void) | undefined;
  private readonly out: number[] = [];

  constructor(private readonly sink?: (byte: number) => void) {}

  write(byte: number): void {
    if (this.sink !== undefined) this.sink(byte & 0xff);
    else this.out.push(byte & 0xff);
  }

  get hasInput(): boolean {
    return this.head < this.input.length;
  }

  read(): number {
    if (this.head >= this.input.length) return -1;
    const b = this.input[this.head++]!;
    if (this.head === this.input.length) {
      this.input.length = 0;
      this.head = 0;
    }
    return b;
  }

  onInput(listener: (() => void) | undefined): void {
    this.listener = listener;
    if (listener !== undefined && this.hasInput) listener();
  }

  /** Host typing: queue bytes (a string is sent as UTF-8) and tell the UART. */
  push(data: string | Uint8Array | readonly number[]): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (const b of bytes) this.input.push(b & 0xff);
    if (bytes.length > 0) this.listener?.();
  }

  /** Everything the guest transmitted so far (without a sink). */
  get output(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  /** The transmitted bytes as text (UTF-8). */
  get outputText(): string {
    return new TextDecoder().decode(Uint8Array.from(this.out));
  }

  /** Forget transmitted bytes (e.g. between test steps). */
  clearOutput(): void {
    this.out.length = 0;
  }
}

/** A backend that discards output and never has input: for UARTs no one listens to. */
export const nullCharBackend: CharBackend = {
  write() {},
  hasInput: false,
  read: () => -1,
  onInput() {},
};
