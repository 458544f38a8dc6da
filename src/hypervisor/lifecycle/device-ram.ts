import type { Machine } from '../../machine/machine.js';
import type { MemoryRegionConfig, ZoneConfig } from '../../config/zone-config.js';

/**
 * hvisor maps a `ram` region as normal memory wherever it lies. Its root zones use that for SoC
 * registers (hvisor's zcu102 board.rs gives the DDR controller at 0xfd07_0000 as MEM_TYPE_RAM): on
 * the board that range is a device, not DRAM. Such a region, outside every RAM bank and wholly on
 * the board's device windows, is the zone's passthrough of those devices, as an `io` region is;
 * it never becomes guest RAM (no /memory node, no image placed in it). Anything else is left for
 * the partition check to judge.
 */
export function deviceRamAsIo(machine: Machine, config: ZoneConfig): { config: ZoneConfig; notes: string[] } {
  const notes: string[] = [];
  const onDevices = (r: MemoryRegionConfig) => {
    if (machine.ramBanks.some((b) => r.physicalStart < b.base + b.size && b.base < r.physicalStart + r.size)) return false;
    // Every byte of the region inside some device window.
    let at = r.physicalStart;
    const end = r.physicalStart + r.size;
    while (at < end) {
      const d = machine.deviceAt(at);
      const w = d?.windows.find((x) => at >= x.base && at < x.base + x.size);
      if (w === undefined) return false;
      at = w.base + w.size;
    }
    return true;
  };
  const memoryRegions = config.memoryRegions.map((r, i) => {
    if (r.type !== 'ram' || !onDevices(r)) return r;
    const d = machine.deviceAt(r.physicalStart)!;
    notes.push(`memory_regions[${i}] ram 0x${r.physicalStart.toString(16)}+0x${r.size.toString(16)} is ${d.path} on board ${machine.boardName}, not DRAM: passed through as an io region`);
    return { ...r, type: 'io' as const };
  });
  return notes.length === 0 ? { config, notes } : { config: { ...config, memoryRegions }, notes };
}
