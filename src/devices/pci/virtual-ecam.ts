import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { formatBdf, type Bdf } from '../../machine/bdf.js';
import { allOnes, Cfg, validAccess } from './config-space.js';
import { describePciTree } from './describe.js';
import { noDma, type DmaMemory } from '../../machine/guest-memory.js';
import type { PciHostEcam } from './host-bridge.js';
import type { MsiController } from './msi.js';
import type { PciFunction } from './pci-function.js';
import { spaceAccepts, type PciWindow } from './windows.js';
import { HvisorError } from '../../util/hvisor-error.js';

/**
 * One of a zone's PCI windows (hvisor's pci_config mem32/mem64/io triple): the zone reaches zone-PCI
 * [pciBase, pciBase+size) at guest-physical cpuBase; it lands at physical PCI `physicalPciBase`
 * (default: the same address, as in every hvisor example config).
 */
export interface ZonePciWindow extends PciWindow {
  readonly physicalPciBase?: number;
}

export interface ZonePciAssignment {
  readonly zone: string;
  /** hvisor's alloc_pci_devs. */
  readonly devices: readonly Bdf[];
  readonly windows: readonly ZonePciWindow[];
  /** The zone's RAM: the only memory its functions can DMA into. */
  readonly dma: DmaMemory;
  /** The zone's interrupt controller for MSI/MSI-X (undefined: INTx only). */
  readonly msi?: MsiController;
  /** Names of the host bridge's 4 INTx lines, for listings (`monitor pci`). */
  readonly lineNames?: readonly string[];
}

export class PciAssignmentError extends HvisorError {}

/** Why a zone's BAR is currently not decoded (listed by `describe` and the gdb monitor). */
export interface BlockedBar {
  readonly bdf: Bdf;
  readonly bar: number;
  readonly zoneAddress: number;
  readonly size: number;
}

const BAR_WORDS_TYPE0 = 6;
const BAR_WORDS_TYPE1 = 2;

/**
 * A zone's view of the PCI host bridge, as hvisor's vPCI: the zone's ECAM shows only its own
 * functions (the rest read all-ones, as absent devices do), BAR registers are virtual per zone and
 * reach the physical function only when the whole BAR lies in one of the zone's windows, bridge
 * routing registers are read-only, and the zone's window devices forward only to its functions.
 * DMA and MSI of its functions go to the zone's memory and interrupt controller.
 */
export class VirtualEcam {
  readonly ecam: MmioDevice;
  /** One device per zone window, to map at `windows[i].cpuBase` in the zone's stage 2. */
  readonly windowDevices: readonly MmioDevice[];
  readonly zone: string;
  private readonly owned: ReadonlyMap<Bdf, PciFunction>;
  private readonly shadows = new Map<Bdf, Uint32Array>();
  private readonly blockedBars = new Map<string, BlockedBar>();
  /** Guest config writes that were dropped because they would break isolation. */
  filteredWrites = 0;

  constructor(
    readonly host: PciHostEcam,
    private readonly assignment: ZonePciAssignment,
  ) {
    this.zone = assignment.zone;
    const owned = new Map<Bdf, PciFunction>();
    for (const where of assignment.devices) {
      const fn = host.function(where);
      if (fn === undefined) throw new PciAssignmentError(`zone ${this.zone}: alloc_pci_devs names ${formatBdf(where)}, which has no function`);
      if (owned.has(where)) throw new PciAssignmentError(`zone ${this.zone}: ${formatBdf(where)} listed twice`);
      owned.set(where, fn);
    }
    this.owned = owned;
    for (const [i, w] of assignment.windows.entries()) {
      const phys = w.physicalPciBase ?? w.pciBase;
      const inside = host.config.windows.some(
        (h) => (h.space === 'io') === (w.space === 'io') && phys >= h.pciBase && phys + w.size <= h.pciBase + h.size,
      );
      if (!inside) {
        throw new PciAssignmentError(
          `zone ${this.zone}: window ${i} (${w.space}, PCI 0x${phys.toString(16)}+0x${w.size.toString(16)}) is outside the host bridge's windows`,
        );
      }
    }
    for (const [where, fn] of owned) {
      fn.assign(assignment.dma, assignment.msi);
      this.shadows.set(where, this.initialShadow(fn));
      for (let bar = 0; bar < fn.config.bars.length; bar++) if (fn.config.bars[bar] !== undefined) this.apply(where, fn, bar);
    }
    this.ecam = new ZoneEcamDevice(this, host);
    this.windowDevices = assignment.windows.map((w) =>
      host.filteredWindow(w, (b) => owned.has(b), (w.physicalPciBase ?? w.pciBase) - w.pciBase),
    );
  }

