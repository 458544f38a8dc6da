/**
 * QEMU as the oracle for virtio-gpu 2D: the same command stream goes to QEMU's virtio-gpu-device
 * (driven through qtest) and to our backend over virtio-mmio. Every response must match byte for
 * byte, and QEMU's own screendump (QMP, PPM) must show exactly the pixels our PNG shows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MmioReg } from '../../src/devices/virtio/virtio-mmio.js';
import { GpuCmd, VirtioGpuBackend } from '../../src/devices/virtio/virtio-gpu-backend.js';
import { zoneWithMmio } from './mmio-driver.js';
import { QEMU_LAST_SLOT as SLOT, QtestSession } from './qtest-session.js';

const W = 40;
const H = 24;
const RAM = 0x4000_0000;
const CTRL = RAM; // desc, avail at +0x100, used at +0x200; 16 entries
const REQ = RAM + 0x1000;
const RESP = RAM + 0x2000;
const FB = RAM + 0x10_0000; // the guest framebuffer, two scattered pieces
const FB2 = RAM + 0x20_0000;
const SPLIT = 2048;

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vgpu-qemu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hdr = (type: number): number[] => [type, 0, 0, 0, 0, 0];

/** The command stream: a few refusals, then the 2D path Linux's virtio-gpu takes, then a partial update. */
function commands(): number[][] {
  const attach = [...hdr(GpuCmd.ResourceAttachBacking), 1, 2, FB, 0, SPLIT, 0, FB2, 0, W * H * 4 - SPLIT, 0];
  return [
    hdr(GpuCmd.GetDisplayInfo),
    [...hdr(GpuCmd.ResourceCreate2d), 0, 2, W, H], // resource id 0
    [...hdr(GpuCmd.ResourceCreate2d), 1, 999, W, H], // unknown format
    [...hdr(GpuCmd.ResourceCreate2d), 1, 2, W, H],
    [...hdr(GpuCmd.ResourceCreate2d), 1, 2, W, H], // id in use
    [...hdr(GpuCmd.TransferToHost2d), 0, 0, W, H, 0, 0, 1, 0], // no backing yet
    attach,
    [...hdr(GpuCmd.SetScanout), 0, 0, W, H, 3, 1], // no such scanout
    [...hdr(GpuCmd.SetScanout), 0, 0, W, H, 0, 9], // no such resource
    [...hdr(GpuCmd.SetScanout), 0, 0, W, H, 0, 1],
    [...hdr(GpuCmd.TransferToHost2d), 0, 0, W, H, 0, 0, 1, 0],
    [...hdr(GpuCmd.ResourceFlush), 0, 0, W, H, 1, 0],
    [...hdr(GpuCmd.TransferToHost2d), 0, 0, W + 1, H, 0, 0, 1, 0], // rect outside the resource
    // Only (5..15, 3..9) is transferred and flushed from a framebuffer that changed everywhere.
    [...hdr(GpuCmd.TransferToHost2d), 5, 3, 10, 6, (3 * W + 5) * 4, 0, 1, 0],
    [...hdr(GpuCmd.ResourceFlush), 5, 3, 10, 6, 1, 0],
    [...hdr(GpuCmd.ResourceUnref), 7, 0],
    [0x999, 0, 0, 0, 0, 0],
  ];
}

/** Pixel (x, y) as B8G8R8X8 bytes; `generation` changes every pixel between the two frames. */
function pixel(x: number, y: number, generation: number): number[] {
  return [(x * 6 + generation * 40) & 0xff, (y * 10) & 0xff, (x * y + generation * 90) & 0xff, 0xff];
}

function framebuffer(generation: number): Uint8Array {
  const fb = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) fb.set(pixel(x, y, generation), (y * W + x) * 4);
  return fb;
}

function encode(words: number[]): Uint8Array {
  return new Uint8Array(Uint32Array.from(words.map((w) => w >>> 0)).buffer);
}

/** When the second frame is written into guest memory: before this command. */
const SECOND_FRAME_AT = 13;
const RESP_LEN = 24 + 24 * 16;

