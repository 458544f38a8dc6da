import type { AccessSize } from '../../machine/mmio-device.js';
import type { BlockImage } from './block-image.js';
import type { VirtioBackend } from './virtio-backend.js';
import { SplitVirtqueue, type VirtqueueChain } from './virtqueue.js';

/** Feature bits of virtio-blk (virtio 1.2 §5.2.3). */
export const BlkFeature = {
  SegMax: 1n << 2n,
  Ro: 1n << 5n,
  BlkSize: 1n << 6n,
  Flush: 1n << 9n,
  Discard: 1n << 13n,
  WriteZeroes: 1n << 14n,
} as const;

/** Request types and status codes. */
export const BlkRequest = { In: 0, Out: 1, Flush: 4, GetId: 8, Discard: 11, WriteZeroes: 13 } as const;
export const BlkStatus = { Ok: 0, IoErr: 1, Unsupported: 2 } as const;

const SECTOR = 512;
const HEADER = 16;
const ID_BYTES = 20;
const SEG_MAX = 254;
/**
 * Data bytes one request may move (Linux's requests stay under max_sectors_kb, 1280 KiB by
 * default): a longer one fails with IOERR before anything is copied, so a chain naming the same
 * megabytes over and over costs nothing.
 */
export const MAX_REQUEST_BYTES = 4 << 20;
/** Per discard / write-zeroes segment, so one request cannot stall the emulator for long. */
const MAX_ZERO_SECTORS = 65536;
const MAX_ZERO_SEGMENTS = 16;
const ZERO_UNMAP = 1;

/**
 * virtio-blk (virtio 1.2 §5.2) on a BlockImage: read, write, flush (the image's fsync), get-id,
 * discard and write-zeroes (both leave zeroes), read-only images. Request framing follows the
 * spec, not Linux's habits: header, data and status byte may share or split descriptors anyhow.
 */
export class VirtioBlkBackend implements VirtioBackend {
  readonly deviceId = 2;
  readonly name = 'blk';
  readonly queueCount = 1;
  readonly queueMaxSize = 256;
  readonly pciClass = 0x010000; // QEMU's virtio-blk-pci reports SCSI storage
  readonly features: bigint;
  private readonly config = new Uint8Array(0x3c);
  private readonly header = new Uint8Array(HEADER);
  private readonly header32 = new Uint32Array(this.header.buffer);
  private readonly status = new Uint8Array(1);
  private data = new Uint8Array(64 * 1024);
  private dataIn = 0;
  private readonly sectors: number;
  private readonly id = new Uint8Array(ID_BYTES);

