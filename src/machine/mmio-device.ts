import { HvisorError } from '../util/hvisor-error.js';
/**
 * A memory-mapped device model. Offsets are relative to the start of the device's window.
 *
 * Accesses are 1, 2 or 4 bytes wide; the bus splits an 8-byte access into two 4-byte ones
 * (low word first), which every register bank we model (GIC, virtio-mmio, ECAM, UARTs) allows.
 * Devices never see zones: a zone reaches a device only through its stage-2 map.
 */
export type AccessSize = 1 | 2 | 4;

/**
 * The accesses a device decodes. The address space holding the device answers every other access
 * itself, the same way for every model: a read (and a debugger peek) gets 0, a write is dropped.
 * A device with no rule sees every access (and may still refuse some registers' widths itself).
 */
export interface AccessRule {
  readonly sizes: readonly AccessSize[];
  /** 'natural': the offset is a multiple of the access's width; 'word': a multiple of 4. */
  readonly alignment: 'natural' | 'word';
}

/** Banks of 32-bit registers that decode whole-register accesses only. */
export const WORD_ACCESS: AccessRule = Object.freeze({ sizes: Object.freeze([4] as const), alignment: 'word' });
/** Registers readable in any width at a naturally aligned offset (byte lanes of 32-bit registers). */
export const NATURAL_ACCESS: AccessRule = Object.freeze({ sizes: Object.freeze([1, 2, 4] as const), alignment: 'natural' });

/** An access rule as two masks, for the access path: widths accepted (a bit per width), and the offset bits that must be 0 (-1: width - 1). */
export interface AccessMasks {
  readonly sizeMask: number;
  readonly alignMask: number;
}

export function accessMasks(rule: AccessRule | undefined): AccessMasks {
  if (rule === undefined) return { sizeMask: 1 | 2 | 4, alignMask: 0 };
  return { sizeMask: rule.sizes.reduce((m, s) => m | s, 0), alignMask: rule.alignment === 'word' ? 3 : -1 };
}

/** Whether a device with these masks decodes a `size`-byte access at `offset`. */
export function accepts(masks: AccessMasks, offset: number, size: AccessSize): boolean {
  return (masks.sizeMask & size) !== 0 && (offset & (masks.alignMask < 0 ? size - 1 : masks.alignMask)) === 0;
}

export interface MmioDevice {
  /** Short model name for listings and fault reports, e.g. "pl011". */
  readonly name: string;
  /** The accesses it decodes (the address space answers the others); undefined: all. */
  readonly accessRule?: AccessRule;
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
