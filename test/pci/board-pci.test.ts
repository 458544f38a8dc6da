/**
 * The board's PCIe as launch() wires it: functions from a `pci` file, the host bridge found in the
 * board's device tree, and per-zone virtual ECAMs handed to each zone's stage-2 map. Zones
 * enumerate through their own stage-2 space, as their Linux does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { parseBoardPciConfig } from '../../src/config/pci-config.js';
import { BoardPci } from '../../src/devices/pci/board-pci.js';
import { findBoardPciHost } from '../../src/board/board-pci-host.js';
import { noDma } from '../../src/machine/guest-memory.js';
import { PciAssignmentError } from '../../src/devices/pci/virtual-ecam.js';
import { ConfigError } from '../../src/config/config-error.js';
import { Stage2Space } from '../../src/hypervisor/stage2/stage2-space.js';
import { zoneConfigFromJson, type ZoneConfig } from '../../src/config/zone-config.js';
import { generateZoneDtb } from '../../src/hypervisor/lifecycle/zone-dtb.js';
import { buildBoard } from '../../src/board/board-builder.js';
import type { AccessSize, MmioDevice } from '../../src/machine/mmio-device.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { Enumerator } from './enumerator.js';

const ECAM = 0x40_1000_0000;

function zoneJson(name: string): any {
  return JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64', name), 'utf8'));
}

function config(name: string, mutate?: (j: any) => void): ZoneConfig {
  const j = zoneJson(name);
  mutate?.(j);
  return zoneConfigFromJson(j, name);
}

function board() {
  const dir = mkdtempSync(join(tmpdir(), 'board-pci-'));
  writeFileSync(join(dir, 'blk.img'), new Uint8Array(64 * 1024));
  writeFileSync(join(dir, 'nvme.img'), new Uint8Array(64 * 1024));
  const build = buildBoard(findBoard('qemu-virt-aarch64'));
  const spec = parseBoardPciConfig({
    functions: [
      { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
      { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
      { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
    ],
  }, 'pci.json');
  const pci = new BoardPci(findBoardPciHost(build)!, spec, dir);
  return { build, pci, dir };
}

/** A zone's stage-2 space with what the provider gave it, and its ECAM as an MmioDevice. */
function zoneSpace(pci: BoardPci, cfg: ZoneConfig) {
  const space = new Stage2Space();
  const windows = pci.provide(cfg, space);
  for (const w of windows) space.mapMmio(w.base, w.size, w.device, w.name);
  const faults: number[] = [];
  space.onFault = (gpa) => faults.push(gpa);
  const bus = cfg.pciConfig[0]!;
  const ecam: MmioDevice = {
    name: 'zone ecam',
    read: (o: number, s: AccessSize) => Number(space.read(bus.ecamBase + o, s) ?? 0xdead),
    write: (o: number, s: AccessSize, v: number) => void space.write(bus.ecamBase + o, s, BigInt(v)),
    reset() {},
  };
  const pciWindows = [
    { space: 'io' as const, cpuBase: bus.ioBase, pciBase: bus.pciIoBase, size: bus.ioSize },
    { space: 'mem32' as const, cpuBase: bus.mem32Base, pciBase: bus.pciMem32Base, size: bus.mem32Size },
    { space: 'mem64' as const, cpuBase: bus.mem64Base, pciBase: bus.pciMem64Base, size: bus.mem64Size },
  ];
  return { space, windows, ecam, faults, enumerate: () => new Enumerator(ecam, pciWindows, bus.busRangeBegin, 0).enumerate() };
}

