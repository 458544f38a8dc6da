/**
 * One interrupt wire from a device to an interrupt controller input.
 * Level-triggered devices hold the line; edge-triggered ones call `pulse`.
 */
export interface IrqLine {
  set(level: boolean): void;
  pulse(): void;
}

/** A line that goes nowhere: for devices whose interrupt is not routed to any zone. */
export const disconnectedIrq: IrqLine = { set() {}, pulse() {} };

/** Adapts a controller input callback to an IrqLine. */
export function irqLine(sink: (level: boolean) => void): IrqLine {
  return {
    set: sink,
    pulse() {
      sink(true);
      sink(false);
    },
  };
}

/**
 * A level-triggered model's output: models recompute their level on every register access, and
 * only a change reaches the controller (the wire holds its level; re-asserting it is a no-op).
 */
export class LevelIrq {
  private high = false;

  constructor(private readonly line: IrqLine) {}

  /** The level last driven. */
  get level(): boolean {
    return this.high;
  }

  /** A snapshot puts the level back; the input it drives is restored with its own state. */
  restoreLevel(level: boolean): void {
    this.high = level;
  }

  set(level: boolean): void {
    if (level === this.high) return;
    this.high = level;
    this.line.set(level);
  }
}

/** One LevelIrq per output line (a controller's per-CPU or per-context outputs). */
export function levelIrqs(lines: readonly IrqLine[]): LevelIrq[] {
  return lines.map((l) => new LevelIrq(l));
}
