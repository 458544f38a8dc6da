import { loadFields, saveFields, type FieldState } from '../../../machine/field-state.js';
/**
 * GICv3 (arm,gic-v3) as a per-zone model, as Linux's irq-gic-v3 driver drives it: a distributor
 * with affinity routing always on (GICD_CTLR.ARE RAO, single security state: DS RAO), one
 * redistributor per vCPU (RD_base + SGI_base, 128 KiB apart, GICR_TYPER with the vCPU's affinity
 * and Last on the final frame, GICR_WAKER), and the ICC_* system-register CPU interface through
 * `SystemRegisterHook`. No LPIs/ITS; MSIs arrive as message-based SPIs (GICD_SETSPI_NSR, the
 * GIC node's "mbi-ranges" in the zone DTB). Group 1 interrupts are signalled on the IRQ output; Group 0
 * is acknowledged through ICC_IAR0 but, as guests at EL1 never use it, also shares the IRQ line.
 *
 * The redistributor window is laid out in vCPU order from the zone's GICR base, so a zone with
 * physical CPUs [2, 3] sees two frames whose GICR_TYPER carry those CPUs' affinities.
 */
import type { IrqLine } from '../../../machine/irq-line.js';
import { NATURAL_ACCESS, type AccessSize, type MmioDevice } from '../../../machine/mmio-device.js';
import { sysreg, type SystemRegisterHook } from '../../../arch/aarch64/system-register-hook.js';
import type { Bdf } from '../../../machine/bdf.js';
import type { MsiController } from '../../pci/msi.js';
import { InterruptControllerConfigError } from '../ownership.js';
import { GicCore, NO_TARGET, SPURIOUS } from './gic-core.js';
import { FIRST_LPI, LpiTable } from './lpis.js';
import { isIrqRegister, readIrqRegister, writeIrqRegister, type IrqRegisterView } from './irq-registers.js';
import { readGuestLE, type GuestMemory } from '../../../machine/guest-memory.js';

export interface Gicv3Options {
  readonly vcpus: number;
  readonly ownedSpis: Iterable<number>;
  /** INTIDs the distributor implements (QEMU virt: 288). Default 288. */
  readonly numIrqs?: number;
  /** MPIDR affinity (Aff3:Aff2:Aff1:Aff0 as in MPIDR_EL1, bits 39:32 and 23:0) of each vCPU. */
  readonly affinities: readonly bigint[];
  readonly irqOutputs: readonly IrqLine[];
  /**
   * Offer LPIs (for an ITS, gicv3-its.ts): GICD_TYPER.LPIS with 14 INTID bits, GICR_TYPER.PLPIS,
   * GICR_PROPBASER/PENDBASER and GICR_CTLR.EnableLPIs. `memory` is the zone's guest-physical space
   * the LPI property table is read from.
   */
  readonly lpis?: { readonly memory: GuestMemory };
  /**
   * The board's redistributor layout: the MPIDR of every frame in order (all physical CPUs). Given,
   * the zone's frames sit at their physical positions (guests that compute base + cpu * 128 KiB
   * find them) and the other CPUs' frames answer only GICR_TYPER and PIDR2 (so Linux's scan walks
   * past them to Last). Default: the zone's frames only, in vCPU order.
   */
  readonly boardRedistributors?: readonly bigint[];
}

/** INTID bits offered with LPIs: LPIs 8192..16383. */
const LPI_ID_BITS = 14;

export const REDISTRIBUTOR_STRIDE = 0x20000;
/** Message-based SPI doorbells in the distributor frame (offsets). */
export const GICD_SETSPI_NSR = 0x040;
export const GICD_CLRSPI_NSR = 0x048;
const SGI_BASE = 0x10000;
const IIDR = 0x0000043b;
/** PIDR2 with ArchRev 3; the rest of the ID block as QEMU reports it. */
const GICD_ID: Readonly<Record<number, number>> = { 0xffd0: 0x44, 0xffe0: 0x92, 0xffe4: 0xb4, 0xffe8: 0x3b, 0xfff0: 0x0d, 0xfff4: 0xf0, 0xfff8: 0x05, 0xfffc: 0xb1 };

