import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { irqLine } from '../../src/machine/irq-line.js';
import { bdf } from '../../src/machine/bdf.js';
import { PciHostConfigError, PciHostEcam } from '../../src/devices/pci/host-bridge.js';
import type { MsiController } from '../../src/devices/pci/msi.js';
import { parsePciRanges } from '../../src/devices/pci/windows.js';
import { cells, dtNodeCells } from './dt-oracle.js';
import { Enumerator } from './enumerator.js';
import { SampleFunction } from './sample-function.js';

/** virt aarch64's host bridge, from QEMU's own DTB through dtc. */
function virtAarch64() {
  const props = dtNodeCells('qemu-dtb/qemu-virt-aarch64-gicv3.dtb', 'pcie@');
  const reg = cells(props, 'reg');
  const busRange = cells(props, 'bus-range');
  const windows = parsePciRanges(cells(props, 'ranges'), 2, 2);
  return {
    props,
    ecamBase: reg[0]! * 2 ** 32 + reg[1]!,
    config: { ecamSize: reg[2]! * 2 ** 32 + reg[3]!, busStart: busRange[0]!, busEnd: busRange[1]!, windows },
  };
}

describe('ranges from QEMU virt DTBs', () => {
  it('decodes the aarch64 virt windows (fixtures.md §2a: IO 64 KiB at 0x3eff0000, MEM32 1:1, MEM64 512 GiB)', () => {
    const { config, ecamBase } = virtAarch64();
    expect(ecamBase).toBe(0x40_1000_0000);
    expect(config.windows).toEqual([
      { space: 'io', cpuBase: 0x3eff_0000, pciBase: 0, size: 0x1_0000, prefetchable: false },
      { space: 'mem32', cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x2eff_0000, prefetchable: false },
      { space: 'mem64', cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x80_0000_0000, prefetchable: false },
    ]);
    expect(() => new PciHostEcam(config)).not.toThrow();
  });

  it('rejects malformed ranges and bridge geometry with named errors', () => {
    expect(() => parsePciRanges([0x1000000, 0, 0, 0], 2)).toThrow(/multiple/);
    expect(() => parsePciRanges([0, 0, 0, 0, 0, 0, 1], 2)).toThrow(/configuration space/);
    expect(() => new PciHostEcam({ ecamSize: 0x10_0000, busStart: 0, busEnd: 1, windows: [] })).toThrow(PciHostConfigError);
    expect(() => new PciHostEcam({ ecamSize: 0x10_0000, busStart: 2, busEnd: 1, windows: [] })).toThrow(/bus-range/);
    const w = { space: 'mem32' as const, cpuBase: 0, pciBase: 0, size: 0x1000 };
    expect(() => new PciHostEcam({ ecamSize: 0x10_0000, busStart: 0, busEnd: 0, windows: [w, w] })).toThrow(/overlap/);
  });
});

