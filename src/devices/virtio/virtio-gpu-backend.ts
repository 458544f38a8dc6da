import { writeFileSync } from 'node:fs';
import type { AccessSize } from '../../machine/mmio-device.js';
import { encodePngRgb } from './png-encoder.js';
import type { VirtioBackend, VirtioTransportPort } from './virtio-backend.js';
import { SplitVirtqueue, type VirtqueueChain } from './virtqueue.js';

/** Control commands and responses (virtio 1.2 §5.7.6.7), 2D subset. */
export const GpuCmd = {
  GetDisplayInfo: 0x0100,
  ResourceCreate2d: 0x0101,
  ResourceUnref: 0x0102,
  SetScanout: 0x0103,
  ResourceFlush: 0x0104,
  TransferToHost2d: 0x0105,
  ResourceAttachBacking: 0x0106,
  ResourceDetachBacking: 0x0107,
  UpdateCursor: 0x0300,
  MoveCursor: 0x0301,
} as const;

export const GpuResp = {
  OkNoData: 0x1100,
  OkDisplayInfo: 0x1101,
  ErrUnspec: 0x1200,
  ErrOutOfMemory: 0x1201,
  ErrInvalidScanoutId: 0x1202,
  ErrInvalidResourceId: 0x1203,
  ErrInvalidParameter: 0x1205,
} as const;

/** Formats: where R, G and B sit in each 4-byte pixel (virtio_gpu_formats). */
const FORMAT_RGB_OFFSETS: ReadonlyMap<number, readonly [number, number, number]> = new Map([
  [1, [2, 1, 0]], // B8G8R8A8
  [2, [2, 1, 0]], // B8G8R8X8 (Linux's XRGB8888 on little-endian)
  [3, [1, 2, 3]], // A8R8G8B8
  [4, [1, 2, 3]], // X8R8G8B8
  [67, [0, 1, 2]], // R8G8B8A8
  [68, [3, 2, 1]], // X8B8G8R8
  [121, [3, 2, 1]], // A8B8G8R8
  [134, [0, 1, 2]], // R8G8B8X8
]);

const HDR = 24;
const FLAG_FENCE = 1;
const MAX_SCANOUTS = 16;
const MAX_DIMENSION = 16384;
const MAX_BACKING_ENTRIES = 16384;
/** The longest control request there is (RESOURCE_ATTACH_BACKING with every entry): a longer chain is not copied. */
const MAX_CONTROL_REQUEST = HDR + 8 + 16 * MAX_BACKING_ENTRIES;
const EVENT_DISPLAY = 1;

interface Resource {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly rgbAt: readonly [number, number, number];
  /** Host copy of the resource, 4 bytes per pixel in the guest's format. */
  readonly pixels: Uint8Array;
  backing: { addr: number; len: number }[] | undefined;
}

interface Scanout {
  readonly width: number;
  readonly height: number;
  resource: number;
  x: number;
  y: number;
  /** What the user sees: RGB, 3 bytes per pixel, updated by RESOURCE_FLUSH. */
  readonly rgb: Uint8Array;
  flushes: number;
}

export interface GpuOptions {
  /** Display sizes, one per scanout (default one 1024x768 display). */
  readonly displays?: readonly { width: number; height: number }[];
  /** Host memory all resources together may use. */
  readonly maxResourceBytes?: number;
}

/**
 * virtio-gpu in 2D mode (virtio 1.2 §5.7, no virgl): guest resources live in host memory, are
 * filled from guest backing pages by TRANSFER_TO_HOST_2D and shown on a scanout by
 * RESOURCE_FLUSH. The scanout framebuffer is what `png()` encodes and the web page serves.
 */
export class VirtioGpuBackend implements VirtioBackend {
  readonly deviceId = 16;
  readonly name = 'gpu';
  readonly queueCount = 2;
  readonly queueMaxSize = 256;
  readonly pciClass = 0x038000; // display controller, other
  readonly features = 0n;
  private readonly config = new Uint8Array(16);
  private readonly configView = new DataView(this.config.buffer);
  private readonly resources = new Map<number, Resource>();
  private readonly scanouts: Scanout[];
  private readonly maxResourceBytes: number;
  private resourceBytes = 0;
  private port: VirtioTransportPort | undefined;
  private readonly response = new Uint8Array(HDR + 24 * MAX_SCANOUTS);
  private readonly responseView = new DataView(this.response.buffer);

