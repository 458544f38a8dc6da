import type { ArchZoneOps } from '../cpu.js';

/** mip.SSIP: the supervisor software interrupt SBI send_ipi raises. */
const IRQ_SSI = 1;

/** riscv64: a0 = hart id, a1 = dtb (SBI and Linux boot protocol); HSM hart_start passes a1 = opaque. */
export const riscvZoneOps: ArchZoneOps = {
  bootArguments: (hwid, dtb) => [hwid, dtb],
  secondaryArguments: (hwid, arg) => [hwid, arg],
  ipi: (cpu) => cpu.setInterrupt(IRQ_SSI, true),
};
