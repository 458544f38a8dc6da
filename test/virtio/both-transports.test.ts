/**
 * The backend seam: every backend (blk, net, console, gpu) works unchanged behind virtio-mmio and
 * virtio-pci. The same scenario runs through both transports and must give the same results.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { Ram } from '../../src/machine/ram.js';
import { bdf } from '../../src/machine/bdf.js';
import { guestMemory } from '../../src/machine/guest-memory.js';
import { PciHostEcam } from '../../src/devices/pci/host-bridge.js';
import { VirtioPciFunction } from '../../src/devices/pci/virtio-pci.js';
import { VirtualEcam } from '../../src/devices/pci/virtual-ecam.js';
import { MemoryBlockImage } from '../../src/devices/virtio/block-image.js';
import type { ConsoleEndpoint } from '../../src/devices/virtio/console-endpoint.js';
import type { VirtioBackend } from '../../src/devices/virtio/virtio-backend.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { VirtioConsoleBackend } from '../../src/devices/virtio/virtio-console-backend.js';
import { GpuCmd, GpuResp, VirtioGpuBackend } from '../../src/devices/virtio/virtio-gpu-backend.js';
import { VirtualSwitch } from '../../src/devices/virtio/virtual-switch.js';
import { Enumerator } from '../pci/enumerator.js';
import { VirtioPciTestDriver } from '../pci/virtio-driver.js';
import { zoneWithMmio } from './mmio-driver.js';

type Bufs = [number, number, boolean][];

/** What the scenarios need from a driver, whatever the transport. */
interface Guest {
  alloc(bytes: number, align?: number): number;
  w(addr: number, size: 1 | 2 | 4 | 8, v: number | bigint): void;
  r(addr: number, size: 1 | 2 | 4): number;
  fill(addr: number, data: Uint8Array): void;
  bytes(addr: number, n: number): Uint8Array;
  /** Posts on queue `q` and kicks; returns the used entries that came back. */
  exchange(q: number, bufs: Bufs): [number, number][];
  deviceConfig(offset: number, size: 1 | 2 | 4): number;
}

const PCI_RAM = 0x4000_0000;
const windows = [
  { space: 'io' as const, cpuBase: 0x3eff_0000, pciBase: 0, size: 0x1_0000 },
  { space: 'mem32' as const, cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x2eff_0000 },
  { space: 'mem64' as const, cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x80_0000_0000 },
];

function overPci(backend: VirtioBackend, queues: number): Guest {
  const mem = new AddressSpace();
  const ram = new Ram(0x20_0000);
  mem.mapRam(PCI_RAM, ram.size, ram);
  const host = new PciHostEcam({ ecamSize: 0x1000_0000, busStart: 0, busEnd: 0xff, windows }, [0, 1, 2, 3].map(() => irqLine(() => {})));
  host.add(bdf(0, 2, 0), new VirtioPciFunction(backend));
  const view = new VirtualEcam(host, { zone: 'zone1', devices: [bdf(0, 2, 0)], windows, dma: guestMemory(mem), msi: { signal: () => {} } });
  windows.forEach((w, i) => mem.mapMmio(w.cpuBase, w.size, view.windowDevices[i]!));
  const [found] = new Enumerator(view.ecam, windows).enumerate();
  const drv = new VirtioPciTestDriver(mem, view.ecam, 0x10, new Map(found!.bars.map((b) => [b.index, b.cpu])), PCI_RAM);
  drv.findCaps();
  expect(drv.negotiate((f) => f) & 8).toBe(8);
  const qs = Array.from({ length: queues }, (_, i) => drv.setupQueue(i, 16));
  drv.driverOk();
  return {
    alloc: (n, a) => drv.alloc(n, a ?? 16),
    w: (a, s, v) => drv.w(a, s, v),
    r: (a, s) => drv.r(a, s),
    fill: (a, d) => void mem.writeDebug(a, d),
    bytes: (a, n) => mem.readDebug(a, n),
    exchange: (q, bufs) => {
      drv.post(qs[q]!, bufs);
      return drv.reap(qs[q]!);
    },
    deviceConfig: (o, s) => drv.r(drv.device + o, s),
  };
}

function overMmio(backend: VirtioBackend, queues: number): Guest {
  const { drv } = zoneWithMmio(backend);
  expect(drv.negotiate((f) => f) & 8).toBe(8);
  const qs = Array.from({ length: queues }, (_, i) => drv.setupQueue(i, 16));
  drv.driverOk();
  return {
    alloc: (n, a) => drv.alloc(n, a),
    w: (a, s, v) => drv.w(a, s, v),
    r: (a, s) => drv.r(a, s),
    fill: (a, d) => drv.fill(a, d),
    bytes: (a, n) => drv.bytes(a, n),
    exchange: (q, bufs) => {
      drv.post(qs[q]!, bufs);
      return drv.reap(qs[q]!);
    },
    deviceConfig: (o, s) => drv.config(o, s),
  };
}

const transports = [['virtio-mmio', overMmio], ['virtio-pci', overPci]] as const;

