import type { AccessSize } from '../../machine/mmio-device.js';
import { HvisorError } from '../../util/hvisor-error.js';

/** Offsets of the common configuration header (PCI Local Bus 3.0 §6.1, PCIe Base §7.5.1). */
export const Cfg = {
  VendorId: 0x00,
  DeviceId: 0x02,
  Command: 0x04,
  Status: 0x06,
  Revision: 0x08,
  ClassCode: 0x09,
  CacheLineSize: 0x0c,
  LatencyTimer: 0x0d,
  HeaderType: 0x0e,
  Bar0: 0x10,
  SubsystemVendorId: 0x2c,
  SubsystemId: 0x2e,
  RomBase: 0x30,
  CapabilitiesPointer: 0x34,
  InterruptLine: 0x3c,
  InterruptPin: 0x3d,
  // Type 1 (bridge) header
  PrimaryBus: 0x18,
  SecondaryBus: 0x19,
  SubordinateBus: 0x1a,
  IoBase: 0x1c,
  IoLimit: 0x1d,
  SecondaryStatus: 0x1e,
  MemoryBase: 0x20,
  MemoryLimit: 0x22,
  PrefMemoryBase: 0x24,
  PrefMemoryLimit: 0x26,
  PrefBaseUpper: 0x28,
  PrefLimitUpper: 0x2c,
  BridgeRomBase: 0x38,
  BridgeControl: 0x3e,
} as const;

export const Command = { Io: 1 << 0, Memory: 1 << 1, BusMaster: 1 << 2, IntxDisable: 1 << 10 } as const;
export const Status = { InterruptStatus: 1 << 3, CapabilitiesList: 1 << 4 } as const;

/** Size of one function's configuration space (PCIe extended space; ECAM gives 4 KiB per function). */
export const CONFIG_SPACE_SIZE = 4096;

export type BarKind = 'mem32' | 'mem64' | 'io';

/** A base address register as the device model declares it; `size` is a power of two. */
export interface BarSpec {
  readonly kind: BarKind;
  readonly size: number;
  readonly prefetchable?: boolean;
}

export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  /** base class << 16 | subclass << 8 | programming interface, e.g. 0x010802 for NVMe. */
  readonly classCode: number;
  readonly revision?: number;
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  /** 0 = endpoint, 1 = PCI-to-PCI bridge. */
  readonly headerType?: 0 | 1;
  readonly multiFunction?: boolean;
  /** 0 = no INTx, 1..4 = INTA..INTD. */
  readonly interruptPin?: number;
}

export class BarSpecError extends HvisorError {}

/**
 * One function's 4 KiB configuration space as bytes plus per-byte masks: which bits a guest
 * write changes, and which are write-1-to-clear. BAR sizing then falls out of the masks exactly as
 * in hardware: writing all-ones leaves the address bits above the size set, and reading back gives
 * the size. Device models set read-only values with the raw setters; the guest goes through
 * `read`/`write`, which reject unaligned and out-of-range accesses (all-ones / ignored).
 */
export class PciConfigSpace {
  readonly bytes = new Uint8Array(CONFIG_SPACE_SIZE);
  private readonly writable = new Uint8Array(CONFIG_SPACE_SIZE);
  private readonly clearable = new Uint8Array(CONFIG_SPACE_SIZE);
  private powerOn: Uint8Array | undefined;
  readonly headerType: 0 | 1;
  /** BAR i as declared; the upper half of a 64-bit BAR is undefined. */
  readonly bars: (BarSpec | undefined)[];
  private nextCapOffset = 0x40;
  /** [start, end) of every capability placed so far, to refuse overlaps of fixed placements. */
  private readonly capSpans: [number, number][] = [];
  private readonly listeners: ((offset: number, size: AccessSize) => void)[] = [];

  constructor(id: PciIdentity, bars: readonly (BarSpec | undefined)[] = []) {
    this.headerType = id.headerType ?? 0;
    const maxBars = this.headerType === 0 ? 6 : 2;
    this.bars = new Array<BarSpec | undefined>(maxBars).fill(undefined);
    this.set16(Cfg.VendorId, id.vendorId);
    this.set16(Cfg.DeviceId, id.deviceId);
    this.set8(Cfg.Revision, id.revision ?? 0);
    this.set8(Cfg.ClassCode, id.classCode & 0xff);
    this.set16(Cfg.ClassCode + 1, (id.classCode >>> 8) & 0xffff);
    this.set8(Cfg.HeaderType, this.headerType | (id.multiFunction === true ? 0x80 : 0));
    this.define(Cfg.Command, 2, 0, 0x0547);
    this.define(Cfg.Status, 2, 0, 0, 0xf900);
    this.define(Cfg.CacheLineSize, 1, 0, 0xff);
    this.define(Cfg.InterruptLine, 1, 0, 0xff);
    this.set8(Cfg.InterruptPin, id.interruptPin ?? 0);
    if (this.headerType === 0) {
      this.set16(Cfg.SubsystemVendorId, id.subsystemVendorId ?? 0);
      this.set16(Cfg.SubsystemId, id.subsystemId ?? 0);
    } else {
      this.defineBridgeRegisters();
    }
    for (let i = 0; i < bars.length; i++) {
      const b = bars[i];
      if (b !== undefined) this.declareBar(i, b);
    }
  }

