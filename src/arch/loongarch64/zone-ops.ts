import type { ArchZoneOps } from '../cpu.js';

/** loongarch64: hvisor clears every register (the guest finds its tables through firmware); IPIs are IOCSR mailboxes. */
export const loongarchZoneOps: ArchZoneOps = {
  bootArguments: () => [],
  secondaryArguments: (_hwid, arg) => [arg],
  ipi: () => {},
};
