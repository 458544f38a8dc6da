import { Aarch64Irq } from '../../arch/aarch64/system-register-hook.js';
import { Aarch64Cpu } from '../../arch/aarch64/aarch64-cpu.js';
import { Loongarch64Cpu } from '../../arch/loongarch64/loongarch64-cpu.js';
import { Riscv64Cpu } from '../../arch/riscv64/riscv64-cpu.js';
import { Gicv2 } from '../../devices/irqchip/gic/gicv2.js';
import { Gicv3, REDISTRIBUTOR_STRIDE } from '../../devices/irqchip/gic/gicv3.js';
import { Gicv3Its } from '../../devices/irqchip/gic/gicv3-its.js';
import { guestMemory, type GuestMemory } from '../../machine/guest-memory.js';
import { describeGic } from '../../devices/irqchip/gic/gic-state-report.js';
import { Plic } from '../../devices/irqchip/plic.js';
import { Aplic } from '../../devices/irqchip/aplic.js';
import { Imsic, IMSIC_PAGE } from '../../devices/irqchip/imsic.js';
import { Ls7aPchPic } from '../../devices/irqchip/ls7a-pch-pic.js';
import { LoongsonEiointc } from '../../devices/irqchip/loongson-eiointc.js';
import { IPI_LINE, LoongsonIpi } from '../../devices/irqchip/loongson-ipi.js';
import { LoongsonIocsr } from '../../devices/irqchip/loongson-iocsr.js';
import type { InterruptFile } from '../../arch/riscv64/interrupt-file.js';
import { parseDtb } from '../../../dtb/index.js';
import { zoneAiaLayout, type ZoneImsicLayout } from './aia-layout.js';
import type { IrqLine } from '../../machine/irq-line.js';
import { ConfigError } from '../../config/config-error.js';
import type { GicV2Config, GicV3Config } from '../../config/zone-config.js';
import type { ZoneDeviceWindow } from '../stage2/stage2.js';
import type { CpuFactory, IrqchipFactory, Zone, ZoneIrqchip } from './zone.js';
import type { ArchZoneOps } from '../../arch/cpu.js';
import { aarch64ZoneOps } from '../../arch/aarch64/zone-ops.js';
import { loongarchZoneOps } from '../../arch/loongarch64/zone-ops.js';
import { riscvZoneOps } from '../../arch/riscv64/zone-ops.js';

/** What an arch gives the hypervisor to build a zone: its cores, its interrupt controller, its zone behaviour. */
export interface ArchFactories {
  readonly createCpu: CpuFactory;
  readonly createIrqchip: IrqchipFactory;
  readonly zoneOps: ArchZoneOps;
}

/** sip/mip bit of the supervisor external interrupt, the riscv64 core's setInterrupt line. */
const IRQ_SEI = 9;
/** The generic timer's PPIs on QEMU virt and in Linux's arch_timer binding. */
const PPI_VIRTUAL_TIMER = 27;
const PPI_PHYSICAL_TIMER = 30;

/** A vCPU output that also ends the vCPU's wait (a wake-up is the zone's business, not the model's). */
function vcpuLine(zone: Zone, vcpu: number, line: number): IrqLine {
  const set = (level: boolean) => {
    zone.cpus[vcpu]?.setInterrupt(line, level);
    if (level) zone.kick(vcpu);
  };
  return { set, pulse: () => (set(true), set(false)) };
}

const ignored: IrqLine = { set() {}, pulse() {} };

/**
 * riscv64: Riscv64Cpu vCPUs and a per-zone PLIC at the config's plic_base, or (aplic_base, AIA
 * boards) a per-zone APLIC in MSI mode and IMSIC. PLIC contexts are the zone's harts x {M, S}; only
 * S-mode contexts reach the vCPU (guests run in S/VS mode). `numSources` is the board PLIC's
 * riscv,ndev (APLIC's riscv,num-sources) + 1 (QEMU virt: 96 / 97).
 */
