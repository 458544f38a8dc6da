import { AddressSpace } from '../../machine/address-space.js';
import type { AccessSize } from '../../machine/mmio-device.js';

/** Reports a guest access that hit nothing in the zone's stage-2 map. */
export type Stage2FaultListener = (gpa: number, size: number, write: boolean) => void;

/**
 * A zone's guest-physical address space. Guest accesses that hit no region are stage-2 faults:
 * the core reports them to the guest as its architecture does; this class only tells the zone,
 * which logs (zone, vCPU, pc, address). Debugger accesses (readDebug/writeDebug) never report.
 */
export class Stage2Space extends AddressSpace {
  onFault: Stage2FaultListener | undefined;

  override read(addr: number, size: AccessSize | 8): bigint | undefined {
    const v = super.read(addr, size);
    if (v === undefined) this.onFault?.(addr, size, false);
    return v;
  }

  override write(addr: number, size: AccessSize | 8, value: bigint): boolean {
    const ok = super.write(addr, size, value);
    if (!ok) this.onFault?.(addr, size, true);
    return ok;
  }
}
