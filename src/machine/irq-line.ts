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