export function riscvFactories(numSources = 96): ArchFactories {
  const imsics = new WeakMap<Zone, Imsic>();
  return {
    zoneOps: riscvZoneOps,
    // SBI calls name harts by physical hart id: the zone's vCPUs know the board harts they stand for.
    createCpu: ({ host, index, physical }) => {
      const imsic = imsics.get(host as Zone);
      return new Riscv64Cpu(host, index, physical.id, zoneHwids(host as Zone), imsic && interruptFileOf(imsic, index));
    },
    createIrqchip: (zone): ZoneIrqchip => {
      const a = zone.config.archConfig;
      const { source, interrupts } = zone.config;
      if (a.kind === 'gicv2' || a.kind === 'gicv3') {
        throw new ConfigError(source, 'arch_config.gic_version', `board ${zone.machine.boardName} is riscv64: a zone's interrupt controller is a PLIC (plic_base, plic_size), not a GIC`);
      }
      // A machine built without a device tree (tests' hand-made boards) has no APLIC.
      const aia = zoneAiaLayout(zone.machine.dtb.length > 0 ? parseDtb(zone.machine.dtb) : undefined, a);
      if (aia !== undefined && a.kind === 'riscv') {
        if (aia === 'missing') {
          throw new ConfigError(source, 'arch_config.aplic_base', `0x${a.aplicBase.toString(16)}: board ${zone.machine.boardName} has no APLIC there that signals an IMSIC (msi-parent)`);
        }
        const chip = aiaIrqchip(zone, aia, a.aplicBase, a.aplicSize, numSources);
        imsics.set(zone, chip.imsic);
        return chip;
      }
      if (a.kind !== 'riscv' || a.plicSize === 0) {
        if (interrupts.length > 0) {
          throw new ConfigError(source, 'interrupts[0]', `${interrupts[0]}: the zone has no interrupt controller to take it (arch_config has no plic_size or aplic_size)`);
        }
        return { windows: [], input: () => undefined, reset() {} };
      }
      checkInterruptRange(zone, 1, numSources - 1, 'PLIC sources');
      const vcpus = zone.config.cpus.length;
      const owned = interrupts;
      const plic = new Plic({
        numSources,
        ownedSources: owned,
        vcpus,
        contextOutputs: Array.from({ length: 2 * vcpus }, (_, ctx) => (ctx % 2 === 1 ? vcpuLine(zone, ctx >> 1, IRQ_SEI) : ignored)),
      });
      return {
        windows: [{ base: a.plicBase, size: a.plicSize, device: plic, name: 'plic (zone view)' }],
        input: (irq) => (plic.owns(irq) ? plic.input(irq) : undefined),
        reset: () => plic.reset(),
        describe: () => plic.describe(),
      };
    },
  };
}

/**
 * AIA in MSI mode, as hvisor's vaplic: the zone's APLIC domain knows only its sources and sends
 * them as MSIs to its own IMSIC, one supervisor file per vCPU (page i = vCPU i = hart index i).
 */
function aiaIrqchip(zone: Zone, layout: ZoneImsicLayout, aplicBase: number, aplicSize: number, numSources: number): ZoneIrqchip & { imsic: Imsic } {
  checkInterruptRange(zone, 1, numSources - 1, 'APLIC sources');
  const vcpus = zone.config.cpus.length;
  const imsic = new Imsic({
    vcpus,
    numIds: layout.numIds,
    hartOutputs: Array.from({ length: vcpus }, (_, v) => vcpuLine(zone, v, IRQ_SEI)),
    base: layout.base,
  });
  const aplic = new Aplic({
    numSources,
    ownedSources: zone.config.interrupts,
    vcpus,
    // Direct delivery has no wires here: the zone's device tree gives the APLIC an msi-parent.
    hartOutputs: Array.from({ length: vcpus }, () => ignored),
    msiTarget: (hart, eiid) => imsic.setPending(hart, eiid),
  });
  return {
    imsic,
    windows: [
      { base: aplicBase, size: aplicSize, device: aplic, name: 'aplic (zone view)' },
      { base: layout.base, size: vcpus * IMSIC_PAGE, device: imsic, name: 'imsic (zone view)' },
    ],
    input: (irq) => (Number.isInteger(irq) && irq >= 1 && irq < numSources && zone.config.interrupts.includes(irq) ? aplic.sourceInput(irq) : undefined),
    reset: () => {
      aplic.reset();
      imsic.reset();
    },
    describe: () => aplic.describe() + imsic.describe(),
  };
}

