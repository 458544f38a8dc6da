/**
 * A hart's supervisor-level IMSIC interrupt file as the core reaches it (Smaia/Ssaia): sireg with
 * siselect in 0x70..0xff, and stopei. The hypervisor hands each vCPU its zone's file for that vCPU
 * (hvisor maps the hart's guest file where the guest expects its S file; the CSRs reach the same one).
 */
export interface InterruptFile {
  /** sireg read with siselect = `select`; undefined when no register has that number. */
  readIndirect(select: number): bigint | undefined;
  /** sireg write; false when no register has that number. */
  writeIndirect(select: number, value: bigint): boolean;
  /** stopei read: (identity << 16) | identity, or 0. */
  topei(): number;
  /** stopei write: claims what topei reports. */
  claimTopei(): void;
}
