/**
 * A Zstandard decompressor (RFC 8878): Debian's LoongArch kernel is an EFI zboot image whose payload
 * is zstd, and Node 20's zlib has no zstd. Frames, raw/RLE/compressed blocks, Huffman literals (one or
 * four streams, treeless reuse), FSE-coded sequences with repeat offsets. No dictionaries; the optional
 * content checksum is not verified (the container's own size checks catch truncation).
 * Errors name the frame offset and what is wrong; output is bounded by `maxOutput`.
 */

import { HvisorError } from '../util/hvisor-error.js';

export class ZstdError extends HvisorError {}

const MAGIC = 0xfd2fb528;
const MAX_BLOCK = 128 * 1024;

/** A backward bit stream (RFC 8878 4.1.3.1 / 4.2.2.x): read from the end, the top set bit of the last byte marks its start. */
class BackwardBits {
  /** Bits not yet read: the stream's bits [0, offset). */
  offset: number;
  constructor(private readonly b: Uint8Array, private readonly start: number, end: number) {
    if (end <= start) throw new ZstdError('empty bit stream');
    const last = b[end - 1]!;
    if (last === 0) throw new ZstdError('bit stream ends with a zero byte (no start marker)');
    this.offset = (end - start) * 8 - (8 - (31 - Math.clz32(last)));
  }
  /** n <= 24 bits; bits below the stream's start read as zeros. */
  private peekSmall(n: number): number {
    if (n === 0) return 0;
    const from = this.offset - n;
    if (from >= 0) {
      const i = this.start + (from >> 3);
      const b = this.b;
      const v = (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
      return (v >>> (from & 7)) & ((1 << n) - 1);
    }
    if (this.offset <= 0) return 0;
    const have = this.offset;
    const i = this.start;
    const b = this.b;
    const v = (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
    return ((v & ((1 << have) - 1)) << (n - have)) >>> 0;
  }
  peek(n: number): number {
    return this.peekSmall(n);
  }
  read(n: number): number {
    if (n > 24) {
      const hi = this.read(n - 24);
      return hi * 0x100_0000 + this.read(24);
    }
    const v = this.peekSmall(n);
    this.offset -= n;
    return v;
  }
  skip(n: number): void {
    this.offset -= n;
  }
}

/** An FSE decoding table: per state, its symbol, bit count and next-state base. */
interface FseTable {
  readonly log: number;
  readonly symbol: Uint8Array;
  readonly bits: Uint8Array;
  readonly base: Uint16Array;
}

function buildFse(probs: readonly number[], log: number): FseTable {
  const size = 1 << log;
  const symbol = new Uint8Array(size);
  const bits = new Uint8Array(size);
  const base = new Uint16Array(size);
  const next = new Array<number>(probs.length).fill(0);
  let high = size - 1;
  for (let s = 0; s < probs.length; s++) {
    if (probs[s] === -1) {
      symbol[high--] = s;
      next[s] = 1;
    } else next[s] = probs[s]!;
  }
  const step = (size >> 1) + (size >> 3) + 3;
  const mask = size - 1;
  let pos = 0;
  for (let s = 0; s < probs.length; s++) {
    for (let i = 0; i < probs[s]!; i++) {
      symbol[pos] = s;
      do pos = (pos + step) & mask;
      while (pos > high);
    }
  }
  if (pos !== 0) throw new ZstdError('FSE table: probabilities do not fill the table');
  for (let u = 0; u < size; u++) {
    const s = symbol[u]!;
    const ns = next[s]!++;
    const nb = log - (31 - Math.clz32(ns));
    bits[u] = nb;
    base[u] = (ns << nb) - size;
  }
  return { log, symbol, bits, base };
}

function rleFse(sym: number): FseTable {
  return { log: 0, symbol: Uint8Array.of(sym), bits: Uint8Array.of(0), base: Uint16Array.of(0) };
}

/** An FSE table description (RFC 8878 4.1.1), read forward from `pos`; returns the table and the bytes it used. */
function readFseDescription(b: Uint8Array, pos: number, end: number, maxLog: number, maxSymbol: number): { table: FseTable; size: number } {
  let bitPos = 0;
  const bit = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const at = bitPos + i;
      const byte = pos + (at >> 3);
      if (byte >= end) throw new ZstdError('FSE table description runs past its section');
      v |= ((b[byte]! >> (at & 7)) & 1) << i;
    }
    return v;
  };
  const log = bit(4) + 5;
  bitPos = 4;
  if (log > maxLog) throw new ZstdError(`FSE accuracy log ${log} above ${maxLog}`);
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  const probs: number[] = [];
  while (remaining > 1) {
    if (probs.length > maxSymbol) throw new ZstdError('FSE table description has too many symbols');
    const max = 2 * threshold - 1 - remaining;
    let count: number;
    const low = bit(nbBits - 1);
    if (low < max) {
      count = low;
      bitPos += nbBits - 1;
    } else {
      count = bit(nbBits);
      bitPos += nbBits;
      if (count >= threshold) count -= max;
    }
    count--;
    remaining -= count < 0 ? -count : count;
    probs.push(count);
    if (count === 0) {
      for (;;) {
        const rep = bit(2);
        bitPos += 2;
        for (let i = 0; i < rep; i++) probs.push(0);
        if (rep !== 3) break;
      }
    }
    while (remaining < threshold && threshold > 1) {
      nbBits--;
      threshold >>= 1;
    }
  }
  if (remaining !== 1) throw new ZstdError('FSE probabilities do not add up');
  if (probs.length > maxSymbol + 1) throw new ZstdError('FSE table description has too many symbols');
  return { table: buildFse(probs, log), size: (bitPos + 7) >> 3 };
}

const LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const ML_DEFAULT = [
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
  -1, -1,
];
const OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];
const LL_BASE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const LL_BITS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const ML_BASE = [
  ...Array.from({ length: 32 }, (_, i) => i + 3),
  35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539,
];
const ML_BITS = [...new Array<number>(32).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

const defaults = { ll: buildFse(LL_DEFAULT, 6), ml: buildFse(ML_DEFAULT, 6), of: buildFse(OF_DEFAULT, 5) };

/** A Huffman decoding table indexed by the next `maxBits` bits. */
interface Huffman {
  readonly maxBits: number;
  readonly symbol: Uint8Array;
  readonly bits: Uint8Array;
}

function buildHuffman(weights: number[]): Huffman {
  let total = 0;
  for (const w of weights) if (w > 0) total += 1 << (w - 1);
  if (total === 0) throw new ZstdError('Huffman weights are all zero');
  const maxBits = 32 - Math.clz32(total);
  const rest = (1 << maxBits) - total;
  if (rest & (rest - 1)) throw new ZstdError('Huffman weights do not complete a tree');
  weights.push(31 - Math.clz32(rest) + 1);
  if (maxBits > 11) throw new ZstdError(`Huffman code length ${maxBits} above 11`);
  const size = 1 << maxBits;
  const symbol = new Uint8Array(size);
  const bits = new Uint8Array(size);
  let pos = 0;
  for (let w = 1; w <= maxBits; w++) {
    for (let s = 0; s < weights.length; s++) {
      if (weights[s] !== w) continue;
      const n = 1 << (w - 1);
      symbol.fill(s, pos, pos + n);
      bits.fill(maxBits + 1 - w, pos, pos + n);
      pos += n;
    }
  }
  if (pos !== size) throw new ZstdError('Huffman table incomplete');
  return { maxBits, symbol, bits };
}

function readHuffmanDescription(b: Uint8Array, pos: number, end: number): { table: Huffman; size: number } {
  const header = b[pos]!;
  const weights: number[] = [];
  if (header >= 128) {
    const n = header - 127;
    const size = 1 + ((n + 1) >> 1);
    if (pos + size > end) throw new ZstdError('Huffman weights run past the literals section');
    for (let i = 0; i < n; i++) {
      const byte = b[pos + 1 + (i >> 1)]!;
      weights.push(i % 2 === 0 ? byte >> 4 : byte & 15);
    }
    return { table: buildHuffman(weights), size };
  }
  const stop = pos + 1 + header;
  if (stop > end) throw new ZstdError('Huffman weights run past the literals section');
  const { table, size } = readFseDescription(b, pos + 1, stop, 6, 255);
  const bits = new BackwardBits(b, pos + 1 + size, stop);
  let s1 = bits.read(table.log);
  let s2 = bits.read(table.log);
  for (;;) {
    if (weights.length > 255) throw new ZstdError('too many Huffman weights');
    weights.push(table.symbol[s1]!);
    s1 = table.base[s1]! + bits.read(table.bits[s1]!);
    if (bits.offset < 0) {
      weights.push(table.symbol[s2]!);
      break;
    }
    weights.push(table.symbol[s2]!);
    s2 = table.base[s2]! + bits.read(table.bits[s2]!);
    if (bits.offset < 0) {
      weights.push(table.symbol[s1]!);
      break;
    }
  }
  for (const w of weights) if (w > 11) throw new ZstdError(`Huffman weight ${w} above 11`);
  return { table: buildHuffman(weights), size: 1 + header };
}

function decodeHuffmanStream(h: Huffman, b: Uint8Array, start: number, end: number, out: Uint8Array, from: number, count: number): void {
  const bits = new BackwardBits(b, start, end);
  const { maxBits, symbol, bits: nb } = h;
  for (let i = 0; i < count; i++) {
    const k = bits.peek(maxBits);
    out[from + i] = symbol[k]!;
    bits.skip(nb[k]!);
  }
  if (bits.offset < 0) throw new ZstdError('Huffman stream overrun');
}

/** State that lives across the blocks of one frame. */
interface FrameState {
  huffman: Huffman | undefined;
  ll: FseTable | undefined;
  ml: FseTable | undefined;
  of: FseTable | undefined;
  rep: [number, number, number];
}

class Output {
  buf: Uint8Array;
  length = 0;
  constructor(size: number, private readonly max: number) {
    this.buf = new Uint8Array(Math.max(size, 1024));
  }
  reserve(n: number): void {
    const need = this.length + n;
    if (need > this.max) throw new ZstdError(`output exceeds ${this.max} bytes`);
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.min(this.max, Math.max(need, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

function literalsSection(b: Uint8Array, pos: number, end: number, st: FrameState): { literals: Uint8Array; size: number } {
  const b0 = b[pos]!;
  const type = b0 & 3;
  const sf = (b0 >> 2) & 3;
  if (type === 0 || type === 1) {
    let regen: number;
    let hs: number;
    if ((sf & 1) === 0) {
      regen = b0 >> 3;
      hs = 1;
    } else if (sf === 1) {
      regen = (b0 >> 4) + (b[pos + 1]! << 4);
      hs = 2;
    } else {
      regen = (b0 >> 4) + (b[pos + 1]! << 4) + (b[pos + 2]! << 12);
      hs = 3;
    }
    if (regen > MAX_BLOCK) throw new ZstdError('literals larger than a block');
    if (type === 0) {
      if (pos + hs + regen > end) throw new ZstdError('raw literals run past the block');
      return { literals: b.subarray(pos + hs, pos + hs + regen), size: hs + regen };
    }
    if (pos + hs >= end) throw new ZstdError('RLE literals run past the block');
    return { literals: new Uint8Array(regen).fill(b[pos + hs]!), size: hs + 1 };
  }
  let regen: number;
  let comp: number;
  let hs: number;
  const streams = sf === 0 ? 1 : 4;
  if (sf <= 1) {
    const h = b0 | (b[pos + 1]! << 8) | (b[pos + 2]! << 16);
    regen = (h >> 4) & 0x3ff;
    comp = (h >> 14) & 0x3ff;
    hs = 3;
  } else if (sf === 2) {
    const h = (b0 | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
    regen = (h >>> 4) & 0x3fff;
    comp = (h >>> 18) & 0x3fff;
    hs = 4;
  } else {
    const h = (b0 | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
    regen = (h >>> 4) & 0x3ffff;
    comp = (h >>> 22) + (b[pos + 4]! << 10);
    hs = 5;
  }
  if (regen > MAX_BLOCK) throw new ZstdError('literals larger than a block');
  let p = pos + hs;
  const stop = p + comp;
  if (stop > end) throw new ZstdError('compressed literals run past the block');
  if (type === 2) {
    const d = readHuffmanDescription(b, p, stop);
    st.huffman = d.table;
    p += d.size;
  } else if (!st.huffman) throw new ZstdError('treeless literals with no earlier Huffman table');
  const h = st.huffman!;
  const literals = new Uint8Array(regen);
  if (streams === 1) decodeHuffmanStream(h, b, p, stop, literals, 0, regen);
  else {
    if (p + 6 > stop) throw new ZstdError('literals jump table runs past the block');
    const s1 = b[p]! | (b[p + 1]! << 8);
    const s2 = b[p + 2]! | (b[p + 3]! << 8);
    const s3 = b[p + 4]! | (b[p + 5]! << 8);
    p += 6;
    const each = (regen + 3) >> 2;
    const starts = [p, p + s1, p + s1 + s2, p + s1 + s2 + s3, stop];
    if (starts[3]! > stop) throw new ZstdError('literals jump table points past the block');
    for (let i = 0; i < 4; i++) {
      const n = i < 3 ? each : regen - 3 * each;
      if (n < 0) throw new ZstdError('literals too short for four streams');
      decodeHuffmanStream(h, b, starts[i]!, starts[i + 1]!, literals, i * each, n);
    }
  }
  return { literals, size: stop - pos };
}

function tableFor(mode: number, b: Uint8Array, pos: number, end: number, prev: FseTable | undefined, dflt: FseTable, maxLog: number, maxSym: number, what: string): { table: FseTable; size: number } {
  if (mode === 0) return { table: dflt, size: 0 };
  if (mode === 1) {
    if (pos >= end) throw new ZstdError(`${what} RLE symbol past the block`);
    if (b[pos]! > maxSym) throw new ZstdError(`${what} RLE symbol ${b[pos]} out of range`);
    return { table: rleFse(b[pos]!), size: 1 };
  }
  if (mode === 2) return readFseDescription(b, pos, end, maxLog, maxSym);
  if (!prev) throw new ZstdError(`${what}: repeat mode with no earlier table`);
  return { table: prev, size: 0 };
}

function compressedBlock(b: Uint8Array, pos: number, end: number, st: FrameState, out: Output): void {
  const lit = literalsSection(b, pos, end, st);
  let p = pos + lit.size;
  const literals = lit.literals;
  if (p >= end) throw new ZstdError('block has no sequences section');
  let nbSeq = b[p]!;
  if (nbSeq < 128) p += 1;
  else if (nbSeq < 255) {
    nbSeq = ((nbSeq - 128) << 8) + b[p + 1]!;
    p += 2;
  } else {
    nbSeq = b[p + 1]! + (b[p + 2]! << 8) + 0x7f00;
    p += 3;
  }
  let litPos = 0;
  if (nbSeq > 0) {
    const modes = b[p++]!;
    if (modes & 3) throw new ZstdError('reserved bits set in the sequence compression modes');
    const ll = tableFor(modes >> 6, b, p, end, st.ll, defaults.ll, 9, 35, 'literal lengths');
    p += ll.size;
    const of = tableFor((modes >> 4) & 3, b, p, end, st.of, defaults.of, 8, 31, 'offsets');
    p += of.size;
    const ml = tableFor((modes >> 2) & 3, b, p, end, st.ml, defaults.ml, 9, 52, 'match lengths');
    p += ml.size;
    st.ll = ll.table;
    st.of = of.table;
    st.ml = ml.table;
    const L = ll.table;
    const O = of.table;
    const M = ml.table;
    const bits = new BackwardBits(b, p, end);
    let sl = bits.read(L.log);
    let so = bits.read(O.log);
    let sm = bits.read(M.log);
    const rep = st.rep;
    for (let i = 0; i < nbSeq; i++) {
      const ofCode = O.symbol[so]!;
      const mlCode = M.symbol[sm]!;
      const llCode = L.symbol[sl]!;
      if (ofCode > 31) throw new ZstdError('offset code out of range');
      const ofValue = 2 ** ofCode + bits.read(ofCode);
      const matchLen = ML_BASE[mlCode]! + bits.read(ML_BITS[mlCode]!);
      const litLen = LL_BASE[llCode]! + bits.read(LL_BITS[llCode]!);
      let offset: number;
      if (ofValue > 3) {
        offset = ofValue - 3;
        rep[2] = rep[1];
        rep[1] = rep[0];
        rep[0] = offset;
      } else {
        const idx = litLen === 0 ? ofValue : ofValue - 1;
        if (idx === 0) offset = rep[0];
        else if (idx === 3) {
          offset = rep[0] - 1;
          if (offset === 0) throw new ZstdError('repeat offset became 0');
          rep[2] = rep[1];
          rep[1] = rep[0];
          rep[0] = offset;
        } else {
          offset = rep[idx]!;
          if (idx === 2) rep[2] = rep[1];
          rep[1] = rep[0];
          rep[0] = offset;
        }
      }
      if (i + 1 < nbSeq) {
        sl = L.base[sl]! + bits.read(L.bits[sl]!);
        sm = M.base[sm]! + bits.read(M.bits[sm]!);
        so = O.base[so]! + bits.read(O.bits[so]!);
      }
      if (litPos + litLen > literals.length) throw new ZstdError('sequence uses more literals than the block has');
      out.reserve(litLen + matchLen);
      const buf = out.buf;
      buf.set(literals.subarray(litPos, litPos + litLen), out.length);
      out.length += litLen;
      litPos += litLen;
      if (offset > out.length) throw new ZstdError(`match offset ${offset} before the start of the output`);
      let from = out.length - offset;
      let to = out.length;
      if (offset >= matchLen) buf.copyWithin(to, from, from + matchLen);
      else for (let k = 0; k < matchLen; k++) buf[to++] = buf[from++]!;
      out.length += matchLen;
    }
    if (bits.offset !== 0) throw new ZstdError('sequence bit stream not consumed exactly');
  }
  const rest = literals.length - litPos;
  out.reserve(rest);
  out.buf.set(literals.subarray(litPos), out.length);
  out.length += rest;
}

/** Decompresses every frame in `input` (skippable frames skipped) into one buffer of at most `maxOutput` bytes. */
export function zstdDecompress(input: Uint8Array, maxOutput = 1 << 30): Uint8Array {
  const b = input;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  const out = new Output(0, maxOutput);
  while (pos < b.length) {
    const frameAt = pos;
    const at = (msg: string): ZstdError => new ZstdError(`zstd frame at offset ${frameAt}: ${msg}`);
    if (pos + 4 > b.length) throw at('truncated magic number');
    const magic = dv.getUint32(pos, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (pos + 8 > b.length) throw at('truncated skippable frame');
      pos += 8 + dv.getUint32(pos + 4, true);
      continue;
    }
    if (magic !== MAGIC) throw at(`bad magic 0x${magic.toString(16)}`);
    pos += 4;
    const fhd = b[pos++];
    if (fhd === undefined) throw at('truncated frame header');
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    const checksum = (fhd >> 2) & 1;
    if (fhd & 8) throw at('reserved frame header bit set');
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    if (!single) pos++;
    let dict = 0;
    for (let i = 0; i < dictBytes; i++) dict |= (b[pos + i] ?? 0) << (8 * i);
    pos += dictBytes;
    if (dict !== 0) throw at('needs a dictionary');
    const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
    let fcs = 0;
    for (let i = 0; i < fcsBytes; i++) fcs += (b[pos + i] ?? 0) * 2 ** (8 * i);
    if (fcsBytes === 2) fcs += 256;
    pos += fcsBytes;
    if (pos > b.length) throw at('truncated frame header');
    if (fcsBytes > 0) out.reserve(Math.min(fcs, maxOutput - out.length));
    const st: FrameState = { huffman: undefined, ll: undefined, ml: undefined, of: undefined, rep: [1, 4, 8] };
    for (;;) {
      if (pos + 3 > b.length) throw at('truncated block header');
      const h = b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16);
      pos += 3;
      const last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) throw at('reserved block type');
      if (size > MAX_BLOCK) throw at(`block of ${size} bytes above ${MAX_BLOCK}`);
      if (type === 1) {
        if (pos >= b.length) throw at('truncated RLE block');
        out.reserve(size);
        out.buf.fill(b[pos]!, out.length, out.length + size);
        out.length += size;
        pos += 1;
      } else {
        if (pos + size > b.length) throw at('truncated block');
        if (type === 0) {
          out.reserve(size);
          out.buf.set(b.subarray(pos, pos + size), out.length);
          out.length += size;
        } else {
          try {
            compressedBlock(b, pos, pos + size, st, out);
          } catch (e) {
            if (e instanceof ZstdError && !e.message.startsWith('zstd frame')) throw at(`block at offset ${pos - 3}: ${e.message}`);
            throw e;
          }
        }
        pos += size;
      }
      if (last) break;
    }
    if (checksum) pos += 4;
    if (pos > b.length) throw at('truncated content checksum');
  }
  return out.buf.subarray(0, out.length);
}
