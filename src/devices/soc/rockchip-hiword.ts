/**
 * Rockchip's write convention for its CRU, GRF, PMU and GPIO control registers (RK3568, RK3588):
 * bits 31:16 of a write enable the writes of bits 15:0, so one store changes a field without a
 * read-modify-write (and two CPUs never race on a register). Such a register holds 16 bits and
 * reads its high half as 0.
 */
export function hiwordWrite(held: number, value: number): number {
  const enable = value >>> 16;
  return ((held & ~enable) | (value & enable)) & 0xffff;
}
