/**
 * QEMU as the oracle for the virtio-mmio transport: the same register and guest-RAM accesses are
 * replayed on qemu-system-aarch64's virt machine (qtest protocol, no guest code, a modern
 * virtio-blk-device in the last slot) and on our VirtioMmioDevice, and every read must agree.
 * Reads where QEMU is knowingly different (vendor id, its offered feature set beyond the ring
 * bits, its 1024-entry QueueNumMax, its leniency about FEATURES_OK without VERSION_1) are left out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBlockImage } from '../../src/devices/virtio/block-image.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { MmioReg } from '../../src/devices/virtio/virtio-mmio.js';
import { MMIO_BASE, zoneWithMmio } from './mmio-driver.js';
import { QEMU_LAST_SLOT, QtestSession } from './qtest-session.js';

const RAM = 0x4000_0000;

type Access =
  | { op: 'r'; slot: boolean; addr: number; size: 1 | 2 | 4; mask?: number }
  | { op: 'w'; slot: boolean; addr: number; size: 1 | 2 | 4 | 8; value: number }
  | { op: 'until'; addr: number; size: 1 | 2 | 4; value: number };

class Script {
  readonly accesses: Access[] = [];
  reg(offset: number, mask?: number): this {
    this.accesses.push({ op: 'r', slot: true, addr: offset, size: 4, ...(mask === undefined ? {} : { mask }) });
    return this;
  }
  readSlot(offset: number, size: 1 | 2 | 4): this {
    this.accesses.push({ op: 'r', slot: true, addr: offset, size });
    return this;
  }
  setReg(offset: number, value: number): this {
    this.accesses.push({ op: 'w', slot: true, addr: offset, size: 4, value });
    return this;
  }
  read(addr: number, size: 1 | 2 | 4): this {
    this.accesses.push({ op: 'r', slot: false, addr, size });
    return this;
  }
  write(addr: number, size: 1 | 2 | 4 | 8, value: number): this {
    this.accesses.push({ op: 'w', slot: false, addr, size, value });
    return this;
  }
  /**
   * Waits until guest memory at `addr` reads `value` (QEMU finishes block I/O in its main loop; ours
   * completes at the kick): polled on QEMU for up to 20 s, a plain read on ours, and the value is
   * then compared like any other read.
   */
  settleUntil(addr: number, size: 1 | 2 | 4, value: number): this {
    this.accesses.push({ op: 'until', addr, size, value });
    return this;
  }
}

