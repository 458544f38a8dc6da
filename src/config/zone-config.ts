import type { InputReader } from '../util/input-file.js';
import { JsonFields, loadJson, parseJson, describe } from './json-fields.js';

/**
 * hvisor-tool's zone config (`hvisor zone start FILE`), read unmodified. Field names and rules
 * follow hvisor-tool's tools/hvisor.c and include/zone_config.h (syswonder/hvisor-tool): numbers
 * are JSON integers or C-style number strings; `pci_config` is an object (older) or a list;
 * `alloc_pci_devs` lists BDF numbers (older), `{bdf, dev_type}` or `{domain, bus, device,
 * function, dev_type}` (current).
 */
export type MemoryRegionType = 'ram' | 'io' | 'virtio';

export interface MemoryRegionConfig {
  readonly type: MemoryRegionType;
  /** Host-physical start (board address). */
  readonly physicalStart: number;
  /** Guest-physical start (IPA / GPA) inside the zone. */
  readonly virtualStart: number;
  readonly size: number;
}

/** One inter-VM-communication channel as hvisor's ivc_config describes it. */
export interface IvcConfig {
  readonly ivcId: number;
  readonly peerId: number;
  readonly controlTableIpa: number;
  readonly sharedMemIpa: number;
  readonly rwSecSize: number;
  readonly outSecSize: number;
  readonly interruptNum: number;
  readonly maxPeers: number;
}

export interface GicV2Config {
  readonly kind: 'gicv2';
  readonly gicdBase: number;
  readonly gicdSize: number;
  readonly giccBase: number;
  readonly giccSize: number;
  readonly giccOffset: number;
  readonly gichBase: number;
  readonly gichSize: number;
  readonly gicvBase: number;
  readonly gicvSize: number;
  readonly isAarch32: boolean;
}

export interface GicV3Config {
  readonly kind: 'gicv3';
  readonly gicdBase: number;
  readonly gicdSize: number;
  readonly gicrBase: number;
  readonly gicrSize: number;
  /** 0/0 when the config has no ITS. */
  readonly gitsBase: number;
  readonly gitsSize: number;
  readonly isAarch32: boolean;
}

/** riscv64: PLIC and/or APLIC windows (a zero size means absent). */
export interface RiscvIrqchipConfig {
  readonly kind: 'riscv';
  readonly plicBase: number;
  readonly plicSize: number;
  readonly aplicBase: number;
  readonly aplicSize: number;
}

/** loongarch64 carries no arch config (hvisor-tool skips it); x86_64 is not modelled. */
export interface NoArchConfig {
  readonly kind: 'none';
}

export type ArchConfig = GicV2Config | GicV3Config | RiscvIrqchipConfig | NoArchConfig;

/** One PCI host window given to the zone (hvisor's pci_config). */
export interface PciBusConfig {
  readonly ecamBase: number;
  readonly ecamSize: number;
  readonly ioBase: number;
  readonly ioSize: number;
  readonly pciIoBase: number;
  readonly mem32Base: number;
  readonly mem32Size: number;
  readonly pciMem32Base: number;
  readonly mem64Base: number;
  readonly mem64Size: number;
  readonly pciMem64Base: number;
  readonly busRangeBegin: number;
  readonly busRangeEnd: number;
  readonly domain: number;
}

/** A PCI function given to the zone; `bdf` packs bus<<8 | device<<3 | function. */
export interface PciDeviceAlloc {
  readonly domain: number;
  readonly bdf: number;
  /** hvisor's dev_type (0 = physical passthrough, others = virtual devices). */
  readonly devType: number;
}