/** vCPU `hart`'s file of the zone's IMSIC, as the core's sireg / stopei reach it. */
function interruptFileOf(imsic: Imsic, hart: number): InterruptFile {
  return {
    readIndirect: (select) => imsic.readIndirect(hart, select),
    writeIndirect: (select, value) => imsic.writeIndirect(hart, select, value),
    topei: () => imsic.topei(hart),
    claimTopei: () => void imsic.claimTopei(hart),
  };
}

/** Every interrupt the config gives the zone must exist on its controller: `interrupts[i]` names the first that does not. */
function checkInterruptRange(zone: Zone, min: number, max: number, what: string): void {
  const i = zone.config.interrupts.findIndex((n) => n < min || n > max);
  if (i >= 0) throw new ConfigError(zone.config.source, `interrupts[${i}]`, `${zone.config.interrupts[i]}: the zone's ${what} are ${min}..${max} on board ${zone.machine.boardName}`);
}

/** The zone's vCPUs' hart ids / MPIDR affinities (the board CPUs' hwids, in the config's `cpus` order). */
function zoneHwids(zone: Zone): bigint[] {
  return zone.config.cpus.map((id) => zone.machine.cpus.find((c) => c.id === id)!.hwid);
}

/**
 * aarch64: Aarch64Cpu vCPUs and a per-zone GIC of the board's kind (`boardGic`): a GICv3 (distributor at gicd_base,
 * one redistributor frame per vCPU from gicr_base, ICC_* system registers) or a GICv2 (distributor at
 * gicd_base, the CPU interface at gicc_base, banked by the vCPU making the access). Timer outputs go
 * to PPIs 27/30. MPIDRs are the board CPUs' (so PSCI CPU_ON names physical CPUs, as in hvisor).
 */
