import type { IrqLine } from '../../machine/irq-line.js';
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { bdf as makeBdf, bdfBus, bdfDevice, formatBdf, type Bdf } from '../../machine/bdf.js';
import { allOnes } from './config-space.js';
import type { PciFunction } from './pci-function.js';
import type { PciWindow } from './windows.js';
import { HvisorError } from '../../util/hvisor-error.js';

export interface PciHostConfig {
  /** Size of the ECAM window: 1 MiB per bus of `bus-range`. */
  readonly ecamSize: number;
  readonly busStart: number;
  readonly busEnd: number;
  readonly windows: readonly PciWindow[];
}

export class PciHostConfigError extends HvisorError {}

/** A BAR the bridge currently forwards to: set by the function's BAR and its command decode bits. */
export interface DecodedBar {
  readonly fn: PciFunction;
  readonly bdf: Bdf;
  readonly bar: number;
  readonly io: boolean;
  readonly base: number;
  readonly size: number;
}

/**
 * A `pci-host-ecam-generic` host bridge (QEMU virt's `pcie@...`): an ECAM window (1 MiB per bus,
 * 4 KiB per function), CPU ↔ PCI windows from `ranges`, and INTA..INTD of the root bus swizzled
 * onto 4 interrupt lines, as virt's interrupt-map does: slot s, pin p (1..4) → line (s + p - 1) % 4.
 */
export class PciHostEcam {
  readonly ecam: MmioDevice;
  readonly windowDevices: readonly MmioDevice[];
  private readonly slots = new Map<Bdf, PciFunction>();
  private decoded: DecodedBar[] = [];
  private dirty = true;
  private readonly intxAsserted = new Map<Bdf, boolean>();
  private readonly lineCount = [0, 0, 0, 0];
  /** BARs a zone's virtual ECAM placed outside that zone's windows: kept out of decode (bit i = BAR i). */
  private readonly blocked = new Map<Bdf, number>();

  constructor(
    readonly config: PciHostConfig,
    /** INTA..INTD lines of the interrupt-map (slot 0); empty when INTx is not wired. */
    private readonly intx: readonly IrqLine[] = [],
  ) {
    const { busStart, busEnd, ecamSize } = config;
    if (!(busStart >= 0 && busEnd <= 255 && busStart <= busEnd)) {
      throw new PciHostConfigError(`bus-range <${busStart} ${busEnd}> is not within 0..255`);
    }
    if (ecamSize < (busEnd - busStart + 1) * 0x10_0000) {
      throw new PciHostConfigError(`ECAM window of 0x${ecamSize.toString(16)} bytes is too small for buses ${busStart}..${busEnd}`);
    }
    if (intx.length !== 0 && intx.length !== 4) throw new PciHostConfigError(`INTx needs 4 lines, got ${intx.length}`);
    const ws = config.windows;
    for (let i = 0; i < ws.length; i++) {
      const a = ws[i]!;
      if (!(a.size > 0)) throw new PciHostConfigError(`window ${i} (${a.space}) is empty`);
      for (let j = 0; j < i; j++) {
        const b = ws[j]!;
        const sameSpace = (a.space === 'io') === (b.space === 'io');
        if (sameSpace && a.pciBase < b.pciBase + b.size && b.pciBase < a.pciBase + a.size) {
          throw new PciHostConfigError(`windows ${j} and ${i} overlap in PCI ${a.space === 'io' ? 'I/O' : 'memory'} space`);
        }
      }
    }
    this.ecam = new EcamDevice(this);
    this.windowDevices = ws.map((w) => new PciWindowDevice(this, w, undefined));
  }

  /** Plugs a function in at `where`; throws if the slot is taken or outside the bus range. */
  add(where: Bdf, fn: PciFunction): void {
    const bus = bdfBus(where);
    if (bus < this.config.busStart || bus > this.config.busEnd) {
      throw new PciHostConfigError(`${formatBdf(where)} (${fn.name}) is outside bus-range ${this.config.busStart}..${this.config.busEnd}`);
    }
    const had = this.slots.get(where);
    if (had !== undefined) throw new PciHostConfigError(`${formatBdf(where)} is taken by ${had.name}, cannot add ${fn.name}`);
    this.slots.set(where, fn);
    fn.config.onWrite(() => (this.dirty = true));
    fn.plug({ bdf: where, intx: (level) => this.setIntx(where, level) });
    this.dirty = true;
  }

  function(where: Bdf): PciFunction | undefined {
    return this.slots.get(where);
  }