describe('INTx swizzle against the interrupt-map QEMU generates', () => {
  for (const [dtb, node, parentCells] of [
    ['qemu-dtb/qemu-virt-aarch64-gicv3.dtb', 'pcie@', 2 + 3],
    ['qemu-dtb/qemu-virt-riscv64.dtb', 'pci@', 0 + 1],
  ] as const) {
    it(`${dtb}: every (slot, pin) of the map raises the line of the interrupt it names`, () => {
      const map = cells(dtNodeCells(dtb, node), 'interrupt-map');
      const entry = 3 + 1 + 1 + parentCells;
      expect(map.length % entry).toBe(0);
      const entries: { slot: number; pin: number; irq: number }[] = [];
      for (let i = 0; i < map.length; i += entry) {
        // child unit address phys.hi holds devfn << 8; the parent's interrupt number is the entry's
        // second cell after the phandle for GIC (type, number, flags), the only one for the PLIC.
        entries.push({ slot: (map[i]! >>> 11) & 0x1f, pin: map[i + 3]!, irq: map[i + 5 + (parentCells === 1 ? 0 : 3)]! });
      }
      expect(entries.length).toBe(16);
      // The 4 lines are named by slot 0's INTA..INTD interrupts.
      const lineIrq = [1, 2, 3, 4].map((p) => entries.find((e) => e.slot === 0 && e.pin === p)!.irq);
      for (const e of entries) {
        const raised: number[] = [];
        const lines = lineIrq.map((irq) => irqLine((level) => level && raised.push(irq)));
        const host = new PciHostEcam({ ecamSize: 0x10_0000, busStart: 0, busEnd: 0, windows: [] }, lines);
        const fn = new SampleFunction();
        fn.config.set8(0x3d, e.pin);
        host.add(bdf(0, e.slot, 0), fn);
        fn.level(true);
        expect(raised, `slot ${e.slot} pin ${e.pin}`).toEqual([e.irq]);
      }
    });
  }

  it('shares a line wired-OR between functions and honours INTx disable', () => {
    const levels: boolean[] = [];
    const lines = [0, 1, 2, 3].map((i) => irqLine((l) => i === 1 && levels.push(l)));
    const host = new PciHostEcam({ ecamSize: 0x10_0000, busStart: 0, busEnd: 0, windows: [] }, lines);
    const a = new SampleFunction();
    const b = new SampleFunction();
    host.add(bdf(0, 1, 0), a); // slot 1 INTA → line 1
    host.add(bdf(0, 5, 0), b); // slot 5 INTA → line (5 + 0) % 4 = 1
    a.level(true);
    b.level(true);
    a.level(false);
    expect(levels).toEqual([true]);
    b.level(false);
    expect(levels).toEqual([true, false]);
    b.level(true);
    expect(b.config.read(0x06, 2) & 0x8).toBe(0x8); // interrupt status
    host.ecam.write((5 << 15) + 4, 2, 0x400); // INTx disable
    expect(levels).toEqual([true, false, true, false]);
    expect(b.config.read(0x06, 2) & 0x8).toBe(0x8); // status still shows the condition
  });
});

describe('enumeration as the generic ECAM driver does it', () => {
  it('finds functions, sizes and assigns BARs from the virt windows, and CPU accesses reach them', () => {
    const { config, ecamBase } = virtAarch64();
    const host = new PciHostEcam(config);
    const a = new SampleFunction(0x1111);
    const b0 = new SampleFunction(0x2220, true);
    const b3 = new SampleFunction(0x2223);
    const hidden = new SampleFunction(0x3333); // function 2 of a single-function device: never probed
    host.add(bdf(0, 1, 0), a);
    host.add(bdf(0, 2, 0), b0);
    host.add(bdf(0, 2, 3), b3);
    host.add(bdf(0, 4, 2), hidden);
    const bus = new AddressSpace();
    bus.mapMmio(ecamBase, config.ecamSize, host.ecam);
    config.windows.forEach((w, i) => bus.mapMmio(w.cpuBase, w.size, host.windowDevices[i]!));
    const viaBus = {
      name: 'ecam-through-bus',
      read: (o: number, s: 1 | 2 | 4) => Number(bus.read(ecamBase + o, s)),
      write: (o: number, s: 1 | 2 | 4, v: number) => void bus.write(ecamBase + o, s, BigInt(v)),
      reset() {},
    };
    const found = new Enumerator(viaBus, config.windows, 0, 0).enumerate();
    expect(found.map((f) => [f.device, f.fn, f.deviceId])).toEqual([[1, 0, 0x1111], [2, 0, 0x2220], [2, 3, 0x2223]]);
    const f = found[0]!;
    expect(f.classCode).toBe(0xff0000);
    expect(f.pin).toBe(1);
    expect(f.bars.map((x) => [x.index, x.io, x.is64, x.prefetchable, x.size])).toEqual([
      [0, false, false, false, 0x4000],
      [1, true, false, false, 32],
      [2, false, true, true, 0x10_0000],
    ]);
    expect(f.capabilities.map((c) => c.id)).toEqual([0x11, 0x05, 0x10, 0x01]);
    // BARs landed in their windows and the bridge decodes them.
    expect(f.bars[0]!.cpu).toBeGreaterThanOrEqual(0x1000_0000);
    expect(f.bars[1]!.cpu).toBeGreaterThanOrEqual(0x3eff_0000);
    expect(f.bars[2]!.cpu).toBeGreaterThanOrEqual(0x80_0000_0000);
    for (const bar of f.bars) {
      expect(bus.write(bar.cpu + 8, 4, 0xc0ffeen)).toBe(true);
      expect(bus.read(bar.cpu + 8, 4)).toBe(0xc0ffeen);
    }
    expect(a.regs[(0 * 0x400 + 8) >>> 2]).toBe(0xc0ffee);
    // The other function's BARs are distinct, so nothing aliases.
    const bases = found.flatMap((x) => x.bars.map((y) => `${y.io}:${y.pci}`));
    expect(new Set(bases).size).toBe(bases.length);
    // Decode off → the BAR goes away (reads all-ones).
    viaBus.write((1 << 15) + 4, 2, 0);
    expect(bus.read(f.bars[0]!.cpu + 8, 4)).toBe(0xffff_ffffn);
  });

  it('size probe of a 64-bit BAR larger than 4 GiB reads the mask in the upper half', async () => {
    const { PciConfigSpace } = await import('../../src/devices/pci/config-space.js');
    const cfg = new PciConfigSpace({ vendorId: 1, deviceId: 2, classCode: 0 }, [{ kind: 'mem64', size: 2 ** 34 }]);
    cfg.write(0x10, 4, 0xffff_ffff);
    cfg.write(0x14, 4, 0xffff_ffff);
    expect(cfg.read(0x10, 4)).toBe(0x4);
    expect(cfg.read(0x14, 4)).toBe(0xffff_fffc);
    expect(() => new PciConfigSpace({ vendorId: 1, deviceId: 2, classCode: 0 }, [{ kind: 'mem32', size: 3000 }])).toThrow(/power of two/);
    expect(() => new PciConfigSpace({ vendorId: 1, deviceId: 2, classCode: 0 }, [undefined, undefined, undefined, undefined, undefined, { kind: 'mem64', size: 16 }])).toThrow(/does not fit/);
  });
});

