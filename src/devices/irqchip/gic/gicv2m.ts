/**
 * GICv2m MSI frame (arm,gic-v2m-frame), as QEMU virt puts beside its GICv2 and Linux's
 * irq-gic-v2m driver uses for PCIe MSIs: MSI_TYPER names the SPI range, and a device's MSI write of
 * an INTID to MSI_SETSPI_NS raises that SPI as an edge. Per zone: an INTID outside the frame's range
 * or not owned by the zone is dropped (and counted, for `monitor` listings).
 */
import type { AccessSize, MmioDevice } from '../../../machine/mmio-device.js';
import type { Bdf } from '../../../machine/bdf.js';
import type { MsiController } from '../../pci/msi.js';
import { InterruptControllerConfigError } from '../ownership.js';
import type { GicCore } from './gic-core.js';

const MSI_TYPER = 0x008;
const MSI_SETSPI_NS = 0x040;
const MSI_IIDR = 0xfcc;
/** The identification QEMU's frame reports. */
const IIDR_VALUE = 0x05100000;

export interface Gicv2mOptions {
  /** The zone's GIC (v2 or v3) state. */
  readonly core: GicCore;
  /** First INTID of the frame (QEMU virt: 80). */
  readonly baseIntid: number;
  /** SPIs in the frame (QEMU virt: 64). */
  readonly count: number;
  /** Guest-physical base of the frame, for MSIs delivered through `signal` (QEMU virt: 0x8020000). */
  readonly frameBase?: number;
}

export class Gicv2m implements MmioDevice, MsiController {
  readonly name = 'gicv2m';
  /** MSIs dropped because they named an SPI outside the frame or the zone. */
  dropped = 0;

  constructor(private readonly options: Gicv2mOptions) {
    const { baseIntid, count } = options;
    if (baseIntid < 32 || count < 1 || baseIntid + count > 1020 || baseIntid > 0x3ff || count > 0x3ff) {
      throw new InterruptControllerConfigError('gicv2m', `SPI range ${baseIntid}+${count} is not a valid frame`);
    }
  }

  reset(): void {
    this.dropped = 0;
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (size !== 4 || offset & 3) return 0;
    if (offset === MSI_TYPER) return ((this.options.baseIntid << 16) | this.options.count) >>> 0;
    if (offset === MSI_IIDR) return IIDR_VALUE;
    return 0;
  }

  /** A PCI function's MSI write (src/devices/pci/msi.ts): ours when aimed at MSI_SETSPI_NS. */
  signal(_requester: Bdf, address: number, data: number): void {
    const base = this.options.frameBase;
    if (base !== undefined && address === base + MSI_SETSPI_NS) this.write(MSI_SETSPI_NS, 4, data);
  }

  write(offset: number, size: AccessSize, value: number): void {
    // PCIe MSI data is 16 or 32 bits wide.
    if (offset !== MSI_SETSPI_NS || (size !== 4 && size !== 2)) return;
    const id = value & 0x3ff;
    const { baseIntid, count, core } = this.options;
    if (id < baseIntid || id >= baseIntid + count || !core.signalSpi(id)) this.dropped++;
  }
}