/** ICC system-register encodings (op0=3, op1=0, CRn=12 unless noted). */
export const Icc = {
  PMR: sysreg(3, 0, 4, 6, 0),
  IAR0: sysreg(3, 0, 12, 8, 0),
  EOIR0: sysreg(3, 0, 12, 8, 1),
  HPPIR0: sysreg(3, 0, 12, 8, 2),
  BPR0: sysreg(3, 0, 12, 8, 3),
  AP0R0: sysreg(3, 0, 12, 8, 4),
  AP1R0: sysreg(3, 0, 12, 9, 0),
  DIR: sysreg(3, 0, 12, 11, 1),
  RPR: sysreg(3, 0, 12, 11, 3),
  SGI1R: sysreg(3, 0, 12, 11, 5),
  ASGI1R: sysreg(3, 0, 12, 11, 6),
  SGI0R: sysreg(3, 0, 12, 11, 7),
  IAR1: sysreg(3, 0, 12, 12, 0),
  EOIR1: sysreg(3, 0, 12, 12, 1),
  HPPIR1: sysreg(3, 0, 12, 12, 2),
  BPR1: sysreg(3, 0, 12, 12, 3),
  CTLR: sysreg(3, 0, 12, 12, 4),
  SRE: sysreg(3, 0, 12, 12, 5),
  IGRPEN0: sysreg(3, 0, 12, 12, 6),
  IGRPEN1: sysreg(3, 0, 12, 12, 7),
} as const;

export class Gicv3 implements SystemRegisterHook {
  readonly core: GicCore;
  readonly distributor: MmioDevice;
  /** All redistributor frames: vcpus (or the board's CPUs) x 128 KiB. */
  readonly redistributors: MmioDevice;
  /** Affinity packed as Aff3<<24 | Aff2<<16 | Aff1<<8 | Aff0, per vCPU. */
  readonly affinity: Uint32Array;
  private readonly waker: Uint8Array;
  /** GICR_PROPBASER / PENDBASER per vCPU, as [low, high] words. */
  readonly propBase: Uint32Array;
  readonly pendBase: Uint32Array;
  private readonly memory: GuestMemory | undefined;
  /** Frame index → vCPU (or -1 for another CPU's frame), and each frame's affinity. */
  readonly frameVcpu: Int16Array;
  readonly frameAffinity: Uint32Array;

  constructor(options: Gicv3Options) {
    if (options.affinities.length !== options.vcpus) {
      throw new InterruptControllerConfigError('gicv3', `${options.affinities.length} affinities for ${options.vcpus} vCPUs`);
    }
    this.core = new GicCore({
      name: 'gicv3',
      vcpus: options.vcpus,
      numIrqs: options.numIrqs ?? 288,
      ownedSpis: options.ownedSpis,
      irqOutputs: options.irqOutputs,
      priorityBits: 5,
      distributorPriorityBits: 8,
    });
    this.core.affinityRouting = true;
    this.affinity = Uint32Array.from(options.affinities.map((m) => packAffinity(m)));
    const board = options.boardRedistributors?.map((m) => packAffinity(m)) ?? Array.from(this.affinity);
    this.frameAffinity = Uint32Array.from(board);
    this.frameVcpu = Int16Array.from(board, (a) => this.affinity.indexOf(a));
    for (let v = 0; v < options.vcpus; v++) {
      if (!this.frameVcpu.includes(v)) {
        throw new InterruptControllerConfigError('gicv3', `vCPU ${v} (affinity 0x${this.affinity[v]!.toString(16)}) has no frame in the board's redistributor layout`);
      }
    }
    this.waker = new Uint8Array(options.vcpus);
    this.propBase = new Uint32Array(options.vcpus * 2);
    this.pendBase = new Uint32Array(options.vcpus * 2);
    this.memory = options.lpis?.memory;
    if (options.lpis !== undefined) this.core.lpis = new LpiTable(options.vcpus, LPI_ID_BITS);
    this.distributor = new Gicv3Distributor(this);
    this.redistributors = new Gicv3Redistributors(this);
    this.reset();
  }

