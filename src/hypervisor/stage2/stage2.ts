import type { MmioDevice } from '../../machine/mmio-device.js';
import type { Machine } from '../../machine/machine.js';
import type { Ram } from '../../machine/ram.js';
import type { RoutedIrq } from '../../machine/routed-irq.js';
import { OffsetDevice } from './offset-device.js';
import { Stage2Space } from './stage2-space.js';
import type { ZoneConfig } from '../../config/zone-config.js';
import { HvisorError } from '../../util/hvisor-error.js';

/** A device model owned by this zone alone (virtual GIC distributor, PLIC, vECAM, virtio-mmio, IVC). */
export interface ZoneDeviceWindow {
  /** Guest-physical base. */
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
  readonly name: string;
  /** The model's interrupt output (virtio devices): the zone wires it to its controller input `irq.number`. */
  readonly irqLine?: RoutedIrq;
  /** The zone's PCI tree behind this window (its virtual ECAM), for the gdb `monitor pci` command. */
  readonly pciReport?: () => string;
  /**
   * For a model with a host endpoint (a socket, a web page): resolves once it is up, rejects saying
   * why not. The zone gets no time until then, and does not start if it rejects.
   */
  readonly ready?: Promise<void>;
  /** A model whose work per slice of its zone is bounded (virtio: the chains a slice's kicks may name). */
  readonly slicedWork?: SlicedDeviceWork;
}

/** A model that bounds its work per slice of its zone and leaves the rest for the next, on the zone's time. */
export interface SlicedDeviceWork {
  /** Work was left for a later slice: the zone is not idle while its vCPUs wait. */
  readonly hasDeferredWork: boolean;
  /** A slice of the zone begins: the budget is refilled and left-over work goes on. */
  startSlice(): void;
  /** The work done since the slice began, in the budget's units (bytes named plus a per-descriptor cost). */
  readonly workThisSlice: number;
}

/** RAM shared with other zones (IVC sections), mapped read-write at a guest-physical base. */
export interface SharedRamWindow {
  readonly base: number;
  readonly size: number;
  readonly ram: Ram;
  readonly ramOffset: number;
  readonly name: string;
}

/** Zone-owned models that DMA into the zone, built for it and taken back when it goes. */
export interface ZoneDeviceSource {
  /** Called once the zone's RAM is mapped, so the models can be given `memory` for their DMA. */
  provide(zone: ZoneConfig, memory: Stage2Space): readonly ZoneDeviceWindow[];
  /**
   * The zone is gone, or did not start: every model provided for it (also those built before a
   * failing one) is reset and detached from its zone's memory, and what it holds on the host (files,
   * sockets, switch ports, PCI functions) is freed before this returns; the promise waits for
   * close callbacks.
   */
  release(zoneId: number): Promise<void>;
  /** The device windows and interrupts it will serve a zone, known before the zone starts (for its device tree). */
  slots?(zoneId: number): readonly { readonly base: number; readonly size: number; readonly irq: number }[];
}

/**
 * The virtio-mmio models of a zone (the virtio layer, src/devices/virtio/). Every window provided
 * must lie inside one of the zone's `virtio` memory regions.
 */
export type VirtioProvider = ZoneDeviceSource;

/** Further zone-owned models (the vPCI ECAM and its windows, anywhere the config's pci_config puts them). */
export type DeviceProvider = ZoneDeviceSource;

/** A part of the zone's configured space that has no model behind it: accesses there fault. */
export interface Stage2Hole {
  readonly base: number;
  readonly size: number;
  readonly why: string;
}

export interface Stage2Map {
  readonly space: Stage2Space;
  readonly holes: readonly Stage2Hole[];
  /** The windows the VirtioProvider supplied. */
  readonly virtio: readonly ZoneDeviceWindow[];
  /** The windows the DeviceProvider supplied. */
  readonly devices: readonly ZoneDeviceWindow[];
}

export class Stage2Error extends HvisorError {
  constructor(message: string) {
    super(message);
  }
}

const hex = (n: number) => '0x' + n.toString(16);

/**
 * Builds a zone's guest-physical map from the board and its config (hvisor's `gpm`):
 * - `ram` regions map the board RAM bank holding them (same Ram block, offset) at virtual_start;
 * - `io` regions pass through the board device models they cover (accesses reach the very model
 *   the board built); parts without a model are holes, listed in `holes`. The board's interrupt
 *   controllers are never passed through: the zone sees its own model (`emulated`) instead;
 * - `virtio` regions map what the VirtioProvider returns; the rest of the window is a hole;
 * - `emulated` windows (the zone's interrupt-controller instance, vECAM, IVC control tables) are
 *   mapped as given.
 * Anything else is unmapped: a stage-2 fault.
 */
