/**
 * A memory-mapped device model. Offsets are relative to the start of the device's window.
 *
 * Accesses are 1, 2 or 4 bytes wide; the bus splits an 8-byte access into two 4-byte ones
 * (low word first), which every register bank we model (GIC, virtio-mmio, ECAM, UARTs) allows.
 * Devices never see zones: a zone reaches a device only through its stage-2 map.
 */
export type AccessSize = 1 | 2 | 4;

export interface MmioDevice {
  /** Short model name for listings and fault reports, e.g. "pl011". */
  readonly name: string;
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
  /** Back to the power-on state. */
  reset(): void;
  /**
   * A side-effect-free read for debuggers (gdb `x`, `monitor devices`). Devices whose reads
   * have side effects (FIFOs, interrupt acknowledge) return undefined for those registers.
   */
  peek?(offset: number, size: AccessSize): number | undefined;
}
