import type { ArchZoneOps } from '../cpu.js';

/** aarch64: x0 = dtb (arm64 booting.rst); PSCI CPU_ON passes x0 = context id. IPIs are the GIC's SGIs. */
export const aarch64ZoneOps: ArchZoneOps = {
  bootArguments: (_hwid, dtb) => [dtb, 0n, 0n, 0n],
  secondaryArguments: (_hwid, arg) => [arg],
  ipi: () => {},
};
