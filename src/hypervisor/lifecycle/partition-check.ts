import type { Machine } from '../../machine/machine.js';
import type { MemoryRegionConfig, ZoneConfig } from '../../config/zone-config.js';
import { formatBdf } from '../../machine/bdf.js';
import { HvisorError } from '../../util/hvisor-error.js';

export type PartitionResource = 'zone-id' | 'cpu' | 'ram' | 'io' | 'interrupt' | 'pci' | 'guest-physical' | 'ivc';

/** A board that cannot be partitioned as configured: names the resource, both owners and the range/id. */
export class PartitionError extends HvisorError {
  constructor(
    readonly resource: PartitionResource,
    message: string,
  ) {
    super(message);
  }
}

/** "zone 1 (linux2, zone1.json)". */
export function zoneLabel(z: ZoneConfig): string {
  return `zone ${z.zoneId} (${z.name}, ${z.source})`;
}

const hex = (n: number) => '0x' + n.toString(16);
const range = (start: number, size: number) => `[${hex(start)}, ${hex(start + size)})`;

/**
 * Checks, before anything runs, that the zones partition the board: every CPU, physical RAM range,
 * passed-through device window, interrupt and PCI function belongs to at most one zone (IVC
 * doorbell interrupts excepted: both peers name them), and every RAM/io region lies on the board.
 * `virtio` windows are per-zone emulated, so two zones may use the same guest address for them.
 */
export interface PartitionPolicy {
  /**
   * hvisor's own root-zone configs cover the nonroot zones' RAM (zone0's Linux loads their images
   * there and keeps it out of use with a reserved-memory no-map node). Allowed by default, as in
   * hvisor; `false` makes RAM strictly exclusive, zone0 included.
   */
  readonly rootMayCoverNonrootRam?: boolean;
}

export function checkPartition(machine: Machine, zones: readonly ZoneConfig[], policy: PartitionPolicy = {}): void {
  const ids = new Map<number, ZoneConfig>();
  for (const z of zones) {
    const other = ids.get(z.zoneId);
    if (other !== undefined) {
      throw new PartitionError('zone-id', `zone id ${z.zoneId} is used by both ${zoneLabel(other)} and ${zoneLabel(z)}`);
    }
    ids.set(z.zoneId, z);
  }

  const boardCpus = new Set(machine.cpus.map((c) => c.id));
  const cpuOwner = new Map<number, ZoneConfig>();
  for (const z of zones) {
    for (const cpu of z.cpus) {
      if (!boardCpus.has(cpu)) {
        throw new PartitionError('cpu', `${zoneLabel(z)} asks for CPU ${cpu}, but board ${machine.boardName} has CPUs ${[...boardCpus].join(', ')}`);
      }
      const other = cpuOwner.get(cpu);
      if (other !== undefined) throw new PartitionError('cpu', `CPU ${cpu} is claimed by both ${zoneLabel(other)} and ${zoneLabel(z)}`);
      cpuOwner.set(cpu, z);
    }
  }

  for (const z of zones) checkZoneOnBoard(machine, z);
  checkGuestPhysicalOverlaps(zones);
  checkPhysicalOwnership(machine, zones, policy.rootMayCoverNonrootRam ?? true);
  checkInterrupts(zones);
  checkPciFunctions(zones);
  checkIvc(zones);
}

