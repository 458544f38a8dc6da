/**
 * A test-only enumerator that walks an ECAM window as Linux's pci-host-generic + pci core do:
 * probe vendor ids per bus/device/function (functions 1..7 only when function 0 is multi-function),
 * size BARs with the all-ones probe while decode is off, assign addresses from the bridge windows
 * (prefetchable 64-bit BARs to the 64-bit window, the rest to 32-bit memory, I/O BARs to I/O),
 * enable decode and bus mastering, and walk the capability list.
 */
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import type { PciWindow } from '../../src/devices/pci/windows.js';

export interface FoundBar {
  index: number;
  io: boolean;
  is64: boolean;
  prefetchable: boolean;
  size: number;
  /** PCI address assigned, and the CPU address the driver uses. */
  pci: number;
  cpu: number;
}

export interface FoundFunction {
  bus: number;
  device: number;
  fn: number;
  vendor: number;
  deviceId: number;
  classCode: number;
  headerType: number;
  pin: number;
  bars: FoundBar[];
  capabilities: { id: number; offset: number }[];
}

export class Enumerator {
  private readonly next = new Map<PciWindow, number>();
  constructor(
    private readonly ecam: MmioDevice,
    private readonly windows: readonly PciWindow[],
    private readonly busStart = 0,
    private readonly busEnd = 0,
  ) {
    for (const w of windows) this.next.set(w, w.pciBase === 0 && w.space === 'io' ? 0x1000 : w.pciBase);
  }

  cfgRead(bus: number, dev: number, fn: number, reg: number, size: 1 | 2 | 4 = 4): number {
    return this.ecam.read(this.at(bus, dev, fn, reg), size) >>> 0;
  }
  cfgWrite(bus: number, dev: number, fn: number, reg: number, value: number, size: 1 | 2 | 4 = 4): void {
    this.ecam.write(this.at(bus, dev, fn, reg), size, value >>> 0);
  }

  enumerate(): FoundFunction[] {
    const out: FoundFunction[] = [];
    for (let bus = this.busStart; bus <= this.busEnd; bus++) {
      for (let dev = 0; dev < 32; dev++) {
        const first = this.probe(bus, dev, 0);
        if (first === undefined) continue;
        out.push(first);
        if ((first.headerType & 0x80) === 0) continue;
        for (let fn = 1; fn < 8; fn++) {
          const f = this.probe(bus, dev, fn);
          if (f !== undefined) out.push(f);
        }
      }
    }
    return out;
  }

  private probe(bus: number, dev: number, fn: number): FoundFunction | undefined {
    const id = this.cfgRead(bus, dev, fn, 0);
    const vendor = id & 0xffff;
    if (vendor === 0xffff || vendor === 0) return undefined;
    const headerType = this.cfgRead(bus, dev, fn, 0x0e, 1);
    const classCode = this.cfgRead(bus, dev, fn, 0x08) >>> 8;
    const cmd = this.cfgRead(bus, dev, fn, 0x04, 2);
    this.cfgWrite(bus, dev, fn, 0x04, cmd & ~3, 2); // decode off while sizing
    const bars: FoundBar[] = [];
    const nbars = (headerType & 0x7f) === 0 ? 6 : 2;
    for (let i = 0; i < nbars; i++) {
      const reg = 0x10 + 4 * i;
      const orig = this.cfgRead(bus, dev, fn, reg);
      this.cfgWrite(bus, dev, fn, reg, 0xffff_ffff);
      const probed = this.cfgRead(bus, dev, fn, reg);
      this.cfgWrite(bus, dev, fn, reg, orig);
      if (probed === 0) continue;
      const io = (probed & 1) === 1;
      const is64 = !io && (probed & 6) === 4;
      let mask = io ? BigInt(probed & ~3) & 0xffffn : BigInt(probed & ~0xf) & 0xffff_ffffn;
      if (is64) {
        const origHi = this.cfgRead(bus, dev, fn, reg + 4);
        this.cfgWrite(bus, dev, fn, reg + 4, 0xffff_ffff);
        mask |= BigInt(this.cfgRead(bus, dev, fn, reg + 4)) << 32n;
        this.cfgWrite(bus, dev, fn, reg + 4, origHi);
      } else if (!io) {
        mask |= 0xffff_ffffn << 32n;
      } else {
        mask |= 0xffff_ffff_ffff_0000n;
      }
      const size = Number((~mask & 0xffff_ffff_ffff_ffffn) + 1n);
      const prefetchable = !io && (probed & 8) !== 0;
      const w = this.pick(io, is64 && prefetchable);
      const pci = this.allocate(w, size);
      this.cfgWrite(bus, dev, fn, reg, (pci % 0x1_0000_0000) >>> 0);
      if (is64) this.cfgWrite(bus, dev, fn, reg + 4, Math.floor(pci / 0x1_0000_0000));
      bars.push({ index: i, io, is64, prefetchable, size, pci, cpu: pci - w.pciBase + w.cpuBase });
      if (is64) i++;
    }
    const anyIo = bars.some((b) => b.io);
    const anyMem = bars.some((b) => !b.io);
    this.cfgWrite(bus, dev, fn, 0x04, cmd | (anyIo ? 1 : 0) | (anyMem ? 2 : 0) | 4, 2);
    const capabilities: { id: number; offset: number }[] = [];
    if (this.cfgRead(bus, dev, fn, 0x06, 2) & 0x10) {
      let p = this.cfgRead(bus, dev, fn, 0x34, 1) & ~3;
      for (let guard = 0; p !== 0 && guard < 48; guard++) {
        capabilities.push({ id: this.cfgRead(bus, dev, fn, p, 1), offset: p });
        p = this.cfgRead(bus, dev, fn, p + 1, 1) & ~3;
      }
    }
    return {
      bus, device: dev, fn, vendor, deviceId: id >>> 16, classCode, headerType,
      pin: this.cfgRead(bus, dev, fn, 0x3d, 1), bars, capabilities,
    };
  }

  private pick(io: boolean, pref64: boolean): PciWindow {
    const want = io ? 'io' : pref64 ? 'mem64' : 'mem32';
    const w = this.windows.find((x) => x.space === want) ?? this.windows.find((x) => !io && x.space === 'mem32');
    if (w === undefined) throw new Error(`no ${want} window to assign from`);
    return w;
  }

  private allocate(w: PciWindow, size: number): number {
    const cur = this.next.get(w)!;
    const at = Math.ceil(cur / size) * size;
    if (at + size > w.pciBase + w.size) throw new Error(`${w.space} window exhausted`);
    this.next.set(w, at + size);
    return at;
  }

  private at(bus: number, dev: number, fn: number, reg: number): number {
    return (bus - this.busStart) * 0x10_0000 + (dev << 15) + (fn << 12) + reg;
  }
}
