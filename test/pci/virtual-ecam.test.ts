import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { Ram } from '../../src/machine/ram.js';
import { bdf, formatBdf, parseBdf } from '../../src/machine/bdf.js';
import { PciConfigSpace } from '../../src/devices/pci/config-space.js';
import { describePciTree } from '../../src/devices/pci/describe.js';
import { guestMemory } from '../../src/machine/guest-memory.js';
import { PciHostEcam } from '../../src/devices/pci/host-bridge.js';
import { PciFunction } from '../../src/devices/pci/pci-function.js';
import { checkPciPartition, PciAssignmentError, VirtualEcam, type ZonePciWindow } from '../../src/devices/pci/virtual-ecam.js';
import { Enumerator } from './enumerator.js';
import { SampleFunction } from './sample-function.js';

const ECAM = 0x40_1000_0000;
const physWindows = [
  { space: 'io' as const, cpuBase: 0x3eff_0000, pciBase: 0, size: 0x1_0000 },
  { space: 'mem32' as const, cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x2eff_0000 },
  { space: 'mem64' as const, cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x80_0000_0000 },
];

/** A zone: its own RAM at the same guest-physical address, stage-2 with its vECAM and windows. */
function zone(host: PciHostEcam, name: string, devices: number[], windows: ZonePciWindow[]) {
  const memory = new AddressSpace();
  const ram = new Ram(0x10000);
  memory.mapRam(0x5000_0000, ram.size, ram);
  const view = new VirtualEcam(host, { zone: name, devices, windows, dma: guestMemory(memory) });
  memory.mapMmio(ECAM, host.config.ecamSize, view.ecam);
  windows.forEach((w, i) => memory.mapMmio(w.cpuBase, w.size, view.windowDevices[i]!));
  const ecam: MmioDevice = {
    name: `${name}-ecam`,
    read: (o, s) => Number(memory.read(ECAM + o, s) ?? 0xdeadn),
    write: (o, s, v) => void memory.write(ECAM + o, s, BigInt(v)),
    reset() {},
  };
  return { memory, ram, view, ecam, windows };
}

function twoZones() {
  const host = new PciHostEcam({ ecamSize: 0x1000_0000, busStart: 0, busEnd: 0xff, windows: physWindows });
  const fns = [new SampleFunction(0x0001), new SampleFunction(0x0002), new SampleFunction(0x0003)];
  host.add(bdf(0, 1, 0), fns[0]!);
  host.add(bdf(0, 2, 0), fns[1]!);
  host.add(bdf(0, 3, 0), fns[2]!);
  const z1 = zone(host, 'zone1', [0x08, 0x18], [
    { space: 'io', cpuBase: 0x3eff_0000, pciBase: 0, size: 0x8000 },
    { space: 'mem32', cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x1000_0000 },
    { space: 'mem64', cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x10_0000_0000 },
  ]);
  // zone2 sees its window at the same zone-PCI addresses as zone1, but it lands elsewhere physically.
  const z2 = zone(host, 'zone2', [0x10], [
    { space: 'io', cpuBase: 0x3eff_0000, pciBase: 0, size: 0x8000, physicalPciBase: 0x8000 },
    { space: 'mem32', cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x1000_0000, physicalPciBase: 0x2000_0000 },
    { space: 'mem64', cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x10_0000_0000, physicalPciBase: 0x90_0000_0000 },
  ]);
  return { host, fns, z1, z2 };
}

