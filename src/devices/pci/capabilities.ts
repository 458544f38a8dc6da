import type { AccessSize } from '../../machine/mmio-device.js';
import type { Bdf } from '../../machine/bdf.js';
import type { PciConfigSpace } from './config-space.js';
import type { MsiController } from './msi.js';

/** Capability ids (PCI Code and ID Assignment spec). */
export const CapId = { PowerManagement: 0x01, Msi: 0x05, VendorSpecific: 0x09, PciExpress: 0x10, MsiX: 0x11 } as const;

/** Power management: D0..D3hot in PMCSR, PME enable and PME status (write-1-to-clear). */
export function addPowerManagement(cfg: PciConfigSpace, fixedAt?: number): number {
  const at = cfg.addCapability(CapId.PowerManagement, 8, fixedAt);
  cfg.define(at + 2, 2, 0x0003, 0); // version 3 of the PM interface, no PME from any state
  cfg.define(at + 4, 2, 0x0008, 0x0103, 0x8000); // No_Soft_Reset; PowerState, PME_En writable
  return at;
}

/** PCI Express capability (version 2) of a root-complex-integrated or plain endpoint: x1 at 2.5 GT/s. */
export function addPciExpressEndpoint(cfg: PciConfigSpace, portType: 'endpoint' | 'integrated' = 'endpoint', fixedAt?: number): number {
  const at = cfg.addCapability(CapId.PciExpress, 0x3c, fixedAt);
  cfg.define(at + 2, 2, 0x0002 | ((portType === 'endpoint' ? 0x0 : 0x9) << 4), 0);
  cfg.define(at + 0x04, 4, 0x0000_8000, 0); // DevCap: role-based error reporting, 128-byte payload
  cfg.define(at + 0x08, 2, 0x2010, 0x7cff); // DevCtl: relaxed ordering, 512-byte read requests
  cfg.define(at + 0x0a, 2, 0, 0, 0x000f); // DevSta: error bits are write-1-to-clear
  if (portType === 'endpoint') {
    cfg.define(at + 0x0c, 4, 0x0000_0011, 0); // LinkCap: 2.5 GT/s, x1
    cfg.define(at + 0x10, 2, 0, 0x01c3); // LinkCtl
    cfg.define(at + 0x12, 2, 0x0011, 0); // LinkSta: 2.5 GT/s, x1
    cfg.define(at + 0x2c, 4, 0x0000_0002, 0); // LinkCap2: 2.5 GT/s supported
    cfg.define(at + 0x30, 2, 0x0001, 0x000f); // LinkCtl2: target 2.5 GT/s
  }
  cfg.define(at + 0x28, 2, 0, 0x040f); // DevCtl2
  return at;
}

/** Where an MSI-X table and its pending-bit array live. */
export interface MsixPlacement {
  readonly vectors: number;
  readonly bar: number;
  readonly tableOffset: number;
  readonly pbaOffset: number;
}

/**
 * The message-signalled interrupt state of one function: an MSI capability (64-bit, per-vector
 * masking) and/or an MSI-X capability with its table and PBA in a BAR. `deliver` picks the mode
 * the driver enabled; when neither is enabled the model uses INTx.
 */
export class MessageInterrupts {
  controller: MsiController | undefined;
  requester: Bdf = 0;
  /** Messages the guest enabled but no interrupt controller could take (none connected). */
  lostMessages = 0;
  private msiAt = 0;
  private msiVectors = 0;
  private msixAt = 0;
  private msix: MsixPlacement | undefined;
  private table = new Uint8Array(0);
  private pba = new Uint8Array(0);

  constructor(private readonly cfg: PciConfigSpace) {
    cfg.onWrite((offset, size) => {
      if (this.msix !== undefined && overlaps(offset, size, this.msixAt + 2, 2)) this.deliverPendingMsix();
      if (this.msiVectors > 0 && overlaps(offset, size, this.msiAt + 0x10, 4)) this.deliverPendingMsi();
    });
  }

  addMsi(vectors: 1 | 2 | 4 | 8 | 16 | 32): number {
    const at = this.cfg.addCapability(CapId.Msi, 0x18);
    const mmc = Math.log2(vectors);
    this.cfg.define(at + 2, 2, 0x0180 | (mmc << 1), 0x0071); // 64-bit, per-vector masking
    this.cfg.define(at + 0x04, 4, 0, 0xffff_fffc);
    this.cfg.define(at + 0x08, 4, 0, 0xffff_ffff);
    this.cfg.define(at + 0x0c, 2, 0, 0xffff);
    this.cfg.define(at + 0x10, 4, 0, vectors === 32 ? 0xffff_ffff : (1 << vectors) - 1);
    this.cfg.define(at + 0x14, 4, 0, 0);
    this.msiAt = at;
    this.msiVectors = vectors;
    return at;
  }

  addMsix(p: MsixPlacement, fixedAt?: number): number {
    if (!(p.vectors >= 1 && p.vectors <= 2048) || p.tableOffset % 8 !== 0 || p.pbaOffset % 8 !== 0) {
      throw new RangeError(`MSI-X: ${p.vectors} vectors, table at ${p.tableOffset}, PBA at ${p.pbaOffset} is not a valid layout`);
    }
    const at = this.cfg.addCapability(CapId.MsiX, 12, fixedAt);
    this.cfg.define(at + 2, 2, p.vectors - 1, 0xc000);
    this.cfg.define(at + 4, 4, p.tableOffset | p.bar, 0);
    this.cfg.define(at + 8, 4, p.pbaOffset | p.bar, 0);
    this.msixAt = at;
    this.msix = p;
    this.table = new Uint8Array(16 * p.vectors);
    this.pba = new Uint8Array(((p.vectors + 63) >> 6) * 8);
    this.resetTable();
    return at;
  }