  /** All functions, in bus/device/function order. */
  functions(): [Bdf, PciFunction][] {
    return [...this.slots.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** ECAM offset → BDF and register, or undefined outside the bus range. */
  decodeEcam(offset: number): { bdf: Bdf; register: number } | undefined {
    const bus = this.config.busStart + Math.floor(offset / 0x10_0000);
    if (!(offset >= 0) || bus > this.config.busEnd) return undefined;
    return { bdf: makeBdf(bus, (offset >>> 15) & 0x1f, (offset >>> 12) & 7), register: offset & 0xfff };
  }

  /** The INTx line (0..3 = the interrupt-map's lines for slot 0's INTA..INTD) a function drives, if any. */
  intxLine(where: Bdf): number | undefined {
    const pin = this.slots.get(where)?.config.interruptPin ?? 0;
    if (pin < 1 || pin > 4) return undefined;
    return (bdfDevice(where) + pin - 1) & 3;
  }

  /** The BAR that decodes `pciAddr` in I/O or memory space (undefined = nobody claims it). */
  lookup(io: boolean, pciAddr: number): DecodedBar | undefined {
    if (this.dirty) this.rebuild();
    const d = this.decoded;
    for (let i = 0; i < d.length; i++) {
      const e = d[i]!;
      if (e.io === io && pciAddr >= e.base && pciAddr - e.base < e.size) return e;
    }
    return undefined;
  }

  /** Currently decoded BARs (for listings and tests). */
  decodedBars(): readonly DecodedBar[] {
    if (this.dirty) this.rebuild();
    return this.decoded;
  }

  setBarBlocked(where: Bdf, bar: number, blocked: boolean): void {
    const m = this.blocked.get(where) ?? 0;
    this.blocked.set(where, blocked ? m | (1 << bar) : m & ~(1 << bar));
    this.dirty = true;
  }

  /** A window device that forwards only to the functions `owned` accepts (a zone's view). */
  filteredWindow(w: PciWindow, owned: (where: Bdf) => boolean, translate = 0): MmioDevice {
    return new PciWindowDevice(this, w, owned, translate);
  }

  cpuToPci(cpuAddr: number): { window: PciWindow; pciAddr: number } | undefined {
    for (const w of this.config.windows) {
      if (cpuAddr >= w.cpuBase && cpuAddr - w.cpuBase < w.size) return { window: w, pciAddr: cpuAddr - w.cpuBase + w.pciBase };
    }
    return undefined;
  }

  pciToCpu(io: boolean, pciAddr: number): number | undefined {
    for (const w of this.config.windows) {
      if ((w.space === 'io') === io && pciAddr >= w.pciBase && pciAddr - w.pciBase < w.size) return pciAddr - w.pciBase + w.cpuBase;
    }
    return undefined;
  }

  reset(): void {
    for (const fn of this.slots.values()) fn.reset();
    this.dirty = true;
  }

  private rebuild(): void {
    const out: DecodedBar[] = [];
    for (const [where, fn] of this.functions()) {
      const cfg = fn.config;
      const blocked = this.blocked.get(where) ?? 0;
      cfg.bars.forEach((spec, bar) => {
        if (spec === undefined || (blocked >> bar) & 1) return;
        const io = spec.kind === 'io';
        if (io ? !cfg.ioDecode : !cfg.memoryDecode) return;
        const base = cfg.barAddress(bar)!;
        // A BAR is forwarded only where a window reaches it (an unassigned BAR at 0 is not, unless a window starts at 0).
        const reachable = this.config.windows.some(
          (w) => (w.space === 'io') === io && base >= w.pciBase && base + spec.size <= w.pciBase + w.size,
        );
        if (reachable) out.push({ fn, bdf: where, bar, io, base, size: spec.size });
      });
    }
    this.decoded = out;
    this.dirty = false;
  }

  private setIntx(where: Bdf, level: boolean): void {
    const was = this.intxAsserted.get(where) ?? false;
    if (was === level) return;
    this.intxAsserted.set(where, level);
    const line = this.intxLine(where);
    if (line === undefined || this.intx.length === 0) return;
    this.lineCount[line]! += level ? 1 : -1;
    const count = this.lineCount[line]!;
    // Wired-OR: the line follows whether any function on it is asserting.
    if ((level && count === 1) || (!level && count === 0)) this.intx[line]!.set(level);
  }
}

class EcamDevice implements MmioDevice {
  readonly name = 'pci-host-ecam-generic';
  constructor(private readonly host: PciHostEcam) {}

  read(offset: number, size: AccessSize): number {
    const at = this.host.decodeEcam(offset);
    const fn = at === undefined ? undefined : this.host.function(at.bdf);
    return fn === undefined ? allOnes(size) : fn.config.read(at!.register, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const at = this.host.decodeEcam(offset);
    if (at !== undefined) this.host.function(at.bdf)?.config.write(at.register, size, value);
  }

  peek(offset: number, size: AccessSize): number {
    return this.read(offset, size);
  }

  reset(): void {
    this.host.reset();
  }
}

/**
 * CPU accesses into one window, forwarded to the BAR that decodes them. `owned` restricts it to a
 * zone's functions; `translate` shifts zone-PCI addresses to physical PCI addresses.
 */
class PciWindowDevice implements MmioDevice {
  readonly name: string;
  private readonly io: boolean;

  constructor(
    private readonly host: PciHostEcam,
    private readonly window: PciWindow,
    private readonly owned: ((where: Bdf) => boolean) | undefined,
    private readonly translate = 0,
  ) {
    this.name = `pci-${window.space}`;
    this.io = window.space === 'io';
  }

  read(offset: number, size: AccessSize): number {
    const pci = this.window.pciBase + offset + this.translate;
    const e = this.host.lookup(this.io, pci);
    if (e === undefined || (this.owned !== undefined && !this.owned(e.bdf))) return allOnes(size);
    return e.fn.barRead(e.bar, pci - e.base, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const pci = this.window.pciBase + offset + this.translate;
    const e = this.host.lookup(this.io, pci);
    if (e === undefined || (this.owned !== undefined && !this.owned(e.bdf))) return;
    e.fn.barWrite(e.bar, pci - e.base, size, value);
  }

  reset(): void {}
}
