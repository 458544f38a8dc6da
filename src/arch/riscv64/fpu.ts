/** What the F/D executor needs from the hart. */
export interface FpState {
  readonly x: BigUint64Array;
  readonly f: Float64Array;
  readonly fb: BigUint64Array;
  readonly fu32: Uint32Array;
  fflags: number;
  frm: number;
  markFpDirty(): void;
}

export function executeFp(h: FpState, inst: number): boolean {
  void h; void inst;
  return false;
}