function checkZoneOnBoard(machine: Machine, z: ZoneConfig): void {
  const count = machine.interruptCount;
  const missing = count === undefined ? undefined : z.interrupts.find((irq) => irq >= count);
  if (missing !== undefined) {
    throw new PartitionError('interrupt', `${zoneLabel(z)} interrupts: ${missing} is not an interrupt of board ${machine.boardName}'s controller (it has 0..${count! - 1})`);
  }
  z.memoryRegions.forEach((r, i) => {
    const where = `${zoneLabel(z)} memory_regions[${i}] ${r.type} ${range(r.physicalStart, r.size)}`;
    if (r.type === 'ram') {
      const inBank = machine.ramBanks.some((b) => r.physicalStart >= b.base && r.physicalStart + r.size <= b.base + b.size);
      if (!inBank) {
        const banks = machine.ramBanks.map((b) => range(b.base, b.size)).join(', ') || 'none';
        throw new PartitionError('ram', `${where} is not inside one RAM bank of board ${machine.boardName} (banks: ${banks})`);
      }
    } else if (r.type === 'io') {
      const ram = machine.ramBanks.find((b) => r.physicalStart < b.base + b.size && b.base < r.physicalStart + r.size);
      if (ram !== undefined) throw new PartitionError('io', `${where} overlaps board RAM ${range(ram.base, ram.size)}: use a "ram" region`);
      const device = machine.devices.some((d) => d.windows.some((w) => r.physicalStart < w.base + w.size && w.base < r.physicalStart + r.size));
      if (!device && machine.describedAt(r.physicalStart, r.size) === undefined) throw new PartitionError('io', `${where} covers no device of board ${machine.boardName}`);
    }
  });
}

/** Inside one zone, no two regions may share guest-physical addresses. */
function checkGuestPhysicalOverlaps(zones: readonly ZoneConfig[]): void {
  for (const z of zones) {
    const rs = z.memoryRegions.map((r, i) => ({ r, i })).sort((a, b) => a.r.virtualStart - b.r.virtualStart);
    for (let k = 1; k < rs.length; k++) {
      const a = rs[k - 1]!;
      const b = rs[k]!;
      if (b.r.virtualStart < a.r.virtualStart + a.r.size) {
        throw new PartitionError(
          'guest-physical',
          `${zoneLabel(z)}: memory_regions[${a.i}] ${range(a.r.virtualStart, a.r.size)} and memory_regions[${b.i}] ` +
            `${range(b.r.virtualStart, b.r.size)} overlap in guest-physical space`,
        );
      }
    }
  }
}

/** RAM and io regions are exclusive across zones by physical address. */
function checkPhysicalOwnership(machine: Machine, zones: readonly ZoneConfig[], rootMayCoverNonrootRam: boolean): void {
  const root = zones.find((z) => z.zoneId === 0);
  // The root zone lends what it covers, as in hvisor: RAM, and inside its io windows a device the DTB
  // disables, which the root zone's kernel leaves alone (hvisor's imx8mp root zone owns the AIPS buses;
  // hvisor-tool's zone1 takes the disabled UART4 out of one). An enabled device stays one zone's.
  const idle = (r: MemoryRegionConfig) =>
    machine.describedAt(r.physicalStart, r.size) !== undefined &&
    !machine.devices.some((d) => d.windows.some((w) => r.physicalStart < w.base + w.size && w.base < r.physicalStart + r.size));
  const coveredByRoot = (z: ZoneConfig, r: MemoryRegionConfig) =>
    rootMayCoverNonrootRam && z !== root && (r.type === 'ram' || (r.type === 'io' && idle(r))) &&
    (root?.memoryRegions ?? []).some((q) => q.type === r.type && r.physicalStart >= q.physicalStart && r.physicalStart + r.size <= q.physicalStart + q.size);
  const claims: { z: ZoneConfig; r: MemoryRegionConfig; i: number }[] = [];
  for (const z of zones) z.memoryRegions.forEach((r, i) => r.type !== 'virtio' && claims.push({ z, r, i }));
  claims.sort((a, b) => a.r.physicalStart - b.r.physicalStart || a.z.zoneId - b.z.zoneId);
  for (let x = 0; x < claims.length; x++) {
    const a = claims[x]!;
    for (let y = x + 1; y < claims.length; y++) {
      const b = claims[y]!;
      if (b.r.physicalStart >= a.r.physicalStart + a.r.size) break;
      if (a.z === b.z) continue;
      if ((a.z === root && coveredByRoot(b.z, b.r) && a.r.type === b.r.type) || (b.z === root && coveredByRoot(a.z, a.r) && b.r.type === a.r.type)) continue;
      const end = Math.min(a.r.physicalStart + a.r.size, b.r.physicalStart + b.r.size);
      throw new PartitionError(
        a.r.type === 'ram' && b.r.type === 'ram' ? 'ram' : 'io',
        `physical ${range(b.r.physicalStart, end - b.r.physicalStart)} is claimed by both ${zoneLabel(a.z)} (memory_regions[${a.i}] ${a.r.type}) ` +
          `and ${zoneLabel(b.z)} (memory_regions[${b.i}] ${b.r.type})`,
      );
    }
  }
}

