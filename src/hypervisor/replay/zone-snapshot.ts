import { isSnapshottable, type Snapshottable } from '../../machine/snapshottable.js';
import type { Zone, ZoneRunState } from '../zone/zone.js';

/** One zone's state at an instruction count: vCPUs, RAM, its models, time. */
export interface ZoneSnapshot {
  readonly name: string;
  /** The zone's instruction count when it was taken. */
  readonly count: number;
  readonly run: ZoneRunState;
  readonly cpus: readonly unknown[];
  /**
   * The zone's RAM regions page by page: a page equal to the base snapshot's (see takeSnapshot) is
   * that snapshot's own copy, shared; an all-zero page is undefined.
   */
  readonly ram: readonly SnapshotRegion[];
  /** Bytes of RAM this snapshot copied (the pages it does not share). */
  readonly ownBytes: number;
  readonly models: ReadonlyMap<string, unknown>;
  /** Where a replay of the zone stood (its timeline's state), if one runs. */
  readonly timeline: unknown;
  /** Models of the zone that keep no snapshot state (their registers are not restored). */
  readonly uncaptured: readonly string[];
}

export interface SnapshotRegion {
  readonly paddr: number;
  readonly size: number;
  readonly pages: readonly (Uint8Array | undefined)[];
}

const PAGE = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE);

/** A region's bytes in place (no copy) when one RAM block holds it, else a copy. */
function ramBytes(zone: Zone, paddr: number, size: number): Buffer {
  const r = zone.machine.physical.find(paddr);
  if (r?.kind === 'ram' && paddr + size <= r.base + r.size) {
    const u8 = r.ram.u8;
    return Buffer.from(u8.buffer, u8.byteOffset + r.ramOffset + (paddr - r.base), size);
  }
  const copy = zone.machine.physical.readDebug(paddr, size);
  return Buffer.from(copy.buffer, copy.byteOffset, copy.length);
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

/**
 * Takes a snapshot of a halted zone (between slices: no vCPU is mid-instruction). Pages equal to
 * `base`'s are shared with it and zero pages take nothing, so a snapshot costs one comparison pass
 * over RAM and copies only what changed since `base` (or, without one, what is not zero).
 */
export function takeSnapshot(zone: Zone, name: string, base?: ZoneSnapshot): ZoneSnapshot {
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
  let ownBytes = 0;
  const ram = zone.config.memoryRegions
    .filter((r) => r.type === 'ram')
    .map((r): SnapshotRegion => {
      const bytes = ramBytes(zone, r.physicalStart, r.size);
      const before = base?.ram.find((b) => b.paddr === r.physicalStart && b.size === r.size)?.pages;
      const pages: (Uint8Array | undefined)[] = [];
      for (let at = 0, i = 0; at < r.size; at += PAGE, i++) {
        const page = bytes.subarray(at, Math.min(at + PAGE, r.size));
        const old = before?.[i];
        if (old !== undefined ? page.equals(old) : page.equals(ZERO_PAGE.subarray(0, page.length))) pages.push(old);
        else {
          pages.push(Uint8Array.prototype.slice.call(page));
          ownBytes += page.length;
        }
      }
      return { paddr: r.physicalStart, size: r.size, pages };
    });
  const timeline = isSnapshottable(zone.timeline) ? zone.timeline.saveState() : undefined;
  return { name, count: zone.instructionCount, run: zone.saveRunState(), cpus, ram, ownBytes, models, uncaptured, timeline };
}

/** Puts a zone back where the snapshot was taken (its RAM, vCPUs, models and time). */
export function restoreSnapshot(zone: Zone, snapshot: ZoneSnapshot): void {
  // Only the pages that differ are written (and their decoded code dropped).
  for (const { paddr, size, pages } of snapshot.ram) {
    const bytes = ramBytes(zone, paddr, size);
    const inPlace = zone.machine.physical.find(paddr)?.kind === 'ram';
    pages.forEach((saved, i) => {
      const at = i * PAGE;
      const page = bytes.subarray(at, Math.min(at + PAGE, size));
      const want = saved ?? ZERO_PAGE.subarray(0, page.length);
      if (page.equals(want)) return;
      if (inPlace) page.set(want);
      else zone.machine.physical.writeDebug(paddr + at, want);
      const gpa = zone.guestAddressOf(paddr + at);
      if (gpa !== undefined) for (const c of zone.cpus) c.invalidateCode(gpa, page.length);
    });
  }
  zone.cpus.forEach((c, i) => c.loadState!(snapshot.cpus[i]));
  for (const [key, model] of zoneModels(zone)) {
    const state = snapshot.models.get(key);
    if (state !== undefined) (model as Snapshottable).loadState(state);
  }
  zone.loadRunState(snapshot.run);
  if (snapshot.timeline !== undefined && isSnapshottable(zone.timeline)) zone.timeline.loadState(snapshot.timeline);
}

/** Bytes of RAM a snapshot copied (shared and zero pages take none). */
export function snapshotBytes(s: ZoneSnapshot): number {
  return s.ownBytes;
}