describe('malformed and protected configuration accesses', () => {
  const host = new PciHostEcam({ ecamSize: 0x20_0000, busStart: 0, busEnd: 1, windows: [] });
  const fn = new SampleFunction();
  host.add(bdf(0, 1, 0), fn);
  const base = 1 << 15;

  it('absent functions, buses past bus-range, unaligned and oversized accesses read all-ones', () => {
    expect(host.ecam.read(0, 4)).toBe(0xffff_ffff);
    expect(host.ecam.read((2 << 15) + 0, 2)).toBe(0xffff);
    expect(host.ecam.read(0x20_0000 + base, 4)).toBe(0xffff_ffff); // bus 2
    expect(host.ecam.read(base + 1, 2)).toBe(0xffff);
    expect(host.ecam.read(base + 2, 4)).toBe(0xffff_ffff);
    expect(host.ecam.read(base, 4)).toBe(0x1234_1b36);
    expect(fn.config.read(0xffe, 4)).toBe(0xffff_ffff);
    expect(fn.config.read(-4, 4)).toBe(0xffff_ffff);
    expect(() => host.ecam.write(0x7fff_fff0, 4, 1)).not.toThrow();
    expect(() => host.add(bdf(2, 0, 0), new SampleFunction())).toThrow(/outside bus-range/);
    expect(() => host.add(bdf(0, 1, 0), new SampleFunction())).toThrow(/taken/);
  });

  it('read-only registers stay, write-1-to-clear bits clear, unaligned writes are dropped', () => {
    const before = fn.config.bytes.slice(0, 0x40);
    host.ecam.write(base + 0, 4, 0); // vendor/device
    host.ecam.write(base + 8, 4, 0x12345678); // revision/class
    host.ecam.write(base + 0x3d, 1, 4); // interrupt pin
    host.ecam.write(base + 0x06, 2, 0xffff); // status: nothing set → nothing changes
    host.ecam.write(base + 0x02, 4, 0xffff_ffff); // unaligned
    host.ecam.write(base + 0x40, 4, 0xdeadbeef); // PM capability header is read-only
    expect(fn.config.bytes.slice(0, 0x40)).toEqual(before);
    expect(host.ecam.read(base + 0x40, 1)).toBe(0x01);
    fn.config.set16(0x06, fn.config.get(0x06, 2) | 0x2000); // device reports a master abort
    host.ecam.write(base + 0x06, 2, 0x2000);
    expect(host.ecam.read(base + 0x06, 2) & 0x2000).toBe(0);
    expect(host.ecam.read(base + 0x06, 2) & 0x10).toBe(0x10); // capability list bit survives
    host.ecam.write(base + 0x04, 2, 0xffff);
    expect(host.ecam.read(base + 0x04, 2)).toBe(0x0547);
    host.ecam.write(base + 0x300, 4, 0xffff_ffff); // reserved extended space
    expect(host.ecam.read(base + 0x300, 4)).toBe(0);
  });

  it('reset restores power-on state', () => {
    host.ecam.write(base + 0x10, 4, 0x1000_0000);
    host.reset();
    expect(host.ecam.read(base + 0x10, 4)).toBe(0);
    expect(host.ecam.read(base + 0x04, 2)).toBe(0);
  });
});

