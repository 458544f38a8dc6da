import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadZoneConfig, parseZoneConfig } from '../../src/config/zone-config.js';
import { formatBdf } from '../../src/machine/bdf.js';
import { ConfigError } from '../../src/config/config-error.js';
import { parseCNumber } from '../../src/config/json-fields.js';

const dir = join(import.meta.dirname, 'configs');
const cfg = (f: string) => join(dir, f);

describe('hvisor-tool zone configs, read unmodified', () => {
  it('qemu-aarch64 zone1 with PCI: GICv3, virtio window, current alloc_pci_devs form', () => {
    const z = loadZoneConfig(cfg('qemu-aarch64-zone1_linux_with_pci.json'));
    expect(z.name).toBe('linux2');
    expect(z.zoneId).toBe(1);
    expect(z.cpus).toEqual([2, 3]);
    expect(z.memoryRegions).toEqual([
      { type: 'ram', physicalStart: 0x50000000, virtualStart: 0x50000000, size: 0x30000000 },
      { type: 'virtio', physicalStart: 0xa000000, virtualStart: 0xa000000, size: 0x4000 },
    ]);
    expect(z.interrupts).toEqual([76, 78]);
    expect(z.kernelLoadPaddr).toBe(0x50400000);
    expect(z.entryPoint).toBe(0x50400000n);
    expect(z.archConfig).toEqual({
      kind: 'gicv3', gicdBase: 0x8000000, gicdSize: 0x10000, gicrBase: 0x80a0000, gicrSize: 0xf60000,
      gitsBase: 0x8080000, gitsSize: 0x20000, isAarch32: false,
    });
    expect(z.pciConfig).toHaveLength(1);
    expect(z.pciConfig[0]!.ecamBase).toBe(0x4010000000);
    expect(z.pciConfig[0]!.busRangeEnd).toBe(0x1f);
    expect(z.allocPciDevs.map((d) => formatBdf(d.bdf))).toEqual(['00:00.0', '00:11.0']);
  });

  it('older {bdf, dev_type} and plain-number alloc_pci_devs, pci_config as an object', () => {
    const bdfForm = loadZoneConfig(cfg('qemu-aarch64-zone1_linux_with_pci.bdf-form.json'));
    expect(bdfForm.allocPciDevs.map((d) => d.bdf)).toEqual([0, 0x18]);
    const old = loadZoneConfig(cfg('qemu-riscv64-linux2-aia.old-pci-numbers.json'));
    expect(old.allocPciDevs.map((d) => formatBdf(d.bdf))).toEqual(['00:00.0', '00:02.0']);
    expect(old.pciConfig).toHaveLength(1);
    // No bus range in the old form: 256 MiB of ECAM = buses 0..255.
    expect(old.pciConfig[0]).toMatchObject({ ecamBase: 0x30000000, busRangeBegin: 0, busRangeEnd: 255, domain: 0 });
  });

  it('riscv64 PLIC/APLIC and io passthrough regions', () => {
    const z = loadZoneConfig(cfg('qemu-riscv64-linux2.json'));
    expect(z.arch).toBe('riscv');
    expect(z.cpus).toEqual([3]);
    expect(z.memoryRegions.filter((r) => r.type === 'io').map((r) => r.physicalStart)).toEqual([0x10007000, 0x10006000]);
    expect(z.archConfig).toEqual({ kind: 'riscv', plicBase: 0xc000000, plicSize: 0x4000000, aplicBase: 0xd000000, aplicSize: 0x8000 });
    expect(z.allocPciDevs.map((d) => d.bdf)).toEqual([0, 0x10, 0x20]);
  });

  it('GICv2 (zcu102), no pci_config at all (older aarch64 example)', () => {
    const z = loadZoneConfig(cfg('zcu102-zone1_linux.json'));
    expect(z.archConfig).toMatchObject({ kind: 'gicv2', gicdBase: 0xf9010000, giccBase: 0xf9020000, giccOffset: 0xf000 });
    expect(loadZoneConfig(cfg('qemu-aarch64-zone1_linux.json')).pciConfig).toEqual([]);
  });

  it('interrupts as hex strings, empty pci list (rk3588); IVC configs (ruxos display)', () => {
    const z = loadZoneConfig(cfg('rk3588-zone1-linux-npu.json'));
    expect(z.interrupts).toEqual([0x44, 0x41, 0x42, 0x43, 0x45, 0x8e, 0x8f, 0x90]);
    expect(z.pciConfig).toEqual([]);
    expect(z.archConfig).toMatchObject({ kind: 'gicv3', gitsBase: 0, gitsSize: 0, isAarch32: false });
    const r = loadZoneConfig(cfg('qemu-aarch64-zone1_ruxos_display.json'));
    expect(r.ivcConfigs).toEqual([
      { ivcId: 0, peerId: 1, controlTableIpa: 0x70000000, sharedMemIpa: 0x70001000, rwSecSize: 0, outSecSize: 0x1000, interruptNum: 66, maxPeers: 2 },
    ]);
  });

  it('loongarch64: dummy arch_config, 64-bit virtual entry point, kernel_args', () => {
    const z = loadZoneConfig(cfg('3a6000-loongarch64-zone1_linux.json'));
    expect(z.archConfig).toEqual({ kind: 'none' });
    expect(z.entryPoint).toBe(0x9000000000faf000n);
    expect(z.kernelArgs).toContain('console=ttyS0');
    expect(z.pciConfig[0]!.ecamBase).toBe(0xfe00000000);
  });
});

