import { HvisorError } from '../util/hvisor-error.js';
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

/**
 * Thrown by a device that cannot answer an access yet (hvisor's virtio trampoline, whose answer comes
 * from zone0's daemon). A core that supports it abandons the instruction with no architectural effect
 * and stops with a stall (RunResult); the access is made again when the vCPU next runs. One shared instance:
 * the hot path allocates nothing.
 */
export class AccessStalled extends HvisorError {
  constructor() {
    super('a device access stalled on a core that cannot wait for it');
  }
}
export const ACCESS_STALLED = new AccessStalled();
