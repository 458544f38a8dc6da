import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FramebufferServer } from '../../src/devices/virtio/framebuffer-server.js';
import { GpuCmd, GpuResp, VirtioGpuBackend, type GpuOptions } from '../../src/devices/virtio/virtio-gpu-backend.js';
import { RAM_BASE, RAM_SIZE, zoneWithMmio } from './mmio-driver.js';

const W = 64;
const H = 48;
const B8G8R8X8 = 2;
const R8G8B8A8 = 67;

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vgpu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A PNG decoder for the test: every chunk CRC checked with node:zlib's crc32, IDAT inflated. */
function decodePng(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(png.buffer, png.byteOffset, png.length);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  const names: string[] = [];
  while (at < png.length) {
    const len = v.getUint32(at);
    const name = Buffer.from(png.subarray(at + 4, at + 8)).toString('latin1');
    const data = png.subarray(at + 8, at + 8 + len);
    expect(v.getUint32(at + 8 + len), `${name} CRC`).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
    names.push(name);
    if (name === 'IHDR') {
      width = v.getUint32(at + 8);
      height = v.getUint32(at + 12);
      expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]); // 8-bit truecolour, no interlace
    }
    if (name === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  expect(names[0]).toBe('IHDR');
  expect(names.at(-1)).toBe('IEND');
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe((width * 3 + 1) * height);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 3 + 1)]).toBe(0); // filter type None
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}

/** A guest running Linux's virtio-gpu 2D sequence through the mmio transport. */
function gpuGuest(options: GpuOptions = { displays: [{ width: W, height: H }] }) {
  const gpu = new VirtioGpuBackend(options);
  const z = zoneWithMmio(gpu);
  const { drv } = z;
  expect(drv.reg(8)).toBe(16);
  expect(drv.negotiate((f) => f) & 8).toBe(8);
  const ctrl = drv.setupQueue(0, 64);
  drv.setupQueue(1, 16);
  drv.driverOk();
  /** Sends a command (header + body), returns the response's type and bytes. */
  const command = (type: number, body: number[], opts: { extra?: Uint8Array; fence?: bigint; respLen?: number } = {}) => {
    const req = new Uint8Array(24 + 4 * body.length + (opts.extra?.length ?? 0));
    const rv = new DataView(req.buffer);
    rv.setUint32(0, type, true);
    if (opts.fence !== undefined) {
      rv.setUint32(4, 1, true);
      rv.setBigUint64(8, opts.fence, true);
    }
    body.forEach((w, i) => rv.setUint32(24 + 4 * i, w, true));
    if (opts.extra !== undefined) req.set(opts.extra, 24 + 4 * body.length);
    const at = drv.alloc(req.length);
    drv.fill(at, req);
    const respLen = opts.respLen ?? 24;
    const resp = drv.alloc(respLen);
    drv.post(ctrl, [[at, req.length, false], [resp, respLen, true]]);
    const used = drv.reap(ctrl);
    expect(used.length).toBe(1);
    const bytes = drv.bytes(resp, used[0]![1]);
    return { type: new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true), bytes };
  };
  return { ...z, gpu, command };
}

/** Backing for a W x H x 4 resource in three scattered pieces, as the guest's page allocator gives. */
function scatteredBacking(drv: ReturnType<typeof gpuGuest>['drv']) {
  const total = W * H * 4;
  const pieces = [4096, 4096, total - 8192].map((len) => {
    drv.alloc(4096, 4096); // a hole between pieces
    return { addr: drv.alloc(len, 4096), len };
  });
  const entries = new Uint8Array(16 * pieces.length);
  const ev = new DataView(entries.buffer);
  pieces.forEach((p, i) => {
    ev.setBigUint64(16 * i, BigInt(p.addr), true);
    ev.setUint32(16 * i + 8, p.len, true);
  });
  /** Writes pixel (x, y) as 4 bytes in the guest's linear framebuffer. */
  const put = (x: number, y: number, px: number[]) => {
    let off = (y * W + x) * 4;
    for (const p of pieces) {
      if (off < p.len) {
        drv.fill(p.addr + off, Uint8Array.from(px));
        return;
      }
      off -= p.len;
    }
  };
  return { pieces, entries, put };
}

const pattern = (x: number, y: number) => [(x * 4) & 0xff, (y * 5) & 0xff, (x + y) & 0xff]; // R, G, B

