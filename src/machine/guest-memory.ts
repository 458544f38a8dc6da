import type { AddressSpace } from './address-space.js';

/**
 * The memory a PCI function reaches as bus master. A function passed through to a zone gets that
 * zone's guest-physical RAM, so its DMA can never reach another zone: this is the isolation an
 * IOMMU / SMMU stage 2 gives real hvisor. Only RAM is reachable (no peer-to-peer into MMIO).
 */
export interface DmaMemory {
  /** Fills `into` from `addr`; false (and `into` partly filled) when part of the range is not RAM. */
  read(addr: number, into: Uint8Array): boolean;
  /** Writes `data` at `addr`; false (nothing written) when part of the range is not RAM. */
  write(addr: number, data: Uint8Array): boolean;
}

/** A function not yet given to any zone: every DMA fails. */
export const noDma: DmaMemory = {
  read: () => false,
  write: () => false,
};

/** DMA into the RAM regions of an address space (a zone's stage-2 view, or the physical bus). */
export function dmaFromAddressSpace(space: AddressSpace): DmaMemory {
  return {
    read(addr, into) {
      let done = 0;
      while (done < into.length) {
        const r = space.find(addr + done);
        if (r === undefined || r.kind !== 'ram') return false;
        const start = addr + done - r.base;
        const n = Math.min(into.length - done, r.size - start);
        const src = start + r.ramOffset;
        into.set(r.ram.u8.subarray(src, src + n), done);
        done += n;
      }
      return true;
    },
    write(addr, data) {
      // Check the whole range first so a failing DMA writes nothing.
      let checked = 0;
      while (checked < data.length) {
        const r = space.find(addr + checked);
        if (r === undefined || r.kind !== 'ram') return false;
        checked += Math.min(data.length - checked, r.size - (addr + checked - r.base));
      }
      let done = 0;
      while (done < data.length) {
        const r = space.find(addr + done)!;
        if (r.kind !== 'ram') return false;
        const start = addr + done - r.base;
        const n = Math.min(data.length - done, r.size - start);
        r.ram.u8.set(data.subarray(done, done + n), start + r.ramOffset);
        done += n;
      }
      return true;
    },
  };
}
