import { Ram } from './ram.js';

/**
 * The largest block one Ram holds. A bank is cut into blocks of this size so no typed array exceeds
 * what V8 allows (a bank above 4 GiB fails as one array) and every offset a core computes inside a
 * block stays below 2^31. Blocks are reserved: a block's buffer is allocated when an access first
 * reaches it (AddressSpace.find), and the OS commits its pages on first touch, so a board that is
 * only shown allocates nothing and a bank's untouched gigabytes cost no memory.
 */
export const RAM_BLOCK_BYTES = 2 ** 30;

/** A piece of a bank: [offset, offset+size) of the bank lives at ram.u8[ramOffset...]. */
export interface RamSpan {
  readonly offset: number;
  readonly size: number;
  readonly ram: Ram;
  readonly ramOffset: number;
}

/** A RAM bank of the board, from a /memory node: a run of RAM blocks at `base`. */
export class RamBank {
  readonly blocks: readonly Ram[];

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    const blocks: Ram[] = [];
    for (let at = 0; at < size; at += RAM_BLOCK_BYTES) blocks.push(Ram.reserved(Math.min(RAM_BLOCK_BYTES, size - at)));
    this.blocks = blocks;
  }

  /** The blocks holding [offset, offset+size) of the bank, in order (a zone's RAM region maps each). */
  spans(offset: number, size: number): RamSpan[] {
    if (offset < 0 || size <= 0 || offset + size > this.size) {
      throw new RangeError(`window 0x${offset.toString(16)}+0x${size.toString(16)} is outside the bank of 0x${this.size.toString(16)}`);
    }
    const out: RamSpan[] = [];
    for (let at = offset; at < offset + size; ) {
      const block = Math.floor(at / RAM_BLOCK_BYTES);
      const ramOffset = at - block * RAM_BLOCK_BYTES;
      const n = Math.min(offset + size - at, RAM_BLOCK_BYTES - ramOffset);
      out.push({ offset: at, size: n, ram: this.blocks[block]!, ramOffset });
      at += n;
    }
    return out;
  }
}
