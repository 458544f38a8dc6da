import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import { bdf } from '../../src/machine/bdf.js';
import { MemoryBlockImage } from '../../src/devices/virtio/block-image.js';
import { guestMemory } from '../../src/machine/guest-memory.js';
import { PciHostEcam } from '../../src/devices/pci/host-bridge.js';
import { NvmeController } from '../../src/devices/pci/nvme.js';
import type { PciFunction } from '../../src/devices/pci/pci-function.js';
import { VirtioBlkBackend } from '../../src/devices/virtio/virtio-blk-backend.js';
import { VirtioNetBackend } from '../../src/devices/virtio/virtio-net-backend.js';
import { VirtioPciFunction } from '../../src/devices/pci/virtio-pci.js';
import { parsePciRanges } from '../../src/devices/pci/windows.js';
import { cells, dtNodeCells } from './dt-oracle.js';
import { qemuReplay, type Access } from './qemu-qtest.js';

const ECAM = 0x40_1000_0000;
const MEM32 = 0x1000_0000;
const DISK = 1 << 20;

/** Our virt host bridge, built from the same DTB QEMU describes itself with. */
function ourVirt(fn: PciFunction, devfn: number): AddressSpace {
  const props = dtNodeCells('qemu-dtb/qemu-virt-aarch64-gicv3.dtb', 'pcie@');
  const windows = parsePciRanges(cells(props, 'ranges'), 2, 2);
  const host = new PciHostEcam({ ecamSize: 0x1000_0000, busStart: 0, busEnd: 0xff, windows });
  host.add(devfn, fn);
  const bus = new AddressSpace();
  const ram = new Ram(0x10_0000);
  bus.mapRam(0x4000_0000, ram.size, ram);
  fn.assign(guestMemory(bus), undefined);
  bus.mapMmio(ECAM, 0x1000_0000, host.ecam);
  windows.forEach((w, i) => bus.mapMmio(w.cpuBase, w.size, host.windowDevices[i]!));
  return bus;
}

function ourReplay(bus: AddressSpace, accesses: readonly Access[]): number[] {
  const out: number[] = [];
  for (const a of accesses) {
    if (a.op === 'r') out.push(Number(bus.read(a.addr, a.size) ?? 0xdeadn));
    else bus.write(a.addr, a.size, BigInt(a.value));
  }
  return out;
}

/** Reads the first 256 bytes of config space, probes every BAR with all-ones, then assigns BARs and enables decode. */
function configScript(devfn: number, barAt: readonly (number | undefined)[]): { accesses: Access[]; reads: string[] } {
  const base = ECAM + (devfn << 12);
  const accesses: Access[] = [];
  const reads: string[] = [];
  const read = (addr: number, label: string, size: 1 | 2 | 4 = 4) => {
    accesses.push({ op: 'r', addr, size });
    reads.push(label);
  };
  for (let r = 0; r < 0x100; r += 4) read(base + r, `cfg${r.toString(16)}`);
  for (let i = 0; i < 6; i++) {
    accesses.push({ op: 'w', addr: base + 0x10 + 4 * i, size: 4, value: 0xffff_ffff });
    read(base + 0x10 + 4 * i, `probe${i}`);
    accesses.push({ op: 'w', addr: base + 0x10 + 4 * i, size: 4, value: 0 });
  }
  barAt.forEach((a, i) => a !== undefined && accesses.push({ op: 'w', addr: base + 0x10 + 4 * i, size: 4, value: a }));
  accesses.push({ op: 'w', addr: base + 4, size: 2, value: 0x6 });
  return { accesses, reads };
}

function toMap(labels: string[], values: number[]): Map<string, number> {
  return new Map(labels.map((l, i) => [l, values[i]!]));
}