  constructor(options: GpuOptions = {}) {
    const displays = options.displays ?? [{ width: 1024, height: 768 }];
    if (displays.length === 0 || displays.length > MAX_SCANOUTS) throw new RangeError(`virtio-gpu: ${displays.length} displays (1 to ${MAX_SCANOUTS})`);
    this.scanouts = displays.map((d) => {
      if (!(d.width > 0 && d.height > 0 && d.width <= MAX_DIMENSION && d.height <= MAX_DIMENSION)) throw new RangeError(`virtio-gpu: display ${d.width}x${d.height}`);
      return { width: d.width, height: d.height, resource: 0, x: 0, y: 0, rgb: new Uint8Array(d.width * d.height * 3), flushes: 0 };
    });
    this.maxResourceBytes = options.maxResourceBytes ?? 256 * 1024 * 1024;
    this.configView.setUint32(8, displays.length, true);
  }

  attach(port: VirtioTransportPort): void {
    this.port = port;
  }

  get scanoutCount(): number {
    return this.scanouts.length;
  }

  /** The scanout as the user sees it, or undefined while the guest shows nothing on it. */
  snapshot(scanout = 0): { width: number; height: number; rgb: Uint8Array; flushes: number } | undefined {
    const s = this.scanouts[scanout];
    if (s === undefined || s.resource === 0) return undefined;
    return { width: s.width, height: s.height, rgb: s.rgb, flushes: s.flushes };
  }

  /** The scanout as a PNG file's bytes, or undefined while it is disabled. */
  png(scanout = 0): Uint8Array | undefined {
    const s = this.snapshot(scanout);
    return s === undefined ? undefined : encodePngRgb(s.width, s.height, s.rgb);
  }

