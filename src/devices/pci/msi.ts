import type { Bdf } from './bdf.js';

/**
 * Where message-signalled interrupts go: a memory write of `data` to `address`, tagged with the
 * requester. The interrupt controller implements it (GICv3 ITS translates by device id = BDF and
 * event id = data; RISC-V AIA IMSIC by the address page). Neither exists yet, so functions fall
 * back to INTx while no controller is connected.
 */
export interface MsiController {
  signal(requester: Bdf, address: number, data: number): void;
}
