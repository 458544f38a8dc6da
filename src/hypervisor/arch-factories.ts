import { Aarch64Irq } from '../arch/aarch64/system-register-hook.js';
import { Aarch64Cpu } from '../arch/aarch64/aarch64-cpu.js';
import { Riscv64Cpu } from '../arch/riscv64/riscv64-cpu.js';
import { Gicv3, REDISTRIBUTOR_STRIDE } from '../devices/irqchip/gic/gicv3.js';
import { Plic } from '../devices/irqchip/plic.js';
import type { IrqLine } from '../machine/irq-line.js';
import { ZoneConfigError } from './config-error.js';
import type { CpuFactory, IrqchipFactory, Zone, ZoneIrqchip } from './zone.js';

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
 * riscv64: Riscv64Cpu vCPUs and a per-zone PLIC at the config's plic_base. Contexts are the zone's
 * harts x {M, S}; only S-mode contexts reach the vCPU (guests run in S/VS mode). `numSources`
 * is the board PLIC's riscv,ndev + 1 (QEMU virt: 96).
 */
export function riscvFactories(numSources = 96): { createCpu: CpuFactory; createIrqchip: IrqchipFactory } {
  return {
    createCpu: ({ host, index, physical }) => new Riscv64Cpu(host, index, physical.id),
    createIrqchip: (zone): ZoneIrqchip => {
      const a = zone.config.archConfig;
      if (a.kind !== 'riscv' || a.plicSize === 0) return { windows: [], input: () => undefined, reset() {} };
      const vcpus = zone.config.cpus.length;
      const owned = zone.config.interrupts.filter((s) => s >= 1 && s < numSources);
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
      };
    },
  };
}

/**
 * aarch64 with GICv3: Aarch64Cpu vCPUs whose ICC_* registers and timer PPIs go to a per-zone GICv3
 * (distributor at gicd_base, one redistributor frame per vCPU from gicr_base). MPIDRs are the
 * board CPUs' (so PSCI CPU_ON names physical CPUs, as in hvisor).
 */
export function aarch64Gicv3Factories(numIrqs = 288): { createCpu: CpuFactory; createIrqchip: IrqchipFactory; gicOf: (zone: Zone) => Gicv3 | undefined } {
  const gics = new WeakMap<Zone, Gicv3>();
  return {
    gicOf: (zone) => gics.get(zone),
    createIrqchip: (zone): ZoneIrqchip => {
      const a = zone.config.archConfig;
      if (a.kind !== 'gicv3') {
        throw new ZoneConfigError(zone.config.source, 'arch_config.gic_version', `"v3": board ${zone.machine.boardName} has a GICv3 (the config describes ${a.kind})`);
      }
      const hwids = zone.config.cpus.map((id) => zone.machine.cpus.find((c) => c.id === id)!.hwid);
      const gic = new Gicv3({
        vcpus: hwids.length,
        ownedSpis: zone.config.interrupts.filter((i) => i >= 32 && i < numIrqs),
        numIrqs,
        affinities: hwids,
        irqOutputs: hwids.map((_, v) => vcpuLine(zone, v, Aarch64Irq.Irq)),
      });
      gics.set(zone, gic);
      return {
        windows: [
          { base: a.gicdBase, size: a.gicdSize, device: gic.distributor, name: 'gicv3 distributor (zone view)' },
          { base: a.gicrBase, size: Math.min(a.gicrSize, hwids.length * REDISTRIBUTOR_STRIDE), device: gic.redistributors, name: 'gicv3 redistributors (zone view)' },
        ],
        input: (irq) => (irq >= 32 && irq < numIrqs && zone.config.interrupts.includes(irq) ? gic.spiInput(irq) : undefined),
        reset: () => gic.reset(),
      };
    },
    createCpu: ({ host, index, physical }) => {
      const zone = host as Zone;
      const gic = gics.get(zone);
      const hwids = zone.config.cpus.map((id) => zone.machine.cpus.find((c) => c.id === id)!.hwid);
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
        ...(gic && {
          systemRegisterHook: gic,
          timerOutput: (timer, level) => (timer === 'virt' ? virtTimer : physTimer)!.set(level),
        }),
      });
    },
  };
}
