/**
 * Predecoded operation numbers of the loongarch64 interpreter. A decoded instruction packs
 * op | rd << 8 | rj << 14 | rk << 20 into one int32 (see decode.ts) beside its immediate; an integer
 * destination r0 is rewritten to the sink register 32 so the executor never tests for r0.
 */
export const enum Op {
  Undecoded = 0,
  /** Not an instruction we implement: INE. */
  Illegal,
  AddW, AddD, SubW, SubD, Slt, Sltu, Nor, And, Or, Xor, Orn, Andn, MaskEqz, MaskNez,
  SllW, SrlW, SraW, SllD, SrlD, SraD, RotrW, RotrD,
  MulW, MulhW, MulhWu, MulD, MulhD, MulhDu, MulwDW, MulwDWu,
  DivW, ModW, DivWu, ModWu, DivD, ModD, DivDu, ModDu,
  /** imm = shift amount. */
  AlslW, AlslWu, AlslD,
  Slti, Sltui, AddiW, AddiD, Lu52iD, Andi, Ori, Xori, Addu16iD,
  Lu12iW, Lu32iD, Pcaddi, Pcalau12i, Pcaddu12i, Pcaddu18i,
  SlliW, SlliD, SrliW, SrliD, SraiW, SraiD, RotriW, RotriD,
  /** The one-register bit operations (ext, clo/clz/cto/ctz, revb/revh, bitrev): imm = the minor opcode. */
  Bit2R,
  /** imm = byte shift. */
  BytepickW, BytepickD,
  /** imm = msb << 8 | lsb. */
  BstrinsW, BstrpickW, BstrinsD, BstrpickD,
  LdB, LdH, LdW, LdD, LdBu, LdHu, LdWu,
  StB, StH, StW, StD,
  LdxB, LdxH, LdxW, LdxD, LdxBu, LdxHu, LdxWu,
  StxB, StxH, StxW, StxD,
  /** preld, preldx, dbar, ibar: no effect on this memory model. */
  Nop,
  LlW, ScW, LlD, ScD,
  /** Atomic memory operations: imm = the 5-bit minor opcode of the am* group (see executeAtomic). */
  Am,
  /** crc.w.{b,h,w,d}.w and crcc: imm = size log2 | castagnoli << 2. */
  Crc,
  Break, Syscall,
  /** hvcl code: a hypercall to the hypervisor role (hvisor's ABI: a0 = number, a1/a2 = arguments, result in a0). */
  Hvcl,
  /** imm 0 = rdtimel.w, 1 = rdtimeh.w, 2 = rdtime.d. */
  Rdtime,
  Cpucfg,
  Beqz, Bnez, Bceqz, Bcnez, Jirl, B, Bl, Beq, Bne, Blt, Bge, Bltu, Bgeu,
  /** csrrd (rj 0), csrwr (rj 1), csrxchg: imm = the CSR number. */
  Csr,
  /** imm 0-3 = iocsrrd.{b,h,w,d}, 4-7 = iocsrwr.{b,h,w,d}. */
  Iocsr,
  Tlbsrch, Tlbrd, Tlbwr, Tlbfill, Tlbclr, Tlbflush,
  /** imm = op. */
  Invtlb,
  Cacop,
  /** imm = level. */
  Lddir,
  /** imm = 0 (even) or 1 (odd); the base register is rj. */
  Ldpte,
  Ertn, Idle,
  FldS, FldD, FstS, FstD, FldxS, FldxD, FstxS, FstxD,
  /** Every other FP instruction: imm holds the raw instruction word. */
  Fp,
  /** An LSX instruction (lsx.ts): imm holds the raw instruction word. */
  Lsx,
}
