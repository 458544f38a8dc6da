import type { Arch } from '../machine/machine.js';
import type { AddressSpace } from '../machine/address-space.js';
import { ConfigError } from './config-error.js';
import {
  CONFIG_MAX_INTERRUPTS,
  CONFIG_MAX_IVC_CONFIGS,
  CONFIG_MAX_MEMORY_REGIONS,
  CONFIG_MAX_PCI_DEV,
  CONFIG_NAME_MAXLEN,
  CONFIG_PCI_BUS_MAXNUM,
  type ArchConfig,
  type MemoryRegionType,
  type ZoneConfig,
} from './zone-config.js';

/**
 * The binary `struct zone_config` hvisor-tool hands the hypervisor with HVISOR_HC_START_ZONE
 * (include/zone_config.h), laid out by the C ABI of aarch64 / riscv64 LP64 (natural alignment).
 * Offsets are computed below and checked against gcc in the tests. Two layouts exist:
 * CONFIG_MAGIC_VERSION 5 (hvisor v0.4, src/config.rs) and 6 (hvisor-tool main), which adds the UEFI
 * union to aarch64's arch_config and the virtual bus/device/function to each PCI device.
 */
export const CONFIG_MAGIC_VERSION = 6n;
export type ConfigVersion = 5 | 6;
export const CONFIG_VERSIONS: readonly ConfigVersion[] = [5, 6];

const REGION_SIZE = 32; // u32 type (+4 pad), u64 physical_start, virtual_start, size
const IVC_SIZE = 40; // u32 ivc_id, peer_id, u64 control_table_ipa, shared_mem_ipa, u32 rw, out, irq, max_peers
const PCI_BUS_SIZE = 104; // 11 x u64, u32 bus_range_begin/end, u8 domain, padded to 8
/** v6: 7 x u8 (+1 pad), u32 dev_type; v5: domain, bus, device, function, u32 dev_type. */
const pciDevSize = (version: ConfigVersion) => (version === 6 ? 12 : 8);
const BITMAP_WORDS = CONFIG_MAX_INTERRUPTS / 32;

export interface ZoneConfigLayout {
  readonly zoneId: number;
  readonly cpus: number;
  readonly numMemoryRegions: number;
  readonly memoryRegions: number;
  readonly interruptsBitmap: number;
  readonly numIvcConfigs: number;
  readonly ivcConfigs: number;
  readonly entryPoint: number;
  readonly kernelLoadPaddr: number;
  readonly kernelSize: number;
  readonly dtbLoadPaddr: number;
  readonly dtbSize: number;
  readonly name: number;
  readonly archConfig: number;
  readonly numPciBus: number;
  readonly pciConfig: number;
  readonly numPciDevs: number;
  readonly allocPciDevs: number;
  readonly size: number;
}

