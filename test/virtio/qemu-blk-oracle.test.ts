/**
 * QEMU as the oracle for virtio-blk request semantics: the same requests (writes, reads, flush,
 * get-id, discard, write-zeroes, and the malformed ones) go to QEMU's virtio-blk-device and to our
 * backend, each on its own copy of one image file. Status bytes, used lengths, data read back and
 * the final image files must all agree.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlockImage } from '../../src/devices/virtio/block-image.js';
import { BlkRequest } from '../../src/devices/virtio/virtio-blk-backend.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { MmioReg } from '../../src/devices/virtio/virtio-mmio.js';
import { zoneWithMmio } from './mmio-driver.js';
import { QEMU_LAST_SLOT as SLOT, QtestSession } from './qtest-session.js';

const SECTORS = 256;
const RAM = 0x4000_0000;
const SERIAL = 'ZONE1-DISK';
/** Bits QEMU and we both offer and a driver would take: BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES. */
const FEATURES_LO = (1 << 6) | (1 << 9) | (1 << 13) | (1 << 14);

interface Request {
  type: number;
  sector: number;
  out?: Uint8Array;
  inLen?: number;
}

function segment(sector: number, count: number, flags: number): Uint8Array {
  const s = new Uint8Array(16);
  const v = new DataView(s.buffer);
  v.setUint32(0, sector, true);
  v.setUint32(8, count, true);
  v.setUint32(12, flags, true);
  return s;
}

const requests: Request[] = [
  { type: BlkRequest.Out, sector: 8, out: new Uint8Array(1024).map((_, i) => (i * 3) & 0xff) },
  { type: BlkRequest.In, sector: 8, inLen: 1024 },
  { type: BlkRequest.In, sector: 0, inLen: 512 },
  { type: BlkRequest.Flush, sector: 0 },
  { type: BlkRequest.GetId, sector: 0, inLen: 20 },
  { type: BlkRequest.WriteZeroes, sector: 0, out: segment(16, 8, 0) },
  { type: BlkRequest.WriteZeroes, sector: 0, out: segment(32, 8, 1) }, // may unmap
  { type: BlkRequest.WriteZeroes, sector: 0, out: segment(40, 8, 2) }, // unknown flag
  { type: BlkRequest.Discard, sector: 0, out: segment(64, 8, 1) }, // discard has no flags
  { type: BlkRequest.WriteZeroes, sector: 0, out: segment(SECTORS - 4, 8, 0) }, // past the end
  { type: BlkRequest.In, sector: SECTORS, inLen: 512 }, // past the end
  { type: BlkRequest.Out, sector: SECTORS - 1, out: new Uint8Array(1024) }, // runs off the end
  { type: 99, sector: 0 }, // unknown request type
  { type: BlkRequest.In, sector: 16, inLen: 512 }, // zeroed above
];

async function runQemu(image: string): Promise<{ status: number; len: number; data: Uint8Array }[]> {
  const q = new QtestSession(['-drive', `if=none,id=d0,file=${image},format=raw,discard=unmap`, '-device', `virtio-blk-device,drive=d0,serial=${SERIAL}`]);
  try {
    await q.zero(RAM, 0x10000);
    await q.write(SLOT + MmioReg.Status, 4, 0);
    await q.write(SLOT + MmioReg.Status, 4, 3);
    await q.write(SLOT + MmioReg.DriverFeaturesSel, 4, 1);
    await q.write(SLOT + MmioReg.DriverFeatures, 4, 1);
    await q.write(SLOT + MmioReg.DriverFeaturesSel, 4, 0);
    await q.write(SLOT + MmioReg.DriverFeatures, 4, FEATURES_LO);
    await q.write(SLOT + MmioReg.Status, 4, 0xb);
    expect(await q.read(SLOT + MmioReg.Status, 4)).toBe(0xb);
    await q.write(SLOT + MmioReg.QueueSel, 4, 0);
    await q.write(SLOT + MmioReg.QueueNum, 4, 16);
    for (const [reg, at] of [[MmioReg.QueueDescLow, RAM], [MmioReg.QueueDriverLow, RAM + 0x100], [MmioReg.QueueDeviceLow, RAM + 0x200]] as const) {
      await q.write(SLOT + reg, 4, at);
      await q.write(SLOT + reg + 4, 4, 0);
    }
    await q.write(SLOT + MmioReg.QueueReady, 4, 1);
    await q.write(SLOT + MmioReg.Status, 4, 0xf);
    const out = [];
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      const base = RAM + 0x1000 + 0x1000 * i;
      const header = new Uint8Array(16);
      new DataView(header.buffer).setUint32(0, r.type, true);
      new DataView(header.buffer).setUint32(8, r.sector, true);
      const bufs: [number, number, boolean][] = [[base, 16, false]];
      await q.writeBytes(base, header);
      if (r.out !== undefined) {
        await q.writeBytes(base + 16, r.out);
        bufs.push([base + 16, r.out.length, false]);
      }
      if (r.inLen !== undefined) bufs.push([base + 0x800, r.inLen, true]);
      bufs.push([base + 0xfff, 1, true]);
      await q.write(base + 0xfff, 1, 0xff);
      const first = (4 * i) % 16;
      for (let k = 0; k < bufs.length; k++) {
        const d = RAM + 16 * ((first + k) % 16);
        const [addr, len, write] = bufs[k]!;
        await q.write(d, 8, addr);
        await q.write(d + 8, 4, len);
        await q.write(d + 12, 2, (k < bufs.length - 1 ? 1 : 0) | (write ? 2 : 0));
        await q.write(d + 14, 2, (first + k + 1) % 16);
      }
      await q.write(RAM + 0x100 + 4 + 2 * (i % 16), 2, first);
      await q.write(RAM + 0x100 + 2, 2, i + 1);
      await q.write(SLOT + MmioReg.QueueNotify, 4, 0);
      expect(await q.poll(RAM + 0x200 + 2, 2, (v) => v === i + 1), `request ${i} completed`).toBe(i + 1);
      out.push({
        status: await q.read(base + 0xfff, 1),
        len: await q.read(RAM + 0x200 + 4 + 8 * (i % 16) + 4, 4),
        data: r.inLen === undefined ? new Uint8Array() : await q.readBytes(base + 0x800, r.inLen),
      });
    }
    return out;
  } finally {
    q.close();
  }
}