describe('per-zone virtual ECAM (hvisor vPCI)', () => {
  it('each zone enumerates only its own functions and reaches them through its windows', () => {
    const { host, fns, z1, z2 } = twoZones();
    const e1 = new Enumerator(z1.ecam, z1.windows, 0, 0).enumerate();
    const e2 = new Enumerator(z2.ecam, z2.windows, 0, 0).enumerate();
    expect(e1.map((f) => f.deviceId)).toEqual([0x0001, 0x0003]);
    expect(e2.map((f) => f.deviceId)).toEqual([0x0002]);
    // Both zones assigned the same zone-PCI addresses; physically they are apart.
    expect(e1[0]!.bars[0]!.pci).toBe(e2[0]!.bars[0]!.pci);
    expect(fns[1]!.config.barAddress(0)).toBe(e2[0]!.bars[0]!.pci - 0x1000_0000 + 0x2000_0000);
    expect(fns[1]!.config.barAddress(2)).toBe(0x90_0000_0000);
    expect(host.decodedBars().length).toBe(9);
    for (const [z, found, fnsOf] of [[z1, e1, [fns[0]!, fns[2]!]], [z2, e2, [fns[1]!]]] as const) {
      found.forEach((f, i) => {
        for (const bar of f.bars) {
          expect(z.memory.write(bar.cpu + 4, 4, BigInt(0x1000 + f.deviceId))).toBe(true);
          expect(z.memory.read(bar.cpu + 4, 4)).toBe(BigInt(0x1000 + f.deviceId));
        }
        expect(fnsOf[i]!.regs[1]).toBe(0x1000 + f.deviceId);
      });
    }
    // Zone-visible BAR values are the zone's; the size probe still works in the view.
    expect(z2.ecam.read((2 << 15) + 0x10, 4)).toBe(e2[0]!.bars[0]!.pci);
  });

  it("a zone can neither see nor write another zone's function", () => {
    const { fns, z1, z2 } = twoZones();
    expect(z1.ecam.read(2 << 15, 4)).toBe(0xffff_ffff);
    expect(z2.ecam.read(1 << 15, 4)).toBe(0xffff_ffff);
    expect(z2.ecam.read((3 << 15) + 0x3c, 1)).toBe(0xff);
    const before = fns[1]!.config.bytes.slice();
    for (let reg = 0; reg < 0x100; reg += 4) z1.ecam.write((2 << 15) + reg, 4, 0xffff_ffff);
    expect(fns[1]!.config.bytes).toEqual(before);
  });

  it('BARs placed outside the zone windows are not decoded, so they cannot shadow another zone', () => {
    const { host, fns, z1, z2 } = twoZones();
    new Enumerator(z1.ecam, z1.windows, 0, 0).enumerate();
    const [f2] = new Enumerator(z2.ecam, z2.windows, 0, 0).enumerate();
    // zone1 points its function's BAR0 at the physical address of zone2's BAR0 (outside zone1's windows).
    const target = fns[1]!.config.barAddress(0)!;
    z1.ecam.write((1 << 15) + 0x10, 4, target);
    expect(z1.view.blocked()).toEqual([{ bdf: 0x08, bar: 0, zoneAddress: target, size: 0x4000 }]);
    expect(fns[0]!.config.barAddress(0)).not.toBe(target);
    expect(host.lookup(false, target)?.bdf).toBe(0x10);
    z2.memory.write(f2!.bars[0]!.cpu, 4, 0x77n);
    expect(fns[1]!.regs[0]).toBe(0x77);
    expect(describePciTree(host, { zone: z1.view })).toMatch(/BAR0 mem32 +zone-pci 0x20000000 size 16K \(outside the zone windows, not decoded\)/);
    // zone1's stage-2 has no mapping for zone2's physical window; its own window never reaches zone2's function.
    expect(z1.memory.read(0x2000_0000, 4)).toBeUndefined(); // a stage-2 fault
    expect(z1.memory.read(0x1f00_0000, 4)).toBe(0xffff_ffffn); // its own window, nothing decodes there
    expect(fns[1]!.regs[0]).toBe(0x77);
  });

  it("a function DMAs into its zone's RAM only, and only as bus master", () => {
    const { fns, z1, z2 } = twoZones();
    expect(fns[0]!.dmaPoke(0x5000_0100, new Uint8Array([1, 2, 3]))).toBe(false); // bus master off
    z1.ecam.write((1 << 15) + 4, 2, 0x4);
    expect(fns[0]!.dmaPoke(0x5000_0100, new Uint8Array([1, 2, 3]))).toBe(true);
    expect([...z1.ram.u8.subarray(0x100, 0x103)]).toEqual([1, 2, 3]);
    expect([...z2.ram.u8.subarray(0x100, 0x103)]).toEqual([0, 0, 0]);
    expect(fns[0]!.dmaPoke(0x6000_0000, new Uint8Array([9]))).toBe(false); // not the zone's RAM
    expect(fns[0]!.dmaPoke(0x5000_fffe, new Uint8Array([9, 9, 9, 9]))).toBe(false); // runs off the end: nothing written
    expect(z1.ram.u8[0xfffe]).toBe(0);
  });

  it('bridge routing registers are read-only to a zone', () => {
    const host = new PciHostEcam({ ecamSize: 0x20_0000, busStart: 0, busEnd: 1, windows: physWindows });
    class Bridge extends PciFunction {
      readonly name = 'pci-bridge';
      constructor() {
        super({ vendorId: 0x1b36, deviceId: 0x000c, classCode: 0x060400, headerType: 1 }, []);
      }
      protected readBar(): number {
        return 0;
      }
      protected writeBar(): void {}
      protected resetDevice(): void {}
    }
    const b = new Bridge();
    host.add(bdf(0, 4, 0), b);
    const z = zone(host, 'z', [bdf(0, 4, 0)], []);
    z.ecam.write((4 << 15) + 0x18, 4, 0x00ff0100);
    z.ecam.write((4 << 15) + 0x20, 4, 0x2ff02000);
    expect(b.config.get(0x18, 4)).toBe(0);
    expect(b.config.get(0x20, 4)).toBe(0);
    expect(z.view.filteredWrites).toBe(2);
    z.ecam.write((4 << 15) + 0x3c, 1, 0x2a); // interrupt line is the zone's
    expect(b.config.get(0x3c, 1)).toBe(0x2a);
    // The host sees the type-1 masks directly.
    host.ecam.write((4 << 15) + 0x18, 4, 0xffff_ffff);
    expect(host.ecam.read((4 << 15) + 0x18, 4)).toBe(0x00ff_ffff);
    expect(new PciConfigSpace({ vendorId: 1, deviceId: 1, classCode: 0x060400, headerType: 1 }).read(0x24, 2)).toBe(1);
  });

  it('assignment and partition errors name the function, window and both zones', () => {
    const host = new PciHostEcam({ ecamSize: 0x10_0000, busStart: 0, busEnd: 0, windows: physWindows });
    host.add(bdf(0, 1, 0), new SampleFunction());
    const none = { read: () => false, write: () => false, checkRange: () => false };
    expect(() => new VirtualEcam(host, { zone: 'z', devices: [0x10], windows: [], dma: none })).toThrow(/00:02\.0, which has no function/);
    expect(
      () => new VirtualEcam(host, { zone: 'z', devices: [], windows: [{ space: 'mem32', cpuBase: 0, pciBase: 0x4000_0000, size: 0x1000 }], dma: none }),
    ).toThrow(PciAssignmentError);
    expect(() => checkPciPartition([{ zone: 'a', devices: [0x08], windows: [] }, { zone: 'b', devices: [0x08], windows: [] }])).toThrow(
      'PCI function 00:01.0 is given to both zone a and zone b',
    );
    const w = { space: 'mem32' as const, cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x1000_0000 };
    expect(() => checkPciPartition([{ zone: 'a', devices: [], windows: [w] }, { zone: 'b', devices: [], windows: [{ ...w, pciBase: 0x1800_0000 }] }])).toThrow(/overlaps one of zone a/);
    expect(formatBdf(parseBdf('0000:00:03.1'))).toBe('00:03.1');
    expect(() => parseBdf('00:20.0')).toThrow(RangeError);
    expect(() => parseBdf('garbage')).toThrow(/not a PCI address/);
  });

  it('describes the tree with ids, classes, BARs, IRQ routing, capabilities and owners', () => {
    const { host, z1, z2 } = twoZones();
    new Enumerator(z1.ecam, z1.windows, 0, 0).enumerate();
    const text = describePciTree(host, { views: [z1.view, z2.view], lineNames: ['SPI 3', 'SPI 4', 'SPI 5', 'SPI 6'] });
    expect(text).toContain('window mem64 cpu 0x8000000000 -> pci 0x8000000000 size 512G');
    expect(text).toContain('00:01.0 Unassigned class [ff0000]: sample [1b36:0001] rev 02');
    expect(text).toContain('    BAR0 mem32      pci 0x10000000 size 16K (cpu 0x10000000)');
    expect(text).toContain('    BAR2 mem64,pref pci 0x8000000000 size 1M (cpu 0x8000000000)');
    expect(text).toContain('    IRQ INTA -> SPI 4'); // slot 1, INTA
    expect(text).toContain('    IRQ INTA -> SPI 6'); // slot 3, INTA
    expect(text).toContain('    capabilities: MSI-X@9c MSI@84 PCIe@48 PM@40');
    expect(text).toMatch(/00:02\.0[^]*BAR0 mem32 +pci 0x0 size 16K \(not decoded\)[^]*owner: zone zone2/);
    expect(describePciTree(host, { zone: z2.view })).not.toContain('00:01.0');
  });
});
