/**
 * Builds the physical Machine of a board from its device tree: RAM banks from /memory (or the
 * board's fallback), CPUs from /cpus, and one DeviceInstance per memory-mapped device node with
 * its CPU-physical windows (after `ranges`), its interrupts numbered as zone configs name them,
 * its role, and the model the device registry binds by `compatible` (or none: listed, not fatal).
 * Disabled nodes are noted, not instantiated.
 */
import { boardMatches, type BoardDescriptor, type BoardParams } from '../../boards/board-descriptor.js';
import { BoardDtbMismatchError, BoardNeedsDtbError, BoardParameterError } from '../../boards/board-errors.js';
import { renderDts } from '../../boards/dts-source.js';
import { compileDts } from '../../dtb/dts/compiler.js';
import { writeDtb } from '../../dtb/writer.js';
import type { DeviceTree } from '../../dtb/device-tree.js';
import type { DtNode } from '../../dtb/node.js';
import { parseDtb } from '../../dtb/reader.js';
import type { RangeEntry } from '../../dtb/addresses.js';
import type { DeviceNodeDescription, DeviceServices } from '../devices/device-node.js';
import { deviceRole, findDeviceFactory, findSmcServiceFactory } from '../devices/registry.js';
import { UnimplementedDevice } from '../devices/platform/unimplemented.js';
import { Machine, type DeviceInstance, type PhysicalCpu } from '../machine/machine.js';
import type { MmioDevice } from '../machine/mmio-device.js';
import { disconnectedIrq, type IrqLine } from '../machine/irq-line.js';
import { RoutedIrq } from '../machine/routed-irq.js';
import { interruptMapZoneIrqs, nodeZoneIrqs, type ZoneIrq } from '../machine/zone-irq-number.js';
import { HvisorError } from '../util/hvisor-error.js';

export interface BoardBuildOptions {
  /** A DTB to use instead of the board's generated tree (required for vendor boards). */
  readonly dtb?: Uint8Array;
  /** Generated-tree parameters; the board's defaults fill the rest. */
  readonly params?: Partial<BoardParams>;
  /** Host services handed to device models (consoles, clock, power-off). */
  readonly services?: DeviceServices;
  /** Use a DTB whose root compatible names none of the board's SoCs (`--force`). */
  readonly force?: boolean;
}

/** Display facts about a device beyond the Machine's DeviceInstance. */
export interface DeviceDetail {
  readonly instance: DeviceInstance;
  readonly irqs: readonly ZoneIrq[];
  /** `reg-names`, one per window when present. */
  readonly windowNames?: readonly string[];
  /** The model the board descriptor expects for this compatible (whether or not it is registered yet). */
  readonly expectedModel?: string;
  /** Why a registered model could not be built or mapped. */
  readonly modelError?: string;
  /** PCI host bridges: their `ranges` windows. */
  readonly pciWindows?: readonly PciWindow[];
  /** PCI host bridges: `bus-range`. */
  readonly busRange?: readonly [number, number];
}

export interface PciWindow {
  readonly space: string;
  readonly cpuBase: number;
  readonly pciBase: number;
  readonly size: number;
  readonly prefetchable: boolean;
}

export interface DisabledNode {
  readonly path: string;
  readonly compatible: readonly string[];
  readonly status: string;
  readonly windows: readonly { readonly base: number; readonly size: number }[];
}

export interface BoardBuild {
  readonly board: BoardDescriptor;
  readonly machine: Machine;
  readonly tree: DeviceTree;
  /** True when the tree is the board's generated one. */
  readonly generated: boolean;
  readonly params: BoardParams;
  /** Memory came from the board's fallback because the DTB has no /memory node. */
  readonly ramFromFallback: boolean;
  readonly details: readonly DeviceDetail[];
  readonly disabled: readonly DisabledNode[];
  /** The rate guests read from the timer (CNTFRQ_EL0, riscv timebase), in Hz. */
  readonly timerFrequency: number;
}

