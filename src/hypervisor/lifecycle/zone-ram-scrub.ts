import type { Machine } from '../../machine/machine.js';
import type { ZoneConfig } from '../../config/zone-config.js';

const PAGE = 0x1000;
const ZERO_PAGE = new Uint8Array(PAGE);

/**
 * Zeroes the RAM a departed zone owned, so the next zone given it finds only what its own loading
 * writes there. Pages already zero are left untouched: board RAM is committed lazily by the host,
 * and writing zeros over a never-used gigabyte would commit all of it.
 */
export function scrubZoneRam(machine: Machine, config: ZoneConfig): void {
  for (const r of config.memoryRegions) {
    if (r.type !== 'ram') continue;
    const bank = machine.ramBanks.find((b) => r.physicalStart >= b.base && r.physicalStart + r.size <= b.base + b.size);
    if (bank === undefined) continue;
    const bytes = bank.ram.u8;
    const start = r.physicalStart - bank.base;
    const end = start + r.size;
    for (let at = start; at < end; at += PAGE) {
      const n = Math.min(PAGE, end - at);
      const page = bytes.subarray(at, at + n);
      if (!Buffer.from(page.buffer, page.byteOffset, n).equals(n === PAGE ? ZERO_PAGE : ZERO_PAGE.subarray(0, n))) page.fill(0);
    }
  }
}