async function runQemu(): Promise<{ responses: Uint8Array[]; screen: Uint8Array }> {
  const qmpPath = join(tmp, 'qmp.sock');
  const q = new QtestSession(['-device', `virtio-gpu-device,xres=${W},yres=${H},edid=off`, '-qmp', `unix:${qmpPath},server=on,wait=off`]);
  try {
    expect(await q.read(SLOT + MmioReg.DeviceId, 4)).toBe(16);
    await q.zero(RAM, 0x10000); // rings must start zeroed
    await q.write(SLOT + MmioReg.Status, 4, 0);
    await q.write(SLOT + MmioReg.Status, 4, 3);
    await q.write(SLOT + MmioReg.DriverFeaturesSel, 4, 1);
    await q.write(SLOT + MmioReg.DriverFeatures, 4, 1);
    await q.write(SLOT + MmioReg.DriverFeaturesSel, 4, 0);
    await q.write(SLOT + MmioReg.DriverFeatures, 4, 0);
    await q.write(SLOT + MmioReg.Status, 4, 0xb);
    await q.write(SLOT + MmioReg.QueueSel, 4, 0);
    await q.write(SLOT + MmioReg.QueueNum, 4, 16);
    for (const [reg, at] of [[MmioReg.QueueDescLow, CTRL], [MmioReg.QueueDriverLow, CTRL + 0x100], [MmioReg.QueueDeviceLow, CTRL + 0x200]] as const) {
      await q.write(SLOT + reg, 4, at);
      await q.write(SLOT + reg + 4, 4, 0);
    }
    await q.write(SLOT + MmioReg.QueueReady, 4, 1);
    await q.write(SLOT + MmioReg.Status, 4, 0xf);
    const first = framebuffer(0);
    await q.writeBytes(FB, first.subarray(0, SPLIT));
    await q.writeBytes(FB2, first.subarray(SPLIT));
    const responses: Uint8Array[] = [];
    const list = commands();
    for (let i = 0; i < list.length; i++) {
      if (i === SECOND_FRAME_AT) {
        const second = framebuffer(1);
        await q.writeBytes(FB, second.subarray(0, SPLIT));
        await q.writeBytes(FB2, second.subarray(SPLIT));
      }
      const req = encode(list[i]!);
      const slot = i % 8; // descriptors 2*slot, 2*slot+1 of the 16
      await q.writeBytes(REQ + 0x100 * i, req);
      // Two descriptors: request (device-readable), response (device-writable).
      await q.write(CTRL + 32 * slot, 8, REQ + 0x100 * i);
      await q.write(CTRL + 32 * slot + 8, 4, req.length);
      await q.write(CTRL + 32 * slot + 12, 2, 1);
      await q.write(CTRL + 32 * slot + 14, 2, 2 * slot + 1);
      await q.write(CTRL + 32 * slot + 16, 8, RESP + 0x200 * i);
      await q.write(CTRL + 32 * slot + 24, 4, RESP_LEN);
      await q.write(CTRL + 32 * slot + 28, 2, 2);
      await q.write(CTRL + 0x100 + 4 + 2 * (i % 16), 2, 2 * slot);
      await q.write(CTRL + 0x100 + 2, 2, i + 1);
      await q.write(SLOT + MmioReg.QueueNotify, 4, 0);
      expect(await q.poll(CTRL + 0x200 + 2, 2, (v) => v === i + 1), `command ${i} completed`).toBe(i + 1);
      const len = await q.read(CTRL + 0x200 + 4 + 8 * (i % 16) + 4, 4);
      responses.push(await q.readBytes(RESP + 0x200 * i, len));
    }
    const screen = await qmpScreendump(qmpPath, join(tmp, 'qemu.ppm'));
    return { responses, screen };
  } finally {
    q.close();
  }
}

/** QEMU's screendump through QMP, as PPM (P6): the picture QEMU's display shows. */
async function qmpScreendump(socketPath: string, file: string): Promise<Uint8Array> {
  const sock = connect(socketPath);
  let buffered = '';
  const waiters: ((line: string) => void)[] = [];
  sock.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.includes('"return"') || line.includes('"error"') || line.includes('"QMP"')) waiters.shift()?.(line);
    }
  });
  const next = () => new Promise<string>((r) => waiters.push(r));
  await next(); // greeting
  sock.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
  await next();
  sock.write(JSON.stringify({ execute: 'screendump', arguments: { filename: file } }) + '\n');
  const answer = await next();
  sock.destroy();
  expect(answer).toContain('"return"');
  const ppm = readFileSync(file);
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.subarray(0, 32).toString('latin1'))!;
  expect([Number(header[1]), Number(header[2])]).toEqual([W, H]);
  return new Uint8Array(ppm.subarray(header[0].length));
}

