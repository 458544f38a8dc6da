import { SHORT_NAME_BYTES } from './message.js';

/**
 * A message payload being read (the agent's request) or written (the platform's response): a byte
 * buffer with a little-endian cursor. The platform keeps one of each and reuses them per message.
 */
export class MessageBuffer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Bytes of payload in the buffer (a request's length; a response's written length). */
  length = 0;
  private cursor = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Starts a response: empty, cursor at 0. */
  clear(): void {
    this.length = 0;
    this.cursor = 0;
  }

  /** Starts reading a request of `length` bytes already in `bytes`. */
  rewind(length: number): void {
    this.length = Math.min(length, this.bytes.length);
    this.cursor = 0;
  }

  /** Bytes a request holds past the cursor. */
  get remaining(): number {
    return this.length - this.cursor;
  }

  /** The next request word, or undefined when the request is too short (the caller answers PROTOCOL_ERROR). */
  u32(): number | undefined {
    if (this.cursor + 4 > this.length) return undefined;
    const v = this.view.getUint32(this.cursor, true);
    this.cursor += 4;
    return v;
  }

  /** Appends a response word; false when it does not fit the channel. */
  putU32(value: number): boolean {
    if (this.length + 4 > this.bytes.length) return false;
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
    return true;
  }

  /** Overwrites the word at byte `at` (a response's status, once known). */
  setWord(at: number, value: number): void {
    this.view.setUint32(at, value >>> 0, true);
  }

  /** Appends a 64-bit value as two words, low first. */
  putU64(value: number): boolean {
    return this.putU32(value % 2 ** 32) && this.putU32(Math.floor(value / 2 ** 32));
  }

  /** Appends a short name: 16 bytes, ASCII, NUL-padded (truncated to 15 characters). */
  putName(name: string): boolean {
    if (this.length + SHORT_NAME_BYTES > this.bytes.length) return false;
    for (let i = 0; i < SHORT_NAME_BYTES; i++) this.bytes[this.length + i] = i < Math.min(name.length, SHORT_NAME_BYTES - 1) ? name.charCodeAt(i) & 0x7f : 0;
    this.length += SHORT_NAME_BYTES;
    return true;
  }

  /** Appends bytes, padded with zeros to a whole number of words. */
  putBytes(values: readonly number[]): boolean {
    const padded = (values.length + 3) & ~3;
    if (this.length + padded > this.bytes.length) return false;
    for (let i = 0; i < padded; i++) this.bytes[this.length + i] = i < values.length ? values[i]! & 0xff : 0;
    this.length += padded;
    return true;
  }
}