export interface ZoneConfig {
  /** Where it came from, for error messages ("board qemu-virt-riscv64 root zone", a path). */
  readonly source: string;
  readonly name: string;
  readonly zoneId: number;
  /** The optional `arch` string ("riscv", "arm64", "loongarch64"). */
  readonly arch: string | undefined;
  /** Physical CPU ids, in config order (the first boots). */
  readonly cpus: readonly number[];
  readonly memoryRegions: readonly MemoryRegionConfig[];
  readonly interrupts: readonly number[];
  readonly ivcConfigs: readonly IvcConfig[];
  readonly kernelFilepath: string;
  readonly dtbFilepath: string;
  readonly kernelLoadPaddr: number;
  readonly dtbLoadPaddr: number;
  /** A virtual address on some arches (loongarch64 uses 0x9000…): kept as bigint. */
  readonly entryPoint: bigint;
  readonly kernelArgs: string | undefined;
  /**
   * Our extension (hvisor-tool has no initrd field): an initramfs copied to `initrd_load_paddr`
   * and named in the generated device tree's /chosen (linux,initrd-start/end).
   */
  readonly initrdFilepath: string | undefined;
  readonly initrdLoadPaddr: number | undefined;
  /**
   * Our extension for the root zone (hvisor writes it into zone0's hand-made DTS): RAM zone0 keeps
   * mapped but lends to nonroot zones, `reserved_memory: [{start, size}]` (host-physical). The
   * generated device tree hides it from zone0's kernel with `no-map` reserved-memory nodes.
   */
  readonly reservedMemory?: readonly { readonly start: number; readonly size: number }[];
  readonly archConfig: ArchConfig;
  readonly pciConfig: readonly PciBusConfig[];
  readonly allocPciDevs: readonly PciDeviceAlloc[];
}

/** hvisor's limits (include/zone_config.h). */
export const CONFIG_MAX_MEMORY_REGIONS = 64;
export const CONFIG_MAX_INTERRUPTS = 1024;
export const CONFIG_MAX_IVC_CONFIGS = 2;
export const CONFIG_NAME_MAXLEN = 32;
export const CONFIG_MAX_PCI_DEV = 32;
export const CONFIG_PCI_BUS_MAXNUM = 4;
/** cpus is a u64 bitmap in hvisor's zone_config. */
export const CONFIG_MAX_CPUS = 64;

/** Reads and parses a zone config file (a regular file of at most 1 MiB). */
export function loadZoneConfig(path: string, read?: InputReader): ZoneConfig {
  return zoneConfigFromJson(loadJson(path, 'zone config', read), path);
}

/** Parses zone-config JSON text; `source` names it in errors. */
export function parseZoneConfig(text: string, source: string): ZoneConfig {
  return zoneConfigFromJson(parseJson(text, source), source);
}