  /** Called after every guest write, with the written range (decode, MSI, bridge windows react). */
  onWrite(listener: (offset: number, size: AccessSize) => void): void {
    this.listeners.push(listener);
  }

  /** Guest read. Unaligned or out-of-range accesses read all-ones. */
  read(offset: number, size: AccessSize): number {
    if (!validAccess(offset, size)) return allOnes(size);
    return this.get(offset, size);
  }

  /** Guest write through the masks. Unaligned or out-of-range accesses are ignored. */
  write(offset: number, size: AccessSize, value: number): void {
    if (!validAccess(offset, size)) return;
    const b = this.bytes;
    for (let i = 0; i < size; i++) {
      const v = (value >>> (8 * i)) & 0xff;
      const o = offset + i;
      const w = this.writable[o]!;
      b[o] = ((b[o]! & ~w) | (v & w)) & ~(v & this.clearable[o]!);
    }
    for (const l of this.listeners) l(offset, size);
  }

  // ---- raw access for device models (no masks, no listeners) ----
  get(offset: number, size: AccessSize): number {
    const b = this.bytes;
    if (size === 1) return b[offset]!;
    if (size === 2) return b[offset]! | (b[offset + 1]! << 8);
    return (b[offset]! | (b[offset + 1]! << 8) | (b[offset + 2]! << 16) | (b[offset + 3]! << 24)) >>> 0;
  }
  set8(offset: number, v: number): void {
    this.bytes[offset] = v;
  }
  set16(offset: number, v: number): void {
    this.bytes[offset] = v;
    this.bytes[offset + 1] = v >>> 8;
  }
  set32(offset: number, v: number): void {
    for (let i = 0; i < 4; i++) this.bytes[offset + i] = v >>> (8 * i);
  }

  /** Declares a register: initial value, guest-writable bits and write-1-to-clear bits. */
  define(offset: number, size: 1 | 2 | 4, initial: number, writable: number, clearable = 0): void {
    for (let i = 0; i < size; i++) {
      this.bytes[offset + i] = initial >>> (8 * i);
      this.writable[offset + i] = writable >>> (8 * i);
      this.clearable[offset + i] = clearable >>> (8 * i);
    }
  }

  /** Whether a guest write may change any bit of [offset, offset+size). */
  isWritable(offset: number, size: number): boolean {
    for (let i = 0; i < size; i++) if ((this.writable[offset + i]! | this.clearable[offset + i]!) !== 0) return true;
    return false;
  }

  /** Applies `value` through the write masks without notifying listeners (virtual ECAM shadows use it). */
  masked(offset: number, size: AccessSize, old: number, value: number): number {
    let out = 0;
    for (let i = 0; i < size; i++) {
      const w = this.writable[offset + i]!;
      const o = (old >>> (8 * i)) & 0xff;
      const v = (value >>> (8 * i)) & 0xff;
      out |= ((o & ~w) | (v & w)) << (8 * i);
    }
    return out >>> 0;
  }

  /** The state `reset` returns to; models call it once their constructor has set everything. */
  markPowerOnState(): void {
    this.powerOn = this.bytes.slice();
  }

  reset(): void {
    if (this.powerOn !== undefined) this.bytes.set(this.powerOn);
    for (const l of this.listeners) l(0, 4);
  }

  get command(): number {
    return this.get(Cfg.Command, 2);
  }
  get memoryDecode(): boolean {
    return (this.command & Command.Memory) !== 0;
  }
  get ioDecode(): boolean {
    return (this.command & Command.Io) !== 0;
  }
  get busMaster(): boolean {
    return (this.command & Command.BusMaster) !== 0;
  }
  get intxDisabled(): boolean {
    return (this.command & Command.IntxDisable) !== 0;
  }
  get vendorId(): number {
    return this.get(Cfg.VendorId, 2);
  }
  get deviceId(): number {
    return this.get(Cfg.DeviceId, 2);
  }
  get classCode(): number {
    return this.get(Cfg.ClassCode, 2) | (this.get(Cfg.ClassCode + 2, 1) << 16);
  }
  get interruptPin(): number {
    return this.get(Cfg.InterruptPin, 1);
  }

  /** Status bit 3 mirrors the function's INTx state, whether or not INTx is disabled. */
  setInterruptStatus(pending: boolean): void {
    const s = this.get(Cfg.Status, 1);
    this.set8(Cfg.Status, pending ? s | Status.InterruptStatus : s & ~Status.InterruptStatus);
  }

  /** BAR i's PCI bus address as programmed (undefined when i is not a BAR start). */
  barAddress(i: number): number | undefined {
    const spec = this.bars[i];
    if (spec === undefined) return undefined;
    const lo = this.get(Cfg.Bar0 + 4 * i, 4);
    if (spec.kind === 'io') return (lo & ~0x3) >>> 0;
    const base = (lo & ~0xf) >>> 0;
    if (spec.kind === 'mem32') return base;
    return this.get(Cfg.Bar0 + 4 * i + 4, 4) * 0x1_0000_0000 + base;
  }

