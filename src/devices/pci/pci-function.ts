import type { AccessSize } from '../../machine/mmio-device.js';
import type { Bdf } from '../../machine/bdf.js';
import { MessageInterrupts } from './capabilities.js';
import { PciConfigSpace, type BarSpec, type PciIdentity } from './config-space.js';
import { noDma, type DmaMemory } from '../../machine/guest-memory.js';
import type { MsiController } from './msi.js';

/** What the host bridge and the owning zone give a function once it is plugged in. */
export interface PciFunctionContext {
  readonly bdf: Bdf;
  /** The function's INTx wire into the host bridge's swizzle. */
  readonly intx: (level: boolean) => void;
}

/**
 * A PCI function model: its configuration space, its BARs' registers, and its interrupt outputs.
 * Subclasses implement the BAR registers; MSI-X table/PBA accesses are handled here.
 */
export abstract class PciFunction {
  readonly config: PciConfigSpace;
  readonly messages: MessageInterrupts;
  /** Bus-master memory: the owning zone's RAM once the function is assigned, nothing before. */
  dma: DmaMemory = noDma;
  private context: PciFunctionContext | undefined;
  private intxLevel = false;

  constructor(id: PciIdentity, bars: readonly (BarSpec | undefined)[]) {
    this.config = new PciConfigSpace(id, bars);
    this.messages = new MessageInterrupts(this.config);
    // INTx disable takes effect at once on an asserted line.
    this.config.onWrite(() => this.driveIntx());
  }

  abstract readonly name: string;

  get bdf(): Bdf | undefined {
    return this.context?.bdf;
  }

  /** Called by the host bridge when the function is plugged in at `ctx.bdf`. */
  plug(ctx: PciFunctionContext): void {
    this.context = ctx;
    this.messages.requester = ctx.bdf;
    this.driveIntx();
  }

  /** Gives the function the zone it belongs to: DMA into that zone's RAM, MSIs to its controller. */
  assign(dma: DmaMemory, msi: MsiController | undefined): void {
    this.dma = dma;
    this.messages.controller = msi;
  }

  barRead(bar: number, offset: number, size: AccessSize): number {
    if (this.messages.claims(bar, offset)) return this.messages.read(offset, size);
    return this.readBar(bar, offset, size);
  }

  barWrite(bar: number, offset: number, size: AccessSize, value: number): void {
    if (this.messages.claims(bar, offset)) this.messages.write(offset, size, value);
    else this.writeBar(bar, offset, size, value);
  }

  /** Function-level reset: configuration space, MSI state, and the model's own state. */
  reset(): void {
    this.intxLevel = false;
    this.config.reset();
    this.messages.reset();
    this.resetDevice();
    this.driveIntx();
  }

  /** DMA is allowed only while the driver has set Bus Master Enable. */
  protected dmaRead(addr: number, into: Uint8Array): boolean {
    return this.config.busMaster && this.dma.read(addr, into);
  }
  protected dmaWrite(addr: number, data: Uint8Array): boolean {
    return this.config.busMaster && this.dma.write(addr, data);
  }
  protected dmaCheck(addr: number, length: number): boolean {
    return this.config.busMaster && this.dma.checkRange(addr, length);
  }

  /** The model's level-triggered interrupt condition for INTx. */
  protected setIntx(level: boolean): void {
    this.intxLevel = level;
    this.driveIntx();
  }

  /**
   * Raises interrupt `vector` the way the driver set up: MSI-X, MSI, or (neither enabled) the
   * INTx level the model keeps with `setIntx`. Returns whether it went as a message.
   */
  protected signal(vector: number): boolean {
    return this.messages.deliver(vector);
  }

  protected abstract readBar(bar: number, offset: number, size: AccessSize): number;
  protected abstract writeBar(bar: number, offset: number, size: AccessSize, value: number): void;
  protected abstract resetDevice(): void;

  private driveIntx(): void {
    this.config.setInterruptStatus(this.intxLevel);
    const out = this.intxLevel && !this.config.intxDisabled && !this.messages.messageMode;
    this.context?.intx(out);
  }
}
