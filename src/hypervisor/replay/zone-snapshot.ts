import { isSnapshottable, type Snapshottable } from '../../machine/snapshottable.js';
import type { Zone, ZoneRunState } from '../zone/zone.js';

/** One zone's state at an instruction count: vCPUs, RAM, its models, time. */
export interface ZoneSnapshot {
  readonly name: string;
  /** The zone's instruction count when it was taken. */
  readonly count: number;
  readonly run: ZoneRunState;
  readonly cpus: readonly unknown[];
  readonly ram: readonly { readonly paddr: number; readonly data: Uint8Array }[];
  readonly models: ReadonlyMap<string, unknown>;
  /** Where a replay of the zone stood (its timeline's state), if one runs. */
  readonly timeline: unknown;
  /** Models of the zone that keep no snapshot state (their registers are not restored). */
  readonly uncaptured: readonly string[];
}

/**
 * The zone's models a snapshot covers: its interrupt controller, its emulated, virtio and DMA
 * windows, and the board devices its io regions pass through (a UART), each by a stable name.
 */
function zoneModels(zone: Zone): Map<string, unknown> {
  const models = new Map<string, unknown>();
  const chip = zone.irqchip;
  if (chip !== undefined) models.set('irqchip', chip);
  for (const w of [...zone.emulatedWindows, ...zone.virtioWindows, ...zone.deviceWindows]) {
    if (chip?.windows.includes(w) !== true || w.name.includes(' its ')) models.set(`${w.name}@${w.base.toString(16)}`, w.device);
  }
  const io = zone.config.memoryRegions.filter((r) => r.type === 'io');
  for (const d of zone.machine.devices) {
    const w = d.windows[0];
    if (d.model === undefined || w === undefined) continue;
    if (io.some((r) => w.base >= r.physicalStart && w.base + w.size <= r.physicalStart + r.size)) models.set(d.path, d.model);
  }
  return models;
}

/** Takes a snapshot of a halted zone (between slices: no vCPU is mid-instruction). */
export function takeSnapshot(zone: Zone, name: string): ZoneSnapshot {
  const cpus = zone.cpus.map((c) => {
    if (c.saveState === undefined) throw new Error(`zone ${zone.id}: the ${c.arch} core keeps no snapshot state yet`);
    return c.saveState();
  });
  const models = new Map<string, unknown>();
  const uncaptured: string[] = [];
  for (const [key, model] of zoneModels(zone)) {
    if (isSnapshottable(model)) models.set(key, model.saveState());
    else uncaptured.push(key);
  }
  const ram = zone.config.memoryRegions.filter((r) => r.type === 'ram').map((r) => ({ paddr: r.physicalStart, data: zone.machine.physical.readDebug(r.physicalStart, r.size) }));
  const timeline = isSnapshottable(zone.timeline) ? zone.timeline.saveState() : undefined;
  return { name, count: zone.instructionCount, run: zone.saveRunState(), cpus, ram, models, uncaptured, timeline };
}

/** Puts a zone back where the snapshot was taken (its RAM, vCPUs, models and time). */
export function restoreSnapshot(zone: Zone, snapshot: ZoneSnapshot): void {
  for (const { paddr, data } of snapshot.ram) {
    zone.machine.physical.writeDebug(paddr, data);
    const gpa = zone.guestAddressOf(paddr);
    if (gpa !== undefined) for (const c of zone.cpus) c.invalidateCode(gpa, data.length);
  }
  zone.cpus.forEach((c, i) => c.loadState!(snapshot.cpus[i]));
  for (const [key, model] of zoneModels(zone)) {
    const state = snapshot.models.get(key);
    if (state !== undefined) (model as Snapshottable).loadState(state);
  }
  zone.loadRunState(snapshot.run);
  if (snapshot.timeline !== undefined && isSnapshottable(zone.timeline)) zone.timeline.loadState(snapshot.timeline);
}

/** Bytes a snapshot holds (RAM dominates). */
export function snapshotBytes(s: ZoneSnapshot): number {
  return s.ram.reduce((n, r) => n + r.data.length, 0);
}