export function aarch64Factories(boardGic: 'gicv2' | 'gicv3', numIrqs = 288): ArchFactories & { gicOf: (zone: Zone) => Gicv3 | undefined } {
  const gics = new WeakMap<Zone, Gicv2 | Gicv3>();
  const ownedSpis = (zone: Zone) => zone.config.interrupts.filter((i) => i >= 32 && i < numIrqs);
  const spiInput = (zone: Zone, irq: number, line: (irq: number) => IrqLine) =>
    irq >= 32 && irq < numIrqs && zone.config.interrupts.includes(irq) ? line(irq) : undefined;
  const irqOutputs = (zone: Zone, vcpus: number) => Array.from({ length: vcpus }, (_, v) => vcpuLine(zone, v, Aarch64Irq.Irq));

  const gicv3 = (zone: Zone, a: GicV3Config): ZoneIrqchip => {
    const hwids = zoneHwids(zone);
    const withIts = a.gitsSize > 0;
    // The zone's stage 2 is built after its irqchip: LPI tables, the ITS command queue and its tables are reached through it lazily.
    let ram: GuestMemory | undefined;
    const zoneRam = () => (ram ??= guestMemory(zone.memory));
    const memory: GuestMemory = {
      read: (addr, into) => zoneRam().read(addr, into),
      write: (addr, data) => zoneRam().write(addr, data),
      checkRange: (addr, length) => zoneRam().checkRange(addr, length),
    };
    const gic = new Gicv3({
      vcpus: hwids.length,
      ownedSpis: ownedSpis(zone),
      numIrqs,
      affinities: hwids,
      irqOutputs: irqOutputs(zone, hwids.length),
      ...(withIts && { lpis: { memory } }),
    });
    gics.set(zone, gic);
    const windows: ZoneDeviceWindow[] = [
      { base: a.gicdBase, size: a.gicdSize, device: gic.distributor, name: 'gicv3 distributor (zone view)' },
      { base: a.gicrBase, size: Math.min(a.gicrSize, hwids.length * REDISTRIBUTOR_STRIDE), device: gic.redistributors, name: 'gicv3 redistributors (zone view)' },
    ];
    let its: Gicv3Its | undefined;
    if (withIts) {
      // DeviceID = requester id, as QEMU virt's identity msi-map gives it; only the zone's functions have one here.
      const owned = new Set(zone.config.allocPciDevs.filter((d) => d.domain === 0).map((d) => d.bdf));
      its = new Gicv3Its({ gic, memory, base: a.gitsBase, ownsDevice: (id) => owned.has(id) });
      windows.push({ base: a.gitsBase, size: a.gitsSize, device: its, name: 'gicv3 its (zone view)' });
    }
    return {
      windows,
      input: (irq) => spiInput(zone, irq, (i) => gic.spiInput(i)),
      reset: () => {
        gic.reset();
        its?.reset();
      },
      describe: () => describeGic(gic.core),
      saveState: () => gic.saveState(),
      loadState: (state) => gic.loadState(state),
    };
  };

  const gicv2 = (zone: Zone, a: GicV2Config): ZoneIrqchip => {
    const vcpus = zone.config.cpus.length;
    const gic = new Gicv2({ vcpus, ownedSpis: ownedSpis(zone), numIrqs, irqOutputs: irqOutputs(zone, vcpus), currentVcpu: () => zone.currentVcpu });
    gics.set(zone, gic);
    return {
      windows: [
        { base: a.gicdBase, size: a.gicdSize, device: gic.distributor, name: 'gicv2 distributor (zone view)' },
        { base: a.giccBase, size: a.giccSize, device: gic.cpuInterface, name: 'gicv2 cpu interface (zone view)' },
      ],
      input: (irq) => spiInput(zone, irq, (i) => gic.spiInput(i)),
      reset: () => gic.reset(),
      describe: () => describeGic(gic.core),
    };
  };

  return {
    zoneOps: aarch64ZoneOps,
    gicOf: (zone) => {
      const gic = gics.get(zone);
      return gic instanceof Gicv3 ? gic : undefined;
    },
    createIrqchip: (zone): ZoneIrqchip => {
      const a = zone.config.archConfig;
      // INTIDs 0..31 are every vCPU's SGIs and PPIs; a zone is given SPIs (32 up), as in hvisor.
      checkInterruptRange(zone, 0, numIrqs - 1, `GIC INTIDs`);
      if (a.kind === 'gicv3' && boardGic === 'gicv3') return gicv3(zone, a);
      if (a.kind === 'gicv2' && boardGic === 'gicv2') return gicv2(zone, a);
      const v = boardGic.slice(3);
      throw new ConfigError(zone.config.source, 'arch_config.gic_version', `"${v}": board ${zone.machine.boardName} has a GIC${v} (the config describes ${a.kind})`);
    },
    createCpu: ({ host, index, physical }) => {
      const zone = host as Zone;
      const gic = gics.get(zone);
      const hwids = zoneHwids(zone);
      const virtTimer = gic?.ppiInput(index, PPI_VIRTUAL_TIMER);
      const physTimer = gic?.ppiInput(index, PPI_PHYSICAL_TIMER);
      return new Aarch64Cpu({
        index,
        physicalId: physical.id,
        host,
        mpidr: physical.hwid | 0x80000000n,
        vcpuOfMpidr: (m) => {
          const i = hwids.findIndex((h) => (h & 0xff00ffffffn) === (m & 0xff00ffffffn));
          return i < 0 ? undefined : i;
        },
        // GICv3's CPU interface is the ICC_* system registers; GICv2's is memory-mapped (gicc_base).
        ...(gic instanceof Gicv3 && { systemRegisterHook: gic }),
        ...(gic && { timerOutput: (timer: 'phys' | 'virt', level: boolean) => (timer === 'virt' ? virtTimer : physTimer)!.set(level) }),
      });
    },
  };
}

