/**
 * Layout of the A64 register file: one BigUint64Array shared by the core and the code the block
 * compiler emits (V8 lowers `r[d] = r[a] + r[b]` on it to machine int64). A Uint32Array view of the
 * same buffer reads 32-bit halves (W registers, address halves) without BigInt conversions.
 */
export const enum Reg {
  /** x0..x30 live at their own numbers. */
  X30 = 30,
  /** The stack pointer of the current EL/SPSel (the banked copies live in system registers). */
  Sp = 31,
  Pc = 32,
  /** Writes to XZR land here and are never read. */
  Discard = 33,
  /** Always zero: reads of XZR where a slot is needed (stores of xzr, pairs). */
  Zero = 34,
  /** Scratch slots for multi-step instructions (pair loads onto the base register, ...). */
  Tmp0 = 35,
  Tmp1 = 36,
  /** A 128-bit scratch vector (two slots) for lane results that must not overwrite their sources. */
  VTmp = 40,
  /** 64 bytes (eight slots) of scratch for structure loads/stores (LD2..LD4, ST2..ST4). */
  StructTmp = 48,
  /** V0..V31: 128 bits each, low half at V0 + 2n, high half at V0 + 2n + 1. */
  V0 = 64,
  Count = 128,
}

/** Scratch file `s` (operands and results handed to flag helpers, the data address). */
export const enum Scratch {
  A = 0,
  B = 1,
  Result = 2,
  /** Address of the current data access: its halves are s32[6] (low) and s32[7] (high). */
  Addr = 3,
  Op = 4,
  Op2 = 5,
  Count = 8,
}

/** The slot a load writes for register number n (31 = XZR → discarded). */
export function loadSlot(n: number): number {
  return n === 31 ? Reg.Discard : n;
}

/** The slot a store reads for register number n (31 = XZR → zero). */
export function storeSlot(n: number): number {
  return n === 31 ? Reg.Zero : n;
}
