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
    for (const span of bank.spans(r.physicalStart - bank.base, r.size)) {
      if (!span.ram.committed) continue; // a block nothing ever reached holds only zeros
      const bytes = span.ram.u8;
      const end = span.ramOffset + span.size;
      for (let at = span.ramOffset; at < end; at += PAGE) {
        const n = Math.min(PAGE, end - at);
        const page = bytes.subarray(at, at + n);
        if (!Buffer.from(page.buffer, page.byteOffset, n).equals(n === PAGE ? ZERO_PAGE : ZERO_PAGE.subarray(0, n))) page.fill(0);
      }
    }
  }
}
