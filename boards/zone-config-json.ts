/**
 * A zone configuration in hvisor-tool's JSON form (`hvisor zone start FILE`). Numbers are hex
 * strings as hvisor-tool writes them. The boards use it for the root zone, mirroring the
 * constants hvisor compiles into each platform's board.rs; the zone engineer's schema reads it.
 * hvisor has no files for its root zone (a loader puts the kernel and DTB at the load addresses):
 * `kernel_filepath` / `dtb_filepath` there name the platform's conventional images (Image, zone0.dtb).
 */
export type HexString = `0x${string}`;

export interface ZoneMemoryRegionJson {
  readonly type: 'ram' | 'io' | 'virtio';
  readonly physical_start: HexString;
  readonly virtual_start: HexString;
  readonly size: HexString;
}

export interface PciConfigJson {
  readonly ecam_base: HexString;
  readonly ecam_size: HexString;
  readonly io_base: HexString;
  readonly io_size: HexString;
  readonly pci_io_base: HexString;
  readonly mem32_base: HexString;
  readonly mem32_size: HexString;
  readonly pci_mem32_base: HexString;
  readonly mem64_base: HexString;
  readonly mem64_size: HexString;
  readonly pci_mem64_base: HexString;
  readonly bus_range_begin: HexString;
  readonly bus_range_end: HexString;
  readonly domain: HexString;
}

/** hvisor's VpciDevType: "0" = physical function passed through, "1" = standard virtual device. */
export interface PciDeviceJson {
  readonly domain: HexString;
  readonly bus: HexString;
  readonly device: HexString;
  readonly function: HexString;
  readonly dev_type: '0' | '1';
}

export interface Gicv3ArchConfigJson {
  readonly gic_version: 'v3';
  readonly gicd_base: HexString;
  readonly gicd_size: HexString;
  readonly gicr_base: HexString;
  readonly gicr_size: HexString;
  readonly gits_base: HexString;
  readonly gits_size: HexString;
  readonly is_aarch32: boolean;
}

export interface Gicv2ArchConfigJson {
  readonly gic_version: 'v2';
  readonly gicd_base: HexString;
  readonly gicd_size: HexString;
  readonly gicc_base: HexString;
  readonly gicc_size: HexString;
  readonly gicc_offset: HexString;
  readonly gich_base: HexString;
  readonly gich_size: HexString;
  readonly gicv_base: HexString;
  readonly gicv_size: HexString;
  readonly is_aarch32: boolean;
}

export interface RiscvArchConfigJson {
  readonly plic_base: HexString;
  readonly plic_size: HexString;
  readonly aplic_base: HexString;
  readonly aplic_size: HexString;
}

/** LoongArch zones carry no interrupt-controller geometry (hvisor's `HvArchZoneConfig { dummy }`). */
export type LoongarchArchConfigJson = Record<string, never>;

export interface ZoneConfigJson {
  readonly arch?: string;
  readonly name: string;
  readonly zone_id: number;
  readonly cpus: readonly number[];
  readonly memory_regions: readonly ZoneMemoryRegionJson[];
  readonly interrupts: readonly number[];
  readonly ivc_configs: readonly unknown[];
  readonly kernel_filepath: string;
  readonly dtb_filepath: string;
  readonly kernel_load_paddr: HexString;
  readonly dtb_load_paddr: HexString;
  readonly entry_point: HexString;
  readonly arch_config: Gicv3ArchConfigJson | Gicv2ArchConfigJson | RiscvArchConfigJson | LoongarchArchConfigJson;
  readonly pci_config?: readonly PciConfigJson[];
  readonly num_pci_devs?: number;
  readonly alloc_pci_devs?: readonly PciDeviceJson[];
}

/** hvisor's `pci_dev!(domain, bus, device, function, type)` in JSON form. */
export function pciDev(domain: number, bus: number, device: number, fn: number, devType: 0 | 1): PciDeviceJson {
  return { domain: hex(domain), bus: hex(bus), device: hex(device), function: hex(fn), dev_type: devType === 0 ? '0' : '1' };
}

/** A region mapped at the same guest-physical address (hvisor's root zones are all identity-mapped). */
export function identity(type: ZoneMemoryRegionJson['type'], start: number, size: number): ZoneMemoryRegionJson {
  return { type, physical_start: hex(start), virtual_start: hex(start), size: hex(size) };
}

export function hex(n: number): HexString {
  return `0x${n.toString(16)}`;
}
