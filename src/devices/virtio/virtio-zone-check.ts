import type { VirtioDeviceSpec } from '../../config/virtio-config.js';

/** The parts of an hvisor zone config (zoneN.json) a virtio device depends on. */
export interface ZoneVirtioView {
  readonly zoneId: number;
  /** `memory_regions` entries with "type": "virtio", in the zone's guest-physical space. */
  readonly virtioRegions: readonly { readonly virtualStart: number; readonly size: number }[];
  /** The zone config's `interrupts`. */
  readonly interrupts: readonly number[];
}

/**
 * What is wrong between a zone's config and the virtio devices served to it, one sentence each
 * (empty when consistent): every device needs a "virtio" memory region covering its window, so
 * its accesses trap to us, and its irq in the zone's `interrupts`, so the zone may receive it.
 */
export function virtioZoneProblems(zone: ZoneVirtioView, devices: readonly VirtioDeviceSpec[]): string[] {
  const problems: string[] = [];
  for (const d of devices) {
    const what = `zone ${zone.zoneId}: virtio ${d.type} at 0x${d.addr.toString(16)}`;
    const covered = zone.virtioRegions.some((r) => d.addr >= r.virtualStart && d.addr + d.len <= r.virtualStart + r.size);
    if (!covered) problems.push(`${what} has no "virtio" memory region covering [0x${d.addr.toString(16)}, 0x${(d.addr + d.len).toString(16)})`);
    if (!zone.interrupts.includes(d.irq)) problems.push(`${what} uses irq ${d.irq}, which is not in the zone's interrupts`);
  }
  for (const r of zone.virtioRegions) {
    if (!devices.some((d) => d.addr < r.virtualStart + r.size && r.virtualStart < d.addr + d.len)) {
      problems.push(`zone ${zone.zoneId}: "virtio" memory region at 0x${r.virtualStart.toString(16)} has no device behind it (the zone would fault on it)`);
    }
  }
  return problems;
}