function runOurs(): { responses: Uint8Array[]; screen: Uint8Array } {
  const gpu = new VirtioGpuBackend({ displays: [{ width: W, height: H }] });
  const { drv } = zoneWithMmio(gpu);
  expect(drv.negotiate((f) => f) & 8).toBe(8);
  const ctrl = drv.setupQueue(0, 16);
  drv.setupQueue(1, 16);
  drv.driverOk();
  const first = drv.alloc(SPLIT, 4096);
  drv.alloc(4096, 4096); // not contiguous
  const pieces = [first, drv.alloc(W * H * 4 - SPLIT, 4096)];
  const put = (data: Uint8Array) => {
    drv.fill(pieces[0]!, data.subarray(0, SPLIT));
    drv.fill(pieces[1]!, data.subarray(SPLIT));
  };
  put(framebuffer(0));
  const responses: Uint8Array[] = [];
  commands().forEach((words, i) => {
    if (i === SECOND_FRAME_AT) put(framebuffer(1));
    // Our zone's RAM is elsewhere: point the backing entries at our pieces.
    if (words[0] === GpuCmd.ResourceAttachBacking) words = [...words.slice(0, 8), pieces[0]!, 0, SPLIT, 0, pieces[1]!, 0, W * H * 4 - SPLIT, 0];
    const req = encode(words);
    const at = drv.alloc(req.length);
    drv.fill(at, req);
    const resp = drv.alloc(RESP_LEN);
    drv.post(ctrl, [[at, req.length, false], [resp, RESP_LEN, true]]);
    const [[, len]] = drv.reap(ctrl) as [[number, number]];
    responses.push(drv.bytes(resp, len));
  });
  const png = gpu.png()!;
  // Our own PNG, decoded: IDAT inflated, filter bytes dropped.
  let at = 8;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = new DataView(png.buffer, png.byteOffset).getUint32(at);
    if (Buffer.from(png.subarray(at + 4, at + 8)).toString() === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const screen = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) screen.set(raw.subarray(y * (W * 3 + 1) + 1, (y + 1) * (W * 3 + 1)), y * W * 3);
  return { responses, screen };
}

describe('virtio-gpu 2D against QEMU 7.2 virtio-gpu-device (qtest + QMP screendump oracle)', () => {
  it('same responses to every command, same pixels on screen', async () => {
    const qemu = await runQemu();
    const ours = runOurs();
    const types = (rs: Uint8Array[]) => rs.map((r) => new DataView(r.buffer, r.byteOffset).getUint32(0, true).toString(16));
    expect(types(ours.responses)).toEqual(types(qemu.responses));
    expect(ours.responses).toEqual(qemu.responses);
    // The stream exercises success and every refusal path, so agreement is not vacuous.
    expect(types(qemu.responses)).toEqual(['1101', '1203', '1205', '1100', '1203', '1200', '1100', '1202', '1203', '1100', '1100', '1100', '1205', '1100', '1100', '1203', '1200']);
    // The screen: the first frame everywhere except the partially updated rectangle.
    let differing = 0;
    for (let i = 0; i < W * H * 3; i++) if (ours.screen[i] !== qemu.screen[i]) differing++;
    expect(differing).toBe(0);
    const at = (3 * W + 5) * 3;
    expect([...qemu.screen.subarray(at, at + 3)]).toEqual([pixel(5, 3, 1)[2], pixel(5, 3, 1)[1], pixel(5, 3, 1)[0]]);
    const outside = (2 * W + 5) * 3;
    expect([...qemu.screen.subarray(outside, outside + 3)]).toEqual([pixel(5, 2, 0)[2], pixel(5, 2, 0)[1], pixel(5, 2, 0)[0]]);
  });
});