/** A RAM bank the emulator cannot back: not a whole number of 8-byte words, or beyond the limit. */
export class BoardRamError extends HvisorError {
  constructor(
    readonly path: string,
    readonly base: number,
    readonly size: number,
    reason: string,
  ) {
    super(`${path}: RAM bank 0x${base.toString(16)}+0x${size.toString(16)} ${reason}`);
  }
}

/** Guest RAM is host memory (SharedArrayBuffer, committed lazily): cap what one board may ask for. */
export const MAX_BOARD_RAM = 256 * 2 ** 30;

/** Nodes that describe the platform, not devices. */
const NOT_DEVICES = new Set(['chosen', 'aliases', 'cpus', 'reserved-memory', '__symbols__', '__fixups__', '__local_fixups__']);

export function buildBoard(board: BoardDescriptor, options: BoardBuildOptions = {}): BoardBuild {
  const params: BoardParams = { ...board.defaults, ...options.params };
  if (params.virtualization !== undefined && board.arch !== 'aarch64') {
    throw new BoardParameterError(board.name, 'virtualization', 'is an aarch64 virt option (QEMU virtualization=on)');
  }
  let tree: DeviceTree;
  let dtbBytes: Uint8Array;
  const generated = options.dtb === undefined;
  if (options.dtb !== undefined) {
    // A given DTB fixes the CPUs; memory only matters when it has no /memory (the board's fallback).
    for (const knob of ['cpus', 'virtualization'] as const) {
      if (options.params?.[knob] !== undefined) throw new BoardParameterError(board.name, knob, 'only applies to the generated device tree, not to --dtb');
    }
    tree = parseDtb(options.dtb);
    dtbBytes = options.dtb;
    const rootCompatible = tree.root.compatible;
    if (options.force !== true && !boardMatches(board, rootCompatible)) throw new BoardDtbMismatchError(board.name, rootCompatible, board.rootCompatible);
  } else {
    if (board.generateTree === undefined) throw new BoardNeedsDtbError(board.name, board.dtbHint ?? 'no hint');
    // The generated source goes through our DTS compiler, as a user's edited copy of it would.
    tree = compileDts(renderDts(board.generateTree(params)), { file: `${board.name}.dts` });
    dtbBytes = writeDtb(tree);
  }

  const machine = new Machine(board.name, board.arch, readCpus(tree), dtbBytes);
  const ram = readMemory(tree);
  const ramFromFallback = ram.length === 0 && board.fallbackRam !== undefined;
  if (options.dtb !== undefined && options.params?.memoryBytes !== undefined && !ramFromFallback) {
    throw new BoardParameterError(board.name, 'memory', 'only applies to a generated device tree or a DTB without /memory');
  }
  const banks = ramFromFallback ? board.fallbackRam!(params).map((r) => ({ ...r, path: `${board.name} RAM layout` })) : ram;
  let total = 0;
  for (const bank of banks) {
    total += bank.size;
    if (bank.size % 8 !== 0) throw new BoardRamError(bank.path, bank.base, bank.size, 'is not a multiple of 8 bytes');
    if (total > MAX_BOARD_RAM) throw new BoardRamError(bank.path, bank.base, bank.size, `takes the board past ${MAX_BOARD_RAM / 2 ** 30} GiB of RAM`);
    machine.addRam(bank.base, bank.size);
  }

  for (const b of board.undescribedBlocks ?? []) machine.addDescribedWindow(`${b.name} (not in the DTB)`, b.base, b.size);
  const details: DeviceDetail[] = [];
  const disabled: DisabledNode[] = [];
  const visit = (bus: DtNode): void => {
    for (const node of bus.children) {
      if (node.name === 'reserved-memory' && bus === tree.root) {
        // Firmware areas carved out of DRAM that a model stands for (an SCMI channel's shared memory).
        for (const area of node.children) if (area.enabled && findDeviceFactory(area.compatible) !== undefined) details.push(describeDevice(board, tree, area, machine, options.services ?? {}));
        continue;
      }
      if (NOT_DEVICES.has(node.name) || node.string('device_type') === 'memory') continue;
      if (!node.enabled) {
        const windows = windowsOf(tree, node);
        disabled.push({ path: node.path, compatible: node.compatible, status: node.string('status') ?? '', windows });
        for (const w of windows) machine.addDescribedWindow(node.path, w.base, w.size);
        continue;
      }
      const compatible = node.compatible;
      const isContainer = compatible.includes('simple-bus') || (compatible.length === 0 && node.has('ranges'));
      if (isContainer) {
        for (const w of windowsOf(tree, node)) machine.addDescribedWindow(node.path, w.base, w.size); // i.MX's AIPS bus registers
        if (node.has('ranges')) visit(node); // children of an unmapped bus are not CPU-addressable
        continue;
      }
      if (compatible.length === 0 && !node.has('reg')) {
        // /firmware holds the secure firmware's interfaces (zynqmp-firmware, scmi, optee): no MMIO, reached by SMC.
        if (node.name === 'firmware' && bus === tree.root) visit(node);
        continue;
      }
      details.push(describeDevice(board, tree, node, machine, options.services ?? {}));
      if (node.has('ranges') && !isPciBus(node)) visit(node);
    }
  };
  visit(tree.root);
  machine.interruptCount = interruptCountOf(board, tree, details);
  return { board, machine, tree, generated, params, ramFromFallback, details, disabled, timerFrequency: timerFrequencyOf(board, tree) };
}

