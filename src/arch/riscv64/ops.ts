/**
 * Predecoded operation numbers of the riscv64 interpreter. A decoded slot packs
 * op | rd << 8 | rs1 << 14 | rs2 << 20 | compressed << 26 into one int32 (see decode.ts);
 * integer rd = 0 is rewritten to the sink register 32 so the executor never tests for x0.
 */
export const enum Op {
  Undecoded = 0,
  Illegal,
  CrossPage,
  Lui, Auipc, Jal, Jalr,
  Beq, Bne, Blt, Bge, Bltu, Bgeu,
  Lb, Lh, Lw, Ld, Lbu, Lhu, Lwu,
  Sb, Sh, Sw, Sd,
  Addi, Slti, Sltiu, Xori, Ori, Andi, Slli, Srli, Srai,
  Add, Sub, Sll, Slt, Sltu, Xor, Srl, Sra, Or, And,
  Addiw, Slliw, Srliw, Sraiw,
  Addw, Subw, Sllw, Srlw, Sraw,
  Mul, Mulh, Mulhsu, Mulhu, Div, Divu, Rem, Remu,
  Mulw, Divw, Divuw, Remw, Remuw,
  Fence, FenceI, Ecall, Ebreak, Sret, Wfi, SfenceVma, Csr,
  /** LR/SC/AMO: imm holds funct5 << 3 | width (2 = W, 3 = D). */
  Amo,
  Flw, Fld, Fsw, Fsd,
  /** Every other F/D instruction: imm holds the raw instruction word. */
  Fp,
  /** Zba/Zbb: imm holds the raw instruction word. */
  Bitmanip,
  /** Zicbom cbo.clean/flush/inval and Zicboz cbo.zero: imm holds the raw word. */
  Cbo,
}
