import type { AddressSpace } from './address-space.js';

/**
 * Guest RAM as the models that reach into it see it (vm-memory's GuestMemory): virtqueues, PCI bus
 * masters, the GICv3 ITS and LPI tables. Only RAM: no device registers, so a model can neither reach
 * another zone nor poke devices by DMA (a function passed through to a zone gets that zone's
 * guest-physical RAM: the isolation an IOMMU / SMMU stage 2 gives real hvisor).
 */
export interface GuestMemory {
  /** Fills `into` from `addr`; false (and `into` partly filled) when part of the range is not RAM. */
  read(addr: number, into: Uint8Array): boolean;
  /** Writes `data` at `addr`; false (nothing written) when part of the range is not RAM. */
  write(addr: number, data: Uint8Array): boolean;
  /** Whether all of [addr, addr + length) is RAM. */
  checkRange(addr: number, length: number): boolean;
}

/** What PCI functions DMA through (the same memory, named for its user). */
export type DmaMemory = GuestMemory;

/** A function not yet given to any zone: every access fails. */
export const noDma: GuestMemory = {
  read: () => false,
  write: () => false,
  checkRange: () => false,
};

/** The RAM regions of an address space (a zone's stage-2 view, or the physical bus), on its one region walk. */
export function guestMemory(space: AddressSpace): GuestMemory {
  const ramOnly = (length: number) => (addr: number): boolean =>
    Number.isSafeInteger(addr) && addr >= 0 && space.walk(addr, length, (r, _o, _d, n) => (r.kind === 'ram' ? n : 0)) === length;
  return {
    read: (addr, into) =>
      space.walk(addr, into.length, (r, offset, done, n) => {
        if (r.kind !== 'ram') return 0;
        const at = offset + r.ramOffset;
        into.set(r.ram.u8.subarray(at, at + n), done);
        return n;
      }) === into.length,
    // Check the whole range first so a failing write writes nothing.
    write: (addr, data) =>
      ramOnly(data.length)(addr) &&
      space.walk(addr, data.length, (r, offset, done, n) => {
        if (r.kind !== 'ram') return 0;
        r.ram.u8.set(data.subarray(done, done + n), offset + r.ramOffset);
        return n;
      }) === data.length,
    checkRange: (addr, length) => length >= 0 && ramOnly(length)(addr),
  };
}

const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/** A little-endian value of 1, 2, 4 or 8 bytes from guest RAM (table entries), or undefined where it is not RAM. */
export function readGuestLE(memory: GuestMemory, addr: number, size: 1 | 2 | 4 | 8): bigint | undefined {
  const into = scratch.subarray(0, size);
  if (!memory.read(addr, into)) return undefined;
  switch (size) {
    case 1:
      return BigInt(scratch[0]!);
    case 2:
      return BigInt(scratchView.getUint16(0, true));
    case 4:
      return BigInt(scratchView.getUint32(0, true));
    case 8:
      return scratchView.getBigUint64(0, true);
  }
}

/** Writes a little-endian value of 1, 2, 4 or 8 bytes to guest RAM; false (nothing written) where it is not RAM. */
export function writeGuestLE(memory: GuestMemory, addr: number, size: 1 | 2 | 4 | 8, value: bigint): boolean {
  scratchView.setBigUint64(0, BigInt.asUintN(64, value), true);
  return memory.write(addr, scratch.subarray(0, size));
}
