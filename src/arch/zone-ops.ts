import type { Arch } from '../machine/machine.js';
import { aarch64ZoneOps } from './aarch64/zone-ops.js';
import type { ArchZoneOps } from './cpu.js';
import { loongarchZoneOps } from './loongarch64/zone-ops.js';
import { riscvZoneOps } from './riscv64/zone-ops.js';

/** The zone behaviour of a board's arch (hvisor's arch/mod.rs picks the built one the same way). */
export function archZoneOps(arch: Arch): ArchZoneOps {
  switch (arch) {
    case 'riscv64':
      return riscvZoneOps;
    case 'aarch64':
      return aarch64ZoneOps;
    case 'loongarch64':
      return loongarchZoneOps;
  }
}
