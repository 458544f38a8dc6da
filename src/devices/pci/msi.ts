import type { AddressSpace } from '../../machine/address-space.js';
import type { MmioDevice } from '../../machine/mmio-device.js';
import type { Bdf } from '../../machine/bdf.js';

/**
 * Where message-signalled interrupts go: a memory write of `data` to `address`, tagged with the
 * requester. Without a controller connected, functions fall back to INTx.
 */
export interface MsiController {
  signal(requester: Bdf, address: number, data: number): void;
}

/**
 * A register window that takes MSI writes with their requester id (the GICv3 ITS's
 * GITS_TRANSLATER: the DeviceID is the requester, which a plain MMIO write does not carry).
 */
export interface MsiDoorbell {
  /** `offset` is the write's offset inside the window. */
  message(requester: Bdf, offset: number, data: number): void;
}

export function isMsiDoorbell(device: MmioDevice): device is MmioDevice & MsiDoorbell {
  return typeof (device as Partial<MsiDoorbell>).message === 'function';
}

/**
 * A zone's functions' MSIs as the bus sees them: a write into the zone's guest-physical space (the
 * stage-2 view of its functions' DMA). Only a doorbell mapped in that space at `address` takes it,
 * so a function can reach its own zone's interrupt controller and nothing of another zone's; a
 * write anywhere else is dropped and counted.
 */
export class ZoneMsiRouter implements MsiController {
  /** Messages aimed at an address where the zone has no doorbell. */
  dropped = 0;

  constructor(private readonly space: AddressSpace) {}

  signal(requester: Bdf, address: number, data: number): void {
    const region = this.space.find(address);
    if (region?.kind === 'mmio' && isMsiDoorbell(region.device)) region.device.message(requester, address - region.base, data);
    else this.dropped++;
  }
}