export function zoneConfigFromJson(json: unknown, source: string): ZoneConfig {
  const root = new JsonFields(source, '', json);
  root.object();

  const name = root.field('name').string();
  if (name.length > CONFIG_NAME_MAXLEN) root.field('name').fail(`at most ${CONFIG_NAME_MAXLEN} characters, got ${name.length}`);

  const cpusField = root.field('cpus');
  const cpus = cpusField.items().map((c) => c.int());
  if (cpus.length === 0) cpusField.fail('at least one CPU');
  cpus.forEach((c, i) => {
    if (c >= CONFIG_MAX_CPUS) cpusField.fail(`CPU ids are bits of a 64-bit mask, got ${c}`, `[${i}]`);
    if (cpus.indexOf(c) !== i) cpusField.fail(`CPU ${c} listed twice`, `[${i}]`);
  });

  const regionsField = root.field('memory_regions');
  const regionItems = regionsField.items();
  if (regionItems.length > CONFIG_MAX_MEMORY_REGIONS) regionsField.fail(`at most ${CONFIG_MAX_MEMORY_REGIONS} regions`);
  const memoryRegions = regionItems.map(parseMemoryRegion);

  const interruptsField = root.field('interrupts');
  const interrupts = interruptsField.items().map((f) => {
    const irq = f.num(32);
    if (irq >= CONFIG_MAX_INTERRUPTS) f.fail(`an interrupt number below ${CONFIG_MAX_INTERRUPTS}, got ${irq}`);
    return irq;
  });

  const ivcField = root.field('ivc_configs');
  const ivcItems = ivcField.items();
  if (ivcItems.length > CONFIG_MAX_IVC_CONFIGS) ivcField.fail(`at most ${CONFIG_MAX_IVC_CONFIGS} IVC configs`);

  const pciField = root.optionalField('pci_config');
  const pciItems = pciField === undefined ? [] : pciField.isArray() ? pciField.items() : [pciField];
  if (pciItems.length > CONFIG_PCI_BUS_MAXNUM) pciField!.fail(`at most ${CONFIG_PCI_BUS_MAXNUM} PCI buses`);

  const allocField = root.optionalField('alloc_pci_devs');
  const allocItems = allocField === undefined ? [] : allocField.items();
  if (allocItems.length > CONFIG_MAX_PCI_DEV) allocField!.fail(`at most ${CONFIG_MAX_PCI_DEV} PCI devices`);

  const reservedField = root.optionalField('reserved_memory');
  const reservedMemory = (reservedField?.items() ?? []).map((f) => ({ start: f.field('start').num(), size: f.field('size').num() }));
  if (reservedMemory.length > CONFIG_MAX_MEMORY_REGIONS) reservedField!.fail(`at most ${CONFIG_MAX_MEMORY_REGIONS} reserved ranges`);
  const archField = root.optionalField('arch');
  const kernelArgsField = root.optionalField('kernel_args');
  const initrdField = root.optionalField('initrd_filepath');
  const initrdPaddrField = root.optionalField('initrd_load_paddr');
  if ((initrdField === undefined) !== (initrdPaddrField === undefined)) {
    (initrdField ?? initrdPaddrField)!.fail('initrd_filepath and initrd_load_paddr given together');
  }
  return {
    source,
    name,
    zoneId: root.field('zone_id').int(),
    arch: archField?.string(),
    cpus,
    memoryRegions,
    interrupts,
    ivcConfigs: ivcItems.map(parseIvc),
    kernelFilepath: root.field('kernel_filepath').string(),
    dtbFilepath: root.field('dtb_filepath').string(),
    kernelLoadPaddr: root.field('kernel_load_paddr').num(),
    dtbLoadPaddr: root.field('dtb_load_paddr').num(),
    entryPoint: root.field('entry_point').u(64),
    kernelArgs: kernelArgsField?.string(),
    initrdFilepath: initrdField?.string() || undefined, // empty = none, as for every image path
    initrdLoadPaddr: initrdPaddrField?.num(),
    ...(reservedMemory.length > 0 && { reservedMemory }),
    archConfig: parseArchConfig(root),
    pciConfig: pciItems.map(parsePciBus),
    allocPciDevs: allocItems.map(parsePciAlloc),
  };
}

function parseMemoryRegion(f: JsonFields): MemoryRegionConfig {
  const typeField = f.field('type');
  const type = typeField.string();
  if (type !== 'ram' && type !== 'io' && type !== 'virtio') return typeField.fail(`one of "ram", "io", "virtio", got ${describe(type)}`);
  const size = f.field('size').num();
  if (size === 0) f.field('size').fail('a non-zero size');
  const physicalStart = f.field('physical_start').num();
  const virtualStart = f.field('virtual_start').num();
  if (physicalStart + size > Number.MAX_SAFE_INTEGER || virtualStart + size > Number.MAX_SAFE_INTEGER) {
    f.fail('a region that ends below 2^53');
  }
  return { type, physicalStart, virtualStart, size };
}

function parseIvc(f: JsonFields): IvcConfig {
  return {
    ivcId: f.field('ivc_id').int(),
    peerId: f.field('peer_id').int(),
    controlTableIpa: f.field('control_table_ipa').num(),
    sharedMemIpa: f.field('shared_mem_ipa').num(),
    rwSecSize: f.field('rw_sec_size').num(32),
    outSecSize: f.field('out_sec_size').num(32),
    interruptNum: f.field('interrupt_num').int(),
    maxPeers: f.field('max_peers').int(),
  };
}

