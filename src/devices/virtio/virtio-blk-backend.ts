import type { AccessSize } from '../../machine/mmio-device.js';
import type { BlockImage } from './block-image.js';
import type { VirtioBackend } from './virtio-backend.js';
import type { SplitVirtqueue } from './virtqueue.js';

const F_RO = 1n << 5n;
const F_BLK_SIZE = 1n << 6n;
const F_FLUSH = 1n << 9n;
const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;
const S_OK = 0;
const S_IOERR = 1;
const S_UNSUPP = 2;

/**
 * virtio-blk (virtio 1.2 §5.2) on a BlockImage: read, write, flush, get-id. A stand-in until the
 * virtio helper's block backend lands behind the same VirtioBackend seam.
 */
export class VirtioBlkBackend implements VirtioBackend {
  readonly deviceId = 2;
  readonly name = 'blk';
  readonly queueCount = 1;
  readonly queueMaxSize = 256;
  readonly pciClass = 0x010000; // QEMU's virtio-blk-pci reports SCSI storage
  readonly features: bigint;
  private readonly config = new Uint8Array(0x40);

  constructor(
    private readonly image: BlockImage,
    private readonly serial = 'hvisor-ts-blk',
  ) {
    this.features = F_FLUSH | F_BLK_SIZE | (image.readOnly ? F_RO : 0n);
    const sectors = Math.floor(image.byteLength / 512);
    const c32 = new Uint32Array(this.config.buffer);
    c32[0] = sectors % 0x1_0000_0000;
    c32[1] = Math.floor(sectors / 0x1_0000_0000);
    c32[5] = 512; // blk_size
  }

  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size && offset + i < this.config.length; i++) v |= this.config[offset + i]! << (8 * i);
    return v >>> 0;
  }

  configWrite(): void {} // writeback mode and the rest are not offered

  notify(_queue: number, vq: SplitVirtqueue, used: () => void): void {
    let any = false;
    let interrupt = false;
    for (let chain = vq.pop(); chain !== undefined; chain = vq.pop()) {
      const out = chain.segments.filter((s) => !s.write);
      const ins = chain.segments.filter((s) => s.write);
      const statusSeg = ins[ins.length - 1];
      if (statusSeg === undefined || statusSeg.len < 1) {
        interrupt = vq.push(chain.head, 0) || interrupt;
        any = true;
        continue;
      }
      const request = vq.readAll({ head: chain.head, segments: out });
      let status = S_IOERR;
      let written = 0;
      if (request !== undefined && request.length >= 16) {
        const type = request[0]! | (request[1]! << 8) | (request[2]! << 16) | (request[3]! << 24);
        const sector = (request[8]! | (request[9]! << 8) | (request[10]! << 16) | (request[11]! << 24)) >>> 0;
        const sectorHi = (request[12]! | (request[13]! << 8) | (request[14]! << 16) | (request[15]! << 24)) >>> 0;
        const offset = (sectorHi * 0x1_0000_0000 + sector) * 512;
        const dataIn = { head: chain.head, segments: ins.slice(0, -1) };
        const inLen = dataIn.segments.reduce((n, s) => n + s.len, 0);
        if (type === T_IN) {
          const buf = new Uint8Array(inLen);
          if (this.image.read(offset, buf) && vq.writeAll(dataIn, buf) === inLen) {
            status = S_OK;
            written = inLen;
          }
        } else if (type === T_OUT) {
          status = this.image.write(offset, request.subarray(16)) ? S_OK : S_IOERR;
        } else if (type === T_FLUSH) {
          status = this.image.flush() ? S_OK : S_IOERR;
        } else if (type === T_GET_ID) {
          const id = new Uint8Array(Math.min(20, inLen));
          for (let i = 0; i < id.length && i < this.serial.length; i++) id[i] = this.serial.charCodeAt(i);
          written = Math.max(0, vq.writeAll(dataIn, id));
          status = S_OK;
        } else {
          status = S_UNSUPP;
        }
      }
      vq.writeAll({ head: chain.head, segments: [statusSeg.len > 1 ? { ...statusSeg, addr: statusSeg.addr + statusSeg.len - 1, len: 1 } : statusSeg] }, new Uint8Array([status]));
      interrupt = vq.push(chain.head, written + 1) || interrupt;
      any = true;
    }
    if (any && interrupt) used();
  }

  reset(): void {}
}