  get windows(): readonly ZonePciWindow[] {
    return this.assignment.windows;
  }

  /** The zone's part of the PCI tree as `monitor pci` prints it. */
  describe(): string {
    return describePciTree(this.host, { zone: this, ...(this.assignment.lineNames && { lineNames: this.assignment.lineNames }) });
  }

  owns(where: Bdf): boolean {
    return this.owned.has(where);
  }

  functions(): [Bdf, PciFunction][] {
    return [...this.owned.entries()].sort((a, b) => a[0] - b[0]);
  }

  blocked(): BlockedBar[] {
    return [...this.blockedBars.values()];
  }

  /**
   * The zone (re)starts: its functions get a function-level reset and their BARs read as at power
   * on (unassigned, not decoded), so a restarted guest finds them as a fresh boot would. The host
   * bridge's own function is every zone's and is left alone.
   */
  reset(): void {
    const hostBridge = this.host.config.busStart << 8;
    for (const [where, fn] of this.owned) {
      if (where === hostBridge) continue;
      fn.reset();
      this.shadows.set(where, this.initialShadow(fn));
      for (let bar = 0; bar < fn.config.bars.length; bar++) if (fn.config.bars[bar] !== undefined) this.apply(where, fn, bar);
    }
  }

  /**
   * The zone is gone: its functions are reset and lose its memory and interrupt controller, so
   * nothing (a frame arriving at a NIC) can DMA into RAM that may soon be another zone's.
   */
  detach(): void {
    this.reset();
    const hostBridge = this.host.config.busStart << 8;
    for (const [where, fn] of this.owned) if (where !== hostBridge) fn.assign(noDma, undefined);
  }

  /** The zone-visible value of BAR dword `word` of a function. */
  barShadow(where: Bdf, word: number): number | undefined {
    return this.shadows.get(where)?.[word];
  }

  configRead(where: Bdf, reg: number, size: AccessSize): number {
    const fn = this.owned.get(where);
    if (fn === undefined || !validAccess(reg, size)) return allOnes(size);
    const words = fn.config.headerType === 0 ? BAR_WORDS_TYPE0 : BAR_WORDS_TYPE1;
    if (reg >= Cfg.Bar0 && reg < Cfg.Bar0 + 4 * words) {
      const dword = this.shadows.get(where)![(reg - Cfg.Bar0) >> 2]!;
      const v = dword >>> (8 * (reg & 3));
      return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
    }
    return fn.config.read(reg, size);
  }

  configWrite(where: Bdf, reg: number, size: AccessSize, value: number): void {
    const fn = this.owned.get(where);
    if (fn === undefined || !validAccess(reg, size)) return;
    const cfg = fn.config;
    const words = cfg.headerType === 0 ? BAR_WORDS_TYPE0 : BAR_WORDS_TYPE1;
    if (reg >= Cfg.Bar0 && reg < Cfg.Bar0 + 4 * words) {
      const shadow = this.shadows.get(where)!;
      const word = (reg - Cfg.Bar0) >> 2;
      const shift = 8 * (reg & 3);
      const laneMask = (size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff) << shift;
      const merged = ((shadow[word]! & ~laneMask) | ((value << shift) & laneMask)) >>> 0;
      shadow[word] = cfg.masked(Cfg.Bar0 + 4 * word, 4, shadow[word]!, merged);
      const bar = cfg.bars[word] !== undefined ? word : word - 1;
      if (bar >= 0 && cfg.bars[bar] !== undefined) this.apply(where, fn, bar);
      return;
    }
    // A bridge's bus numbers and forwarding windows route other zones' traffic: not the zone's to change.
    if (cfg.headerType === 1 && reg >= Cfg.PrimaryBus && reg < Cfg.CapabilitiesPointer) {
      if (cfg.isWritable(reg, size)) this.filteredWrites++;
      return;
    }
    cfg.write(reg, size, value);
  }

