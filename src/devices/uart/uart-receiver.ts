import type { CharBackend } from './char-backend.js';
import { RxFifo } from './rx-fifo.js';

/** What a UART model decides about its receiver; the receive core does the rest. */
export interface UartReceiverHooks {
  /** Entries the FIFO holds before it counts as full now (trigger levels, 1 with the FIFO off). */
  depth(): number;
  /** Host input stays in the backend for now (loopback, receiver disabled). */
  blocked(): boolean;
  /** A byte arrived with the FIFO full: the model latches its overrun flag. */
  overrun(): void;
  /** A byte was stored: the model raises its receive status bits (optional). */
  received?(): void;
  /** The oldest entry was taken, before the FIFO refills (optional: error flags, RX status). */
  taken?(entry: number): void;
  /** The receiver changed: the model recomputes its interrupt line. */
  update(): void;
}

/**
 * The receive half every UART model composes (vm-superio's Serial keeps it once the same way):
 * the FIFO, the host backend it drains as the guest reads, loopback bytes, overrun. The model keeps
 * its registers and decides, through the hooks, what "full", "blocked" and the status bits are.
 */
export class UartReceiver {
  private readonly fifo: RxFifo;

  constructor(
    capacity: number,
    private readonly backend: CharBackend,
    private readonly hooks: UartReceiverHooks,
  ) {
    this.fifo = new RxFifo(capacity);
    backend.onInput(() => this.pull());
  }

  get length(): number {
    return this.fifo.length;
  }

  clear(): void {
    this.fifo.clear();
  }

  /** The guest reads the data register: the oldest entry (0 when empty); the FIFO refills from the host. */
  pop(): number {
    if (this.fifo.length === 0) return 0;
    const entry = this.fifo.shift();
    this.hooks.taken?.(entry);
    this.pull();
    this.hooks.update();
    return entry;
  }

  /** A byte reaches the receiver (from the host, or looped back from the transmitter). */
  push(byte: number): void {
    if (this.fifo.length >= this.hooks.depth()) {
      this.hooks.overrun();
    } else {
      this.fifo.push(byte);
      this.hooks.received?.();
    }
    this.hooks.update();
  }

  /** Moves waiting host input into the FIFO while it has room (nothing while blocked). */
  pull(): void {
    if (this.hooks.blocked()) return;
    while (this.fifo.length < this.hooks.depth() && this.backend.hasInput) {
      const c = this.backend.read();
      if (c < 0) break;
      this.push(c);
    }
  }
}