export function buildStage2(
  machine: Machine,
  zone: ZoneConfig,
  emulated: readonly ZoneDeviceWindow[] = [],
  virtio?: VirtioProvider,
  sharedRam: readonly SharedRamWindow[] = [],
  devices?: DeviceProvider,
): Stage2Map {
  const space = new Stage2Space();
  const holes: Stage2Hole[] = [];
  const label = `zone ${zone.zoneId} (${zone.name})`;

  for (const r of zone.memoryRegions) {
    if (r.type !== 'ram') continue;
    const bank = machine.ramBanks.find((b) => r.physicalStart >= b.base && r.physicalStart + r.size <= b.base + b.size);
    if (bank === undefined) throw new Stage2Error(`${label}: RAM ${hex(r.physicalStart)}+${hex(r.size)} is in no board RAM bank`);
    for (const s of bank.spans(r.physicalStart - bank.base, r.size)) {
      space.mapRam(r.virtualStart + s.offset - (r.physicalStart - bank.base), s.size, s.ram, s.ramOffset, `ram@${hex(r.physicalStart)}`);
    }
  }

  for (const w of sharedRam) {
    try {
      space.mapRam(w.base, w.size, w.ram, w.ramOffset, w.name);
    } catch (e) {
      throw new Stage2Error(`${label}: ${(e as Error).message}`);
    }
  }

  const mapEmulated = (w: ZoneDeviceWindow) => {
    try {
      space.mapMmio(w.base, w.size, w.device, w.name);
    } catch (e) {
      throw new Stage2Error(`${label}: ${(e as Error).message}`);
    }
  };
  for (const w of emulated) mapEmulated(w);
  const isEmulated = (gpa: number, size: number) => emulated.some((w) => gpa < w.base + w.size && w.base < gpa + size);

  for (const r of zone.memoryRegions) {
    if (r.type !== 'io') continue;
    const shift = r.virtualStart - r.physicalStart;
    const covered: { base: number; size: number }[] = [];
    for (const d of machine.devices) {
      for (const w of d.windows) {
        const start = Math.max(w.base, r.physicalStart);
        const end = Math.min(w.base + w.size, r.physicalStart + r.size);
        if (start >= end) continue;
        if (d.role === 'interrupt-controller' || d.model === undefined || isEmulated(start + shift, end - start)) continue;
        const device = start === w.base ? d.model : new OffsetDevice(d.model, start - w.base);
        space.mapMmio(start + shift, end - start, device, d.path);
        covered.push({ base: start, size: end - start });
      }
    }
    for (const gap of gaps(r.physicalStart, r.size, covered)) {
      for (const part of explainGap(machine, gap)) {
        if (!isEmulated(part.base + shift, part.size)) holes.push({ ...part, base: part.base + shift });
      }
    }
  }

  const virtioRegions = zone.memoryRegions.filter((r) => r.type === 'virtio');
  const provided = virtio?.provide(zone, space) ?? [];
  for (const w of provided) {
    if (!virtioRegions.some((r) => w.base >= r.virtualStart && w.base + w.size <= r.virtualStart + r.size)) {
      throw new Stage2Error(`${label}: virtio device ${w.name} at ${hex(w.base)}+${hex(w.size)} lies outside the zone's virtio regions`);
    }
    mapEmulated(w);
  }
  for (const r of virtioRegions) {
    const served = provided.filter((w) => w.base >= r.virtualStart && w.base < r.virtualStart + r.size);
    for (const gap of gaps(r.virtualStart, r.size, served)) holes.push({ ...gap, why: 'virtio window with no device served here' });
  }

  const late = devices?.provide(zone, space) ?? [];
  for (const w of late) mapEmulated(w);

  return { space, holes, virtio: provided, devices: late };
}

/** Splits an uncovered physical range by the board devices in it, saying why each part is a hole. */
function explainGap(machine: Machine, gap: { base: number; size: number }): Stage2Hole[] {
  const end = gap.base + gap.size;
  const cuts = new Set([gap.base, end]);
  for (const d of machine.devices) {
    for (const w of d.windows) {
      if (w.base > gap.base && w.base < end) cuts.add(w.base);
      if (w.base + w.size > gap.base && w.base + w.size < end) cuts.add(w.base + w.size);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out: Stage2Hole[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const base = points[i]!;
    const size = points[i + 1]! - base;
    const d = machine.deviceAt(base);
    const why =
      d === undefined ? 'no board device here'
      : d.role === 'interrupt-controller' ? `${d.path} is the board's interrupt controller: the zone's own model is not mapped here`
      : `${d.path} (${d.compatible[0] ?? '?'}) has no device model`;
    const last = out[out.length - 1];
    if (last !== undefined && last.why === why && last.base + last.size === base) out[out.length - 1] = { base: last.base, size: last.size + size, why };
    else out.push({ base, size, why });
  }
  return out;
}

/** The parts of [base, base+size) not covered by `covered`. */
function gaps(base: number, size: number, covered: readonly { base: number; size: number }[]): { base: number; size: number }[] {
  const sorted = [...covered].sort((a, b) => a.base - b.base);
  const out: { base: number; size: number }[] = [];
  let at = base;
  for (const c of sorted) {
    if (c.base > at) out.push({ base: at, size: c.base - at });
    at = Math.max(at, c.base + c.size);
  }
  if (at < base + size) out.push({ base: at, size: base + size - at });
  return out;
}