function parseArchConfig(root: JsonFields): ArchConfig {
  const f = root.optionalField('arch_config');
  if (f === undefined) {
    // hvisor-tool reads no arch_config on loongarch64 only.
    if (root.optionalField('arch')?.string().startsWith('loongarch')) return { kind: 'none' };
    return root.fail('missing required field "arch_config"');
  }
  const obj = f.object();
  const n = (key: string) => f.field(key).num();
  const optional = (key: string) => (obj[key] === undefined ? 0 : f.field(key).num());
  const isAarch32 = obj['is_aarch32'] === undefined ? false : f.field('is_aarch32').boolean();
  if (obj['gic_version'] !== undefined) {
    const versionField = f.field('gic_version');
    const version = versionField.string();
    if (version === 'v2') {
      return {
        kind: 'gicv2',
        gicdBase: n('gicd_base'),
        gicdSize: n('gicd_size'),
        giccBase: n('gicc_base'),
        giccSize: n('gicc_size'),
        giccOffset: n('gicc_offset'),
        gichBase: n('gich_base'),
        gichSize: n('gich_size'),
        gicvBase: n('gicv_base'),
        gicvSize: n('gicv_size'),
        isAarch32,
      };
    }
    if (version === 'v3') {
      return {
        kind: 'gicv3',
        gicdBase: n('gicd_base'),
        gicdSize: n('gicd_size'),
        gicrBase: n('gicr_base'),
        gicrSize: n('gicr_size'),
        gitsBase: optional('gits_base'),
        gitsSize: optional('gits_size'),
        isAarch32,
      };
    }
    return versionField.fail(`"v2" or "v3", got ${describe(version)}`);
  }
  if (obj['plic_base'] !== undefined || obj['aplic_base'] !== undefined) {
    return {
      kind: 'riscv',
      plicBase: optional('plic_base'),
      plicSize: optional('plic_size'),
      aplicBase: optional('aplic_base'),
      aplicSize: optional('aplic_size'),
    };
  }
  if (root.optionalField('arch')?.string().startsWith('loongarch')) return { kind: 'none' };
  return f.fail('"gic_version" (aarch64) or "plic_base"/"aplic_base" (riscv64)');
}

function parsePciBus(f: JsonFields): PciBusConfig {
  const n = (key: string) => f.field(key).num();
  const ecamSize = n('ecam_size');
  // Older configs (an object, before multi-bus support) have no bus range or domain: the ECAM
  // window's size then decides the buses (1 MiB each).
  const defaultEnd = Math.max(0, Math.min(255, Math.floor(ecamSize / 0x100000) - 1));
  const busRangeBegin = f.has('bus_range_begin') ? f.field('bus_range_begin').num(32) : 0;
  const busRangeEnd = f.has('bus_range_end') ? f.field('bus_range_end').num(32) : defaultEnd;
  if (busRangeEnd < busRangeBegin) f.fail(`bus_range_end ${busRangeEnd} below bus_range_begin ${busRangeBegin}`);
  return {
    ecamBase: n('ecam_base'),
    ecamSize,
    ioBase: n('io_base'),
    ioSize: n('io_size'),
    pciIoBase: n('pci_io_base'),
    mem32Base: n('mem32_base'),
    mem32Size: n('mem32_size'),
    pciMem32Base: n('pci_mem32_base'),
    mem64Base: n('mem64_base'),
    mem64Size: n('mem64_size'),
    pciMem64Base: n('pci_mem64_base'),
    busRangeBegin,
    busRangeEnd,
    domain: f.has('domain') ? f.field('domain').num(8) : 0,
  };
}

function parsePciAlloc(f: JsonFields): PciDeviceAlloc {
  if (!(f.value !== null && typeof f.value === 'object' && !Array.isArray(f.value))) {
    return { domain: 0, bdf: f.num(16), devType: 0 };
  }
  const devType = f.has('dev_type') ? f.field('dev_type').num(32) : 0;
  if (f.has('bdf')) return { domain: 0, bdf: f.field('bdf').num(16), devType };
  const bus = f.field('bus').num(8);
  const device = f.field('device').num(8);
  const fn = f.field('function').num(8);
  if (device > 31) f.field('device').fail(`a device number 0..31, got ${device}`);
  if (fn > 7) f.field('function').fail(`a function number 0..7, got ${fn}`);
  return { domain: f.has('domain') ? f.field('domain').num(8) : 0, bdf: (bus << 8) | (device << 3) | fn, devType };
}
