/**
 * Encoding and decoding of property values. Cells are big-endian u32; strings are NUL-terminated
 * and decoded byte-per-character (latin1), so any blob round-trips unchanged.
 */
import { DtbError } from './errors.js';

/** A value a property can be set to: raw bytes, a string, a string list, u32 cells, or one u64. */
export type PropertyValue = Uint8Array | string | readonly string[] | readonly number[] | bigint;

export function encodeCells(cells: readonly number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const view = new DataView(out.buffer);
  cells.forEach((c, i) => {
    if (!Number.isInteger(c) || c < -0x80000000 || c > 0xffffffff) throw new DtbError(`cell value ${c} is not a 32-bit integer`);
    view.setUint32(i * 4, c >>> 0);
  });
  return out;
}

export function encodeU64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value));
  return out;
}

export function encodeStrings(strings: readonly string[]): Uint8Array {
  const total = strings.reduce((n, s) => n + s.length + 1, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const s of strings) {
    for (let i = 0; i < s.length; i++) {
      const code = s.charCodeAt(i);
      if (code === 0 || code > 0xff) throw new DtbError(`string ${JSON.stringify(s)} has a character that is not a non-NUL byte`);
      out[at++] = code;
    }
    out[at++] = 0;
  }
  return out;
}

export function encodeValue(value: PropertyValue): Uint8Array {
  if (value instanceof Uint8Array) return value.slice();
  if (typeof value === 'string') return encodeStrings([value]);
  if (typeof value === 'bigint') return encodeU64(value);
  if (value.length === 0) return new Uint8Array(0);
  if (typeof value[0] === 'string') return encodeStrings(value as readonly string[]);
  return encodeCells(value as readonly number[]);
}

/** Bytes as a latin1 string (one char per byte). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

export function decodeCells(bytes: Uint8Array): number[] | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4);
  return out;
}

/** A string list: every string NUL-terminated, the last byte a NUL. Empty strings are kept. */
export function decodeStrings(bytes: Uint8Array): string[] | undefined {
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) return undefined;
  return latin1(bytes, 0, bytes.length - 1).split('\0');
}

/** Big-endian cells as one unsigned integer. */
export function cellsToBigInt(cells: readonly number[]): bigint {
  let v = 0n;
  for (const c of cells) v = (v << 32n) | BigInt(c >>> 0);
  return v;
}

/** An unsigned integer as `count` big-endian cells (high bits beyond count*32 dropped). */
export function bigIntToCells(value: bigint, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = count - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffffffffn);
    value >>= 32n;
  }
  return out;
}
