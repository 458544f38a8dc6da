/**
 * A hostile driver: seeded random register writes (biased to the real registers) and random ring
 * contents against every backend. Whatever it does, no exception may escape the device model, and
 * nothing outside the zone's RAM may change (two canary RAM blocks exist beside the zone's, as
 * other zones' RAM would, but are not mapped into the zone's space).
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { Ram } from '../../src/machine/ram.js';
import { MemoryBlockImage } from '../../src/devices/virtio/block-image.js';
import type { ConsoleEndpoint } from '../../src/devices/virtio/console-endpoint.js';
import type { VirtioBackend } from '../../src/devices/virtio/virtio-backend.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { VirtioConsoleBackend } from '../../src/devices/virtio/virtio-console-backend.js';
import { VirtioGpuBackend } from '../../src/devices/virtio/virtio-gpu-backend.js';
import { MmioReg, VirtioMmioDevice } from '../../src/devices/virtio/virtio-mmio.js';
import { VirtualSwitch } from '../../src/devices/virtio/virtual-switch.js';
import { mulberry32 } from '../helpers/prng.js';
import { guestMemory } from '../../src/machine/guest-memory.js';

const ZONE_RAM = 0x4000_0000;
const SIZE = 0x1_0000;

const prng = mulberry32;

const REGISTERS = Object.values(MmioReg).filter((r) => r < MmioReg.Config);

/** Queue q's rings live at ZONE_RAM + 0x1000 * (q + 1): descriptors, avail at +0x400, used at +0x800. */
const ring = (q: number) => ZONE_RAM + 0x1000 * (q + 1);
const QSIZE = 16;