/**
 * riscv: /cpus timebase-frequency; loongarch64: 100 MHz; aarch64: the generic timer node's clock-frequency
 * (what firmware puts in CNTFRQ_EL0 where the DTB states it: i.MX8MP 8 MHz), else the board's firmware
 * rate (Rockchip 24 MHz), else QEMU virt's 62.5 MHz.
 */
function timerFrequencyOf(board: BoardDescriptor, tree: DeviceTree): number {
  if (board.arch === 'riscv64') return tree.node('/cpus')?.u32('timebase-frequency') ?? 10_000_000;
  // LoongArch's constant timer and stable counter run at CPUCFG4's crystal: 100 MHz on the 3A5000.
  if (board.arch === 'loongarch64') return 100_000_000;
  const timer = [...tree.nodes()].find((n) => n.compatible.includes('arm,armv8-timer') && n.enabled);
  const rate = timer?.u32('clock-frequency');
  return rate !== undefined && rate > 0 ? rate : board.timerFrequency ?? 62_500_000;
}

const GIC_COMPATIBLES = new Set(['arm,gic-v3', 'arm,gic-400', 'arm,cortex-a15-gic', 'arm,cortex-a9-gic', 'arm,gic-v2']);

/**
 * Interrupt numbers the board's controller implements: the board's own figure, the PLIC's
 * riscv,ndev (APLIC's riscv,num-sources) + 1, or for a GIC the DTB's highest INTID rounded up to
 * the 32 INTIDs GICD_TYPER.ITLinesNumber counts in. Undefined for other controllers (unchecked).
 */
function interruptCountOf(board: BoardDescriptor, tree: DeviceTree, details: readonly DeviceDetail[]): number | undefined {
  if (board.interruptCount !== undefined) return board.interruptCount;
  const nodes = [...tree.nodes()];
  const sources = (part: string, property: string) => nodes.find((n) => n.compatible.some((c) => c.includes(part)))?.u32(property);
  const plic = sources('plic', 'riscv,ndev') ?? sources('aplic', 'riscv,num-sources');
  if (plic !== undefined) return plic + 1;
  if (!nodes.some((n) => n.compatible.some((c) => GIC_COMPATIBLES.has(c)))) return undefined;
  const highest = Math.max(31, ...details.flatMap((d) => d.instance.irqs));
  return Math.min(1024, Math.max(64, Math.ceil((highest + 1) / 32) * 32));
}

function isPciBus(node: DtNode): boolean {
  const type = node.string('device_type');
  return type === 'pci' || type === 'pciex';
}