  /**
   * Adds a capability and returns its offset. It goes at `fixedAt` when given (devices whose layout
   * drivers or firmware know, as QEMU fixes NVMe's), else at the next free dword-aligned offset below
   * 0x100. It is linked at the head of the list, as QEMU links them, so a driver walks the newest
   * first. Body registers are declared by the caller with `define`.
   */
  addCapability(id: number, length: number, fixedAt?: number): number {
    const at = fixedAt ?? this.nextCapOffset;
    const name = `capability 0x${id.toString(16)}`;
    if (at < 0x40 || at % 4 !== 0 || at + length > 0x100) throw new BarSpecError(`${name} at 0x${at.toString(16)} does not fit in 0x40..0x100`);
    const clash = this.capSpans.find(([s, e]) => at < e && s < at + length);
    if (clash) throw new BarSpecError(`${name} at 0x${at.toString(16)} overlaps the capability at 0x${clash[0].toString(16)}`);
    this.capSpans.push([at, at + length]);
    this.set8(at, id);
    this.set8(at + 1, this.get(Cfg.CapabilitiesPointer, 1));
    this.set8(Cfg.CapabilitiesPointer, at);
    this.nextCapOffset = Math.max(this.nextCapOffset, (at + length + 3) & ~3);
    this.set8(Cfg.Status, this.get(Cfg.Status, 1) | Status.CapabilitiesList);
    return at;
  }

  /** Offsets of the capabilities with this id, walking the list as a driver does. */
  findCapabilities(id: number): number[] {
    const out: number[] = [];
    let p = this.get(Cfg.CapabilitiesPointer, 1) & ~3;
    for (let guard = 0; p !== 0 && guard < 48; guard++) {
      if (this.get(p, 1) === id) out.push(p);
      p = this.get(p + 1, 1) & ~3;
    }
    return out;
  }

  private declareBar(i: number, spec: BarSpec): void {
    const max = this.bars.length;
    const words = spec.kind === 'mem64' ? 2 : 1;
    if (i + words > max) throw new BarSpecError(`BAR ${i} (${spec.kind}) does not fit in a type ${this.headerType} header`);
    const min = spec.kind === 'io' ? 4 : 16;
    if (!(spec.size >= min && Number.isInteger(Math.log2(spec.size)))) {
      throw new BarSpecError(`BAR ${i}: size ${spec.size} must be a power of two of at least ${min}`);
    }
    if (spec.kind === 'io' && spec.size > 256) throw new BarSpecError(`BAR ${i}: I/O BARs are at most 256 bytes`);
    if (spec.kind === 'mem32' && spec.size > 0x8000_0000) throw new BarSpecError(`BAR ${i}: a 32-bit BAR is at most 2 GiB`);
    if (this.bars[i] !== undefined || (words === 2 && this.bars[i + 1] !== undefined)) {
      throw new BarSpecError(`BAR ${i} declared twice`);
    }
    this.bars[i] = spec;
    const at = Cfg.Bar0 + 4 * i;
    const addressMask = ~(BigInt(spec.size) - 1n) & 0xffff_ffff_ffff_ffffn;
    if (spec.kind === 'io') {
      this.define(at, 4, 0x1, Number(addressMask & 0xffff_fffcn));
      return;
    }
    const flags = (spec.kind === 'mem64' ? 0x4 : 0) | (spec.prefetchable === true ? 0x8 : 0);
    this.define(at, 4, flags, Number(addressMask & 0xffff_fff0n));
    if (spec.kind === 'mem64') this.define(at + 4, 4, 0, Number(addressMask >> 32n));
  }

  private defineBridgeRegisters(): void {
    this.define(Cfg.PrimaryBus, 1, 0, 0xff);
    this.define(Cfg.SecondaryBus, 1, 0, 0xff);
    this.define(Cfg.SubordinateBus, 1, 0, 0xff);
    this.define(Cfg.IoBase, 1, 0, 0xf0);
    this.define(Cfg.IoLimit, 1, 0, 0xf0);
    this.define(Cfg.SecondaryStatus, 2, 0, 0, 0xf900);
    this.define(Cfg.MemoryBase, 2, 0, 0xfff0);
    this.define(Cfg.MemoryLimit, 2, 0, 0xfff0);
    this.define(Cfg.PrefMemoryBase, 2, 0x1, 0xfff0);
    this.define(Cfg.PrefMemoryLimit, 2, 0x1, 0xfff0);
    this.define(Cfg.PrefBaseUpper, 4, 0, 0xffff_ffff);
    this.define(Cfg.PrefLimitUpper, 4, 0, 0xffff_ffff);
    this.define(Cfg.BridgeControl, 2, 0, 0x0bff);
  }
}

export function validAccess(offset: number, size: number): boolean {
  return (
    (size === 1 || size === 2 || size === 4) &&
    Number.isInteger(offset) &&
    offset >= 0 &&
    offset + size <= CONFIG_SPACE_SIZE &&
    offset % size === 0
  );
}

export function allOnes(size: number): number {
  return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
}
