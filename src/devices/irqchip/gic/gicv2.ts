/**
 * GICv2 (arm,gic-400 / arm,cortex-a15-gic) as a per-zone model: a distributor (GICD, 4 KiB) and a
 * CPU interface (GICC, 8 KiB) MMIO window, as Linux's irq-gic driver drives them. Without the
 * Security Extensions (as QEMU virt's GICv2): one group, GICD_CTLR/GICC_CTLR bit 0 enable, IGROUPR
 * reads as zero. SGIs carry their source CPU in GICC_IAR[12:10] and are always enabled
 * (GICD_ISENABLER0[15:0] read as one and ignore clears, as on the GIC-400 and QEMU's GICv2).
 *
 * Banked registers (GICD SGI/PPI state, all of GICC) belong to the vCPU making the access: the
 * zone tells the model which vCPU is running through `currentVcpu`.
 */
import type { IrqLine } from '../../../machine/irq-line.js';
import { NATURAL_ACCESS, WORD_ACCESS, type AccessSize, type MmioDevice } from '../../../machine/mmio-device.js';
import { InterruptControllerConfigError } from '../ownership.js';
import { GicCore, SPURIOUS } from './gic-core.js';
import { isIrqRegister, readIrqRegister, writeIrqRegister, type IrqRegisterView } from './irq-registers.js';

export interface Gicv2Options {
  readonly vcpus: number;
  /** The SPI INTIDs (>= 32) the zone owns. */
  readonly ownedSpis: Iterable<number>;
  /** INTIDs the distributor implements (GICD_TYPER.ITLinesNumber): QEMU virt 288. Default 288. */
  readonly numIrqs?: number;
  /** One IRQ output per vCPU (wired to the core's IRQ input). */
  readonly irqOutputs: readonly IrqLine[];
  /** The vCPU whose access is being served (banked registers). */
  readonly currentVcpu: () => number;
}

