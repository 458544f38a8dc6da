import { Op } from './ops.js';

/** The result of decoding one instruction: the packed slot word and its immediate. */
export interface Decoded {
  word: number;
  imm: number;
}

export const SINK = 32;
const COMPRESSED = 1 << 26;

function pack(op: Op, rd: number, rs1: number, rs2: number): number {
  return op | (rd << 8) | (rs1 << 14) | (rs2 << 20);
}

/** x0 as a destination becomes the sink register, so results written there vanish. */
const dst = (rd: number): number => (rd === 0 ? SINK : rd);

/**
 * Decodes the 32-bit instruction `inst` (already expanded if it came from a compressed one) into `out`.
 * Unknown or reserved encodings decode to Op.Illegal with the raw bits as imm (they become stval).
 */
export function decode(inst: number, compressed: boolean, raw: number, out: Decoded): void {
  decode32(inst, out);
  if (out.word === Op.Illegal) out.imm = raw;
  if (compressed) out.word |= COMPRESSED;
}

function decode32(inst: number, out: Decoded): void {
  const opcode = inst & 0x7f;
  const rd = (inst >> 7) & 31;
  const f3 = (inst >> 12) & 7;
  const rs1 = (inst >> 15) & 31;
  const rs2 = (inst >> 20) & 31;
  const f7 = inst >>> 25;
  const immI = inst >> 20;
  const d = dst(rd);
  const set = (op: Op, imm: number, r1 = rs1, r2 = rs2, rdv = d): void => {
    out.word = pack(op, rdv, r1, r2);
    out.imm = imm;
  };
  out.word = Op.Illegal;
  out.imm = inst | 0;
  if ((inst & 3) !== 3) return;
  switch (opcode) {
    case 0x37: return set(Op.Lui, inst & 0xfffff000, 0, 0);
    case 0x17: return set(Op.Auipc, inst & 0xfffff000, 0, 0);
    case 0x6f: {
      const imm = (((inst >> 31) << 20) | (((inst >> 12) & 0xff) << 12) | (((inst >> 20) & 1) << 11) | (((inst >> 21) & 0x3ff) << 1));
      return set(Op.Jal, imm, 0, 0);
    }
    case 0x67: if (f3 === 0) set(Op.Jalr, immI, rs1, 0); return;
    case 0x63: {
      const imm = ((inst >> 31) << 12) | (((inst >> 7) & 1) << 11) | (((inst >> 25) & 0x3f) << 5) | (((inst >> 8) & 15) << 1);
      const ops = [Op.Beq, Op.Bne, Op.Illegal, Op.Illegal, Op.Blt, Op.Bge, Op.Bltu, Op.Bgeu];
      if (ops[f3] !== Op.Illegal) set(ops[f3]!, imm, rs1, rs2, 0);
      return;
    }
    case 0x03: {
      const ops = [Op.Lb, Op.Lh, Op.Lw, Op.Ld, Op.Lbu, Op.Lhu, Op.Lwu];
      if (f3 < 7) set(ops[f3]!, immI, rs1, 0);
      return;
    }
    case 0x23: {
      const imm = ((inst >> 25) << 5) | ((inst >> 7) & 31);
      if (f3 < 4) set([Op.Sb, Op.Sh, Op.Sw, Op.Sd][f3]!, imm, rs1, rs2, 0);
      return;
    }
    case 0x13: {
      const f6 = inst >>> 26;
      const f12 = inst >>> 20;
      switch (f3) {
        case 0: return set(Op.Addi, immI, rs1, 0);
        case 2: return set(Op.Slti, immI, rs1, 0);
        case 3: return set(Op.Sltiu, immI, rs1, 0);
        case 4: return set(Op.Xori, immI, rs1, 0);
        case 6: return set(Op.Ori, immI, rs1, 0);
        case 7: return set(Op.Andi, immI, rs1, 0);
        case 1:
          if (f6 === 0) return set(Op.Slli, (inst >> 20) & 63, rs1, 0);
          if (f12 === 0x600 || f12 === 0x601 || f12 === 0x602 || f12 === 0x604 || f12 === 0x605) return set(Op.Bitmanip, inst | 0, rs1, 0);
          if (f6 === 0x12 || f6 === 0x1a || f6 === 0x0a) return set(Op.Bitmanip, inst | 0, rs1, 0); // bclri/binvi/bseti
          return;
        default:
          if (f6 === 0) return set(Op.Srli, (inst >> 20) & 63, rs1, 0);
          if (f6 === 0x10) return set(Op.Srai, (inst >> 20) & 63, rs1, 0);
          if (f6 === 0x18 || f6 === 0x12 || f12 === 0x287 || f12 === 0x6b8) return set(Op.Bitmanip, inst | 0, rs1, 0);
          return;
      }
    }
    case 0x1b: {
      const f12 = inst >>> 20;
      if (f3 === 0) return set(Op.Addiw, immI, rs1, 0);
      if (f3 === 1) {
        if (f7 === 0) return set(Op.Slliw, rs2, rs1, 0);
        if (inst >>> 26 === 0x02 || f12 === 0x600 || f12 === 0x601 || f12 === 0x602) return set(Op.Bitmanip, inst | 0, rs1, 0);
        return;
      }
      if (f3 === 5) {
        if (f7 === 0) return set(Op.Srliw, rs2, rs1, 0);
        if (f7 === 0x20) return set(Op.Sraiw, rs2, rs1, 0);
        if (f7 === 0x30) return set(Op.Bitmanip, inst | 0, rs1, 0);
      }
      return;
    }
    case 0x33: {
      if (f7 === 0) return set([Op.Add, Op.Sll, Op.Slt, Op.Sltu, Op.Xor, Op.Srl, Op.Or, Op.And][f3]!, 0);
      if (f7 === 1) return set([Op.Mul, Op.Mulh, Op.Mulhsu, Op.Mulhu, Op.Div, Op.Divu, Op.Rem, Op.Remu][f3]!, 0);
      if (f7 === 0x20) {
        if (f3 === 0) return set(Op.Sub, 0);
        if (f3 === 5) return set(Op.Sra, 0);
        if (f3 === 4 || f3 === 6 || f3 === 7) return set(Op.Bitmanip, inst | 0);
        return;
      }
      if ((f7 === 0x10 && (f3 === 2 || f3 === 4 || f3 === 6)) || (f7 === 0x05 && f3 !== 0) || (f7 === 0x30 && (f3 === 1 || f3 === 5)) ||
          (f7 === 0x24 && (f3 === 1 || f3 === 5)) || ((f7 === 0x34 || f7 === 0x14) && f3 === 1)) {
        return set(Op.Bitmanip, inst | 0);
      }
      return;
    }
    case 0x3b: {
      if (f7 === 0) {
        if (f3 === 0) return set(Op.Addw, 0);
        if (f3 === 1) return set(Op.Sllw, 0);
        if (f3 === 5) return set(Op.Srlw, 0);
        return;
      }
      if (f7 === 0x20) {
        if (f3 === 0) return set(Op.Subw, 0);
        if (f3 === 5) return set(Op.Sraw, 0);
        return;
      }
      if (f7 === 1) {
        const ops = [Op.Mulw, Op.Illegal, Op.Illegal, Op.Illegal, Op.Divw, Op.Divuw, Op.Remw, Op.Remuw];
        if (ops[f3] !== Op.Illegal) set(ops[f3]!, 0);
        return;
      }
      if ((f7 === 0x04 && (f3 === 0 || (f3 === 4 && rs2 === 0))) || (f7 === 0x10 && (f3 === 2 || f3 === 4 || f3 === 6)) ||
          (f7 === 0x30 && (f3 === 1 || f3 === 5))) {
        return set(Op.Bitmanip, inst | 0);
      }
      return;
    }
    case 0x0f:
      if (f3 === 0) return set(Op.Fence, 0, 0, 0, 0);
      if (f3 === 1) return set(Op.FenceI, 0, 0, 0, 0);
      if (f3 === 2 && rd === 0 && (immI === 0 || immI === 1 || immI === 2 || immI === 4)) return set(Op.Cbo, inst | 0, rs1, 0, 0);
      return;
    case 0x73:
      if (f3 === 0) {
        if (inst === 0x00000073) return set(Op.Ecall, 0, 0, 0, 0);
        if (inst === 0x00100073) return set(Op.Ebreak, 0, 0, 0, 0);
        if (inst === 0x10200073) return set(Op.Sret, 0, 0, 0, 0);
        if (inst === 0x10500073) return set(Op.Wfi, 0, 0, 0, 0);
        if (f7 === 0x09 && rd === 0) return set(Op.SfenceVma, 0, rs1, rs2, 0);
        return;
      }
      if (f3 !== 4) set(Op.Csr, inst | 0, rs1, 0);
      return;
    case 0x2f: {
      if (f3 !== 2 && f3 !== 3) return;
      const f5 = inst >>> 27;
      const ok = f5 === 0x02 ? rs2 === 0 : [0x00, 0x01, 0x03, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c].includes(f5);
      if (ok) set(Op.Amo, (f5 << 3) | f3);
      return;
    }
    case 0x07:
      if (f3 === 2) return set(Op.Flw, immI, rs1, 0, rd);
      if (f3 === 3) return set(Op.Fld, immI, rs1, 0, rd);
      return;
    case 0x27: {
      const imm = ((inst >> 25) << 5) | ((inst >> 7) & 31);
      if (f3 === 2) return set(Op.Fsw, imm, rs1, rs2, 0);
      if (f3 === 3) return set(Op.Fsd, imm, rs1, rs2, 0);
      return;
    }
    case 0x43: case 0x47: case 0x4b: case 0x4f: case 0x53:
      return set(Op.Fp, inst | 0, rs1, rs2, rd);
    default:
      return;
  }
}
