import { AddressSpace } from './address-space.js';
import type { MmioDevice } from './mmio-device.js';
import { RamBank } from './ram-bank.js';
import type { RoutedIrq } from './routed-irq.js';
import type { SmcService } from './smc-service.js';

/** The instruction set of a board's CPUs (the cores in src/arch implement two of them). */
export type Arch = 'aarch64' | 'riscv64' | 'loongarch64';

/** One physical CPU of the board: `id` is what zone configs list in `cpus`; `hwid` is MPIDR / hart id. */
export interface PhysicalCpu {
  readonly id: number;
  readonly hwid: bigint;
  readonly path: string;
}

export { RamBank } from './ram-bank.js';

/**
 * A device node of the board: its address windows and interrupts, and the model bound to it by
 * `compatible` (undefined = no model: listed, not fatal).
 */
export interface DeviceInstance {
  readonly path: string;
  readonly compatible: readonly string[];
  /** CPU-physical windows, after `ranges` translation. */
  readonly windows: readonly { readonly base: number; readonly size: number }[];
  /** Interrupt numbers as zone configs name them (GIC: SPI id + 32; PLIC: source number). */
  readonly irqs: readonly number[];
  /** Model name bound to this node, or undefined. */
  readonly modelName: string | undefined;
  /** The model, one per window where it has several; undefined when there is no model. */
  readonly model: MmioDevice | undefined;
  /** The model's interrupt outputs, to be connected to the owning zone's interrupt controller. */
  readonly irqLines: readonly RoutedIrq[];
  /** The interrupt controller, timer and CPU-interface nodes are per-zone emulated, not passed through. */
  readonly role: 'device' | 'interrupt-controller' | 'timer' | 'pci-host' | 'virtio-slot' | 'other';
}

/**
 * The physical board: RAM banks, CPUs and devices as its device tree describes them. Zones are
 * carved out of it by the hypervisor; nothing here knows about zones.
 */
export class Machine {
  readonly physical = new AddressSpace();
  private readonly bankList: RamBank[] = [];
  private readonly deviceList: DeviceInstance[] = [];
  private readonly smcList: SmcService[] = [];
  private readonly describedList: { readonly path: string; readonly base: number; readonly size: number }[] = [];
  /**
   * Interrupt numbers (as zone configs count them) the board's interrupt controller implements,
   * set by the board builder; a zone naming one at or above it is refused. Undefined: unchecked.
   */
  interruptCount: number | undefined;

  constructor(
    readonly boardName: string,
    readonly arch: Arch,
    readonly cpus: readonly PhysicalCpu[],
    /** The board's flattened device tree, as parsed. */
    readonly dtb: Uint8Array,
  ) {}

  addRam(base: number, size: number): RamBank {
    const bank = new RamBank(base, size);
    for (const s of bank.spans(0, size)) this.physical.mapRam(base + s.offset, s.size, s.ram, s.ramOffset, `ram@${base.toString(16)}`);
    this.bankList.push(bank);
    return bank;
  }

  addDevice(device: DeviceInstance): void {
    if (device.model !== undefined) {
      for (const w of device.windows) this.physical.mapMmio(w.base, w.size, device.model, device.path);
    }
    this.deviceList.push(device);
  }

  /**
   * A window the DTB describes with nothing to pass through: a node disabled in the DTB, or a bus's
   * own registers. A zone's io region over it is a valid (if idle) claim, as hvisor's configs make.
   */
  addDescribedWindow(path: string, base: number, size: number): void {
    this.describedList.push({ path, base, size });
  }

  /** The described-only window overlapping [base, base + size), if any. */
  describedAt(base: number, size: number): { readonly path: string } | undefined {
    return this.describedList.find((w) => base < w.base + w.size && w.base < base + size);
  }

  /** A firmware service the board's secure firmware provides (device-tree nodes without MMIO). */
  addSmcService(service: SmcService): void {
    this.smcList.push(service);
  }

  get smcServices(): readonly SmcService[] {
    return this.smcList;
  }

  /** Offers an SMC the PSCI/SMCCC layer did not answer to the board's firmware services; false if none took it. */
  smcCall(regs: BigUint64Array): boolean {
    for (const s of this.smcList) if (s.call(regs)) return true;
    return false;
  }

  get ramBanks(): readonly RamBank[] {
    return this.bankList;
  }

  get devices(): readonly DeviceInstance[] {
    return this.deviceList;
  }

  /** The device whose window contains `addr`, if any. */
  deviceAt(addr: number): DeviceInstance | undefined {
    return this.deviceList.find((d) => d.windows.some((w) => addr >= w.base && addr - w.base < w.size));
  }
}
