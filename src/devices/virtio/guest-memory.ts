import type { AddressSpace } from '../../machine/address-space.js';
import { dmaFromAddressSpace } from '../../machine/guest-memory.js';
import type { VirtqueueMemory } from './virtqueue.js';

/**
 * A zone's RAM as a virtio device reaches it (through the zone's stage-2 view): only RAM regions,
 * never MMIO, so a device can neither reach another zone nor poke devices by DMA.
 */
export function zoneMemory(space: AddressSpace): VirtqueueMemory {
  const dma = dmaFromAddressSpace(space);
  return {
    read: dma.read,
    write: dma.write,
    covers(addr, len) {
      if (!Number.isSafeInteger(addr) || addr < 0 || len < 0) return false;
      let done = 0;
      while (done < len) {
        const r = space.find(addr + done);
        if (r === undefined || r.kind !== 'ram') return false;
        done += r.base + r.size - (addr + done);
      }
      return true;
    },
  };
}
