import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { Ram } from '../../src/machine/ram.js';
import { bdf } from '../../src/machine/bdf.js';
import { FileBlockImage, MemoryBlockImage, type BlockImage } from '../../src/devices/virtio/block-image.js';
import { guestMemory } from '../../src/machine/guest-memory.js';
import { PciHostEcam } from '../../src/devices/pci/host-bridge.js';
import { NvmeController } from '../../src/devices/pci/nvme.js';
import { Enumerator } from './enumerator.js';
import { NvmeTestDriver } from './nvme-driver.js';

const ECAM = 0x40_1000_0000;
const RAM = 0x4000_0000;
const windows = [
  { space: 'io' as const, cpuBase: 0x3eff_0000, pciBase: 0, size: 0x1_0000 },
  { space: 'mem32' as const, cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x2eff_0000 },
  { space: 'mem64' as const, cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x80_0000_0000 },
];

function board(image: BlockImage) {
  const bus = new AddressSpace();
  const ram = new Ram(0x20_0000);
  bus.mapRam(RAM, ram.size, ram);
  const intx: boolean[] = [];
  const lines = [0, 1, 2, 3].map((i) => irqLine((l) => i === 1 && intx.push(l)));
  const host = new PciHostEcam({ ecamSize: 0x1000_0000, busStart: 0, busEnd: 0xff, windows }, lines);
  const nvme = new NvmeController(image);
  host.add(bdf(0, 1, 0), nvme);
  const msis: [number, number][] = [];
  nvme.assign(guestMemory(bus), { signal: (_r, a, d) => msis.push([a, d]) });
  bus.mapMmio(ECAM, 0x1000_0000, host.ecam);
  windows.forEach((w, i) => bus.mapMmio(w.cpuBase, w.size, host.windowDevices[i]!));
  const [found] = new Enumerator(host.ecam, windows).enumerate();
  const drv = new NvmeTestDriver(bus, found!.bars[0]!.cpu, RAM);
  return { bus, ram, host, nvme, found: found!, drv, intx, msis };
}

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-nvme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fileImage(sectors: number): { path: string; data: Uint8Array } {
  const data = new Uint8Array(sectors * 512);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  const path = join(tmp, `disk-${sectors}.img`);
  writeFileSync(path, data);
  return { path, data };
}