/** sizeof(struct arch_zone_config) per arch (aarch64: u8 is_aarch32, GIC union of 80, v6's UEFI union of 32). */
function archConfigSize(arch: Arch, version: ConfigVersion): number {
  switch (arch) {
    case 'aarch64':
      return 8 + 80 + (version === 6 ? 32 : 0);
    case 'riscv64':
      return 32;
    case 'loongarch64':
      return 8;
  }
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

export function zoneConfigLayout(arch: Arch, version: ConfigVersion = 6): ZoneConfigLayout {
  const zoneId = 0;
  const cpus = 8;
  const numMemoryRegions = 16;
  const memoryRegions = 24;
  const interruptsBitmap = memoryRegions + CONFIG_MAX_MEMORY_REGIONS * REGION_SIZE;
  const numIvcConfigs = interruptsBitmap + BITMAP_WORDS * 4;
  const ivcConfigs = align(numIvcConfigs + 4, 8);
  const entryPoint = ivcConfigs + CONFIG_MAX_IVC_CONFIGS * IVC_SIZE;
  const name = entryPoint + 5 * 8;
  const archConfig = align(name + CONFIG_NAME_MAXLEN, 8);
  const numPciBus = archConfig + archConfigSize(arch, version);
  const pciConfig = numPciBus + 8;
  const numPciDevs = pciConfig + CONFIG_PCI_BUS_MAXNUM * PCI_BUS_SIZE;
  const allocPciDevs = numPciDevs + 8;
  const size = align(allocPciDevs + CONFIG_MAX_PCI_DEV * pciDevSize(version), 8);
  return {
    zoneId, cpus, numMemoryRegions, memoryRegions, interruptsBitmap, numIvcConfigs, ivcConfigs,
    entryPoint, kernelLoadPaddr: entryPoint + 8, kernelSize: entryPoint + 16, dtbLoadPaddr: entryPoint + 24,
    dtbSize: entryPoint + 32, name, archConfig, numPciBus, pciConfig, numPciDevs, allocPciDevs, size,
  };
}

/** `struct zone_info` of HVISOR_HC_ZONE_LIST: u32 zone_id, u64 cpus, char name[32], u8 is_err. */
export const ZONE_INFO_SIZE = 56;

const TYPES: readonly MemoryRegionType[] = ['ram', 'io', 'virtio'];

/** A zone config plus what the binary form adds: the sizes of the images already in memory. */
export interface BinaryZoneConfig {
  readonly config: ZoneConfig;
  readonly kernelSize: number;
  readonly dtbSize: number;
}

/** Decodes a binary zone_config (as hvisor does on HVISOR_HC_START_ZONE). */
export function decodeZoneConfig(bytes: Uint8Array, arch: Arch, source: string, version: ConfigVersion = 6): BinaryZoneConfig {
  const L = zoneConfigLayout(arch, version);
  if (bytes.length !== L.size) throw new ConfigError(source, 'zone_config', `${bytes.length} bytes, ${arch} expects ${L.size} (CONFIG_MAGIC_VERSION ${version})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const num = (o: number, what: string) => {
    const x = u64(o);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfigError(source, what, `0x${x.toString(16)} is beyond 2^53, which hvisor-ts models`);
    return Number(x);
  };

  const cpuMask = u64(L.cpus);
  const cpus: number[] = [];
  for (let i = 0; i < 64; i++) if ((cpuMask >> BigInt(i)) & 1n) cpus.push(i);
  const nRegions = u32(L.numMemoryRegions);
  if (nRegions > CONFIG_MAX_MEMORY_REGIONS) throw new ConfigError(source, 'num_memory_regions', `${nRegions} > ${CONFIG_MAX_MEMORY_REGIONS}`);
  const memoryRegions = Array.from({ length: nRegions }, (_, i) => {
    const o = L.memoryRegions + i * REGION_SIZE;
    const type = TYPES[u32(o)];
    if (type === undefined) throw new ConfigError(source, `memory_regions[${i}].type`, `${u32(o)} is not 0 (ram), 1 (io) or 2 (virtio)`);
    return { type, physicalStart: num(o + 8, 'physical_start'), virtualStart: num(o + 16, 'virtual_start'), size: num(o + 24, 'size') };
  });
  const interrupts: number[] = [];
  for (let w = 0; w < BITMAP_WORDS; w++) {
    const word = u32(L.interruptsBitmap + 4 * w);
    for (let b = 0; b < 32; b++) if ((word >>> b) & 1) interrupts.push(w * 32 + b);
  }
  const nIvc = u32(L.numIvcConfigs);
  if (nIvc > CONFIG_MAX_IVC_CONFIGS) throw new ConfigError(source, 'num_ivc_configs', `${nIvc} > ${CONFIG_MAX_IVC_CONFIGS}`);
  const ivcConfigs = Array.from({ length: nIvc }, (_, i) => {
    const o = L.ivcConfigs + i * IVC_SIZE;
    return {
      ivcId: u32(o), peerId: u32(o + 4), controlTableIpa: num(o + 8, 'control_table_ipa'), sharedMemIpa: num(o + 16, 'shared_mem_ipa'),
      rwSecSize: u32(o + 24), outSecSize: u32(o + 28), interruptNum: u32(o + 32), maxPeers: u32(o + 36),
    };
  });
  const nameBytes = bytes.subarray(L.name, L.name + CONFIG_NAME_MAXLEN);
  const end = nameBytes.indexOf(0);
  const name = Buffer.from(nameBytes.subarray(0, end < 0 ? CONFIG_NAME_MAXLEN : end)).toString('utf8');

  const nBus = Number(u64(L.numPciBus));
  if (nBus > CONFIG_PCI_BUS_MAXNUM) throw new ConfigError(source, 'num_pci_bus', `${nBus} > ${CONFIG_PCI_BUS_MAXNUM}`);
  const pciConfig = Array.from({ length: nBus }, (_, i) => {
    const o = L.pciConfig + i * PCI_BUS_SIZE;
    const f = (k: number, what: string) => num(o + 8 * k, what);
    return {
      ecamBase: f(0, 'ecam_base'), ecamSize: f(1, 'ecam_size'), ioBase: f(2, 'io_base'), ioSize: f(3, 'io_size'), pciIoBase: f(4, 'pci_io_base'),
      mem32Base: f(5, 'mem32_base'), mem32Size: f(6, 'mem32_size'), pciMem32Base: f(7, 'pci_mem32_base'),
      mem64Base: f(8, 'mem64_base'), mem64Size: f(9, 'mem64_size'), pciMem64Base: f(10, 'pci_mem64_base'),
      busRangeBegin: u32(o + 88), busRangeEnd: u32(o + 92), domain: v.getUint8(o + 96),
    };
  });
  const nDevs = Number(u64(L.numPciDevs));
  if (nDevs > CONFIG_MAX_PCI_DEV) throw new ConfigError(source, 'num_pci_devs', `${nDevs} > ${CONFIG_MAX_PCI_DEV}`);
  const allocPciDevs = Array.from({ length: nDevs }, (_, i) => {
    const o = L.allocPciDevs + i * pciDevSize(version);
    const bus = v.getUint8(o + 1);
    const device = v.getUint8(o + 2);
    const fn = v.getUint8(o + 3);
    return { domain: v.getUint8(o), bdf: (bus << 8) | ((device & 31) << 3) | (fn & 7), devType: u32(o + (version === 6 ? 8 : 4)) };
  });

  const config: ZoneConfig = {
    source,
    name,
    zoneId: u32(L.zoneId),
    arch: undefined,
    cpus,
    memoryRegions,
    interrupts,
    ivcConfigs,
    kernelFilepath: '',
    dtbFilepath: '',
    kernelLoadPaddr: num(L.kernelLoadPaddr, 'kernel_load_paddr'),
    dtbLoadPaddr: num(L.dtbLoadPaddr, 'dtb_load_paddr'),
    entryPoint: u64(L.entryPoint),
    kernelArgs: undefined,
    initrdFilepath: undefined,
    initrdLoadPaddr: undefined,
    archConfig: decodeArch(v, L.archConfig, arch, num, source),
    pciConfig,
    allocPciDevs,
  };
  return { config, kernelSize: num(L.kernelSize, 'kernel_size'), dtbSize: num(L.dtbSize, 'dtb_size') };
}

function decodeArch(v: DataView, o: number, arch: Arch, num: (o: number, what: string) => number, source: string): ArchConfig {
  if (arch === 'riscv64') {
    return { kind: 'riscv', plicBase: num(o, 'plic_base'), plicSize: num(o + 8, 'plic_size'), aplicBase: num(o + 16, 'aplic_base'), aplicSize: num(o + 24, 'aplic_size') };
  }
  if (arch === 'loongarch64') return { kind: 'none' };
  const isAarch32 = v.getUint8(o) !== 0;
  const tag = v.getBigUint64(o + 8, true);
  const g = (k: number, what: string) => num(o + 16 + 8 * k, what);
  if (tag === 0n) {
    return {
      kind: 'gicv2', gicdBase: g(0, 'gicd_base'), gicdSize: g(1, 'gicd_size'), giccBase: g(2, 'gicc_base'), giccSize: g(3, 'gicc_size'),
      giccOffset: g(4, 'gicc_offset'), gichBase: g(5, 'gich_base'), gichSize: g(6, 'gich_size'), gicvBase: g(7, 'gicv_base'), gicvSize: g(8, 'gicv_size'), isAarch32,
    };
  }
  if (tag === 1n) {
    return {
      kind: 'gicv3', gicdBase: g(0, 'gicd_base'), gicdSize: g(1, 'gicd_size'), gicrBase: g(2, 'gicr_base'), gicrSize: g(3, 'gicr_size'),
      gitsBase: g(4, 'gits_base'), gitsSize: g(5, 'gits_size'), isAarch32,
    };
  }
  throw new ConfigError(source, 'arch_config.gic_version_tag', `${tag} is not 0 (v2) or 1 (v3)`);
}

/** Encodes a zone config the way hvisor-tool does before HVISOR_HC_START_ZONE (for tests and tools). */
export function encodeZoneConfig(c: ZoneConfig, arch: Arch, kernelSize = 0, dtbSize = 0, version: ConfigVersion = 6): Uint8Array {
  const L = zoneConfigLayout(arch, version);
  const bytes = new Uint8Array(L.size);
  const v = new DataView(bytes.buffer);
  const u32 = (o: number, x: number) => v.setUint32(o, x, true);
  const u64 = (o: number, x: number | bigint) => v.setBigUint64(o, BigInt(x), true);
  u32(L.zoneId, c.zoneId);
  u64(L.cpus, c.cpus.reduce((m, id) => m | (1n << BigInt(id)), 0n));
  u32(L.numMemoryRegions, c.memoryRegions.length);
  c.memoryRegions.forEach((r, i) => {
    const o = L.memoryRegions + i * REGION_SIZE;
    u32(o, TYPES.indexOf(r.type));
    u64(o + 8, r.physicalStart);
    u64(o + 16, r.virtualStart);
    u64(o + 24, r.size);
  });
  for (const irq of c.interrupts) {
    const o = L.interruptsBitmap + 4 * (irq >> 5);
    u32(o, (v.getUint32(o, true) | (1 << (irq & 31))) >>> 0);
  }
  u32(L.numIvcConfigs, c.ivcConfigs.length);
  c.ivcConfigs.forEach((x, i) => {
    const o = L.ivcConfigs + i * IVC_SIZE;
    u32(o, x.ivcId); u32(o + 4, x.peerId); u64(o + 8, x.controlTableIpa); u64(o + 16, x.sharedMemIpa);
    u32(o + 24, x.rwSecSize); u32(o + 28, x.outSecSize); u32(o + 32, x.interruptNum); u32(o + 36, x.maxPeers);
  });
  u64(L.entryPoint, c.entryPoint);
  u64(L.kernelLoadPaddr, c.kernelLoadPaddr);
  u64(L.kernelSize, kernelSize);
  u64(L.dtbLoadPaddr, c.dtbLoadPaddr);
  u64(L.dtbSize, dtbSize);
  bytes.set(Buffer.from(c.name, 'utf8').subarray(0, CONFIG_NAME_MAXLEN), L.name);
  const a = c.archConfig;
  const o = L.archConfig;
  if (a.kind === 'riscv') [a.plicBase, a.plicSize, a.aplicBase, a.aplicSize].forEach((x, k) => u64(o + 8 * k, x));
  if (a.kind === 'gicv2' || a.kind === 'gicv3') {
    v.setUint8(o, a.isAarch32 ? 1 : 0);
    u64(o + 8, a.kind === 'gicv2' ? 0 : 1);
    const fields = a.kind === 'gicv2'
      ? [a.gicdBase, a.gicdSize, a.giccBase, a.giccSize, a.giccOffset, a.gichBase, a.gichSize, a.gicvBase, a.gicvSize]
      : [a.gicdBase, a.gicdSize, a.gicrBase, a.gicrSize, a.gitsBase, a.gitsSize];
    fields.forEach((x, k) => u64(o + 16 + 8 * k, x));
    if (version === 6) u64(o + 88, 1); // no_uefi_tag
  }
  u64(L.numPciBus, c.pciConfig.length);
  c.pciConfig.forEach((p, i) => {
    const b = L.pciConfig + i * PCI_BUS_SIZE;
    [p.ecamBase, p.ecamSize, p.ioBase, p.ioSize, p.pciIoBase, p.mem32Base, p.mem32Size, p.pciMem32Base, p.mem64Base, p.mem64Size, p.pciMem64Base]
      .forEach((x, k) => u64(b + 8 * k, x));
    u32(b + 88, p.busRangeBegin); u32(b + 92, p.busRangeEnd); v.setUint8(b + 96, p.domain);
  });
  u64(L.numPciDevs, c.allocPciDevs.length);
  c.allocPciDevs.forEach((d, i) => {
    const b = L.allocPciDevs + i * pciDevSize(version);
    v.setUint8(b, d.domain); v.setUint8(b + 1, d.bdf >> 8); v.setUint8(b + 2, (d.bdf >> 3) & 31); v.setUint8(b + 3, d.bdf & 7);
    u32(b + (version === 6 ? 8 : 4), d.devType);
  });
  return bytes;
}

/** Reads `length` bytes of a zone's guest-physical memory (RAM only), or undefined if not all there. */
export function readGuest(space: AddressSpace, gpa: number, length: number): Uint8Array | undefined {
  const got = space.readDebug(gpa, length);
  return got.length === length ? got : undefined;
}