  /** Snapshottable: the distributor, redistributors and CPU interfaces (LPI tables live in guest RAM). */
  saveState(): unknown {
    return { core: this.core.saveState(), gic: saveFields(this) };
  }

  loadState(state: unknown): void {
    const st = state as { core: ReturnType<GicCore['saveState']>; gic: FieldState };
    this.core.loadState(st.core);
    loadFields(this, st.gic);
  }

  spiInput(intid: number): IrqLine {
    return this.core.spiLine(intid);
  }

  ppiInput(vcpu: number, intid: number): IrqLine {
    return this.core.ppiLine(vcpu, intid);
  }

  /**
   * An MSI controller for PCI functions (src/devices/pci/msi.ts): a write to the distributor's
   * GICD_SETSPI_NSR doorbell at guest-physical `gicdBase` raises the SPI named by the data.
   * Other addresses are not ours: false.
   */
  msiDoorbell(gicdBase: number): MsiController {
    const core = this.core;
    return {
      signal(_requester: Bdf, address: number, data: number): void {
        if (address === gicdBase + GICD_SETSPI_NSR) core.signalSpi(data & 0x3ff);
      },
    };
  }

  /**
   * Re-reads LPI `intid`'s configuration byte from the property table (GICR_PROPBASER of vCPU
   * `cpu`, Linux programs one table for all), as the ITS does on INV / INVALL / mapping.
   */
  refreshLpiConfig(cpu: number, intid: number): void {
    const lpis = this.core.lpis;
    if (lpis === undefined || !lpis.has(intid) || this.memory === undefined) return;
    const c = cpu >= 0 && cpu < this.core.vcpus ? cpu : 0;
    const lo = this.propBase[2 * c]!;
    const hi = this.propBase[2 * c + 1]!;
    const idBits = (lo & 0x1f) + 1;
    if (intid >= 2 ** idBits) return;
    const base = (hi & 0xfffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
    const v = readGuestLE(this.memory, base + intid - FIRST_LPI, 1);
    lpis.config[intid - FIRST_LPI] = v === undefined ? 0 : Number(v);
  }

  /** Every LPI's configuration, from the table of vCPU `cpu` (ITS INVALL). */
  refreshAllLpiConfig(cpu: number): void {
    const lpis = this.core.lpis;
    if (lpis === undefined) return;
    for (let i = 0; i < lpis.count; i++) this.refreshLpiConfig(cpu, FIRST_LPI + i);
  }

  reset(): void {
    this.core.resetState();
    this.propBase.fill(0);
    this.pendBase.fill(0);
    this.waker.fill(6); // ProcessorSleep | ChildrenAsleep
    // IROUTER resets to affinity 0.0.0.0: resolve it.
    for (const id of this.core.ownedSpiList) this.core.routeCpu[id] = this.vcpuOf(0);
    this.core.updateAll();
  }

  /** The vCPU index with packed affinity `aff`, or NO_TARGET. */
  vcpuOf(aff: number): number {
    const a = this.affinity;
    for (let i = 0; i < a.length; i++) if (a[i] === aff) return i;
    return NO_TARGET;
  }

  wakerOf(cpu: number): number {
    return this.waker[cpu]!;
  }

  setWaker(cpu: number, value: number): void {
    // ChildrenAsleep follows ProcessorSleep at once (no power sequencing to wait for).
    this.waker[cpu] = value & 2 ? 6 : 0;
  }

  // --- the ICC_* system registers --------------------------------------------------------------

  read(vcpu: number, encoding: number): bigint | undefined {
    const c = this.core;
    if (vcpu < 0 || vcpu >= c.vcpus) return undefined;
    switch (encoding) {
      case Icc.IAR1:
        return BigInt(c.acknowledge(vcpu, 2));
      case Icc.IAR0:
        return BigInt(c.acknowledge(vcpu, 1));
      case Icc.HPPIR1:
        return BigInt(c.highestPendingSignallable(vcpu, 2));
      case Icc.HPPIR0:
        return BigInt(c.highestPendingSignallable(vcpu, 1));
      case Icc.PMR:
        return BigInt(c.pmr[vcpu]!);
      case Icc.BPR0:
        return BigInt(c.bpr0[vcpu]!);
      case Icc.BPR1:
        return BigInt(c.bpr1[vcpu]!);
      case Icc.RPR:
        return BigInt(c.runningPriority(vcpu));
      case Icc.CTLR:
        // A3V, IDbits = 16-bit INTIDs (0), PRIbits = 5 - 1, EOImode.
        return BigInt((1 << 15) | (4 << 8) | (c.eoiMode[vcpu]! << 1));
      case Icc.SRE:
        return 7n; // SRE, DFB, DIB: the system-register interface is the only one
      case Icc.IGRPEN0:
        return BigInt(c.cpuEnable[vcpu]! & 1);
      case Icc.IGRPEN1:
        return BigInt((c.cpuEnable[vcpu]! >> 1) & 1);
      case Icc.AP0R0:
      case Icc.AP1R0:
        return BigInt(c.activePriorityBits(vcpu));
      case Icc.AP0R0 + 1:
      case Icc.AP0R0 + 2:
      case Icc.AP0R0 + 3:
      case Icc.AP1R0 + 1:
      case Icc.AP1R0 + 2:
      case Icc.AP1R0 + 3:
        return 0n;
      case Icc.EOIR0:
      case Icc.EOIR1:
      case Icc.DIR:
      case Icc.SGI0R:
      case Icc.SGI1R:
      case Icc.ASGI1R:
        return 0n; // write-only
    }
    return undefined;
  }

  write(vcpu: number, encoding: number, value: bigint): boolean {
    const c = this.core;
    if (vcpu < 0 || vcpu >= c.vcpus) return false;
    const low = Number(value & 0xffffffffn);
    switch (encoding) {
      case Icc.EOIR1:
      case Icc.EOIR0:
        c.endOfInterrupt(vcpu, low & 0xffffff);
        return true;
      case Icc.DIR:
        c.deactivate(vcpu, low & 0xffffff);
        return true;
      case Icc.PMR:
        c.pmr[vcpu] = low & c.priorityMask;
        c.update(vcpu);
        return true;
      case Icc.BPR0:
        c.bpr0[vcpu] = Math.max(low & 7, 2);
        c.update(vcpu);
        return true;
      case Icc.BPR1:
        c.bpr1[vcpu] = Math.max(low & 7, 3);
        c.update(vcpu);
        return true;
      case Icc.CTLR:
        c.eoiMode[vcpu] = (low >> 1) & 1;
        return true;
      case Icc.SRE:
        return true;
      case Icc.IGRPEN0:
        c.cpuEnable[vcpu] = (c.cpuEnable[vcpu]! & 2) | (low & 1);
        c.update(vcpu);
        return true;
      case Icc.IGRPEN1:
        c.cpuEnable[vcpu] = (c.cpuEnable[vcpu]! & 1) | ((low & 1) << 1);
        c.update(vcpu);
        return true;
      case Icc.AP0R0:
      case Icc.AP1R0:
        if (low === 0) c.clearActivePriorities(vcpu);
        return true;
      case Icc.AP0R0 + 1:
      case Icc.AP0R0 + 2:
      case Icc.AP0R0 + 3:
      case Icc.AP1R0 + 1:
      case Icc.AP1R0 + 2:
      case Icc.AP1R0 + 3:
        return true;
      case Icc.SGI1R:
      case Icc.ASGI1R:
      case Icc.SGI0R:
        this.generateSgi(vcpu, value);
        return true;
      case Icc.IAR0:
      case Icc.IAR1:
      case Icc.HPPIR0:
      case Icc.HPPIR1:
      case Icc.RPR:
        return true; // read-only: writes ignored
    }
    return false;
  }

  /** ICC_SGI1R: TargetList[15:0] at Aff3.Aff2.Aff1.(RS*16 + n), INTID[27:24], IRM[40] = all but self. */
  private generateSgi(source: number, value: bigint): void {
    const c = this.core;
    const lo = Number(value & 0xffffffffn);
    const hi = Number((value >> 32n) & 0xffffffffn);
    const id = (lo >>> 24) & 15;
    if ((hi >>> 8) & 1) {
      for (let t = 0; t < c.vcpus; t++) if (t !== source) c.sendSgi(source, t, id);
    } else {
      const targetList = lo & 0xffff;
      const aff1 = (lo >>> 16) & 0xff;
      const aff2 = hi & 0xff;
      const rs = (hi >>> 12) & 15;
      const aff3 = (hi >>> 16) & 0xff;
      for (let n = 0; n < 16; n++) {
        if (!((targetList >> n) & 1)) continue;
        const t = this.vcpuOf(((aff3 << 24) | (aff2 << 16) | (aff1 << 8) | (rs * 16 + n)) >>> 0);
        if (t !== NO_TARGET) c.sendSgi(source, t, id);
      }
    }
    c.updateAll();
  }
}

/** MPIDR_EL1 → Aff3<<24 | Aff2<<16 | Aff1<<8 | Aff0. */
export function packAffinity(mpidr: bigint): number {
  const aff3 = Number((mpidr >> 32n) & 0xffn);
  return ((aff3 << 24) | Number(mpidr & 0xffffffn)) >>> 0;
}

class Gicv3Distributor implements MmioDevice {
  readonly name = 'gicv3-distributor';
  readonly accessRule = NATURAL_ACCESS;
  private readonly view: IrqRegisterView;