function hostile(name: string, makeBackend: () => VirtioBackend & { poke?: (rand: () => number) => void }, seed: number) {
  it(`${name}, seed ${seed}`, () => {
    // Canary | zone RAM | canary: the zone's space maps only the middle block.
    const blocks = [new Ram(SIZE), new Ram(SIZE), new Ram(SIZE)];
    blocks[0]!.u8.fill(0xc1);
    blocks[2]!.u8.fill(0xc2);
    const zone = new AddressSpace();
    zone.mapRam(ZONE_RAM, SIZE, blocks[1]!);
    const backend = makeBackend();
    const device = new VirtioMmioDevice(backend, guestMemory(zone), irqLine(() => {}));
    const rand = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const u8 = blocks[1]!.u8;
    const view = new DataView(u8.buffer);
    const off = (addr: number) => addr - ZONE_RAM;
    const wildAddr = () => pick([ZONE_RAM - 16, ZONE_RAM + SIZE - 8, Math.floor(rand() * 2 ** 32), 0, 0x0a00_0000]);
    const bufferAddr = () => (rand() < 0.9 ? ZONE_RAM + 0x8000 + Math.floor(rand() * 0x7000) : wildAddr());
    const availIdx = [0, 0, 0, 0];
    let completions = 0;
    let resets = 0;
    // What Linux does at probe, with every feature the device offers.
    const setUp = () => {
      device.write(MmioReg.Status, 4, 0);
      device.write(MmioReg.Status, 4, 3);
      for (const sel of [0, 1]) {
        device.write(MmioReg.DeviceFeaturesSel, 4, sel);
        const offered = device.read(MmioReg.DeviceFeatures, 4);
        device.write(MmioReg.DriverFeaturesSel, 4, sel);
        device.write(MmioReg.DriverFeatures, 4, rand() < 0.8 ? offered : offered & Math.floor(rand() * 2 ** 32));
      }
      device.write(MmioReg.Status, 4, 0xb);
      u8.fill(0, 0, 0x8000);
      for (let q = 0; q < backend.queueCount; q++) {
        device.write(MmioReg.QueueSel, 4, q);
        device.write(MmioReg.QueueNum, 4, QSIZE);
        device.write(MmioReg.QueueDescLow, 4, ring(q));
        device.write(MmioReg.QueueDriverLow, 4, ring(q) + 0x400);
        device.write(MmioReg.QueueDeviceLow, 4, ring(q) + 0x800);
        device.write(MmioReg.QueueReady, 4, 1);
        availIdx[q] = 0;
      }
      device.write(MmioReg.Status, 4, 0xf);
    };
    setUp();
    for (let step = 0; step < 4000; step++) {
      if ((device.deviceStatus & 64) !== 0) {
        resets++;
        setUp();
      }
      const r = rand();
      const q = Math.floor(rand() * backend.queueCount);
      if (r < 0.5) {
        // A descriptor: mostly in-zone buffers, sometimes wild; random flags and links.
        const d = off(ring(q)) + 16 * Math.floor(rand() * QSIZE);
        const flags = rand() < 0.7 ? pick([0, 1, 2, 3]) : Math.floor(rand() * 8);
        const indirect = (flags & 4) !== 0;
        view.setUint32(d, indirect ? ZONE_RAM + 0x8000 + 16 * Math.floor(rand() * 64) : bufferAddr(), true);
        view.setUint32(d + 4, 0, true);
        view.setUint32(d + 8, indirect ? 16 * Math.floor(rand() * 6) : pick([0, 1, 16, 24, 64, 512, 4096, Math.floor(rand() * 2 ** 20)]), true);
        view.setUint16(d + 12, flags, true);
        view.setUint16(d + 14, rand() < 0.95 ? Math.floor(rand() * QSIZE) : Math.floor(rand() * 2 ** 16), true);
      } else if (r < 0.65) {
        // Random request bytes in the buffer area (headers, gpu commands, frames).
        const at = 0x8000 + Math.floor(rand() * 0x7000);
        const words = [0, 1, 4, 8, 11, 13, 0x100, 0x101, 0x103, 0x104, 0x105, 0x106, 1, 2, 16, 32, 64];
        for (let k = 0; k < 8 && at + 4 * k + 4 <= SIZE; k++) view.setUint32(at + 4 * k, rand() < 0.7 ? pick(words) : Math.floor(rand() * 2 ** 32), true);
      } else if (r < 0.85) {
        // Publish a head and kick.
        const avail = off(ring(q)) + 0x400;
        view.setUint16(avail + 4 + 2 * (availIdx[q]! % QSIZE), rand() < 0.97 ? Math.floor(rand() * QSIZE) : Math.floor(rand() * 2 ** 16), true);
        availIdx[q] = (availIdx[q]! + (rand() < 0.98 ? 1 : Math.floor(rand() * 2 ** 16))) & 0xffff;
        view.setUint16(avail + 2, availIdx[q]!, true);
        const before = view.getUint16(off(ring(q)) + 0x800 + 2, true);
        device.write(MmioReg.QueueNotify, 4, q);
        if (view.getUint16(off(ring(q)) + 0x800 + 2, true) !== before) completions++;
      } else if (r < 0.95) {
        backend.poke?.(rand);
      } else if (r < 0.98) {
        device.write(Math.floor(rand() * 0x200), pick([1, 2, 4] as const), Math.floor(rand() * 2 ** 32));
      } else {
        device.read(Math.floor(rand() * 0x200), pick([1, 2, 4] as const));
      }
    }
    expect(blocks[0]!.u8.every((b) => b === 0xc1)).toBe(true);
    expect(blocks[2]!.u8.every((b) => b === 0xc2)).toBe(true);
    // Not vacuous: requests completed and the device broke and recovered many times.
    expect(completions).toBeGreaterThan(50);
    expect(resets).toBeGreaterThan(10);
  });
}

describe('virtio-mmio under a hostile driver: no escape, no write outside the zone', () => {
  for (const seed of [1, 2, 3]) {
    hostile('blk', () => new VirtioBlkBackend(new MemoryBlockImage(64 * 512)), seed);
    hostile('net', () => {
      const sw = new VirtualSwitch();
      const nic = sw.nic('a', [0x52, 0x54, 0, 0, 0, 1]);
      const peer = sw.attach('peer', () => {});
      return Object.assign(nic, {
        poke: (rand: () => number) => peer.send(new Uint8Array(14 + Math.floor(rand() * 1500)).fill(0xff)),
      });
    }, seed);
    hostile('console', () => {
      let input: ((b: Uint8Array) => void) | undefined;
      const endpoint: ConsoleEndpoint = { description: 'fuzz', write: () => {}, attach: (s) => (input = s), close: async () => {} };
      return Object.assign(new VirtioConsoleBackend(endpoint), {
        poke: (rand: () => number) => input!(new Uint8Array(1 + Math.floor(rand() * 200))),
      });
    }, seed);
    hostile('gpu', () => new VirtioGpuBackend({ displays: [{ width: 64, height: 32 }], maxResourceBytes: 1 << 20 }), seed);
  }
});
