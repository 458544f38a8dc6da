import type { AddressSpace } from '../machine/address-space.js';
import { hex } from '../machine/address-space.js';
import { ImageError } from './image-error.js';

/** Writes `bytes` into guest RAM at `address`; every byte must land in RAM (never in a device window). */
export function copyIntoRam(memory: AddressSpace, address: number, bytes: Uint8Array, image: string, what = 'image'): void {
  if (!Number.isSafeInteger(address) || address < 0) throw new ImageError(image, `${what} address ${address} is not a guest-physical address`);
  const written = memory.writeDebug(address, bytes);
  if (written !== bytes.length) {
    throw new ImageError(
      image,
      `${what} [${hex(address)}, ${hex(address + bytes.length)}) is not inside RAM (stops at ${hex(address + written)})`,
    );
  }
}

/** A raw binary (Image, .bin) loaded at the zone's load address. Returns its end address. */
export function loadRawImage(bytes: Uint8Array, memory: AddressSpace, address: number, image = 'image'): number {
  if (bytes.length === 0) throw new ImageError(image, 'empty image');
  copyIntoRam(memory, address, bytes, image);
  return address + bytes.length;
}