describe('schema errors name the file, the JSON path and what was expected', () => {
  const base = () => JSON.parse(readFileSync(cfg('qemu-aarch64-zone1_linux_with_pci.json'), 'utf8'));
  const attempt = (mutate: (j: any) => void): ConfigError => {
    const j = base();
    mutate(j);
    try {
      parseZoneConfig(JSON.stringify(j), 'zone1.json');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('bad size string', () => {
    const e = attempt((j) => (j.memory_regions[1].size = '0x4000zz'));
    expect(e.message).toBe('zone1.json: memory_regions[1].size: expected an unsigned integer (a number or a "0x…" string), got "0x4000zz"');
    expect(e.jsonPath).toBe('memory_regions[1].size');
  });
  it('missing field, wrong type, unknown region type, bad GIC version', () => {
    expect(attempt((j) => delete j.entry_point).message).toBe('zone1.json: (top level): missing required field "entry_point"');
    expect(attempt((j) => (j.cpus = 'all')).message).toBe('zone1.json: cpus: expected a list, got "all"');
    expect(attempt((j) => (j.memory_regions[0].type = 'rom')).message).toBe('zone1.json: memory_regions[0].type: one of "ram", "io", "virtio", got "rom"');
    expect(attempt((j) => (j.arch_config.gic_version = 'v4')).message).toBe('zone1.json: arch_config.gic_version: "v2" or "v3", got "v4"');
    expect(attempt((j) => delete j.arch_config.gicr_base).message).toBe('zone1.json: arch_config: missing required field "gicr_base"');
  });
  it('range checks: u8 domain, interrupt limit, negative numbers, duplicate CPU, PCI device number', () => {
    expect(attempt((j) => (j.pci_config[0].domain = '0x100')).message).toBe('zone1.json: pci_config[0].domain: "0x100" does not fit in 8 bits');
    expect(attempt((j) => (j.interrupts = [1024])).message).toBe('zone1.json: interrupts[0]: an interrupt number below 1024, got 1024');
    expect(attempt((j) => (j.zone_id = -1)).message).toContain('zone_id: expected an unsigned integer');
    expect(attempt((j) => (j.cpus = [2, 2])).message).toBe('zone1.json: cpus[1]: CPU 2 listed twice');
    expect(attempt((j) => (j.alloc_pci_devs[1].device = '0x20')).message).toBe('zone1.json: alloc_pci_devs[1].device: a device number 0..31, got 32');
    expect(attempt((j) => (j.name = 'x'.repeat(33))).message).toBe('zone1.json: name: at most 32 characters, got 33');
  });
  it('not JSON, unreadable file', () => {
    expect(() => parseZoneConfig('{', 'z.json')).toThrow(/^z\.json: \(top level\): not valid JSON/);
    expect(() => loadZoneConfig(join(dir, 'nope.json'))).toThrow(/nope\.json: \(top level\): cannot read the zone config \(ENOENT\)/);
  });
  it('numbers like strtoumax base 0', () => {
    expect(parseCNumber('0x1F')).toBe(31n);
    expect(parseCNumber('010')).toBe(8n);
    expect(parseCNumber('0')).toBe(0n);
    expect(parseCNumber('42')).toBe(42n);
    expect(parseCNumber('08')).toBeUndefined();
    expect(parseCNumber('0x')).toBeUndefined();
    expect(parseCNumber('-1')).toBeUndefined();
  });
});