describe.each(transports)('backends over %s', (_name, attach) => {
  it('blk: write, read back, flush, discard', () => {
    const image = new MemoryBlockImage(16 * 512);
    const g = attach(new VirtioBlkBackend(image), 1);
    const req = (type: number, sector: number, data: Bufs): number => {
      const hdr = g.alloc(16);
      g.w(hdr, 4, type);
      g.w(hdr + 8, 8, sector);
      const st = g.alloc(1, 1);
      g.exchange(0, [[hdr, 16, false], ...data, [st, 1, true]]);
      return g.r(st, 1);
    };
    const buf = g.alloc(512);
    g.fill(buf, new Uint8Array(512).fill(0xab));
    expect(req(1, 3, [[buf, 512, false]])).toBe(0);
    expect(image.bytes.subarray(3 * 512, 4 * 512).every((b) => b === 0xab)).toBe(true);
    const back = g.alloc(512);
    expect(req(0, 3, [[back, 512, true]])).toBe(0);
    expect(g.bytes(back, 512).every((b) => b === 0xab)).toBe(true);
    expect(req(4, 0, [])).toBe(0);
    expect(image.flushes).toBe(1);
    const seg = g.alloc(16);
    g.w(seg, 8, 3);
    g.w(seg + 8, 4, 1);
    expect(req(11, 0, [[seg, 16, false]])).toBe(0);
    expect(image.bytes.subarray(3 * 512, 4 * 512).every((b) => b === 0)).toBe(true);
  });

  it('net: a frame crosses the switch to a NIC on the other transport', () => {
    const sw = new VirtualSwitch();
    const got: Uint8Array[] = [];
    sw.attach('tap', (f) => got.push(f.slice())); // frames are valid only during delivery
    const g = attach(sw.nic('zone1', [0x52, 0x54, 0, 0, 0, 7]), 2);
    expect(g.deviceConfig(5, 1)).toBe(7);
    const frame = new Uint8Array(60).fill(0x44);
    frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0, 0, 7]);
    const b = g.alloc(12 + 60);
    g.fill(b + 12, frame);
    expect(g.exchange(1, [[b, 72, false]]).length).toBe(1);
    expect(got).toEqual([frame]);
  });

  it('console: output to the endpoint, input into a posted buffer', () => {
    const out: string[] = [];
    let type: ((b: Uint8Array) => void) | undefined;
    const endpoint: ConsoleEndpoint = { description: 'test', write: (b) => out.push(Buffer.from(b).toString()), attach: (s) => (type = s), close: async () => {} };
    const g = attach(new VirtioConsoleBackend(endpoint, { cols: 100, rows: 30 }), 2);
    expect(g.deviceConfig(0, 2)).toBe(100);
    const b = g.alloc(6);
    g.fill(b, Buffer.from('hello\n'));
    g.exchange(1, [[b, 6, false]]);
    expect(out).toEqual(['hello\n']);
    type!(Buffer.from('ls\n'));
    const rb = g.alloc(32);
    expect(g.exchange(0, [[rb, 32, true]])).toEqual([[0, 3]]);
    expect(Buffer.from(g.bytes(rb, 3)).toString()).toBe('ls\n');
  });

  it('gpu: display info and a flushed pixel', () => {
    const gpu = new VirtioGpuBackend({ displays: [{ width: 8, height: 4 }] });
    const g = attach(gpu, 2);
    expect(g.deviceConfig(8, 4)).toBe(1);
    const cmd = (words: number[], extra: Bufs = []): number => {
      const req = g.alloc(4 * words.length);
      words.forEach((w, i) => g.w(req + 4 * i, 4, w));
      const resp = g.alloc(24 + 24 * 16);
      g.exchange(0, [[req, 4 * words.length, false], ...extra, [resp, 24 + 24 * 16, true]]);
      return g.r(resp, 4);
    };
    const hdr = (type: number) => [type, 0, 0, 0, 0, 0];
    expect(cmd(hdr(GpuCmd.GetDisplayInfo))).toBe(GpuResp.OkDisplayInfo);
    expect(cmd([...hdr(GpuCmd.ResourceCreate2d), 1, 2, 8, 4])).toBe(GpuResp.OkNoData);
    const fb = g.alloc(8 * 4 * 4, 4096);
    g.fill(fb + 4 * (8 + 2), Uint8Array.of(0x30, 0x20, 0x10, 0)); // (2,1) in B8G8R8X8
    expect(cmd([...hdr(GpuCmd.ResourceAttachBacking), 1, 1, fb, 0, 128, 0])).toBe(GpuResp.OkNoData);
    expect(cmd([...hdr(GpuCmd.SetScanout), 0, 0, 8, 4, 0, 1])).toBe(GpuResp.OkNoData);
    expect(cmd([...hdr(GpuCmd.TransferToHost2d), 0, 0, 8, 4, 0, 0, 1, 0])).toBe(GpuResp.OkNoData);
    expect(cmd([...hdr(GpuCmd.ResourceFlush), 0, 0, 8, 4, 1, 0])).toBe(GpuResp.OkNoData);
    const shot = gpu.snapshot()!;
    expect([...shot.rgb.subarray(3 * (8 + 2), 3 * (8 + 2) + 3)]).toEqual([0x10, 0x20, 0x30]);
  });
});