function checkInterrupts(zones: readonly ZoneConfig[]): void {
  const owner = new Map<number, ZoneConfig>();
  for (const z of zones) {
    const ivcIrqs = new Set(z.ivcConfigs.map((c) => c.interruptNum));
    for (const irq of new Set(z.interrupts)) {
      const other = owner.get(irq);
      if (other !== undefined && other !== z) {
        // An IVC doorbell is named by both peers of the channel.
        if (ivcIrqs.has(irq) && other.ivcConfigs.some((c) => c.interruptNum === irq)) continue;
        throw new PartitionError('interrupt', `interrupt ${irq} is claimed by both ${zoneLabel(other)} and ${zoneLabel(z)}`);
      }
      owner.set(irq, z);
    }
  }
}

/**
 * PCI functions are exclusive, except each domain's host bridge (bus_range_begin:00.0), which
 * hvisor clones into every zone's virtual bus (pci_config.rs: is_host_bridge).
 */
function checkPciFunctions(zones: readonly ZoneConfig[]): void {
  const owner = new Map<string, ZoneConfig>();
  for (const z of zones) {
    for (const d of z.allocPciDevs) {
      const buses = z.pciConfig.filter((p) => p.domain === d.domain);
      const hostBridge = buses.length === 0 ? d.bdf === 0 : buses.some((p) => d.bdf === p.busRangeBegin << 8);
      if (hostBridge) continue;
      const key = `${d.domain}:${d.bdf}`;
      const other = owner.get(key);
      if (other !== undefined && other !== z) {
        throw new PartitionError('pci', `PCI function ${d.domain.toString(16).padStart(4, '0')}:${formatBdf(d.bdf)} is given to both ${zoneLabel(other)} and ${zoneLabel(z)}`);
      }
      owner.set(key, z);
    }
  }
}

/** Peers of one IVC channel must agree on its shape, as hvisor's insert_ivc_record demands. */
function checkIvc(zones: readonly ZoneConfig[]): void {
  const channels = new Map<number, { z: ZoneConfig; maxPeers: number; rw: number; out: number; peers: Set<number> }>();
  for (const z of zones) {
    for (const c of z.ivcConfigs) {
      if (c.rwSecSize % 0x1000 !== 0 || c.outSecSize % 0x1000 !== 0) {
        throw new PartitionError('ivc', `${zoneLabel(z)} ivc ${c.ivcId}: section sizes must be multiples of 4 KiB`);
      }
      const ch = channels.get(c.ivcId);
      if (ch === undefined) {
        channels.set(c.ivcId, { z, maxPeers: c.maxPeers, rw: c.rwSecSize, out: c.outSecSize, peers: new Set([c.peerId]) });
        continue;
      }
      if (ch.maxPeers !== c.maxPeers || ch.rw !== c.rwSecSize || ch.out !== c.outSecSize) {
        throw new PartitionError('ivc', `ivc ${c.ivcId}: ${zoneLabel(ch.z)} and ${zoneLabel(z)} disagree on max_peers/rw_sec_size/out_sec_size`);
      }
      if (ch.peers.has(c.peerId)) throw new PartitionError('ivc', `ivc ${c.ivcId}: peer id ${c.peerId} is taken by both ${zoneLabel(ch.z)} and ${zoneLabel(z)}`);
      if (ch.peers.size >= ch.maxPeers) throw new PartitionError('ivc', `ivc ${c.ivcId}: ${zoneLabel(z)} exceeds max_peers ${ch.maxPeers}`);
      ch.peers.add(c.peerId);
    }
  }
}