  constructor(
    readonly image: BlockImage,
    serial = 'hvisor-ts-blk',
  ) {
    const writable = !image.readOnly;
    this.features = BlkFeature.SegMax | BlkFeature.BlkSize | BlkFeature.Flush |
      (writable ? BlkFeature.Discard | BlkFeature.WriteZeroes : BlkFeature.Ro);
    this.sectors = Math.floor(image.byteLength / SECTOR);
    const v = new DataView(this.config.buffer);
    v.setUint32(0x00, this.sectors % 0x1_0000_0000, true);
    v.setUint32(0x04, Math.floor(this.sectors / 0x1_0000_0000), true);
    v.setUint32(0x0c, SEG_MAX, true);
    v.setUint32(0x14, SECTOR, true);
    v.setUint32(0x24, MAX_ZERO_SECTORS, true); // max_discard_sectors
    v.setUint32(0x28, MAX_ZERO_SEGMENTS, true); // max_discard_seg
    v.setUint32(0x2c, 1, true); // discard_sector_alignment
    v.setUint32(0x30, MAX_ZERO_SECTORS, true); // max_write_zeroes_sectors
    v.setUint32(0x34, MAX_ZERO_SEGMENTS, true); // max_write_zeroes_seg
    this.config[0x38] = 1; // write_zeroes_may_unmap
    for (let i = 0; i < ID_BYTES && i < serial.length; i++) this.id[i] = serial.charCodeAt(i) & 0x7f;
  }

  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size && offset + i < this.config.length; i++) v |= this.config[offset + i]! << (8 * i);
    return v >>> 0;
  }

  configWrite(): void {} // writeback toggling is not offered

  notify(_queue: number, vq: SplitVirtqueue, used: () => void): void {
    let interrupt = false;
    for (let chain = vq.pop(); chain !== undefined; chain = vq.pop()) {
      const writable = SplitVirtqueue.writableLength(chain);
      let written = 0;
      if (writable >= 1) {
        this.status[0] = this.execute(vq, chain, writable - 1);
        written = vq.writeAt(chain, writable - 1, this.status) ? this.dataIn + 1 : 0;
      }
      interrupt = vq.push(chain.head, written) || interrupt;
    }
    if (interrupt) used();
  }

  reset(): void {}

  /** Runs one request; returns its status and leaves the bytes it produced in `dataIn`. */
  private execute(vq: SplitVirtqueue, chain: VirtqueueChain, dataInLen: number): number {
    this.dataIn = 0;
    const readable = SplitVirtqueue.readableLength(chain);
    if (readable < HEADER || !vq.readAt(chain, 0, this.header)) return BlkStatus.IoErr;
    const type = this.header32[0]!;
    const sector = this.header32[3]! * 0x1_0000_0000 + this.header32[2]!;
    const dataOutLen = readable - HEADER;
    switch (type) {
      case BlkRequest.In: {
        if (dataInLen > MAX_REQUEST_BYTES || !this.inRange(sector, dataInLen)) return BlkStatus.IoErr;
        const buf = this.scratch(dataInLen);
        if (!this.image.read(sector * SECTOR, buf) || !vq.writeAt(chain, 0, buf)) return BlkStatus.IoErr;
        this.dataIn = dataInLen;
        return BlkStatus.Ok;
      }
      case BlkRequest.Out: {
        if (this.image.readOnly || dataOutLen > MAX_REQUEST_BYTES || !this.inRange(sector, dataOutLen)) return BlkStatus.IoErr;
        const buf = this.scratch(dataOutLen);
        const ok = vq.readAt(chain, HEADER, buf) && this.image.write(sector * SECTOR, buf);
        return ok ? BlkStatus.Ok : BlkStatus.IoErr;
      }
      case BlkRequest.Flush:
        return this.image.flush() ? BlkStatus.Ok : BlkStatus.IoErr;
      case BlkRequest.GetId: {
        const n = Math.min(ID_BYTES, dataInLen);
        if (!vq.writeAt(chain, 0, this.id.subarray(0, n))) return BlkStatus.IoErr;
        this.dataIn = n;
        return BlkStatus.Ok;
      }
      case BlkRequest.Discard:
      case BlkRequest.WriteZeroes:
        if (this.image.readOnly) return BlkStatus.Unsupported;
        return this.zeroRanges(vq, chain, dataOutLen, type === BlkRequest.Discard);
      default:
        return BlkStatus.Unsupported;
    }
  }

  /** Discard and write-zeroes segments: {le64 sector, le32 num_sectors, le32 flags} each. */
  private zeroRanges(vq: SplitVirtqueue, chain: VirtqueueChain, bytes: number, discard: boolean): number {
    if (bytes === 0 || bytes % 16 !== 0 || bytes / 16 > MAX_ZERO_SEGMENTS) return BlkStatus.Unsupported;
    const seg = new Uint8Array(bytes);
    if (!vq.readAt(chain, HEADER, seg)) return BlkStatus.IoErr;
    const v = new DataView(seg.buffer);
    for (let at = 0; at < bytes; at += 16) {
      const sector = v.getUint32(at + 4, true) * 0x1_0000_0000 + v.getUint32(at, true);
      const count = v.getUint32(at + 8, true);
      const flags = v.getUint32(at + 12, true);
      // Discard has no flags; write-zeroes knows only "may unmap" (we always write zeroes).
      if ((discard && flags !== 0) || (!discard && (flags & ~ZERO_UNMAP) !== 0)) return BlkStatus.Unsupported;
      if (count > MAX_ZERO_SECTORS || !this.inRange(sector, count * SECTOR)) return BlkStatus.IoErr;
      const zero = this.scratch(Math.min(count * SECTOR, this.data.length)).fill(0);
      for (let done = 0; done < count * SECTOR; done += zero.length) {
        const n = Math.min(zero.length, count * SECTOR - done);
        if (!this.image.write(sector * SECTOR + done, zero.subarray(0, n))) return BlkStatus.IoErr;
      }
    }
    return BlkStatus.Ok;
  }

  private inRange(sector: number, bytes: number): boolean {
    return bytes % SECTOR === 0 && sector <= this.sectors && bytes / SECTOR <= this.sectors - sector;
  }

  /** A reusable transfer buffer, grown on demand, so steady-state I/O allocates nothing. */
  private scratch(bytes: number): Uint8Array {
    if (this.data.length < bytes) this.data = new Uint8Array(Math.max(bytes, 2 * this.data.length));
    return this.data.subarray(0, bytes);
  }
}
