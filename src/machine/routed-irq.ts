import type { IrqLine } from './irq-line.js';

/**
 * A device's interrupt output whose destination is decided after the device is built: the board
 * creates devices from the DTB, then the hypervisor connects each line to the interrupt controller
 * of the zone that owns the interrupt. Unconnected lines are dropped (an IRQ no zone owns).
 */
export class RoutedIrq implements IrqLine {
  private sink: IrqLine | undefined;
  private level = false;

  /** `source` names the interrupt for listings, e.g. "SPI 1" or "PLIC 10". */
  constructor(readonly source: string, readonly number: number) {}

  connect(sink: IrqLine | undefined): void {
    this.sink = sink;
    if (sink !== undefined && this.level) sink.set(true);
  }

  get connected(): boolean {
    return this.sink !== undefined;
  }

  set(level: boolean): void {
    this.level = level;
    this.sink?.set(level);
  }

  pulse(): void {
    this.sink?.pulse();
  }
}