  constructor(private readonly gic: Gicv3) {
    // With ARE set, SGIs and PPIs live in the redistributors: GICD serves only SPIs.
    this.view = { core: gic.core, cpu: 0, lo: 32, hi: gic.core.numIrqs, targets: false, groups: true };
  }

  reset(): void {
    this.gic.reset();
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (isIrqRegister(offset)) return readIrqRegister(this.view, offset, size);
    if (size !== 4) return 0;
    const c = this.gic.core;
    if (offset >= 0x6100 && offset < 0x6000 + 8 * c.numIrqs) {
      const id = (offset - 0x6000) >> 3;
      if (!c.exists(id)) return 0;
      return offset & 4 ? c.routeHigh[id]! : c.routeLow[id]!;
    }
    switch (offset) {
      case 0x0000:
        // EnableGrp0, EnableGrp1, ARE (RAO), DS (RAO); RWP never set (writes complete at once).
        return (c.distEnable & 3) | (1 << 4) | (1 << 6);
      case 0x0004:
        // ITLinesNumber, MBIS (GICD_SETSPI_NSR), LPIS, IDbits (16-bit INTIDs, 14 with LPIs), A3V, No1N.
        if (c.lpis !== undefined) return ((c.numIrqs / 32 - 1) | (1 << 16) | (1 << 17) | ((LPI_ID_BITS - 1) << 19) | (3 << 24)) >>> 0;
        return ((c.numIrqs / 32 - 1) | (1 << 16) | (15 << 19) | (1 << 24) | (1 << 25)) >>> 0;
      case 0x0008:
        return IIDR;
    }
    return GICD_ID[offset] ?? 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (isIrqRegister(offset)) {
      writeIrqRegister(this.view, offset, size, value);
      return;
    }
    if (size !== 4) return;
    const c = this.gic.core;
    if (offset >= 0x6100 && offset < 0x6000 + 8 * c.numIrqs) {
      const id = (offset - 0x6000) >> 3;
      if (!c.exists(id)) return;
      if (offset & 4) c.routeHigh[id] = value & 0xff;
      else c.routeLow[id] = value & 0x00ffffff; // IRM (bit 31) is RAZ/WI: No1N
      c.routeCpu[id] = this.gic.vcpuOf(((c.routeHigh[id]! << 24) | c.routeLow[id]!) >>> 0);
      c.updateAll();
      return;
    }
    switch (offset) {
      case 0x0000:
        c.distEnable = value & 3;
        c.updateAll();
        return;
      case GICD_SETSPI_NSR:
        // A message-based SPI (Linux's "mbi-ranges" MSI path): raise the owned SPI as an edge.
        c.signalSpi(value & 0x3ff);
        return;
      case GICD_CLRSPI_NSR: {
        const id = value & 0x3ff;
        if (c.exists(id) && id >= 32) {
          c.setPending(c.slot(0, id), false);
          c.updateAll();
        }
        return;
      }
    }
  }
}

class Gicv3Redistributors implements MmioDevice {
  readonly name = 'gicv3-redistributor';
  readonly accessRule = NATURAL_ACCESS;
  private readonly views: IrqRegisterView[];

