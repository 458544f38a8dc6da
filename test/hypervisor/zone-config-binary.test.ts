import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { loadZoneConfig } from '../../src/config/zone-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { decodeZoneConfig, encodeZoneConfig, zoneConfigLayout, type ConfigVersion, type ZoneConfigLayout } from '../../src/config/zone-config-binary.js';

/**
 * Our own C description of `struct zone_config`: hvisor-tool's include/zone_config.h (magic 6) or
 * hvisor v0.4's src/config.rs (magic 5: no UEFI union, PCI devices without their virtual BDF),
 * compiled by the cross gcc of each arch: the C ABI, not our arithmetic, decides the offsets.
 */
function cSource(arch: 'aarch64' | 'riscv64', version: ConfigVersion): string {
  const uefi = version === 6 ? 'union uefi_u uefi;' : '';
  const archConfig =
    arch === 'aarch64'
      ? `struct g2 { u64 tag; u64 f[9]; }; struct g3 { u64 tag; u64 f[6]; }; union gic { struct g2 a; struct g3 b; };
         struct uefi { u64 tag; u64 f[3]; }; union uefi_u { struct uefi a; u64 none; };
         struct arch_cfg { u8 is_aarch32; union gic gic; ${uefi} };`
      : 'struct arch_cfg { u64 plic_base, plic_size, aplic_base, aplic_size; };';
  const pciDev = version === 6 ? 'u8 domain, bus, device, function, v_bus, v_device, v_function; u32 dev_type;' : 'u8 domain, bus, device, function; u32 dev_type;';
  return `typedef __UINT8_TYPE__ u8; typedef __UINT32_TYPE__ u32; typedef __UINT64_TYPE__ u64;
    struct region { u32 type; u64 physical_start, virtual_start, size; };
    struct pci_dev { ${pciDev} };
    struct pci_bus { u64 f[11]; u32 bus_range_begin, bus_range_end; u8 domain; };
    struct ivc { u32 ivc_id, peer_id; u64 control_table_ipa, shared_mem_ipa; u32 rw_sec_size, out_sec_size, interrupt_num, max_peers; };
    ${archConfig}
    struct zone_config {
      u32 zone_id; u64 cpus; u32 num_memory_regions; struct region memory_regions[64]; u32 interrupts_bitmap[32];
      u32 num_ivc_configs; struct ivc ivc_configs[2]; u64 entry_point, kernel_load_paddr, kernel_size, dtb_load_paddr, dtb_size;
      char name[32]; struct arch_cfg arch_config; u64 num_pci_bus; struct pci_bus pci_config[4]; u64 num_pci_devs;
      struct pci_dev alloc_pci_devs[32];
    };
    struct zone_info { u32 zone_id; u64 cpus; char name[32]; u8 is_err; };
    #define O(f) __builtin_offsetof(struct zone_config, f)
    const unsigned long v[] = { O(zone_id), O(cpus), O(num_memory_regions), O(memory_regions), O(interrupts_bitmap),
      O(num_ivc_configs), O(ivc_configs), O(entry_point), O(kernel_load_paddr), O(kernel_size), O(dtb_load_paddr),
      O(dtb_size), O(name), O(arch_config), O(num_pci_bus), O(pci_config), O(num_pci_devs), O(alloc_pci_devs),
      sizeof(struct zone_config), sizeof(struct zone_info), __builtin_offsetof(struct zone_info, name), __builtin_offsetof(struct zone_info, is_err) };`;
}

const FIELDS: (keyof ZoneConfigLayout)[] = [
  'zoneId', 'cpus', 'numMemoryRegions', 'memoryRegions', 'interruptsBitmap', 'numIvcConfigs', 'ivcConfigs', 'entryPoint',
  'kernelLoadPaddr', 'kernelSize', 'dtbLoadPaddr', 'dtbSize', 'name', 'archConfig', 'numPciBus', 'pciConfig', 'numPciDevs',
  'allocPciDevs', 'size',
];

describe('binary zone_config (HVISOR_HC_START_ZONE)', () => {
  for (const [arch, version] of [['aarch64', 6], ['riscv64', 6], ['aarch64', 5], ['riscv64', 5]] as const) {
    it(`${arch}, CONFIG_MAGIC_VERSION ${version}: our layout equals the C ABI layout gcc computes`, () => {
      const gcc = tool(`${arch}-linux-gnu-gcc`);
      const dir = mkdtempSync(join(tmpdir(), 'zcfg-'));
      writeFileSync(join(dir, 'layout.c'), cSource(arch, version));
      const asm = execFileSync(gcc, ['-ffreestanding', '-S', '-o', '-', join(dir, 'layout.c')], { encoding: 'utf8' });
      const values = [...asm.matchAll(/\.(?:xword|dword|quad)\s+(\d+)/g)].map((m) => Number(m[1]));
      const layout = zoneConfigLayout(arch, version);
      expect(Object.fromEntries(FIELDS.map((f, i) => [f, values[i]]))).toEqual(Object.fromEntries(FIELDS.map((f) => [f, layout[f]])));
      expect(values.slice(FIELDS.length)).toEqual([56, 16, 48]); // zone_info: size, name, is_err
    });
  }

  it('round-trips hvisor-tool example configs (GICv3 + PCI, GICv2, PLIC + IVC-free)', () => {
    const dir = join(import.meta.dirname, 'configs');
    const cases = [
      ['qemu-aarch64-zone1_linux_with_pci.json', 'aarch64'],
      ['zcu102-zone1_linux.json', 'aarch64'],
      ['qemu-aarch64-zone1_ruxos_display.json', 'aarch64'],
      ['qemu-riscv64-linux2.json', 'riscv64'],
    ] as const;
    for (const [file, arch] of cases) {
      const c = loadZoneConfig(join(dir, file));
      for (const version of [5, 6] as const) {
        const back = decodeZoneConfig(encodeZoneConfig(c, arch, 0x1234, 0x56, version), arch, 'hypercall', version);
        expect(back.kernelSize).toBe(0x1234);
        expect(back.dtbSize).toBe(0x56);
        expect({ ...back.config, source: c.source, arch: c.arch, kernelFilepath: c.kernelFilepath, dtbFilepath: c.dtbFilepath, kernelArgs: c.kernelArgs })
          .toEqual({ ...c, interrupts: [...c.interrupts].sort((a, b) => a - b) });
      }
    }
  });

  it('refuses a wrong size or a bad region type, naming the field', () => {
    expect(() => decodeZoneConfig(new Uint8Array(100), 'aarch64', 'hvc')).toThrow(new ConfigError('hvc', 'zone_config', '100 bytes, aarch64 expects 3296 (CONFIG_MAGIC_VERSION 6)'));
    const bytes = new Uint8Array(zoneConfigLayout('riscv64').size);
    const v = new DataView(bytes.buffer);
    v.setUint32(16, 1, true);
    v.setUint32(24, 7, true);
    expect(() => decodeZoneConfig(bytes, 'riscv64', 'hvc')).toThrow('hvc: memory_regions[0].type: 7 is not 0 (ram), 1 (io) or 2 (virtio)');
  });
});