  private initialShadow(fn: PciFunction): Uint32Array {
    const cfg = fn.config;
    const words = cfg.headerType === 0 ? BAR_WORDS_TYPE0 : BAR_WORDS_TYPE1;
    const shadow = new Uint32Array(words);
    for (let w = 0; w < words; w++) shadow[w] = cfg.get(Cfg.Bar0 + 4 * w, 4);
    for (let bar = 0; bar < words; bar++) {
      const spec = cfg.bars[bar];
      if (spec === undefined) continue;
      const phys = cfg.barAddress(bar)!;
      const w = this.assignment.windows.find((x) => {
        const p = x.physicalPciBase ?? x.pciBase;
        return spaceAccepts(x, spec.kind === 'io') && phys >= p && phys + spec.size <= p + x.size;
      });
      const zoneAddr = w === undefined ? 0 : phys - (w.physicalPciBase ?? w.pciBase) + w.pciBase;
      const flags = shadow[bar]! & (spec.kind === 'io' ? 0x3 : 0xf);
      shadow[bar] = ((zoneAddr % 0x1_0000_0000) | flags) >>> 0;
      if (spec.kind === 'mem64') shadow[bar + 1] = Math.floor(zoneAddr / 0x1_0000_0000);
    }
    return shadow;
  }

  /** Programs the physical BAR from the zone's shadow when it lies in a zone window, else blocks it. */
  private apply(where: Bdf, fn: PciFunction, bar: number): void {
    const spec = fn.config.bars[bar]!;
    const shadow = this.shadows.get(where)!;
    const io = spec.kind === 'io';
    const lo = shadow[bar]! & (io ? ~0x3 : ~0xf);
    const zoneAddr = (spec.kind === 'mem64' ? shadow[bar + 1]! * 0x1_0000_0000 : 0) + (lo >>> 0);
    const w = this.assignment.windows.find(
      (x) => spaceAccepts(x, io) && zoneAddr >= x.pciBase && zoneAddr + spec.size <= x.pciBase + x.size,
    );
    const key = `${where}:${bar}`;
    if (w === undefined) {
      this.host.setBarBlocked(where, bar, true);
      this.blockedBars.set(key, { bdf: where, bar, zoneAddress: zoneAddr, size: spec.size });
      return;
    }
    const phys = zoneAddr - w.pciBase + (w.physicalPciBase ?? w.pciBase);
    const reg = Cfg.Bar0 + 4 * bar;
    fn.config.write(reg, 4, phys % 0x1_0000_0000);
    if (spec.kind === 'mem64') fn.config.write(reg + 4, 4, Math.floor(phys / 0x1_0000_0000));
    this.host.setBarBlocked(where, bar, false);
    this.blockedBars.delete(key);
  }
}

class ZoneEcamDevice implements MmioDevice {
  readonly name = 'pci-vecam';
  constructor(
    readonly view: VirtualEcam,
    private readonly host: PciHostEcam,
  ) {}

  read(offset: number, size: AccessSize): number {
    const at = this.host.decodeEcam(offset);
    return at === undefined ? allOnes(size) : this.view.configRead(at.bdf, at.register, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const at = this.host.decodeEcam(offset);
    if (at !== undefined) this.view.configWrite(at.bdf, at.register, size, value);
  }

  peek(offset: number, size: AccessSize): number {
    return this.read(offset, size);
  }

  reset(): void {
    this.view.reset();
  }
}

/**
 * The partition check for PCI: every BDF belongs to at most one zone, and zones' windows do not
 * overlap in physical PCI space. Throws naming both owners.
 */
export function checkPciPartition(zones: readonly Pick<ZonePciAssignment, 'zone' | 'devices' | 'windows'>[]): void {
  const owner = new Map<Bdf, string>();
  for (const z of zones) {
    for (const d of z.devices) {
      const had = owner.get(d);
      if (had !== undefined) throw new PciAssignmentError(`PCI function ${formatBdf(d)} is given to both zone ${had} and zone ${z.zone}`);
      owner.set(d, z.zone);
    }
  }
  const spans: { zone: string; io: boolean; from: number; to: number }[] = [];
  for (const z of zones) {
    for (const w of z.windows) {
      const from = w.physicalPciBase ?? w.pciBase;
      const span = { zone: z.zone, io: w.space === 'io', from, to: from + w.size };
      const clash = spans.find((s) => s.zone !== z.zone && s.io === span.io && s.from < span.to && span.from < s.to);
      if (clash !== undefined) {
        throw new PciAssignmentError(
          `PCI ${span.io ? 'I/O' : 'memory'} window 0x${from.toString(16)}+0x${w.size.toString(16)} of zone ${z.zone} overlaps one of zone ${clash.zone}`,
        );
      }
      spans.push(span);
    }
  }
}
