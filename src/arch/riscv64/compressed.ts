/**
 * RVC: expands a 16-bit compressed instruction into the 32-bit instruction it stands for, so one
 * decoder serves both. Returns 0 (an illegal 32-bit word) for reserved or illegal encodings.
 */

const encI = (op: number, rd: number, f3: number, rs1: number, imm: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const encR = (op: number, rd: number, f3: number, rs1: number, rs2: number, f7: number): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const encS = (op: number, f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op) >>> 0;
const encB = (f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;
const encJ = (rd: number, imm: number): number =>
  ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>> 0;

const bit = (v: number, b: number): number => (v >> b) & 1;
const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

const OP_IMM = 0x13, OP_IMM32 = 0x1b, OP = 0x33, OP32 = 0x3b, LOAD = 0x03, STORE = 0x23, LOAD_FP = 0x07, STORE_FP = 0x27;

export function expandCompressed(c: number): number {
  const quadrant = c & 3;
  const f3 = (c >> 13) & 7;
  const rdFull = (c >> 7) & 31;
  const rs2Full = (c >> 2) & 31;
  const rdP = 8 + ((c >> 2) & 7);
  const rs1P = 8 + ((c >> 7) & 7);
  const imm6 = sext((bit(c, 12) << 5) | ((c >> 2) & 31), 6);
  if (quadrant === 0) {
    const ldOff = (((c >> 10) & 7) << 3) | (((c >> 5) & 3) << 6);
    const lwOff = (((c >> 10) & 7) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6);
    switch (f3) {
      case 0: {
        const nz = (((c >> 11) & 3) << 4) | (((c >> 7) & 15) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
        return nz === 0 ? 0 : encI(OP_IMM, rdP, 0, 2, nz);
      }
      case 1: return encI(LOAD_FP, rdP, 3, rs1P, ldOff);
      case 2: return encI(LOAD, rdP, 2, rs1P, lwOff);
      case 3: return encI(LOAD, rdP, 3, rs1P, ldOff);
      case 5: return encS(STORE_FP, 3, rs1P, rdP, ldOff);
      case 6: return encS(STORE, 2, rs1P, rdP, lwOff);
      case 7: return encS(STORE, 3, rs1P, rdP, ldOff);
      default: return 0;
    }
  }
  if (quadrant === 1) {
    switch (f3) {
      case 0: return encI(OP_IMM, rdFull, 0, rdFull, imm6);
      case 1: return rdFull === 0 ? 0 : encI(OP_IMM32, rdFull, 0, rdFull, imm6);
      case 2: return encI(OP_IMM, rdFull, 0, 0, imm6);
      case 3: {
        if (rdFull === 2) {
          const nz = sext((bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) | (((c >> 3) & 3) << 7) | (bit(c, 2) << 5), 10);
          return nz === 0 ? 0 : encI(OP_IMM, 2, 0, 2, nz);
        }
        if (imm6 === 0) return 0;
        return (((imm6 & 0xfffff) << 12) | (rdFull << 7) | 0x37) >>> 0;
      }
      case 4: {
        const f2 = (c >> 10) & 3;
        const shamt = (bit(c, 12) << 5) | ((c >> 2) & 31);
        if (f2 === 0) return encI(OP_IMM, rs1P, 5, rs1P, shamt);
        if (f2 === 1) return encI(OP_IMM, rs1P, 5, rs1P, shamt | 0x400);
        if (f2 === 2) return encI(OP_IMM, rs1P, 7, rs1P, imm6);
        const f = (c >> 5) & 3;
        if (bit(c, 12) === 0) {
          if (f === 0) return encR(OP, rs1P, 0, rs1P, rdP, 0x20);
          if (f === 1) return encR(OP, rs1P, 4, rs1P, rdP, 0);
          if (f === 2) return encR(OP, rs1P, 6, rs1P, rdP, 0);
          return encR(OP, rs1P, 7, rs1P, rdP, 0);
        }
        if (f === 0) return encR(OP32, rs1P, 0, rs1P, rdP, 0x20);
        if (f === 1) return encR(OP32, rs1P, 0, rs1P, rdP, 0);
        return 0;
      }
      case 5: {
        const off = sext((bit(c, 12) << 11) | (bit(c, 11) << 4) | (((c >> 9) & 3) << 8) | (bit(c, 8) << 10) |
          (bit(c, 7) << 6) | (bit(c, 6) << 7) | (((c >> 3) & 7) << 1) | (bit(c, 2) << 5), 12);
        return encJ(0, off);
      }
      default: {
        const off = sext((bit(c, 12) << 8) | (((c >> 10) & 3) << 3) | (((c >> 5) & 3) << 6) | (((c >> 3) & 3) << 1) |
          (bit(c, 2) << 5), 9);
        return encB(f3 === 6 ? 0 : 1, rs1P, 0, off);
      }
    }
  }
  if (quadrant === 2) {
    switch (f3) {
      case 0: return encI(OP_IMM, rdFull, 1, rdFull, (bit(c, 12) << 5) | rs2Full);
      case 1: return encI(LOAD_FP, rdFull, 3, 2, (bit(c, 12) << 5) | (((c >> 5) & 3) << 3) | (((c >> 2) & 7) << 6));
      case 2: return rdFull === 0 ? 0 : encI(LOAD, rdFull, 2, 2, (bit(c, 12) << 5) | (((c >> 4) & 7) << 2) | (((c >> 2) & 3) << 6));
      case 3: return rdFull === 0 ? 0 : encI(LOAD, rdFull, 3, 2, (bit(c, 12) << 5) | (((c >> 5) & 3) << 3) | (((c >> 2) & 7) << 6));
      case 4: {
        if (bit(c, 12) === 0) {
          if (rs2Full === 0) return rdFull === 0 ? 0 : encI(0x67, 0, 0, rdFull, 0);
          return encR(OP, rdFull, 0, 0, rs2Full, 0);
        }
        if (rs2Full === 0) return rdFull === 0 ? 0x00100073 : encI(0x67, 1, 0, rdFull, 0);
        return encR(OP, rdFull, 0, rdFull, rs2Full, 0);
      }
      case 5: return encS(STORE_FP, 3, 2, rs2Full, (((c >> 10) & 7) << 3) | (((c >> 7) & 7) << 6));
      case 6: return encS(STORE, 2, 2, rs2Full, (((c >> 9) & 15) << 2) | (((c >> 7) & 3) << 6));
      default: return encS(STORE, 3, 2, rs2Full, (((c >> 10) & 7) << 3) | (((c >> 7) & 7) << 6));
    }
  }
  return 0;
}