describe('NVMe controller driven like Linux nvme-pci', () => {
  it('enumerates as a 64-bit-BAR NVMe class function with MSI-X, PM and PCIe capabilities', () => {
    const { found } = board(new MemoryBlockImage(4096));
    expect(found.classCode).toBe(0x010802);
    expect(found.bars).toMatchObject([{ index: 0, is64: true, size: 0x4000 }]);
    expect(found.capabilities.map((c) => c.id)).toEqual([0x11, 0x10, 0x01]);
  });

  it('brings the controller up and answers Identify controller / namespace / active list', () => {
    const { drv, ram } = board(new MemoryBlockImage(2048 * 512));
    const cap = drv.reg(0);
    expect(cap & 0xffff).toBe(1023);
    expect(drv.reg(4) & (1 << 5)).toBeTruthy(); // NVM command set
    expect(drv.reg(8)).toBe(0x10400);
    drv.start();
    const idc = drv.page();
    expect(drv.run(0, [0x06, 0, 0, 0, 0, 0, idc, 0, 0, 0, 1]).status).toBe(0);
    const text = (at: number, n: number) => Buffer.from(ram.u8.subarray(idc - RAM + at, idc - RAM + at + n)).toString('latin1').trim();
    expect(text(24, 40)).toBe('hvisor-ts NVMe');
    expect(text(4, 20)).toBe('HVTS0001');
    expect(ram.u32[(idc - RAM + 516) / 4]).toBe(1); // NN
    expect(ram.u8[idc - RAM + 512]).toBe(0x66);
    const idn = drv.page();
    expect(drv.run(0, [0x06, 1, 0, 0, 0, 0, idn, 0, 0, 0, 0]).status).toBe(0);
    expect(ram.u32[(idn - RAM) / 4]).toBe(2048); // NSZE
    expect((ram.u32[(idn - RAM + 128) / 4]! >>> 16) & 0xff).toBe(9); // 512-byte LBAs
    const list = drv.page();
    expect(drv.run(0, [0x06, 0, 0, 0, 0, 0, list, 0, 0, 0, 2]).status).toBe(0);
    expect([...ram.u32.subarray((list - RAM) / 4, (list - RAM) / 4 + 2)]).toEqual([1, 0]);
    expect(drv.run(0, [0x06, 2, 0, 0, 0, 0, drv.page(), 0, 0, 0, 0]).status).toBe(0x0b); // invalid namespace
    expect(drv.run(0, [0x06, 0, 0, 0, 0, 0, drv.page(), 0, 0, 0, 0x55]).status).toBe(0x02); // invalid field
    expect(drv.run(0, [0x7f]).status).toBe(0x01); // invalid opcode
  });

  it('reads and writes an image file through I/O queues with PRP pages and lists, MSI-X per queue', () => {
    const { path, data } = fileImage(4096);
    const image = new FileBlockImage(path);
    const { drv, ram, host, msis } = board(image);
    // MSI-X: enable in the capability, program vectors 0 and 1.
    const msix = host.function(bdf(0, 1, 0))!.config.findCapabilities(0x11)[0]!;
    host.ecam.write((1 << 15) + msix + 2, 2, 0x8000);
    const bar = drv.bar0;
    for (const v of [0, 1]) {
      drv.mem.write(bar + 0x2000 + 16 * v, 4, 0x0809_0040n);
      drv.mem.write(bar + 0x2000 + 16 * v + 8, 4, BigInt(0x20 + v));
      drv.mem.write(bar + 0x2000 + 16 * v + 12, 4, 0n);
    }
    drv.start();
    const nq = drv.run(0, [0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, (3 << 16) | 3]);
    expect(nq).toMatchObject({ status: 0, result: (3 << 16) | 3 });
    drv.createIoQueuePair(1, 64, 1);
    msis.length = 0;
    // A 64 KiB read into a buffer that starts mid-page: PRP1 + a PRP list of 16 entries.
    const buf = drv.page(20) + 0x200;
    expect(drv.rw(1, false, 100, 128, buf).status).toBe(0);
    expect(msis).toEqual([[0x0809_0040, 0x21]]);
    expect(Buffer.compare(ram.u8.subarray(buf - RAM, buf - RAM + 65536), data.subarray(100 * 512, 228 * 512))).toBe(0);
    // Write 3 sectors (PRP1 + PRP2 across a page boundary) and flush: the file changes.
    const src = drv.page(2) + 0xe00;
    for (let i = 0; i < 1536; i++) ram.u8[src - RAM + i] = 0xa5 ^ i;
    expect(drv.rw(1, true, 7, 3, src).status).toBe(0);
    expect(drv.run(1, [0x00, 1]).status).toBe(0);
    const onDisk = readFileSync(path);
    for (let i = 0; i < 1536; i++) expect(onDisk[7 * 512 + i]).toBe((0xa5 ^ i) & 0xff);
    expect(onDisk[10 * 512]).toBe(data[10 * 512]);
    // Errors are reported per command, the controller carries on.
    expect(drv.rw(1, false, 4095, 2, buf).status).toBe(0x80); // LBA out of range
    expect(drv.rw(1, false, 0, 1, buf, 2).status).toBe(0x0b);
    expect(drv.rw(1, false, 0, 1, 0x7000_0000).status).toBe(0x04); // DMA outside RAM
    expect(drv.rw(1, false, 0, 300, buf).status).toBe(0x02); // beyond MDTS
    expect(drv.run(0, [0x01, 0, 0, 0, 0, 0, drv.page(), 0, 0, 0, (15 << 16) | 2, (5 << 16) | 1]).status).toBe(0x100); // no such CQ
    expect(drv.run(0, [0x05, 0, 0, 0, 0, 0, drv.page(), 0, 0, 0, (15 << 16) | 1, 1]).status).toBe(0x101); // CQ 1 exists
    expect(drv.run(0, [0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).status).toBe(0x10c); // CQ 1 still has SQ 1
    expect(drv.rw(1, false, 3, 1, buf).status).toBe(0);
    image.close();
  });

  it('INTx: asserted while completions are unconsumed, INTMS masks it, completion queues wrap with the phase bit', () => {
    const img = new MemoryBlockImage(64 * 512);
    const { drv, intx, ram } = board(img); // 00:01.0 INTA → line 1
    drv.start(4);
    expect(intx).toEqual([]);
    const cid = drv.submit(0, [0x06, 0, 0, 0, 0, 0, drv.page(), 0, 0, 0, 1]);
    expect(intx).toEqual([true]);
    expect(drv.reap(0).map((c) => c.cid)).toEqual([cid]);
    expect(intx).toEqual([true, false]);
    drv.setReg(0x0c, 1); // INTMS
    drv.submit(0, [0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x06]);
    expect(intx).toEqual([true, false]);
    drv.setReg(0x10, 1); // INTMC
    expect(intx).toEqual([true, false, true]);
    expect(drv.reap(0)[0]).toMatchObject({ status: 0, result: 1 }); // write cache on
    // Queue of 4: ten commands go through, the phase flips every lap.
    drv.createIoQueuePair(1, 4, 0);
    const buf = drv.page();
    for (let i = 0; i < 10; i++) {
      ram.u8[buf - RAM] = i;
      expect(drv.rw(1, true, i, 1, buf).status).toBe(0);
    }
    for (let i = 0; i < 10; i++) expect(img.bytes[i * 512]).toBe(i);
    // A full CQ stalls the SQ until the driver frees an entry.
    drv.submit(1, [0x00, 1]);
    drv.submit(1, [0x00, 1]);
    drv.submit(1, [0x00, 1]);
    const first = drv.reap(1);
    expect(first.length).toBe(3);
    expect(img.flushes).toBe(3);
    // Shutdown notification and disable.
    drv.setReg(0x14, drv.reg(0x14) | (1 << 14));
    expect((drv.reg(0x1c) >> 2) & 3).toBe(2);
    drv.setReg(0x14, 0);
    expect(drv.reg(0x1c) & 1).toBe(0);
  });

  it('a bad admin queue setup reports controller fatal status instead of running', () => {
    const { drv } = board(new MemoryBlockImage(512));
    drv.setReg(0x24, 0);
    drv.setReg(0x14, 1);
    expect(drv.reg(0x1c) & 3).toBe(2);
    expect(() => new FileBlockImage(join(tmp, 'missing.img'))).toThrow(/cannot open disk image/);
    writeFileSync(join(tmp, 'odd.img'), new Uint8Array(100));
    expect(() => new FileBlockImage(join(tmp, 'odd.img'))).toThrow(/whole number of 512-byte sectors/);
  });
});
