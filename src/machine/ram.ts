import { HvisorError } from '../util/hvisor-error.js';

const NO_MEMORY = new SharedArrayBuffer(0);

/** The host could not give guest RAM of the size a board or config asks for. */
export class RamAllocationError extends HvisorError {
  constructor(readonly size: number) {
    super(`cannot allocate ${size} bytes (${(size / 2 ** 30).toFixed(1)} GiB) of guest RAM: the host refused; ask for less`);
  }
}

/**
 * A block of guest RAM backed by a SharedArrayBuffer, so zones in worker threads and IVC
 * regions can share it. Views are created once; the hot path indexes them directly.
 *
 * A block of a board's RAM bank is `reserved` first: it has its size but no buffer until
 * `commit()`, which AddressSpace.find calls before it hands out the region, so every access path
 * (cores' TLB fills and page walks, DMA, loaders, debugger) sees a committed block, and a board
 * that is only shown, or a bank no zone touches, allocates nothing.
 */
export class Ram {
  // Replaced once, by commit(); read-only to everyone else.
  buffer: SharedArrayBuffer = NO_MEMORY;
  u8: Uint8Array = new Uint8Array(NO_MEMORY);
  u16: Uint16Array = new Uint16Array(NO_MEMORY);
  u32: Uint32Array = new Uint32Array(NO_MEMORY);
  u64: BigUint64Array = new BigUint64Array(NO_MEMORY);

  constructor(
    readonly size: number,
    reserveOnly = false,
  ) {
    if (size <= 0 || size % 8 !== 0) throw new RangeError(`RAM size ${size} must be a positive multiple of 8`);
    if (!reserveOnly) this.commit();
  }

  /** A block that takes memory only once something commits it. */
  static reserved(size: number): Ram {
    return new Ram(size, true);
  }

  get committed(): boolean {
    return this.buffer !== NO_MEMORY;
  }

  /** Allocates the buffer (zero-filled; the OS commits its pages on first touch). Idempotent. */
  commit(): void {
    if (this.buffer !== NO_MEMORY) return;
    try {
      this.buffer = new SharedArrayBuffer(this.size);
    } catch {
      throw new RamAllocationError(this.size);
    }
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.u64 = new BigUint64Array(this.buffer);
  }
}