describe('the board PCI functions file', () => {
  it('parses functions with their backends; BDFs as text or numbers', () => {
    const c = parseBoardPciConfig({ functions: [{ bdf: 0x18, type: 'nvme', img: 'x' }, { bdf: '00:02.0', type: 'virtio-net' }] }, 'f.json');
    expect(c.functions).toEqual([
      { bdf: 0x18, type: 'nvme', img: 'x' },
      { bdf: 0x10, type: 'virtio-net', mac: [0x52, 0x54, 0, 0x12, 0x34, 0x66] },
    ]);
  });

  it.each([
    [{}, 'f.json: (top level): missing required field "functions"'],
    [{ functions: [{ bdf: '00:20.0', type: 'nvme', img: 'x' }] }, 'f.json: functions[0].bdf: no such PCI function 0:32.0: bus 0..255, device 0..31, function 0..7'],
    [{ functions: [{ bdf: 0, type: 'nvme', img: 'x' }] }, 'f.json: functions[0].bdf: 00:00.0 is the host bridge, which the board always has'],
    [{ functions: [{ bdf: 8, type: 'nvme', img: 'x' }, { bdf: '00:01.0', type: 'nvme', img: 'y' }] }, 'f.json: functions[1].bdf: 00:01.0 is already functions[0].bdf'],
    [{ functions: [{ bdf: 8, type: 'e1000' }] }, 'f.json: functions[0].type: one of "virtio-blk", "virtio-net", "nvme", got "e1000"'],
    [{ functions: [{ bdf: 8, type: 'virtio-blk' }] }, 'f.json: functions[0]: missing required field "img"'],
    [{ functions: [{ bdf: 8, type: 'virtio-net', mac: '52:54:00' }] }, 'f.json: functions[0].mac: a MAC address like "52:54:00:12:34:56", got "52:54:00"'],
  ])('refuses %j naming the place', (json, message) => {
    expect(() => parseBoardPciConfig(json, 'f.json')).toThrow(new ConfigError('', '', '').constructor as typeof ConfigError);
    expect(() => parseBoardPciConfig(json, 'f.json')).toThrow(message);
  });
});