describe('virtio-gpu 2D', () => {
  it('display info, create, scattered backing, scanout, transfer, flush: the PNG shows the guest pixels', () => {
    const { command, drv, gpu } = gpuGuest();
    expect(drv.config(8, 4)).toBe(1); // num_scanouts
    const info = command(GpuCmd.GetDisplayInfo, [], { respLen: 24 + 24 * 16 });
    expect(info.type).toBe(GpuResp.OkDisplayInfo);
    const iv = new DataView(info.bytes.buffer, info.bytes.byteOffset);
    expect([iv.getUint32(24 + 8, true), iv.getUint32(24 + 12, true), iv.getUint32(24 + 16, true)]).toEqual([W, H, 1]);
    expect(iv.getUint32(48 + 16, true)).toBe(0); // scanout 1 absent

    expect(command(GpuCmd.ResourceCreate2d, [1, B8G8R8X8, W, H]).type).toBe(GpuResp.OkNoData);
    const fb = scatteredBacking(drv);
    expect(command(GpuCmd.ResourceAttachBacking, [1, 3], { extra: fb.entries }).type).toBe(GpuResp.OkNoData);
    expect(gpu.png()).toBeUndefined(); // nothing on screen yet
    expect(command(GpuCmd.SetScanout, [0, 0, W, H, 0, 1]).type).toBe(GpuResp.OkNoData);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const [r, g, b] = pattern(x, y);
      fb.put(x, y, [b!, g!, r!, 0xff]); // B8G8R8X8 in memory
    }
    expect(command(GpuCmd.TransferToHost2d, [0, 0, W, H, 0, 0, 1, 0]).type).toBe(GpuResp.OkNoData);
    expect(command(GpuCmd.ResourceFlush, [0, 0, W, H, 1, 0]).type).toBe(GpuResp.OkNoData);
    const path = join(tmp, 'screen.png');
    expect(gpu.writePng(path)).toBe(true);
    const shot = decodePng(readFileSync(path));
    expect([shot.width, shot.height]).toEqual([W, H]);
    const mismatches: string[] = [];
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const got = [...shot.rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
      if (got.join() !== pattern(x, y).join()) mismatches.push(`${x},${y}: ${got} vs ${pattern(x, y)}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);

    // A partial update: only the transferred and flushed rectangle changes, and only after the flush.
    for (let y = 5; y < 15; y++) for (let x = 10; x < 20; x++) fb.put(x, y, [0, 0, 0xff, 0]); // red
    const rect = [10, 5, 10, 10];
    expect(command(GpuCmd.TransferToHost2d, [...rect, (5 * W + 10) * 4, 0, 1, 0]).type).toBe(GpuResp.OkNoData);
    expect(decodePng(gpu.png()!).rgb).toEqual(shot.rgb);
    expect(command(GpuCmd.ResourceFlush, [...rect, 1, 0], { fence: 77n }).bytes.subarray(4, 16)).toEqual(Uint8Array.of(1, 0, 0, 0, 77, 0, 0, 0, 0, 0, 0, 0));
    const after = decodePng(gpu.png()!);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const inside = x >= 10 && x < 20 && y >= 5 && y < 15;
      const want = inside ? [0xff, 0, 0] : pattern(x, y);
      if ([...after.rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)].join() !== want.join()) mismatches.push(`${x},${y}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(gpu.snapshot()!.flushes).toBe(2);
    // Disabling the scanout blanks the page; unref frees the resource.
    expect(command(GpuCmd.SetScanout, [0, 0, 0, 0, 0, 0]).type).toBe(GpuResp.OkNoData);
    expect(gpu.png()).toBeUndefined();
    expect(command(GpuCmd.ResourceUnref, [1, 0]).type).toBe(GpuResp.OkNoData);
    expect(command(GpuCmd.ResourceUnref, [1, 0]).type).toBe(GpuResp.ErrInvalidResourceId);
  });

  it('serves the framebuffer on a local web page', async () => {
    const { command, drv, gpu } = gpuGuest();
    command(GpuCmd.ResourceCreate2d, [7, R8G8B8A8, W, H]);
    const fb = scatteredBacking(drv);
    command(GpuCmd.ResourceAttachBacking, [7, 3], { extra: fb.entries });
    command(GpuCmd.SetScanout, [0, 0, W, H, 0, 7]);
    fb.put(3, 4, [0x12, 0x34, 0x56, 0xff]);
    command(GpuCmd.TransferToHost2d, [0, 0, W, H, 0, 0, 7, 0]);
    command(GpuCmd.ResourceFlush, [0, 0, W, H, 7, 0]);
    const server = new FramebufferServer(gpu);
    await server.listening;
    const fetch = (path: string) => new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
      get({ host: '127.0.0.1', port: server.port, path }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: Buffer.concat(parts) }));
      }).on('error', reject);
    });
    const page = await fetch('/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<img id="s0" src="/scanout/0.png"');
    const png = await fetch('/scanout/0.png');
    expect([png.status, png.type]).toEqual([200, 'image/png']);
    const shot = decodePng(png.body);
    expect([...shot.rgb.subarray((4 * W + 3) * 3, (4 * W + 3) * 3 + 3)]).toEqual([0x12, 0x34, 0x56]);
    expect((await fetch('/scanout/1.png')).status).toBe(404);
    await server.close();
  });

  it('refuses bad commands with the spec error codes and never reads outside the zone', () => {
    const { command, drv } = gpuGuest({ displays: [{ width: W, height: H }], maxResourceBytes: W * H * 4 });
    expect(command(GpuCmd.ResourceCreate2d, [0, B8G8R8X8, W, H]).type).toBe(GpuResp.ErrInvalidResourceId);
    expect(command(GpuCmd.ResourceCreate2d, [1, 999, W, H]).type).toBe(GpuResp.ErrInvalidParameter);
    expect(command(GpuCmd.ResourceCreate2d, [1, B8G8R8X8, 0, H]).type).toBe(GpuResp.ErrInvalidParameter);
    expect(command(GpuCmd.ResourceCreate2d, [1, B8G8R8X8, W, H]).type).toBe(GpuResp.OkNoData);
    expect(command(GpuCmd.ResourceCreate2d, [1, B8G8R8X8, W, H]).type).toBe(GpuResp.ErrInvalidResourceId);
    expect(command(GpuCmd.ResourceCreate2d, [2, B8G8R8X8, W, H]).type).toBe(GpuResp.ErrOutOfMemory);
    expect(command(GpuCmd.TransferToHost2d, [0, 0, W, H, 0, 0, 1, 0]).type).toBe(GpuResp.ErrUnspec); // no backing
    expect(command(GpuCmd.SetScanout, [0, 0, W, H, 5, 1]).type).toBe(GpuResp.ErrInvalidScanoutId);
    expect(command(GpuCmd.SetScanout, [0, 0, W + 1, H, 0, 1]).type).toBe(GpuResp.ErrInvalidParameter);
    expect(command(GpuCmd.SetScanout, [0, 0, W, H, 0, 9]).type).toBe(GpuResp.ErrInvalidResourceId);
    const outside = new Uint8Array(16);
    new DataView(outside.buffer).setBigUint64(0, BigInt(RAM_BASE + RAM_SIZE - 4096), true);
    new DataView(outside.buffer).setUint32(8, 8192, true);
    expect(command(GpuCmd.ResourceAttachBacking, [1, 1], { extra: outside }).type).toBe(GpuResp.ErrUnspec);
    // Backing too short for the transfer: refused, not a partial read past it.
    const short = new Uint8Array(16);
    new DataView(short.buffer).setBigUint64(0, BigInt(drv.alloc(4096, 4096)), true);
    new DataView(short.buffer).setUint32(8, 4096, true);
    expect(command(GpuCmd.ResourceAttachBacking, [1, 1], { extra: short }).type).toBe(GpuResp.OkNoData);
    expect(command(GpuCmd.TransferToHost2d, [0, 0, W, H, 0, 0, 1, 0]).type).toBe(GpuResp.ErrInvalidParameter);
    expect(command(GpuCmd.TransferToHost2d, [0, 0, W, 4, 0, 0, 1, 0]).type).toBe(GpuResp.OkNoData);
    expect(command(GpuCmd.ResourceDetachBacking, [1, 0]).type).toBe(GpuResp.OkNoData);
    expect(command(GpuCmd.ResourceDetachBacking, [1, 0]).type).toBe(GpuResp.ErrUnspec);
    expect(command(0x0999, []).type).toBe(GpuResp.ErrUnspec);
    expect(command(GpuCmd.ResourceCreate2d, [3]).type).toBe(GpuResp.ErrInvalidParameter); // truncated
  });

  it('a display change raises a config interrupt with EVENT_DISPLAY, cleared through events_clear', () => {
    const { gpu, drv, irqLevels } = gpuGuest();
    gpu.displayChanged();
    expect(drv.config(0, 4)).toBe(1);
    expect(drv.reg(0x60)).toBe(2);
    expect(irqLevels).toEqual([true]);
    drv.mem.write(drv.base + 0x100 + 4, 4, 1n);
    expect(drv.config(0, 4)).toBe(0);
  });
});
