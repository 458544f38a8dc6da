/**
 * The kernel log (`dmesg`) from the lockless printk ring buffer (kernel/printk/printk_ringbuffer.h,
 * Linux 5.10+): descriptors from tail_id to head_id, each finalized or committed one pointing at its
 * text block in the data ring (a block starts with its id; a block that wraps sits at the ring's
 * start), the record's sequence number, timestamp and length in `infos`. Layout from BTF.
 */
import { GuestKernelError, type GuestKernel } from './guest-kernel.js';

export interface LogRecord {
  readonly seq: bigint;
  readonly tsNsec: bigint;
  readonly text: string;
}

const MAX_COUNT_BITS = 22;
const MAX_SIZE_BITS = 26;
const DESC_STATE_SHIFT = 62n;
const DESC_ID_MASK = (1n << DESC_STATE_SHIFT) - 1n;
const COMMITTED = 1n;
const FINALIZED = 2n;

export function readLog(k: GuestKernel): LogRecord[] {
  const rb = k.u64(k.symbol('prb'));
  const ring = rb + k.offset('printk_ringbuffer', 'desc_ring');
  const dataRing = rb + k.offset('printk_ringbuffer', 'text_data_ring');
  const countBits = k.u32(ring + k.offset('prb_desc_ring', 'count_bits'));
  const sizeBits = k.u32(dataRing + k.offset('prb_data_ring', 'size_bits'));
  if (countBits > MAX_COUNT_BITS || sizeBits > MAX_SIZE_BITS) throw new GuestKernelError(`printk ring buffer of 2^${countBits} records, 2^${sizeBits} bytes: implausible`);
  const count = 1n << BigInt(countBits);
  const size = 1n << BigInt(sizeBits);
  const descSize = BigInt(k.btf.structSize('prb_desc'));
  const infoSize = BigInt(k.btf.structSize('printk_info'));
  const descs = k.read(k.u64(ring + k.offset('prb_desc_ring', 'descs')), Number(count * descSize));
  const infos = k.read(k.u64(ring + k.offset('prb_desc_ring', 'infos')), Number(count * infoSize));
  const data = k.read(k.u64(dataRing + k.offset('prb_data_ring', 'data')), Number(size));
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dd = dv(descs);
  const di = dv(infos);
  const dData = dv(data);
  const off = (s: string, m: string) => k.btf.member(s, m).offset;
  const stateAt = off('prb_desc', 'state_var');
  const lposAt = off('prb_desc', 'text_blk_lpos');
  const seqAt = off('printk_info', 'seq');
  const tsAt = off('printk_info', 'ts_nsec');
  const lenAt = off('printk_info', 'text_len');
  const head = k.u64(ring + k.offset('prb_desc_ring', 'head_id'));
  const tail = k.u64(ring + k.offset('prb_desc_ring', 'tail_id'));
  const records: LogRecord[] = [];
  const decoder = new TextDecoder();
  for (let id = tail, n = 0n; n <= count; id = (id + 1n) & DESC_ID_MASK, n++) {
    const index = Number(id & (count - 1n));
    const d = index * Number(descSize);
    const sv = dd.getBigUint64(d + stateAt, true);
    const state = sv >> DESC_STATE_SHIFT;
    if ((sv & DESC_ID_MASK) === id && (state === COMMITTED || state === FINALIZED)) {
      const i = index * Number(infoSize);
      const text = blockText(dData, size, dd.getBigUint64(d + lposAt, true), dd.getBigUint64(d + lposAt + 8, true), di.getUint16(i + lenAt, true));
      if (text !== undefined) records.push({ seq: di.getBigUint64(i + seqAt, true), tsNsec: di.getBigUint64(i + tsAt, true), text: decoder.decode(text) });
    }
    if (id === head) break;
  }
  return records.sort((a, b) => (a.seq < b.seq ? -1 : 1));
}

/** The text of a data block [begin, next), or undefined for a data-less or failed one. */
function blockText(data: DataView, size: bigint, begin: bigint, next: bigint, textLen: number): Uint8Array | undefined {
  if ((begin & 1n) !== 0n || begin === next) return undefined; // FAILED_LPOS / NO_LPOS
  const wraps = (lpos: bigint) => lpos / size;
  let start: bigint;
  let length: bigint;
  if (wraps(begin) === wraps(next)) {
    start = begin % size;
    length = next - begin;
  } else if (wraps(begin) + 1n === wraps(next)) {
    start = 0n;
    length = next % size;
  } else return undefined;
  if (length < 8n || start + length > size) return undefined;
  const bytes = new Uint8Array(data.buffer, data.byteOffset + Number(start) + 8, Number(length) - 8);
  return bytes.subarray(0, Math.min(textLen, bytes.length));
}

/** As `dmesg` prints it: "[    1.234567] text", each line of a record with its prefix. */
export function formatLog(records: readonly LogRecord[], tail?: number): string {
  const lines: string[] = [];
  for (const r of records) {
    const sec = r.tsNsec / 1_000_000_000n;
    const usec = (r.tsNsec % 1_000_000_000n) / 1000n;
    const prefix = `[${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}] `;
    for (const line of r.text.split('\n')) lines.push(prefix + line);
  }
  return (tail === undefined ? lines : lines.slice(-tail)).join('\n') + '\n';
}
