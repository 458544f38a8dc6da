import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/fixtures.js';
import { BlockImageError, FileBlockImage } from '../../src/devices/virtio/block-image.js';
import { BlkFeature, BlkRequest, BlkStatus, VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { zoneWithMmio, type DriverQueue, type VirtioMmioTestDriver } from './mmio-driver.js';

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vblk-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SECTORS = 128;

function imageFile(name: string, fill: (i: number) => number = (i) => (i * 31 + 7) & 0xff): string {
  const path = join(tmp, name);
  writeFileSync(path, new Uint8Array(SECTORS * 512).map((_, i) => fill(i)));
  return path;
}

/** One virtio-blk request the way Linux's virtio_blk frames it: header | data | status. */
function request(drv: VirtioMmioTestDriver, q: DriverQueue, type: number, sector: number, data: { in?: number; out?: Uint8Array } = {}) {
  const hdr = drv.alloc(16);
  drv.w(hdr, 4, type);
  drv.w(hdr + 4, 4, 0);
  drv.w(hdr + 8, 8, sector);
  const bufs: [number, number, boolean][] = [[hdr, 16, false]];
  let buf = 0;
  if (data.out !== undefined) {
    buf = drv.alloc(data.out.length);
    drv.fill(buf, data.out);
    bufs.push([buf, data.out.length, false]);
  }
  if (data.in !== undefined) {
    buf = drv.alloc(data.in);
    bufs.push([buf, data.in, true]);
  }
  const st = drv.alloc(1, 1);
  drv.w(st, 1, 0xff);
  bufs.push([st, 1, true]);
  const head = drv.post(q, bufs);
  const used = drv.reap(q);
  expect(used.map((u) => u[0])).toEqual([head]);
  return { status: drv.r(st, 1), len: used[0]![1], bytes: data.in === undefined ? new Uint8Array() : drv.bytes(buf, data.in) };
}

function discardSegments(...ranges: [number, number, number][]): Uint8Array {
  const out = new Uint8Array(16 * ranges.length);
  const v = new DataView(out.buffer);
  ranges.forEach(([sector, count, flags], i) => {
    v.setUint32(16 * i, sector, true);
    v.setUint32(16 * i + 8, count, true);
    v.setUint32(16 * i + 12, flags, true);
  });
  return out;
}

function blkOn(path: string, readOnly = false, serial?: string) {
  const image = new FileBlockImage(path, readOnly);
  const z = zoneWithMmio(new VirtioBlkBackend(image, serial));
  expect(z.drv.negotiate((f) => f) & 8).toBe(8);
  const q = z.drv.setupQueue(0, 64);
  z.drv.driverOk();
  return { ...z, image, q };
}

describe('virtio-blk over virtio-mmio on an image file', () => {
  it('reads what the host put in the file, and the host reads back what the guest wrote after a flush', () => {
    const path = imageFile('rw.img');
    const original = readFileSync(path);
    const { drv, q, image } = blkOn(path);
    expect(drv.config(0, 4)).toBe(SECTORS);
    const read = request(drv, q, BlkRequest.In, 5, { in: 1024 });
    expect(read).toMatchObject({ status: BlkStatus.Ok, len: 1025 });
    expect(Buffer.compare(read.bytes, original.subarray(5 * 512, 7 * 512))).toBe(0);
    const payload = new Uint8Array(1536).map((_, i) => (i * 5) ^ 0xa5);
    expect(request(drv, q, BlkRequest.Out, 40, { out: payload })).toMatchObject({ status: BlkStatus.Ok, len: 1 });
    expect(request(drv, q, BlkRequest.Flush, 0).status).toBe(BlkStatus.Ok);
    // The host, through its own descriptor, sees the guest's sectors and nothing else changed.
    const after = readFileSync(path);
    expect(Buffer.compare(after.subarray(40 * 512, 43 * 512), payload)).toBe(0);
    expect(Buffer.compare(after.subarray(0, 40 * 512), original.subarray(0, 40 * 512))).toBe(0);
    expect(Buffer.compare(after.subarray(43 * 512), original.subarray(43 * 512))).toBe(0);
    // And a host-side write is what the guest reads next.
    const fd = openSync(path, 'r+');
    writeSync(fd, new Uint8Array(512).fill(0x3c), 0, 512, 100 * 512);
    closeSync(fd);
    expect(request(drv, q, BlkRequest.In, 100, { in: 512 }).bytes.every((b) => b === 0x3c)).toBe(true);
    image.close();
  });

  it('get id returns the serial (20 bytes, NUL-padded); unknown requests are unsupported', () => {
    const { drv, q, image } = blkOn(imageFile('id.img'), false, 'ZONE1-DISK');
    const id = request(drv, q, BlkRequest.GetId, 0, { in: 20 });
    expect(id).toMatchObject({ status: BlkStatus.Ok, len: 21 });
    expect(Buffer.from(id.bytes).toString('latin1')).toBe('ZONE1-DISK'.padEnd(20, '\0'));
    expect(request(drv, q, 99, 0).status).toBe(BlkStatus.Unsupported);
    image.close();
  });

  it('discard and write-zeroes leave zeroes in the file, several segments per request, bounds checked', () => {
    const path = imageFile('zero.img', () => 0xee);
    const { drv, q, device, image } = blkOn(path);
    expect(device.negotiatedFeatures & (BlkFeature.Discard | BlkFeature.WriteZeroes)).toBe(BlkFeature.Discard | BlkFeature.WriteZeroes);
    expect(drv.config(0x24, 4)).toBeGreaterThan(0); // max_discard_sectors
    expect(drv.config(0x28, 4)).toBeGreaterThan(1); // max_discard_seg
    expect(request(drv, q, BlkRequest.Discard, 0, { out: discardSegments([2, 2, 0], [10, 1, 0]) }).status).toBe(BlkStatus.Ok);
    expect(request(drv, q, BlkRequest.WriteZeroes, 0, { out: discardSegments([20, 3, 1]) }).status).toBe(BlkStatus.Ok);
    const bytes = readFileSync(path);
    const zeroSectors = [...Array(SECTORS).keys()].filter((s) => bytes.subarray(s * 512, s * 512 + 512).every((b) => b === 0));
    expect(zeroSectors).toEqual([2, 3, 10, 20, 21, 22]);
    expect(bytes.filter((b) => b === 0xee).length).toBe((SECTORS - 6) * 512);
    expect(request(drv, q, BlkRequest.Discard, 0, { out: discardSegments([SECTORS - 1, 2, 0]) }).status).toBe(BlkStatus.IoErr);
    expect(request(drv, q, BlkRequest.Discard, 0, { out: discardSegments([0, 1, 1]) }).status).toBe(BlkStatus.Unsupported);
    image.close();
  });

  it('a read-only image: RO offered, writes fail with IOERR, no discard, the file is untouched', () => {
    const path = imageFile('ro.img');
    const before = readFileSync(path);
    const { drv, q, image } = blkOn(path, true);
    const offered = drv.offeredFeatures();
    expect(offered & BlkFeature.Ro).toBe(BlkFeature.Ro);
    expect(offered & (BlkFeature.Discard | BlkFeature.WriteZeroes)).toBe(0n);
    expect(request(drv, q, BlkRequest.Out, 0, { out: new Uint8Array(512).fill(1) }).status).toBe(BlkStatus.IoErr);
    expect(request(drv, q, BlkRequest.WriteZeroes, 0, { out: discardSegments([0, 1, 0]) }).status).toBe(BlkStatus.Unsupported);
    expect(request(drv, q, BlkRequest.In, 0, { in: 512 }).status).toBe(BlkStatus.Ok);
    expect(request(drv, q, BlkRequest.Flush, 0).status).toBe(BlkStatus.Ok);
    expect(Buffer.compare(readFileSync(path), before)).toBe(0);
    image.close();
  });

  it('out-of-range and partial-sector transfers fail with IOERR without touching the file', () => {
    const path = imageFile('range.img');
    const before = readFileSync(path);
    const { drv, q, image } = blkOn(path);
    expect(request(drv, q, BlkRequest.In, SECTORS, { in: 512 }).status).toBe(BlkStatus.IoErr);
    expect(request(drv, q, BlkRequest.In, SECTORS - 1, { in: 1024 }).status).toBe(BlkStatus.IoErr);
    expect(request(drv, q, BlkRequest.Out, SECTORS - 1, { out: new Uint8Array(1024) }).status).toBe(BlkStatus.IoErr);
    expect(request(drv, q, BlkRequest.Out, 0, { out: new Uint8Array(100) }).status).toBe(BlkStatus.IoErr);
    expect(request(drv, q, BlkRequest.In, 2 ** 53 / 512, { in: 512 }).status).toBe(BlkStatus.IoErr);
    expect(Buffer.compare(readFileSync(path), before)).toBe(0);
    image.close();
  });

  it('any framing the spec allows: header and data in one descriptor, data and status in one', () => {
    const path = imageFile('frame.img');
    const original = readFileSync(path);
    const { drv, q, image } = blkOn(path);
    const hdr = drv.alloc(16 + 512);
    drv.w(hdr, 4, BlkRequest.Out);
    drv.w(hdr + 8, 8, 7);
    drv.fill(hdr + 16, new Uint8Array(512).fill(0x42));
    const st = drv.alloc(1);
    drv.post(q, [[hdr, 16 + 512, false], [st, 1, true]]);
    expect(drv.reap(q)[0]![1]).toBe(1);
    expect(readFileSync(path).subarray(7 * 512, 8 * 512).every((b) => b === 0x42)).toBe(true);
    const rh = drv.alloc(16);
    drv.w(rh, 4, BlkRequest.In);
    drv.w(rh + 8, 8, 9);
    const dataAndStatus = drv.alloc(513);
    drv.post(q, [[rh, 16, false], [dataAndStatus, 513, true]]);
    expect(drv.reap(q)[0]![1]).toBe(513);
    expect(Buffer.compare(drv.bytes(dataAndStatus, 512), original.subarray(9 * 512, 10 * 512))).toBe(0);
    expect(drv.r(dataAndStatus + 512, 1)).toBe(BlkStatus.Ok);
    image.close();
  });

  it('a flushed write is on disk for a reader in another process', () => {
    const path = imageFile('durable.img');
    const { drv, q, image } = blkOn(path);
    request(drv, q, BlkRequest.Out, 3, { out: new Uint8Array(512).fill(0x99) });
    expect(request(drv, q, BlkRequest.Flush, 0).status).toBe(BlkStatus.Ok);
    const reader = spawnSync(process.execPath, ['-e', `const b = require('fs').readFileSync(process.argv[1]); process.stdout.write(b.subarray(1536, 2048).toString('hex'))`, path], { encoding: 'utf8' });
    expect(reader.stdout).toBe('99'.repeat(512));
    image.close();
  });

  it('a process killed (SIGKILL) right after a completed flush loses nothing it wrote', async () => {
    // The image class, transpiled as is, runs in a child that writes, flushes, reports, and waits
    // to be killed: anything buffered in user space instead of handed to the kernel would be lost.
    const dir = mkdtempSync(join(tmp, 'child-'));
    // block-image.ts and what it imports of ours, at their repository paths (ESM by package.json).
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
    const transpile = (file: string): void => {
      const out = join(dir, file.replace(/\.ts$/, '.js'));
      if (existsSync(out)) return;
      const source = readFileSync(join(REPO, file), 'utf8');
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
      for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) transpile(relative(REPO, resolve(REPO, dirname(file), m[1]! + '.ts')));
    };
    transpile('src/devices/virtio/block-image.ts');
    writeFileSync(join(dir, 'child.mjs'), `
      import { FileBlockImage } from './src/devices/virtio/block-image.js';
      const image = new FileBlockImage(process.argv[2]);
      for (let s = 0; s < 32; s++) image.write(s * 512, new Uint8Array(512).fill(s + 1));
      if (!image.flush()) process.exit(3);
      process.stdout.write('flushed\\n');
      setInterval(() => {}, 1000);
    `);
    const path = imageFile('killed.img', () => 0);
    const child = spawn(process.execPath, [join(dir, 'child.mjs'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('flushed') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited ${code} before flushing`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(child.signalCode).toBe('SIGKILL');
    const bytes = readFileSync(path);
    for (let s = 0; s < 32; s++) expect(bytes.subarray(s * 512, s * 512 + 512).every((b) => b === s + 1), `sector ${s}`).toBe(true);
  });

  it('images that are not whole sectors, or missing, are refused with a typed error naming the file', () => {
    const odd = join(tmp, 'odd.img');
    writeFileSync(odd, new Uint8Array(1000));
    expect(() => new FileBlockImage(odd)).toThrow(BlockImageError);
    expect(() => new FileBlockImage(odd)).toThrow(/odd\.img.*1000 bytes/);
    expect(() => new FileBlockImage(join(tmp, 'missing.img'))).toThrow(/cannot open disk image .*missing\.img \(ENOENT\)/);
    // A FIFO would block the first read (or, read-only, the open itself) and freeze every zone.
    const fifo = join(tmp, 'disk.fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => new FileBlockImage(fifo, true)).toThrow(/disk\.fifo must be a regular file, but this is a FIFO/);
    expect(() => new FileBlockImage('/dev/zero')).toThrow(/\/dev\/zero must be a regular file, but this is a character device/);
  });
});
