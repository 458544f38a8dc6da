/**
 * What a zone's exits cost, in instructions of its vCPU's quantum (the scheduler's `budget`).
 *
 * An exit into the hypervisor takes host time that no instruction count sees: a device model's
 * access, a console write, a virtio request copying megabytes, a hypercall. So that a zone whose
 * exits are expensive cannot take the other zones' host time, each exit is charged to the quantum
 * of the vCPU that made it: its turn ends once instructions + charges reach the quantum, and a
 * charge beyond the quantum is a debt its next turns pay by sitting out. The charges depend only on
 * what the guest does, never on the host, so the interleaving of a zone's vCPUs stays deterministic
 * (virtual and warp time). Charges never count as guest time: time is the instructions retired.
 *
 * The figures are the host cost of the exit relative to one emulated instruction (about 15-20 ns
 * at the 50-70 MIPS the cores run at), rounded generously.
 */
export const EXIT_COSTS = {
  /** One access that reached a device model (MMIO: a trap, decode and the model's work). */
  deviceAccess: 20,
  /** A console write (SBI putchar/DBCN): the fixed part... */
  consoleWrite: 200,
  /** ...and each byte written (line splitting, the zone's prefix, the host's stdout). */
  consoleByte: 4,
  /** An hvisor hypercall (zone start reads files, lists zones, ...). */
  hypercall: 5000,
  /** Virtio work is counted in bytes named plus a per-descriptor cost (virtqueue.ts): this many per instruction. */
  deviceWorkPerInstruction: 16,
} as const;