/** The capability list of a 256-byte snapshot: [id, offset]. */
function capList(v: Map<string, number>): [number, number][] {
  const byte = (o: number) => (v.get(`cfg${(o & ~3).toString(16)}`)! >>> (8 * (o & 3))) & 0xff;
  const out: [number, number][] = [];
  for (let p = byte(0x34), guard = 0; p !== 0 && guard < 48; p = byte(p + 1), guard++) out.push([byte(p), p]);
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-qemu-pci-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function disk(name: string): string {
  const p = join(tmp, name);
  writeFileSync(p, new Uint8Array(DISK));
  return p;
}

/** Header fields a driver binds and sizes by. */
function headerOf(v: Map<string, number>) {
  return {
    ids: v.get('cfg0'),
    classRev: v.get('cfg8'),
    headerType: (v.get('cfgc')! >>> 16) & 0xff,
    subsystem: v.get('cfg2c'),
    pin: (v.get('cfg3c')! >>> 8) & 0xff,
    capList: (v.get('cfg4')! >>> 16) & 0x10,
    probes: [0, 1, 2, 3, 4, 5].map((i) => v.get(`probe${i}`)),
  };
}

describe('our PCI functions as QEMU 7.2 presents the same devices on virt (qtest oracle)', () => {
  it('NVMe: ids, class, BAR sizing, capability list and MSI-X placement, controller capabilities', async () => {
    const devfn = bdf(0, 1, 0);
    const { accesses, reads } = configScript(devfn, [MEM32, 0]);
    const bar0 = MEM32;
    const regs: [string, number][] = [['CAPlo', 0], ['CAPhi', 4], ['VS', 8], ['CC', 0x14], ['CSTS', 0x1c]];
    for (const [l, o] of regs) {
      accesses.push({ op: 'r', addr: bar0 + o, size: 4 });
      reads.push(l);
    }
    const qemu = toMap(reads, await qemuReplay(['-drive', `if=none,id=d0,file=${disk('nvme.img')},format=raw`, '-device', 'nvme,serial=HVTS0001,drive=d0,addr=1'], accesses));
    const ours = toMap(reads, ourReplay(ourVirt(new NvmeController(new MemoryBlockImage(DISK)), devfn), accesses));
    expect(headerOf(ours)).toEqual(headerOf(qemu));
    expect(capList(ours).map((c) => c[0])).toEqual(capList(qemu).map((c) => c[0]));
    // MSI-X table/PBA BIR and offsets (the vector count differs: QEMU offers 64 queue pairs, we 8).
    const msix = (v: Map<string, number>) => {
      const at = capList(v).find((c) => c[0] === 0x11)![1];
      return [v.get(`cfg${(at + 4).toString(16)}`), v.get(`cfg${(at + 8).toString(16)}`)];
    };
    expect(msix(ours)).toEqual(msix(qemu));
    // CAP: contiguous queues required, doorbell stride, NVM command set, page size limits; version.
    const cap = (v: Map<string, number>) => ({
      cqr: (v.get('CAPlo')! >>> 16) & 1,
      dstrd: v.get('CAPhi')! & 0xf,
      css: (v.get('CAPhi')! >>> 5) & 0xff,
      mpsmin: (v.get('CAPhi')! >>> 16) & 0xf,
      vs: v.get('VS'),
      cc: v.get('CC'),
      csts: v.get('CSTS'),
    });
    expect(cap(ours)).toMatchObject({ ...cap(qemu), css: cap(qemu).css & 1 });
  });

  for (const [kind, backend, qemuArgs] of [
    ['virtio-blk-pci', () => new VirtioBlkBackend(new MemoryBlockImage(DISK)), () => ['-drive', `if=none,id=d1,file=${disk('vblk.img')},format=raw`, '-device', 'virtio-blk-pci,drive=d1,disable-legacy=on,addr=2']],
    ['virtio-net-pci', () => new VirtioNetBackend([0x52, 0x54, 0, 0x12, 0x34, 0x56], () => {}), () => ['-device', 'virtio-net-pci,disable-legacy=on,romfile=,mac=52:54:00:12:34:56,addr=2']],
  ] as const) {
    it(`${kind}: ids, class, BARs, virtio structure capabilities, MSI-X, and the common/device config a driver reads first`, async () => {
      const devfn = bdf(0, 2, 0);
      const bar1 = MEM32;
      const bar4 = MEM32 + 0x4000;
      const { accesses, reads } = configScript(devfn, [undefined, bar1, undefined, undefined, bar4, 0]);
      const read = (addr: number, label: string, size: 1 | 2 | 4 = 4) => {
        accesses.push({ op: 'r', addr, size });
        reads.push(label);
      };
      accesses.push({ op: 'w', addr: bar4 + 0x00, size: 4, value: 1 });
      read(bar4 + 0x04, 'features1');
      accesses.push({ op: 'w', addr: bar4 + 0x00, size: 4, value: 0 });
      read(bar4 + 0x04, 'features0');
      read(bar4 + 0x10, 'msixConfig', 2);
      read(bar4 + 0x14, 'status', 1);
      accesses.push({ op: 'w', addr: bar4 + 0x16, size: 2, value: 0 });
      read(bar4 + 0x18, 'queueSize0', 2);
      read(bar4 + 0x1a, 'queueVector0', 2);
      read(bar4 + 0x1c, 'queueEnable0', 2);
      read(bar4 + 0x1e, 'notifyOff0', 2);
      for (let o = 0; o < 8; o += 4) read(bar4 + 0x2000 + o, `dev${o}`);
      read(bar4 + 0x2000 + 20, 'dev20');
      const qemu = toMap(reads, await qemuReplay(qemuArgs(), accesses));
      const ours = toMap(reads, ourReplay(ourVirt(new VirtioPciFunction(backend()), devfn), accesses));
      expect(headerOf(ours)).toEqual(headerOf(qemu));
      // The virtio structures (types 1..4): same BAR, offset, length, notify multiplier.
      const virtioCaps = (v: Map<string, number>) =>
        capList(v)
          .filter(([id]) => id === 0x09)
          .map(([, at]) => {
            const dw = (o: number) => v.get(`cfg${(at + o).toString(16)}`)!;
            const type = (dw(0) >>> 24) & 0xff;
            return { type, bar: dw(4) & 0xff, offset: dw(8), length: dw(12), mult: type === 2 ? dw(16) : undefined };
          })
          .filter((c) => c.type >= 1 && c.type <= 4);
      expect(virtioCaps(ours)).toEqual(virtioCaps(qemu));
      // Table and PBA placement as QEMU's; the vector count is the device's choice (QEMU's net adds
      // one for its control queue), but there must be one per queue plus the configuration vector.
      const msix = (v: Map<string, number>) => {
        const at = capList(v).find((c) => c[0] === 0x11)![1];
        return [v.get(`cfg${(at + 4).toString(16)}`), v.get(`cfg${(at + 8).toString(16)}`)];
      };
      expect(msix(ours)).toEqual(msix(qemu));
      const msixAt = capList(ours).find((c) => c[0] === 0x11)![1];
      expect((ours.get(`cfg${msixAt.toString(16)}`)! >>> 16) & 0x7ff).toBeGreaterThanOrEqual(backend().queueCount);
      for (const k of ['msixConfig', 'status', 'queueSize0', 'queueVector0', 'queueEnable0', 'notifyOff0', 'dev0', 'dev4']) {
        expect(ours.get(k), k).toBe(qemu.get(k));
      }
      if (kind === 'virtio-blk-pci') expect(ours.get('dev20')).toBe(qemu.get('dev20'));
      // VERSION_1 both; every feature we offer, QEMU offers too (its driver path covers ours).
      expect(ours.get('features1')! & 1).toBe(1);
      expect(ours.get('features1')! & ~qemu.get('features1')!).toBe(0);
      expect(ours.get('features0')! & ~qemu.get('features0')!).toBe(0);
    });
  }
});