/** GIC-400 identification: GICD_IIDR / GICC_IIDR and the PrimeCell-style ID block (PIDR2 arch rev 2). */
const GICD_IIDR = 0x0200143b;
const GICC_IIDR = 0x0202143b;
const GICD_ID = [0x04, 0x00, 0x00, 0x00, 0x90, 0xb4, 0x2b, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;

export class Gicv2 {
  readonly core: GicCore;
  readonly distributor: MmioDevice;
  readonly cpuInterface: MmioDevice;

  constructor(private readonly options: Gicv2Options) {
    // GICv2 addresses CPUs by an 8-bit mask (ITARGETSR, SGI target lists, IAR source field).
    if (options.vcpus > 8) throw new InterruptControllerConfigError('gicv2', `${options.vcpus} vCPUs: a GICv2 serves at most 8`);
    this.core = new GicCore({
      name: 'gicv2',
      vcpus: options.vcpus,
      numIrqs: options.numIrqs ?? 288,
      ownedSpis: options.ownedSpis,
      irqOutputs: options.irqOutputs,
      priorityBits: 5,
      distributorPriorityBits: 5,
    });
    // A vCPU index the zone got wrong must not break the model: it is served as vCPU 0.
    const vcpus = options.vcpus;
    const current = (): number => {
      const c = options.currentVcpu();
      return c >= 0 && c < vcpus ? c : 0;
    };
    this.distributor = new Gicv2Distributor(this.core, current);
    this.cpuInterface = new Gicv2CpuInterface(this.core, current);
  }

  /** The wire from a device to SPI `intid` (throws InterruptNotOwnedError for a foreign SPI). */
  spiInput(intid: number): IrqLine {
    return this.core.spiLine(intid);
  }

  /** The wire to PPI `intid` of vCPU `vcpu` (timer: 27 virtual, 30 physical). */
  ppiInput(vcpu: number, intid: number): IrqLine {
    return this.core.ppiLine(vcpu, intid);
  }

  reset(): void {
    resetWithSgisEnabled(this.core);
  }
}

/** Reset state, with every vCPU's SGIs enabled for good. */
function resetWithSgisEnabled(core: GicCore): void {
  core.resetState();
  for (let cpu = 0; cpu < core.vcpus; cpu++) core.enabled.fill(1, cpu * 32, cpu * 32 + 16);
}

/** GICD_ICENABLER0: the SGI bits are WI. */
const ICENABLER0 = 0x180;

class Gicv2Distributor implements MmioDevice {
  readonly name = 'gicv2-distributor';
  readonly accessRule = NATURAL_ACCESS;
  /** One register view per vCPU, built once (the banked SGI/PPI state differs per vCPU). */
  private readonly views: IrqRegisterView[];

  constructor(
    private readonly core: GicCore,
    private readonly currentVcpu: () => number,
  ) {
    this.views = Array.from({ length: core.vcpus }, (_, cpu) => ({ core, cpu, lo: 0, hi: core.numIrqs, targets: true, groups: false }));
  }

  private view(): IrqRegisterView {
    return this.views[this.currentVcpu()]!;
  }

  reset(): void {
    resetWithSgisEnabled(this.core);
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (isIrqRegister(offset)) return readIrqRegister(this.view(), offset, size);
    if (size !== 4) {
      if (offset >= 0xfd0 && offset < 0x1000) return ((this.peek(offset & ~3, 4) >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff)) >>> 0;
      return 0;
    }
    switch (offset) {
      case 0x000:
        return this.core.distEnable & 1;
      case 0x004:
        return ((this.core.numIrqs / 32 - 1) | ((this.core.vcpus - 1) << 5)) >>> 0;
      case 0x008:
        return GICD_IIDR;
      case 0xf10:
      case 0xf14:
      case 0xf18:
      case 0xf1c:
      case 0xf20:
      case 0xf24:
      case 0xf28:
      case 0xf2c: {
        // CPENDSGIR / SPENDSGIR: one byte per SGI, bit per source CPU.
        const cpu = this.currentVcpu();
        const first = (offset & 0xf) * 1;
        let v = 0;
        for (let k = 0; k < 4; k++) v |= this.core.sgiSources[cpu * 16 + first + k]! << (8 * k);
        return v >>> 0;
      }
    }
    if (offset >= 0xfd0 && offset < 0x1000) return GICD_ID[(offset - 0xfd0) >> 2]!;
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (isIrqRegister(offset)) {
      // Clearing an SGI's enable (bytes 0 and 1 of GICD_ICENABLER0) does nothing.
      const sgiBits = offset >= ICENABLER0 && offset < ICENABLER0 + 2 ? (0xffff >>> ((offset - ICENABLER0) * 8)) & (size === 1 ? 0xff : 0xffffffff) : 0;
      writeIrqRegister(this.view(), offset, size, value & ~sgiBits);
      return;
    }
    if (size !== 4) return;
    const core = this.core;
    const cpu = this.currentVcpu();
    switch (offset) {
      case 0x000:
        core.distEnable = value & 1;
        core.updateAll();
        return;
      case 0xf00: {
        // GICD_SGIR: filter 0 = listed CPUs, 1 = all but self, 2 = self.
        const id = value & 15;
        const filter = (value >>> 24) & 3;
        const list = filter === 0 ? (value >>> 16) & 0xff : filter === 1 ? ~(1 << cpu) & 0xff : filter === 2 ? 1 << cpu : 0;
        for (let t = 0; t < core.vcpus; t++) if ((list >> t) & 1) core.sendSgi(cpu, t, id);
        core.updateAll();
        return;
      }
    }
    if (offset >= 0xf10 && offset < 0xf30) {
      const set = offset >= 0xf20;
      const first = offset & 0xf;
      for (let k = 0; k < 4; k++) {
        const bits = (value >>> (8 * k)) & 0xff & ((1 << core.vcpus) - 1);
        if (bits === 0) continue;
        const id = first + k;
        const idx = cpu * 16 + id;
        if (set) core.sgiSources[idx]! |= bits;
        else core.sgiSources[idx]! &= ~bits;
        core.setPending(cpu * 32 + id, core.sgiSources[idx]! !== 0);
      }
      core.updateAll();
    }
  }
}

class Gicv2CpuInterface implements MmioDevice {
  readonly name = 'gicv2-cpu-interface';
  readonly accessRule = WORD_ACCESS;
  constructor(
    private readonly core: GicCore,
    private readonly currentVcpu: () => number,
  ) {}

  reset(): void {
    resetWithSgisEnabled(this.core);
  }

  read(offset: number, size: AccessSize): number {
    const cpu = this.currentVcpu();
    if (offset === 0x00c || offset === 0x020) return this.core.acknowledge(cpu, 1);
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    const core = this.core;
    const cpu = this.currentVcpu();
    switch (offset) {
      case 0x000:
        return core.cpuEnable[cpu]! | (core.eoiMode[cpu]! << 9);
      case 0x004:
        return core.pmr[cpu]!;
      case 0x008:
        return core.bpr0[cpu]!;
      case 0x00c:
      case 0x020:
        return SPURIOUS; // peek must not acknowledge
      case 0x014:
        return core.runningPriority(cpu);
      case 0x018:
      case 0x028: {
        const id = core.highestPendingSignallable(cpu, 1);
        if (id < 16 && id !== SPURIOUS) {
          const srcs = core.sgiSources[cpu * 16 + id]!;
          return srcs ? id | ((31 - Math.clz32(srcs & -srcs)) << 10) : id;
        }
        return id;
      }
      case 0x01c:
        return Math.min(core.bpr0[cpu]! + 1, 7);
      case 0x0d0:
        return core.activePriorityBits(cpu);
      case 0x0fc:
        return GICC_IIDR;
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const core = this.core;
    const cpu = this.currentVcpu();
    switch (offset) {
      case 0x000:
        core.cpuEnable[cpu] = value & 1;
        core.eoiMode[cpu] = (value >>> 9) & 1;
        core.update(cpu);
        return;
      case 0x004:
        core.pmr[cpu] = value & core.priorityMask;
        core.update(cpu);
        return;
      case 0x008:
        // 5 priority bits: the smallest binary point is 2.
        core.bpr0[cpu] = Math.max(value & 7, 2);
        core.update(cpu);
        return;
      case 0x010:
      case 0x024:
        core.endOfInterrupt(cpu, value);
        return;
      case 0x0d0:
        if (value === 0) core.clearActivePriorities(cpu);
        return;
      case 0x1000:
        core.deactivate(cpu, value);
        return;
    }
  }
}