function readCpus(tree: DeviceTree): PhysicalCpu[] {
  const cpus = tree.node('/cpus');
  if (cpus === undefined) return [];
  const out: PhysicalCpu[] = [];
  for (const n of cpus.children) {
    if (n.string('device_type') !== 'cpu' || !n.enabled) continue;
    const reg = n.cells('reg') ?? [];
    let hwid = 0n;
    for (const c of reg) hwid = (hwid << 32n) | BigInt(c);
    out.push({ id: out.length, hwid, path: n.path });
  }
  return out;
}

function readMemory(tree: DeviceTree): { base: number; size: number; path: string }[] {
  const out: { base: number; size: number; path: string }[] = [];
  for (const n of tree.root.children) {
    if (n.string('device_type') !== 'memory' || !n.enabled) continue;
    for (const r of tree.cpuReg(n) ?? []) if (r.size > 0) out.push({ base: r.address, size: r.size, path: n.path });
  }
  // Overlapping entries (a DTB that lists a range twice, as exynosautov920-sadk's does) are one bank, as memblock merges them.
  const merged: { base: number; size: number; path: string }[] = [];
  for (const r of out.sort((a, b) => a.base - b.base)) {
    const last = merged.at(-1);
    if (last !== undefined && r.base < last.base + last.size) last.size = Math.max(last.size, r.base + r.size - last.base);
    else merged.push({ ...r });
  }
  return merged;
}

function windowsOf(tree: DeviceTree, node: DtNode): { base: number; size: number }[] {
  return (tree.cpuReg(node) ?? []).map((r) => ({ base: r.address, size: r.size }));
}

function roleOf(board: BoardDescriptor, node: DtNode): DeviceInstance['role'] {
  const compatible = node.compatible;
  const override = board.bindings.find((b) => b.role !== undefined && compatible.includes(b.compatible))?.role;
  const role = override ?? deviceRole(compatible);
  if (role === 'interrupt-controller') return 'interrupt-controller';
  if (role === 'timer') return 'timer';
  if (role === 'no-model') return 'other';
  if (isPciBus(node)) return 'pci-host';
  if (compatible.includes('virtio,mmio')) return 'virtio-slot';
  return 'device';
}