describe('the board PCIe host in zones', () => {
  it('finds qemu-virt-aarch64\'s ECAM host: window, buses, ranges, and INTA..D of slot 0 = SPI 3..6', () => {
    const host = findBoardPciHost(buildBoard(findBoard('qemu-virt-aarch64')))!;
    expect(host.ecamBase).toBe(ECAM);
    expect([host.busStart, host.busEnd]).toEqual([0, 255]);
    expect(host.windows.map((w) => [w.space, w.cpuBase, w.pciBase, w.size])).toEqual([
      ['io', 0x3eff_0000, 0, 0x1_0000],
      ['mem32', 0x1000_0000, 0x1000_0000, 0x2eff_0000],
      ['mem64', 0x80_0000_0000, 0x80_0000_0000, 0x80_0000_0000],
    ]);
    expect(host.intx.map((l) => l.number)).toEqual([35, 36, 37, 38]);
  });

  it('zone0 and zone1 each enumerate only their functions and reach only their BARs', () => {
    const { pci } = board();
    const z0 = zoneSpace(pci, config('zone0-linux-pci.json'));
    const z1 = zoneSpace(pci, config('zone1-linux-pci.json'));
    const f0 = z0.enumerate();
    const f1 = z1.enumerate();
    expect(f0.map((f) => [f.device, f.vendor, f.deviceId, f.classCode])).toEqual([
      [0, 0x1b36, 0x0008, 0x060000],
      [1, 0x1af4, 0x1042, 0x010000],
      [3, 0x1b36, 0x0010, 0x010802],
    ]);
    expect(f1.map((f) => [f.device, f.vendor, f.deviceId, f.classCode])).toEqual([
      [0, 0x1b36, 0x0008, 0x060000],
      [2, 0x1af4, 0x1041, 0x020000],
    ]);
    // virtio-net's common config (BAR 4): device_feature_select reads back in zone1 ...
    const net = f1[1]!.bars.find((b) => b.index === 4)!;
    expect(z1.space.write(net.cpu, 4, 1n)).toBe(true);
    expect(z1.space.read(net.cpu, 4)).toBe(1n);
    // ... and zone0 cannot reach it: its address is outside zone0's windows (a stage-2 fault),
    expect(z0.space.read(net.cpu, 4)).toBeUndefined();
    expect(z0.faults).toEqual([net.cpu]);
    // and zone0's vECAM shows 00:02.0 as absent: all-ones, writes ignored.
    expect(z0.ecam.read(0x2 << 15, 4)).toBe(0xffff_ffff);
    z0.ecam.write((0x2 << 15) + 4, 2, 0);
    expect(z1.ecam.read((0x2 << 15) + 4, 2) & 0x6).toBe(0x6);
    // The listing names the owners.
    const tree = pci.describe();
    expect(tree).toMatch(/00:01\.0 SCSI storage controller|00:01\.0 .*virtio-blk-pci \[1af4:1042\][\s\S]*owner: zone 0/);
    expect(tree).toMatch(/00:02\.0 .*virtio-net-pci \[1af4:1041\][\s\S]*?owner: zone 1/);
    expect(pci.describe(1)).not.toMatch(/00:01\.0|00:03\.0/);
    expect(pci.describe(1)).toMatch(/00:02\.0 .*\n\s+BAR1 mem32\s+zone-pci 0x2[0-9a-f]{7} /);
    pci.close();
  });

  it('malformed config accesses read all-ones and are ignored: unaligned, out of range, absent functions', () => {
    const { pci } = board();
    const z0 = zoneSpace(pci, config('zone0-linux-pci.json'));
    const blk = 0x1 << 15;
    expect(z0.ecam.read(blk, 4)).toBe(0x1042_1af4);
    expect(z0.ecam.read(blk + 1, 2)).toBe(0xffff); // unaligned
    expect(z0.ecam.read(blk + 2, 4)).toBe(0xffff_ffff);
    expect(z0.ecam.read(blk + 0x1000, 4)).toBe(0xffff_ffff); // function 1 of device 1: absent
    expect(z0.ecam.read(0x7 << 15, 4)).toBe(0xffff_ffff); // device 7: absent
    expect(z0.ecam.read(0x1 << 20, 4)).toBe(0xffff_ffff); // bus 1: nothing there
    const command = () => z0.ecam.read(blk + 4, 2);
    z0.ecam.write(blk + 5, 2, 0x7); // unaligned: ignored
    z0.ecam.write(blk + 3, 4, 0xffff_ffff);
    expect(command()).toBe(0);
    z0.ecam.write(blk + 4, 2, 0x6);
    expect(command()).toBe(0x6);
    // Read-only identity is read-only.
    z0.ecam.write(blk, 4, 0);
    expect(z0.ecam.read(blk, 4)).toBe(0x1042_1af4);
    // Beyond the ECAM window (last bus + 1): no device in stage 2, a fault rather than a crash.
    expect(z0.space.read(ECAM + 0x1000_0000, 4)).toBeUndefined();
    pci.close();
  });

  it('a zone (re)start resets its functions: command off, BARs unassigned, the device state gone', () => {
    const { pci } = board();
    const z0 = zoneSpace(pci, config('zone0-linux-pci.json'));
    const [, blk] = z0.enumerate();
    const common = blk!.bars.find((b) => b.index === 4)!;
    z0.space.write(common.cpu + 0x14, 1, 0x3n); // device_status = ACKNOWLEDGE | DRIVER
    expect(z0.space.read(common.cpu + 0x14, 1)).toBe(3n);
    expect(z0.ecam.read((1 << 15) + 4, 2) & 0x6).toBe(0x6);
    z0.windows[0]!.device.reset(); // the vECAM, as Zone.start() resets its device windows
    expect(z0.ecam.read((1 << 15) + 4, 2)).toBe(0);
    expect(z0.ecam.read((1 << 15) + 0x20, 4)).toBe(0xc); // BAR4: mem64 prefetchable, no address
    expect(z0.space.read(common.cpu + 0x14, 1)).toBe(0xffn); // nothing decodes there now
    const [, again] = z0.enumerate();
    expect(z0.space.read(again!.bars.find((b) => b.index === 4)!.cpu + 0x14, 1)).toBe(0n);
    pci.close();
  });

  it('refuses a function given to two zones, absent functions and virtual dev_types, naming the zone', () => {
    const { pci } = board();
    zoneSpace(pci, config('zone0-linux-pci.json')).enumerate();
    expect(() => zoneSpace(pci, config('zone1-linux-pci.json', (j) => j.alloc_pci_devs.push({ bdf: '0x18', dev_type: 0 })))).toThrow(
      new PciAssignmentError('PCI function 00:03.0 is given to both zone 0 and zone 1'),
    );
    expect(() => zoneSpace(pci, config('zone1-linux-pci.json', (j) => (j.alloc_pci_devs = [{ bdf: '0x20', dev_type: 0 }])))).toThrow(
      'zone 1: alloc_pci_devs names 00:04.0, which has no function',
    );
    expect(() => zoneSpace(pci, config('zone1-linux-pci.json', (j) => (j.alloc_pci_devs = [{ bdf: '0x28', dev_type: 1 }])))).toThrow(
      'zone 1 (zone1-linux-pci): 00:05.0 has dev_type 1; only physical functions (0) are modelled',
    );
    // Once zone 0 is gone, its functions are reset and reach no memory; zone 1 may take 00:03.0.
    const nvme = pci.host.function(0x18)!;
    expect(nvme.dma).not.toBe(noDma);
    expect(nvme.config.get(4, 2)).toBe(0x6);
    pci.release(0);
    expect(nvme.dma).toBe(noDma);
    expect(nvme.config.get(4, 2)).toBe(0);
    expect(() => zoneSpace(pci, config('zone1-linux-pci.json', (j) => j.alloc_pci_devs.push({ bdf: '0x18', dev_type: 0 })))).not.toThrow();
    pci.close();
  });

  it('the zone device tree describes the zone\'s bus: its ECAM, bus range and windows, INTx only without gits_size (dtc reads it back)', () => {
    const { build } = board();
    const cfg = config('zone1-linux-pci.json', (j) => (j.arch_config.gits_size = '0x0'));
    const { blob } = generateZoneDtb(build.machine, cfg);
    const dir = mkdtempSync(join(tmpdir(), 'zone-pci-dtb-'));
    writeFileSync(join(dir, 'z.dtb'), blob);
    const dts = execFileSync(tool('dtc'), ['-I', 'dtb', '-O', 'dts', '-q', join(dir, 'z.dtb')], { encoding: 'utf8' });
    const node = /pcie@10000000 \{([\s\S]*?)\n\t\};/.exec(dts)?.[1];
    expect(node).toBeDefined();
    const b = cfg.pciConfig[0]!;
    // dtc prints each cell as 0x%02x.
    const c = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;
    const h = (n: number) => `${c(Math.floor(n / 2 ** 32))} ${c(n % 2 ** 32)}`;
    expect(node).toContain(`reg = <${h(b.ecamBase)} ${h((b.busRangeEnd + 1) * 0x10_0000)}>;`);
    expect(node).toContain(`bus-range = <${c(b.busRangeBegin)} ${c(b.busRangeEnd)}>;`);
    expect(node).toContain(
      `ranges = <0x1000000 ${h(b.pciIoBase)} ${h(b.ioBase)} ${h(b.ioSize)} ` +
        `0x2000000 ${h(b.pciMem32Base)} ${h(b.mem32Base)} ${h(b.mem32Size)} ` +
        `0x3000000 ${h(b.pciMem64Base)} ${h(b.mem64Base)} ${h(b.mem64Size)}>;`,
    );
    expect(node).toContain('interrupt-map = <');
    expect(node).not.toContain('msi-map');
    expect(dts).not.toContain('arm,gic-v3-its');
  });

  it('with gits_base/gits_size the zone device tree keeps the ITS at gits_base and the identity msi-map to it (dtc reads it back)', () => {
    const { build } = board();
    const cfg = config('zone1-linux-pci.json');
    const a = cfg.archConfig;
    expect(a.kind === 'gicv3' && a.gitsSize).toBe(0x20000);
    const { blob } = generateZoneDtb(build.machine, cfg);
    const dir = mkdtempSync(join(tmpdir(), 'zone-pci-dtb-'));
    writeFileSync(join(dir, 'z.dtb'), blob);
    const dts = execFileSync(tool('dtc'), ['-I', 'dtb', '-O', 'dts', '-q', join(dir, 'z.dtb')], { encoding: 'utf8' });
    const its = /its@8080000 \{([\s\S]*?)\n\t\t\};/.exec(dts)?.[1];
    expect(its).toBeDefined();
    expect(its).toContain('compatible = "arm,gic-v3-its";');
    expect(its).toContain('msi-controller;');
    expect(its).toContain('reg = <0x00 0x8080000 0x00 0x20000>;');
    const phandle = /phandle = <(0x[0-9a-f]+)>;/.exec(its!)?.[1];
    const node = /pcie@10000000 \{([\s\S]*?)\n\t\};/.exec(dts)?.[1];
    // Requester ids 0..0xffff map to DeviceIDs 0..0xffff of the zone's ITS, as on QEMU virt.
    expect(node).toContain(`msi-map = <0x00 ${phandle} 0x00 0x10000>;`);
  });
});