/**
 * loongarch64: Loongarch64Cpu vCPUs and the zone's interrupt path as Linux drives it: a per-zone
 * LS7A PCH-PIC at the board's (its owned inputs are the config's `interrupts`) whose vectors go to the
 * zone's EIOINTC, which raises each vCPU's HWI pins; IPIs and mailboxes over IOCSR. Each vCPU's IOCSR
 * space reaches the zone's EIOINTC and IPI block. Core numbers (CPUID, route bytes, IPI targets) are
 * the zone's vCPU indices, as hvisor's LVZ zones see them (GCSR.CPUID), whichever board cores run them.
 */
export function loongarchFactories(): ArchFactories {
  const chips = new WeakMap<Zone, { ipi: LoongsonIpi; eiointc: LoongsonEiointc; spaces: LoongsonIocsr[]; vcpuOfCore: (core: number) => number | undefined }>();
  return {
    zoneOps: loongarchZoneOps,
    createCpu: ({ host, index, physical }) => {
      const c = chips.get(host as Zone);
      let iocsr: LoongsonIocsr | undefined;
      if (c !== undefined) {
        iocsr = new LoongsonIocsr(index, c.ipi, c.eiointc, (core) => {
          const v = c.vcpuOfCore(core);
          return v === undefined ? undefined : c.spaces[v];
        });
        c.spaces[index] = iocsr;
      }
      return new Loongarch64Cpu(host, index, physical.id, iocsr, index);
    },
    createIrqchip: (zone): ZoneIrqchip => {
      checkInterruptRange(zone, 0, 63, 'PCH-PIC inputs');
      const vcpus = zone.config.cpus.length;
      // The zone's core numbers are its vCPU indices (the CPUID its vCPUs read, its device tree's cpu regs).
      const vcpuOfCore = (core: number) => (Number.isInteger(core) && core >= 0 && core < vcpus ? core : undefined);
      const eiointc = new LoongsonEiointc({ vcpus, vcpuOfCore, output: (v, line, level) => vcpuLine(zone, v, line).set(level) });
      const ipi = new LoongsonIpi({
        vcpus,
        vcpuOfCore,
        output: (v, level) => vcpuLine(zone, v, IPI_LINE).set(level),
        isRunning: (v) => zone.cpus[v]?.powered === true,
        startVcpu: (v, entry) => void zone.startVcpu(v, entry, 0n),
      });
      chips.set(zone, { ipi, eiointc, spaces: [], vcpuOfCore });
      const picBase = pchPicBase(zone);
      const pic = new Ls7aPchPic({ ownedInputs: zone.config.interrupts, vectorOutput: (vector, level) => eiointc.setInput(vector, level) });
      return {
        windows: picBase === undefined ? [] : [{ base: picBase, size: 0x400, device: pic, name: 'ls7a-pch-pic (zone view)' }],
        input: (irq) => (Number.isInteger(irq) && irq >= 0 && irq < 64 && zone.config.interrupts.includes(irq) ? pic.inputLine(irq) : undefined),
        reset: () => {
          pic.reset();
          eiointc.reset();
          ipi.reset();
        },
        describe: () => eiointc.describe(),
      };
    },
  };
}

/** The board's PCH-PIC window (loongson,pch-pic-1.0 or QEMU 7.2's loongarch,ls7a), if it has one. */
function pchPicBase(zone: Zone): number | undefined {
  const tree = parseDtb(zone.machine.dtb);
  for (const n of tree.nodes()) {
    if (n.isCompatible('loongson,pch-pic-1.0') || n.isCompatible('loongarch,ls7a')) return tree.cpuReg(n)?.[0]?.address;
  }
  return undefined;
}
