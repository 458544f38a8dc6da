/**
 * Rockchip's write-mask convention (CRU, GRF, PMU, GPIO): a 32-bit write to a register carries the
 * new value in bits 15:0 and, in bits 31:16, which of those bits to change; the register holds 16
 * bits and reads its upper half as zero. One write can flip one field without a read-modify-write.
 */
export function hiwordWrite(held: number, value: number): number {
  const mask = value >>> 16;
  return ((held & ~mask) | (value & mask)) & 0xffff;
}