describe('MSI and MSI-X delivery', () => {
  function setup() {
    const got: [number, number, number][] = [];
    const ctrl: MsiController = { signal: (r, a, d) => got.push([r, a, d]) };
    const host = new PciHostEcam({ ecamSize: 0x10_0000, busStart: 0, busEnd: 0, windows: [] });
    const fn = new SampleFunction();
    host.add(bdf(0, 3, 0), fn);
    fn.assign({ read: () => false, write: () => false, checkRange: () => false }, ctrl);
    const [msi] = fn.config.findCapabilities(0x05);
    const [msix] = fn.config.findCapabilities(0x11);
    return { got, fn, msi: msi!, msix: msix! };
  }

  it('MSI-X: table programming, per-vector mask with pending bit, function mask, disables INTx', () => {
    const { got, fn, msix } = setup();
    fn.level(true);
    expect(fn.config.read(msix + 2, 2) & 0x7ff).toBe(2); // 3 vectors
    expect(fn.barRead(0, 0x2000 + 12, 4)).toBe(1); // masked at reset
    fn.barWrite(0, 0x2010, 4, 0x0809_0040);
    fn.barWrite(0, 0x2014, 4, 0);
    fn.barWrite(0, 0x2018, 4, 0x21);
    fn.config.write(msix + 2, 2, 0x8000);
    expect(fn.fire(1)).toBe(true); // still masked → pending
    expect(got).toEqual([]);
    expect(fn.barRead(0, 0x3000, 4)).toBe(0b10);
    fn.barWrite(0, 0x201c, 4, 0); // unmask → delivered
    expect(got).toEqual([[0x18, 0x0809_0040, 0x21]]);
    expect(fn.barRead(0, 0x3000, 4)).toBe(0);
    fn.config.write(msix + 2, 2, 0xc000); // function mask
    fn.fire(1);
    expect(got.length).toBe(1);
    fn.config.write(msix + 2, 2, 0x8000);
    expect(got.length).toBe(2);
    fn.barWrite(0, 0x3000, 4, 0xff); // PBA is read-only
    expect(fn.barRead(0, 0x3000, 4)).toBe(0);
  });

  it('MSI: multiple vectors set the low data bits; masked vectors pend until unmasked', () => {
    const { got, fn, msi } = setup();
    expect(fn.fire(0)).toBe(false); // neither enabled: INTx mode
    fn.config.write(msi + 4, 4, 0x0809_0040);
    fn.config.write(msi + 8, 4, 0);
    fn.config.write(msi + 0xc, 2, 0x40);
    fn.config.write(msi + 2, 2, 0x0021); // enable, 4 vectors
    fn.fire(3);
    expect(got).toEqual([[0x18, 0x0809_0040, 0x43]]);
    fn.config.write(msi + 0x10, 4, 0b100);
    fn.fire(2);
    expect(fn.config.read(msi + 0x14, 4)).toBe(0b100);
    fn.config.write(msi + 0x10, 4, 0);
    expect(got[1]).toEqual([0x18, 0x0809_0040, 0x42]);
  });
});