async function runQemu(image: string, s: Script): Promise<number[]> {
  const qemu = new QtestSession(['-drive', `if=none,id=d0,file=${image},format=raw`, '-device', 'virtio-blk-device,drive=d0']);
  const out: number[] = [];
  try {
    await qemu.zero(RAM, 0x10000);
    for (const a of s.accesses) {
      if (a.op === 'until') {
        const deadline = Date.now() + 20_000;
        while ((await qemu.read(a.addr, a.size)) !== a.value && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      } else if (a.op === 'w') {
        await qemu.write((a.slot ? QEMU_LAST_SLOT : 0) + a.addr, a.size, a.value);
      } else {
        out.push(((await qemu.read((a.slot ? QEMU_LAST_SLOT : 0) + a.addr, a.size)) & (a.mask ?? 0xffff_ffff)) >>> 0);
      }
    }
  } finally {
    qemu.close();
  }
  return out;
}

function runOurs(data: Uint8Array, s: Script): number[] {
  const { mem } = zoneWithMmio(new VirtioBlkBackend(new MemoryBlockImage(data.slice())));
  const out: number[] = [];
  for (const a of s.accesses) {
    if (a.op === 'until') continue;
    const addr = (a.slot ? MMIO_BASE : 0) + a.addr;
    if (a.op === 'r') out.push(Number(mem.read(addr, a.size)! & BigInt(a.mask ?? 0xffff_ffff)));
    else mem.write(addr, a.size, BigInt(a.value));
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vmmio-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('virtio-mmio against QEMU 7.2 virtio-blk-device (qtest oracle)', () => {
  it('probe, negotiation, queue setup, a read request with its used entry and interrupt, reset', async () => {
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 7 + 3) & 0xff);
    const path = join(tmp, 'disk.img');
    writeFileSync(path, data);
    const RING_BITS = (1 << 28) | (1 << 29);
    const s = new Script()
      .reg(MmioReg.MagicValue).reg(MmioReg.Version).reg(MmioReg.DeviceId)
      .setReg(MmioReg.DeviceFeaturesSel, 1).reg(MmioReg.DeviceFeatures, 1) // VERSION_1
      .setReg(MmioReg.DeviceFeaturesSel, 0).reg(MmioReg.DeviceFeatures, RING_BITS)
      .setReg(MmioReg.QueueSel, 1).reg(MmioReg.QueueNumMax)
      .setReg(MmioReg.QueueSel, 0).reg(MmioReg.QueueReady)
      .readSlot(MmioReg.MagicValue, 2).readSlot(MmioReg.Status, 1)
      .reg(MmioReg.ShmLenLow).reg(MmioReg.ShmLenHigh)
      .readSlot(MmioReg.Config, 4).readSlot(MmioReg.Config + 4, 4) // capacity
      .setReg(MmioReg.Status, 0).setReg(MmioReg.Status, 1).setReg(MmioReg.Status, 3)
      .setReg(MmioReg.DriverFeaturesSel, 1).setReg(MmioReg.DriverFeatures, 1)
      .setReg(MmioReg.DriverFeaturesSel, 0).setReg(MmioReg.DriverFeatures, 0)
      .setReg(MmioReg.Status, 0xb).reg(MmioReg.Status)
      .setReg(MmioReg.QueueSel, 0).setReg(MmioReg.QueueNum, 8)
      .setReg(MmioReg.QueueDescLow, RAM).setReg(MmioReg.QueueDescHigh, 0)
      .setReg(MmioReg.QueueDriverLow, RAM + 0x1000).setReg(MmioReg.QueueDriverHigh, 0)
      .setReg(MmioReg.QueueDeviceLow, RAM + 0x2000).setReg(MmioReg.QueueDeviceHigh, 0)
      .setReg(MmioReg.QueueReady, 1).reg(MmioReg.QueueReady)
      .reg(MmioReg.QueueNum).reg(MmioReg.QueueDescLow) // write-only: read as 0
      .setReg(MmioReg.Status, 0xf).reg(MmioReg.Status)
      .reg(MmioReg.InterruptStatus).reg(MmioReg.ConfigGeneration)
      // A read of sector 2 (header, 512-byte buffer, status byte) in three descriptors.
      .write(RAM + 0x3000, 4, 0).write(RAM + 0x3004, 4, 0).write(RAM + 0x3008, 8, 2)
      .write(RAM, 8, RAM + 0x3000).write(RAM + 8, 4, 16).write(RAM + 12, 2, 1).write(RAM + 14, 2, 1)
      .write(RAM + 16, 8, RAM + 0x4000).write(RAM + 24, 4, 512).write(RAM + 28, 2, 3).write(RAM + 30, 2, 2)
      .write(RAM + 32, 8, RAM + 0x5000).write(RAM + 40, 4, 1).write(RAM + 44, 2, 2).write(RAM + 46, 2, 0)
      .write(RAM + 0x5000, 1, 0xee)
      .write(RAM + 0x1004, 2, 0).write(RAM + 0x1002, 2, 1)
      .setReg(MmioReg.QueueNotify, 0)
      .settleUntil(RAM + 0x2002, 2, 1) // used idx 1: the request completed
      .read(RAM + 0x2002, 2).read(RAM + 0x2004, 4).read(RAM + 0x2008, 4) // used idx, id, len
      .read(RAM + 0x5000, 1).read(RAM + 0x4000, 4).read(RAM + 0x41fc, 4)
      .reg(MmioReg.InterruptStatus).setReg(MmioReg.InterruptAck, 1).reg(MmioReg.InterruptStatus)
      .setReg(MmioReg.Status, 0).reg(MmioReg.Status).reg(MmioReg.QueueReady)
      .setReg(MmioReg.QueueSel, 0x55).reg(MmioReg.QueueNumMax);
    const qemu = await runQemu(path, s);
    const ours = runOurs(data, s);
    expect(ours).toEqual(qemu);
    // And the oracle saw what the spec says, so the comparison is not vacuous.
    expect(qemu.slice(0, 3)).toEqual([0x74726976, 2, 2]);
    expect(qemu.slice(-11, -5)).toEqual([1, 0, 513, 0, 0x18110a03, readLE(data, 1024 + 508)]);
  });
});

function readLE(d: Uint8Array, at: number): number {
  return (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
}