  get msixEnabled(): boolean {
    return this.msix !== undefined && (this.cfg.get(this.msixAt + 2, 2) & 0x8000) !== 0;
  }
  get msiEnabled(): boolean {
    return this.msiVectors > 0 && (this.cfg.get(this.msiAt + 2, 2) & 1) !== 0;
  }
  /** Whether interrupts go as messages (so INTx must stay deasserted). */
  get messageMode(): boolean {
    return this.msixEnabled || this.msiEnabled;
  }
  get msixVectorCount(): number {
    return this.msix?.vectors ?? 0;
  }

  /**
   * Signals `vector` as a message. Returns false when the driver enabled neither MSI nor MSI-X
   * (the caller then uses INTx). A masked vector sets its pending bit and fires on unmask.
   */
  deliver(vector: number): boolean {
    if (this.msixEnabled) {
      if (vector >= this.msix!.vectors) return true;
      const functionMasked = (this.cfg.get(this.msixAt + 2, 2) & 0x4000) !== 0;
      if (functionMasked || (this.tableWord(vector, 3) & 1) !== 0) {
        this.pba[vector >> 3]! |= 1 << (vector & 7);
        return true;
      }
      this.send(this.tableWord(vector, 1) * 0x1_0000_0000 + this.tableWord(vector, 0), this.tableWord(vector, 2));
      return true;
    }
    if (this.msiEnabled) {
      const enabled = 1 << ((this.cfg.get(this.msiAt + 2, 2) >> 4) & 7);
      const v = vector < enabled ? vector : 0;
      if ((this.cfg.get(this.msiAt + 0x10, 4) >>> v) & 1) {
        this.cfg.set32(this.msiAt + 0x14, this.cfg.get(this.msiAt + 0x14, 4) | (1 << v));
        return true;
      }
      this.sendMsi(v);
      return true;
    }
    return false;
  }

  /** Whether a BAR access falls on the MSI-X table or PBA. */
  claims(bar: number, offset: number): boolean {
    const p = this.msix;
    if (p === undefined || p.bar !== bar) return false;
    return (
      (offset >= p.tableOffset && offset < p.tableOffset + this.table.length) ||
      (offset >= p.pbaOffset && offset < p.pbaOffset + this.pba.length)
    );
  }

  read(offset: number, size: AccessSize): number {
    const p = this.msix!;
    const [arr, o] = offset >= p.tableOffset && offset < p.tableOffset + this.table.length
      ? [this.table, offset - p.tableOffset]
      : [this.pba, offset - p.pbaOffset];
    let v = 0;
    for (let i = 0; i < size && o + i < arr.length; i++) v |= arr[o + i]! << (8 * i);
    return v >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const p = this.msix!;
    if (!(offset >= p.tableOffset && offset < p.tableOffset + this.table.length)) return; // the PBA is read-only
    const o = offset - p.tableOffset;
    for (let i = 0; i < size && o + i < this.table.length; i++) {
      // Vector control: only the mask bit is defined.
      const isControl = ((o + i) & 0xf) >= 12;
      const byte = (value >>> (8 * i)) & 0xff;
      this.table[o + i] = isControl ? (((o + i) & 0xf) === 12 ? byte & 1 : 0) : byte;
    }
    this.deliverPendingMsix();
  }

  reset(): void {
    this.resetTable();
    this.lostMessages = 0;
  }

  private resetTable(): void {
    this.table.fill(0);
    this.pba.fill(0);
    for (let v = 0; v < this.msixVectorCount; v++) this.table[16 * v + 12] = 1; // masked at reset
  }

  private tableWord(vector: number, word: number): number {
    const o = 16 * vector + 4 * word;
    const t = this.table;
    return (t[o]! | (t[o + 1]! << 8) | (t[o + 2]! << 16) | (t[o + 3]! << 24)) >>> 0;
  }

  private deliverPendingMsix(): void {
    if (!this.msixEnabled || (this.cfg.get(this.msixAt + 2, 2) & 0x4000) !== 0) return;
    for (let v = 0; v < this.msix!.vectors; v++) {
      const bit = 1 << (v & 7);
      if ((this.pba[v >> 3]! & bit) !== 0 && (this.tableWord(v, 3) & 1) === 0) {
        this.pba[v >> 3]! &= ~bit;
        this.send(this.tableWord(v, 1) * 0x1_0000_0000 + this.tableWord(v, 0), this.tableWord(v, 2));
      }
    }
  }

  private deliverPendingMsi(): void {
    if (!this.msiEnabled) return;
    const pending = this.cfg.get(this.msiAt + 0x14, 4);
    const mask = this.cfg.get(this.msiAt + 0x10, 4);
    const fire = pending & ~mask;
    if (fire === 0) return;
    this.cfg.set32(this.msiAt + 0x14, pending & mask);
    for (let v = 0; v < 32; v++) if ((fire >>> v) & 1) this.sendMsi(v);
  }

  private sendMsi(v: number): void {
    const at = this.msiAt;
    const address = this.cfg.get(at + 8, 4) * 0x1_0000_0000 + this.cfg.get(at + 4, 4);
    // The driver aligns the data to the enabled vector count; the function sets the low bits.
    this.send(address, (this.cfg.get(at + 0xc, 2) | v) & 0xffff);
  }

  private send(address: number, data: number): void {
    if (this.controller === undefined) this.lostMessages++;
    else this.controller.signal(this.requester, address, data);
  }
}

function overlaps(offset: number, size: number, at: number, len: number): boolean {
  return offset < at + len && at < offset + size;
}