  constructor(private readonly gic: Gicv3) {
    this.views = Array.from({ length: gic.core.vcpus }, (_, cpu) => ({ core: gic.core, cpu, lo: 0, hi: 32, targets: false, groups: true }));
  }

  reset(): void {
    this.gic.reset();
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    const frame = Math.floor(offset / REDISTRIBUTOR_STRIDE);
    const frames = this.gic.frameVcpu.length;
    if (frame >= frames) return 0;
    const cpu = this.gic.frameVcpu[frame]!;
    const off = offset % REDISTRIBUTOR_STRIDE;
    const last = frame === frames - 1 ? 1 << 4 : 0;
    if (cpu < 0) {
      // Another CPU's frame: identification only, numbered after the zone's vCPUs.
      if (size !== 4) return 0;
      if (off === 0x0008) return (((this.gic.core.vcpus + frame) << 8) | last) >>> 0;
      if (off === 0x000c) return this.gic.frameAffinity[frame]!;
      return off === 0xffe8 ? 0x3b : 0;
    }
    if (off >= SGI_BASE) {
      const o = off - SGI_BASE;
      if (o === 0xd00) return 0; // IGRPMODR0
      return isIrqRegister(o) ? readIrqRegister(this.views[cpu]!, o, size) : 0;
    }
    if (size !== 4) return 0;
    const lpis = this.gic.core.lpis;
    switch (off) {
      case 0x0000:
        return lpis === undefined ? 0 : lpis.enabledOn[cpu]!; // EnableLPIs
      case 0x0004:
        return IIDR;
      case 0x0008:
        // Processor_Number, Last on the final frame, PLPIS when LPIs are offered.
        return ((cpu << 8) | last | (lpis === undefined ? 0 : 1)) >>> 0;
      case 0x0070:
      case 0x0074:
        return lpis === undefined ? 0 : this.gic.propBase[2 * cpu + ((off >> 2) & 1)]!;
      case 0x0078:
      case 0x007c:
        return lpis === undefined ? 0 : this.gic.pendBase[2 * cpu + ((off >> 2) & 1)]!;
      case 0x000c:
        return this.gic.affinity[cpu]!;
      case 0x0014:
        return this.gic.wakerOf(cpu);
      case 0xffe8:
        return 0x3b;
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const frame = Math.floor(offset / REDISTRIBUTOR_STRIDE);
    if (frame >= this.gic.frameVcpu.length) return;
    const cpu = this.gic.frameVcpu[frame]!;
    if (cpu < 0) return; // another CPU's frame
    const off = offset % REDISTRIBUTOR_STRIDE;
    if (off >= SGI_BASE) {
      const o = off - SGI_BASE;
      if (isIrqRegister(o)) writeIrqRegister(this.views[cpu]!, o, size, value);
      return;
    }
    if (size !== 4) return;
    const lpis = this.gic.core.lpis;
    switch (off) {
      case 0x0014:
        this.gic.setWaker(cpu, value);
        return;
      case 0x0000:
        if (lpis !== undefined) {
          lpis.enabledOn[cpu] = value & 1;
          this.gic.core.update(cpu);
        }
        return;
      case 0x0070:
      case 0x0074:
      case 0x0078:
      case 0x007c:
        // Writable while LPIs are off (the architecture makes them UNPREDICTABLE afterwards).
        if (lpis === undefined || lpis.enabledOn[cpu]) return;
        (off < 0x78 ? this.gic.propBase : this.gic.pendBase)[2 * cpu + ((off >> 2) & 1)] = value >>> 0;
        return;
    }
  }
}

export { SPURIOUS };
