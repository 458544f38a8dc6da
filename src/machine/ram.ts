/**
 * A block of guest RAM backed by a SharedArrayBuffer, so zones in worker threads and IVC
 * regions can share it. Views are created once; the hot path indexes them directly.
 */
export class Ram {
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;

  constructor(readonly size: number) {
    if (size <= 0 || size % 8 !== 0) throw new RangeError(`RAM size ${size} must be a positive multiple of 8`);
    this.buffer = new SharedArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.u64 = new BigUint64Array(this.buffer);
  }
}
