import { AddressSpace } from '../../src/machine/address-space.js';
import { accepts, accessMasks, type AccessSize, type MmioDevice } from '../../src/machine/mmio-device.js';

/** A device's registers as a guest reaches them (and a debugger peeks them). */
export interface GuestView {
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
  peek(offset: number, size: AccessSize): number | undefined;
}

/**
 * `device` alone in an address space at 0, so what a guest sees applies: the device's access rule
 * (a refused read gives 0, a refused write is dropped) as well as the model's own decoding.
 */
export function guestView(device: MmioDevice, window = 0x1_0000_0000): GuestView {
  const space = new AddressSpace();
  space.mapMmio(0, window, device);
  const masks = accessMasks(device.accessRule);
  return {
    read: (offset, size) => Number(space.read(offset, size)),
    write: (offset, size, value) => void space.write(offset, size, BigInt(value >>> 0)),
    peek: (offset, size) => (accepts(masks, offset, size) ? device.peek?.(offset, size) : 0),
  };
}