function runOurs(image: string): { status: number; len: number; data: Uint8Array }[] {
  const file = new FileBlockImage(image);
  const { drv } = zoneWithMmio(new VirtioBlkBackend(file, SERIAL));
  expect(drv.negotiate(() => (1n << 32n) | BigInt(FEATURES_LO)) & 8).toBe(8);
  const q = drv.setupQueue(0, 16);
  drv.driverOk();
  const out = requests.map((r) => {
    const hdr = drv.alloc(16);
    drv.w(hdr, 4, r.type);
    drv.w(hdr + 8, 8, r.sector);
    const bufs: [number, number, boolean][] = [[hdr, 16, false]];
    if (r.out !== undefined) {
      const o = drv.alloc(r.out.length);
      drv.fill(o, r.out);
      bufs.push([o, r.out.length, false]);
    }
    const inBuf = r.inLen === undefined ? 0 : drv.alloc(r.inLen);
    if (r.inLen !== undefined) bufs.push([inBuf, r.inLen, true]);
    const st = drv.alloc(1, 1);
    drv.w(st, 1, 0xff);
    bufs.push([st, 1, true]);
    drv.post(q, bufs);
    const [[, len]] = drv.reap(q) as [[number, number]];
    return { status: drv.r(st, 1), len, data: r.inLen === undefined ? new Uint8Array() : drv.bytes(inBuf, r.inLen) };
  });
  file.close();
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vblk-qemu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('virtio-blk request semantics against QEMU 7.2 virtio-blk-device (qtest oracle)', () => {
  it('same status, used length and data for every request, and the same image file afterwards', async () => {
    const original = new Uint8Array(SECTORS * 512).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    writeFileSync(join(tmp, 'base.img'), original);
    copyFileSync(join(tmp, 'base.img'), join(tmp, 'qemu.img'));
    copyFileSync(join(tmp, 'base.img'), join(tmp, 'ours.img'));
    const qemu = await runQemu(join(tmp, 'qemu.img'));
    const ours = runOurs(join(tmp, 'ours.img'));
    // Used lengths agree except for a failed read: QEMU reports the whole buffer as written, but
    // virtio 1.2 §2.7.8.2 has the device write at least `len` bytes, so we report only the status.
    const failedRead = (i: number) => requests[i]!.type === BlkRequest.In && qemu[i]!.status !== 0;
    expect(ours.map((r, i) => [r.status, failedRead(i) ? 'failed read' : r.len])).toEqual(qemu.map((r, i) => [r.status, failedRead(i) ? 'failed read' : r.len]));
    expect(ours[10]!.len).toBe(1);
    ours.forEach((r, i) => expect(Buffer.compare(r.data, qemu[i]!.data), `data of request ${i}`).toBe(0));
    const a = readFileSync(join(tmp, 'qemu.img'));
    const b = readFileSync(join(tmp, 'ours.img'));
    const firstDiff = a.findIndex((x, i) => x !== b[i]);
    expect(firstDiff, 'first differing byte of the images').toBe(-1);
    // Not vacuous: the stream succeeded, refused, and changed the image.
    expect(qemu.map((r) => r.status)).toEqual([0, 0, 0, 0, 0, 0, 0, 2, 2, 1, 1, 1, 2, 0]);
    expect(Buffer.from(qemu[4]!.data).toString('latin1')).toBe(SERIAL.padEnd(20, '\0'));
    expect(Buffer.compare(a, original)).not.toBe(0);
  });
});