  /** Writes the scanout to a PNG file (the `monitor screendump` path). False while it is disabled. */
  writePng(path: string, scanout = 0): boolean {
    const png = this.png(scanout);
    if (png === undefined) return false;
    writeFileSync(path, png);
    return true;
  }

  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size && offset + i < this.config.length; i++) v |= this.config[offset + i]! << (8 * i);
    return v >>> 0;
  }

  configWrite(offset: number, size: AccessSize, value: number): void {
    if (offset === 4 && size === 4) {
      // events_clear: acknowledged events leave events_read.
      this.configView.setUint32(0, this.configView.getUint32(0, true) & ~value, true);
    }
  }

  /** Tells the driver the display configuration changed (it then asks GET_DISPLAY_INFO again). */
  displayChanged(): void {
    this.configView.setUint32(0, this.configView.getUint32(0, true) | EVENT_DISPLAY, true);
    this.port?.configChanged();
  }

  notify(queue: number, vq: SplitVirtqueue, used: () => void): void {
    let interrupt = false;
    for (let chain = vq.pop(); chain !== undefined; chain = vq.pop()) {
      const written = queue === 0 ? this.control(vq, chain) : 0; // cursor updates need no answer
      interrupt = vq.push(chain.head, written) || interrupt;
    }
    if (interrupt) used();
  }

  reset(): void {
    this.resources.clear();
    this.resourceBytes = 0;
    for (const s of this.scanouts) {
      s.resource = 0;
      s.rgb.fill(0);
    }
    this.configView.setUint32(0, 0, true);
  }

  /** Runs one control command; returns the response length written. */
  private control(vq: SplitVirtqueue, chain: VirtqueueChain): number {
    const request = SplitVirtqueue.readableLength(chain) <= MAX_CONTROL_REQUEST ? vq.readAll(chain) : undefined;
    let length = HDR;
    let type: number = GpuResp.ErrUnspec;
    if (request !== undefined && request.length >= HDR) {
      const req = new DataView(request.buffer, request.byteOffset, request.length);
      this.response.fill(0);
      type = this.execute(req);
      if (type === GpuResp.OkDisplayInfo) length = HDR + 24 * MAX_SCANOUTS;
      const flags = req.getUint32(4, true);
      if ((flags & FLAG_FENCE) !== 0) {
        // Commands complete in order before the response, so the fence is already signalled.
        this.responseView.setUint32(4, FLAG_FENCE, true);
        this.responseView.setBigUint64(8, req.getBigUint64(8, true), true);
        this.responseView.setUint32(16, req.getUint32(16, true), true);
      }
    } else {
      this.response.fill(0, 0, HDR);
    }
    this.responseView.setUint32(0, type, true);
    const room = SplitVirtqueue.writableLength(chain);
    const n = Math.min(length, room);
    return vq.writeAt(chain, 0, this.response.subarray(0, n)) ? n : 0;
  }

  private execute(req: DataView): number {
    const u32 = (at: number): number => (at + 4 <= req.byteLength ? req.getUint32(at, true) : 0);
    const need = (bytes: number): boolean => req.byteLength >= HDR + bytes;
    switch (u32(0)) {
      case GpuCmd.GetDisplayInfo:
        this.scanouts.forEach((s, i) => {
          const at = HDR + 24 * i;
          this.responseView.setUint32(at + 8, s.width, true);
          this.responseView.setUint32(at + 12, s.height, true);
          this.responseView.setUint32(at + 16, 1, true); // enabled
        });
        return GpuResp.OkDisplayInfo;
      case GpuCmd.ResourceCreate2d:
        if (!need(16)) return GpuResp.ErrInvalidParameter;
        return this.create(u32(HDR), u32(HDR + 4), u32(HDR + 8), u32(HDR + 12));
      case GpuCmd.ResourceUnref: {
        const r = this.resources.get(u32(HDR));
        if (r === undefined) return GpuResp.ErrInvalidResourceId;
        for (const s of this.scanouts) if (s.resource === r.id) s.resource = 0;
        this.resources.delete(r.id);
        this.resourceBytes -= r.pixels.length;
        return GpuResp.OkNoData;
      }
      case GpuCmd.SetScanout:
        if (!need(24)) return GpuResp.ErrInvalidParameter;
        return this.setScanout(u32(HDR + 16), u32(HDR + 20), u32(HDR), u32(HDR + 4), u32(HDR + 8), u32(HDR + 12));
      case GpuCmd.ResourceFlush:
        if (!need(24)) return GpuResp.ErrInvalidParameter;
        return this.flush(u32(HDR + 16), u32(HDR), u32(HDR + 4), u32(HDR + 8), u32(HDR + 12));
      case GpuCmd.TransferToHost2d:
        if (!need(32)) return GpuResp.ErrInvalidParameter;
        return this.transfer(u32(HDR + 24), u32(HDR), u32(HDR + 4), u32(HDR + 8), u32(HDR + 12), u32(HDR + 20) * 0x1_0000_0000 + u32(HDR + 16));
      case GpuCmd.ResourceAttachBacking: {
        if (!need(8)) return GpuResp.ErrInvalidParameter;
        const r = this.resources.get(u32(HDR));
        if (r === undefined) return GpuResp.ErrInvalidResourceId;
        const count = u32(HDR + 4);
        if (count === 0 || count > MAX_BACKING_ENTRIES || !need(8 + 16 * count)) return GpuResp.ErrInvalidParameter;
        const entries: { addr: number; len: number }[] = [];
        for (let i = 0; i < count; i++) {
          const at = HDR + 8 + 16 * i;
          const addr = u32(at + 4) * 0x1_0000_0000 + u32(at);
          const len = u32(at + 8);
          // Backing must be the zone's own RAM: refuse it now rather than fail every transfer.
          if (this.port !== undefined && !this.port.memory.checkRange(addr, len)) return GpuResp.ErrUnspec;
          entries.push({ addr, len });
        }
        r.backing = entries;
        return GpuResp.OkNoData;
      }
      case GpuCmd.ResourceDetachBacking: {
        const r = this.resources.get(u32(HDR));
        if (r === undefined) return GpuResp.ErrInvalidResourceId;
        if (r.backing === undefined) return GpuResp.ErrUnspec;
        r.backing = undefined;
        return GpuResp.OkNoData;
      }
      default:
        return GpuResp.ErrUnspec;
    }
  }

  private create(id: number, format: number, width: number, height: number): number {
    if (id === 0 || this.resources.has(id)) return GpuResp.ErrInvalidResourceId;
    const rgbAt = FORMAT_RGB_OFFSETS.get(format);
    if (rgbAt === undefined || width === 0 || height === 0 || width > MAX_DIMENSION || height > MAX_DIMENSION) return GpuResp.ErrInvalidParameter;
    const bytes = width * height * 4;
    if (this.resourceBytes + bytes > this.maxResourceBytes) return GpuResp.ErrOutOfMemory;
    this.resources.set(id, { id, width, height, rgbAt, pixels: new Uint8Array(bytes), backing: undefined });
    this.resourceBytes += bytes;
    return GpuResp.OkNoData;
  }

  private setScanout(scanoutId: number, resourceId: number, x: number, y: number, w: number, h: number): number {
    const s = this.scanouts[scanoutId];
    if (s === undefined) return GpuResp.ErrInvalidScanoutId;
    if (resourceId === 0) {
      s.resource = 0;
      return GpuResp.OkNoData;
    }
    const r = this.resources.get(resourceId);
    if (r === undefined) return GpuResp.ErrInvalidResourceId;
    if (w === 0 || h === 0 || x + w > r.width || y + h > r.height) return GpuResp.ErrInvalidParameter;
    s.resource = resourceId;
    s.x = x;
    s.y = y;
    return GpuResp.OkNoData;
  }

  /** Copies `rect` of the resource from its backing pages (rows of width*4 bytes from `offset`). */
  private transfer(resourceId: number, x: number, y: number, w: number, h: number, offset: number): number {
    const r = this.resources.get(resourceId);
    if (r === undefined) return GpuResp.ErrInvalidResourceId;
    if (r.backing === undefined) return GpuResp.ErrUnspec;
    if (x + w > r.width || y + h > r.height) return GpuResp.ErrInvalidParameter;
    const stride = r.width * 4;
    for (let row = 0; row < h; row++) {
      const dst = (y + row) * stride + x * 4;
      if (!this.readBacking(r.backing, offset + row * stride, r.pixels.subarray(dst, dst + w * 4))) return GpuResp.ErrInvalidParameter;
    }
    return GpuResp.OkNoData;
  }

  /** Shows `rect` of the resource on every scanout displaying it. */
  private flush(resourceId: number, x: number, y: number, w: number, h: number): number {
    const r = this.resources.get(resourceId);
    if (r === undefined) return GpuResp.ErrInvalidResourceId;
    if (x + w > r.width || y + h > r.height) return GpuResp.ErrInvalidParameter;
    const [ro, go, bo] = r.rgbAt;
    for (const s of this.scanouts) {
      if (s.resource !== resourceId) continue;
      // The scanout shows the resource from (s.x, s.y); clip the flushed rect to the display.
      const x0 = Math.max(x, s.x);
      const y0 = Math.max(y, s.y);
      const x1 = Math.min(x + w, s.x + s.width);
      const y1 = Math.min(y + h, s.y + s.height);
      for (let ry = y0; ry < y1; ry++) {
        let src = (ry * r.width + x0) * 4;
        let dst = ((ry - s.y) * s.width + (x0 - s.x)) * 3;
        for (let rx = x0; rx < x1; rx++, src += 4, dst += 3) {
          s.rgb[dst] = r.pixels[src + ro]!;
          s.rgb[dst + 1] = r.pixels[src + go]!;
          s.rgb[dst + 2] = r.pixels[src + bo]!;
        }
      }
      s.flushes++;
    }
    return GpuResp.OkNoData;
  }

  /** Gathers `into.length` bytes from byte `offset` of a scatter list of guest pages. */
  private readBacking(backing: readonly { addr: number; len: number }[], offset: number, into: Uint8Array): boolean {
    const memory = this.port?.memory;
    if (memory === undefined) return false;
    let skip = offset;
    let at = 0;
    for (const e of backing) {
      if (at >= into.length) break;
      if (skip >= e.len) {
        skip -= e.len;
        continue;
      }
      const n = Math.min(e.len - skip, into.length - at);
      if (!memory.read(e.addr + skip, into.subarray(at, at + n))) return false;
      at += n;
      skip = 0;
    }
    return at === into.length;
  }
}