function describeDevice(board: BoardDescriptor, tree: DeviceTree, node: DtNode, machine: Machine, services: DeviceServices): DeviceDetail {
  const compatible = node.compatible;
  const windows = windowsOf(tree, node);
  const role = roleOf(board, node);
  const irqs = [...nodeZoneIrqs(tree, node)];
  if (role === 'pci-host') {
    for (const irq of interruptMapZoneIrqs(tree, node)) if (!irqs.some((i) => i.source === irq.source)) irqs.push(irq);
  }
  // Lines exist for what a model raises; controllers and timers are per-zone models of the hypervisor.
  const passable = role === 'device' || role === 'virtio-slot' || role === 'pci-host';
  const numbered = irqs.filter((i): i is ZoneIrq & { number: number } => i.number !== undefined);
  // The model sees one line per `interrupts` entry, in order; cascaded ones go nowhere.
  const modelLines: IrqLine[] = irqs.map((i) => (i.number === undefined ? disconnectedIrq : new RoutedIrq(i.source, i.number)));
  const irqLines = passable ? modelLines.filter((l): l is RoutedIrq => l instanceof RoutedIrq) : [];
  const expectedModel = board.bindings.find((b) => compatible.includes(b.compatible))?.model;

  let model: MmioDevice | undefined;
  let modelName: string | undefined;
  let modelError: string | undefined;
  const factory = passable ? findDeviceFactory(compatible) : undefined;
  const firmware = passable && windows.length === 0 ? findSmcServiceFactory(compatible) : undefined;
  if (firmware !== undefined) {
    try {
      // The area's model, not a container over it (RK3568's shared memory is a child of an mmio-sram node with the same window).
      const modelAt = (a: number) => machine.devices.find((d) => d.model !== undefined && d.windows.some((w) => a >= w.base && a - w.base < w.size))?.model;
      const board = {
        machineCompatible: tree.root.compatible,
        modelAt,
        ...(services.log !== undefined ? { log: (line: string) => services.log?.(line) } : {}),
      };
      machine.addSmcService(firmware.create(nodeDescription(tree, node, windows, modelLines), board));
      modelName = firmware.model;
    } catch (e) {
      modelError = `${firmware.model}: ${e instanceof Error ? e.message : String(e)}`;
    }
  } else if (factory !== undefined) {
    try {
      model = factory.create(nodeDescription(tree, node, windows, modelLines), services);
      modelName = factory.model;
    } catch (e) {
      modelError = `${factory.model}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  // An mmio-sram node is a container (RK3568's holds the SCMI shared memory): its children's models answer there.
  if (model === undefined && firmware === undefined && modelError === undefined && role === 'device' && windows.length > 0 && board.unmodelledReadAsZero && !node.compatible.includes('mmio-sram')) {
    model = new UnimplementedDevice(node.path); // listed as "no model" all the same
  }
  const base = { path: node.path, compatible, windows, irqs: numbered.map((i) => i.number), irqLines, role };
  let instance: DeviceInstance = { ...base, modelName, model };
  try {
    machine.addDevice(instance);
  } catch (e) {
    // A window overlapping RAM or another model: keep the node listed, unbound, with the reason.
    modelError = `${modelName ?? 'model'}: ${e instanceof Error ? e.message : String(e)}`;
    instance = { ...base, modelName: undefined, model: undefined };
    machine.addDevice(instance);
  }

  const windowNames = node.strings('reg-names');
  const detail: DeviceDetail = {
    instance,
    irqs,
    ...(windowNames !== undefined ? { windowNames } : {}),
    ...(expectedModel !== undefined ? { expectedModel } : {}),
    ...(modelError !== undefined ? { modelError } : {}),
  };
  if (role !== 'pci-host') return detail;
  const busRange = node.cells('bus-range');
  return {
    ...detail,
    pciWindows: (tree.ranges(node) ?? []).flatMap(pciWindow),
    ...(busRange !== undefined && busRange.length === 2 ? { busRange: [busRange[0]!, busRange[1]!] as const } : {}),
  };
}

function pciWindow(r: RangeEntry): PciWindow[] {
  if (r.cpuAddress === undefined) return [];
  return [{
    space: r.pciSpace ?? 'unknown',
    cpuBase: Number(r.cpuAddress),
    pciBase: Number(r.childAddress),
    size: Number(r.size),
    prefetchable: r.prefetchable ?? false,
  }];
}

function nodeDescription(
  tree: DeviceTree,
  node: DtNode,
  windows: readonly { base: number; size: number }[],
  irqs: readonly IrqLine[],
): DeviceNodeDescription {
  const clockFrequency = node.u32('clock-frequency') ?? firstClockRate(tree, node);
  const regShift = node.u32('reg-shift');
  const regIoWidth = node.u32('reg-io-width');
  return {
    path: node.path,
    compatible: node.compatible,
    windows,
    irqs,
    ...(clockFrequency !== undefined ? { clockFrequency } : {}),
    ...(regShift !== undefined ? { regShift } : {}),
    ...(regIoWidth !== undefined ? { regIoWidth } : {}),
    property: (name) => node.property(name)?.value,
    linkedWindows: (name) => {
      const target = tree.nodeByPhandle(node.u32(name) ?? -1);
      return target === undefined ? [] : windowsOf(tree, target);
    },
  };
}

/** The rate of the node's first clock when it is a fixed clock (QEMU's apb-pclk, for instance). */
function firstClockRate(tree: DeviceTree, node: DtNode): number | undefined {
  const clocks = node.cells('clocks');
  if (clocks === undefined || clocks.length === 0) return undefined;
  return tree.nodeByPhandle(clocks[0]!)?.u32('clock-frequency');
}
