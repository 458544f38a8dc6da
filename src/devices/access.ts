/**
 * Helpers shared by register-bank models: most banks are 32-bit registers that drivers may also
 * read with narrower accesses. Which widths and alignments a model decodes it declares as its
 * `accessRule` (src/machine/mmio-device.ts); the address space answers the others.
 */
import type { AccessSize } from '../machine/mmio-device.js';

/** The `size`-byte lane of a 32-bit register value that an access at `offset` sees (little endian). */
export function lane(value: number, offset: number, size: AccessSize): number {
  if (size === 4) return value >>> 0;
  const v = value >>> ((offset & 3) * 8);
  return size === 1 ? v & 0xff : v & 0xffff;
}

/** A 32-bit register after a `size`-byte write of `value` at `offset` (the other bytes kept). */
export function merge(old: number, offset: number, size: AccessSize, value: number): number {
  if (size === 4) return value >>> 0;
  const shift = (offset & 3) * 8;
  const mask = (size === 1 ? 0xff : 0xffff) << shift;
  return ((old & ~mask) | ((value << shift) & mask)) >>> 0;
}
