import { isAbsolute, resolve } from 'node:path';
import type { RoutedIrq } from '../../machine/routed-irq.js';
import type { AddressSpace } from '../../machine/address-space.js';
import type { MmioDevice } from '../../machine/mmio-device.js';
import type { ZoneConfig } from '../../config/zone-config.js';
import { FileBlockImage } from '../virtio/block-image.js';
import { VirtioBlkBackend } from '../virtio/virtio-blk-backend.js';
import { VirtioNetBackend } from '../virtio/virtio-net-backend.js';
import { VirtualSwitch } from '../virtio/virtual-switch.js';
import { formatBdf, type Bdf } from '../../machine/bdf.js';
import type { BoardPciConfig, PciFunctionSpec } from '../../config/pci-config.js';
import { describePciTree } from './describe.js';
import { guestMemory } from '../../machine/guest-memory.js';
import { PciHostEcam } from './host-bridge.js';
import { PciHostBridgeFunction } from './host-bridge-function.js';
import { NvmeController } from './nvme.js';
import type { PciFunction } from './pci-function.js';
import { ZoneMsiRouter } from './msi.js';
import { VirtioPciFunction } from './virtio-pci.js';
import { checkPciPartition, PciAssignmentError, VirtualEcam, type ZonePciWindow } from './virtual-ecam.js';
import type { PciWindow } from './windows.js';

/** The board's pci-host-ecam-generic node as the PCI models need it (src/board/board-pci-host.ts finds it). */
export interface BoardPciHostNode {
  readonly path: string;
  readonly ecamBase: number;
  readonly ecamSize: number;
  readonly busStart: number;
  readonly busEnd: number;
  readonly windows: readonly PciWindow[];
  /** The interrupt-map's lines for slot 0's INTA..INTD (QEMU virt: SPI 3..6), or empty. */
  readonly intx: readonly RoutedIrq[];
}

/** What of a zone's config places its PCI functions (hvisor-tool's alloc_pci_devs and pci_config). */
export type ZonePciRequest = Pick<ZoneConfig, 'zoneId' | 'name' | 'allocPciDevs' | 'pciConfig'>;

/** A window of a zone's vPCI to map in the zone's guest-physical space (the hypervisor's ZoneDeviceWindow fits it). */
export interface ZonePciDeviceWindow {
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
  readonly name: string;
  /** The zone's PCI tree, for the gdb `monitor pci` command (set on the vECAM window). */
  readonly pciReport?: () => string;
}

/**
 * The board's PCIe: the host bridge with its physical functions (from the `--pci` file) and, per
 * zone with `alloc_pci_devs`, the zone's virtual ECAM (hvisor's vPCI) mapped at the config's
 * ecam_base with its mem/io windows. Functions DMA into their zone's RAM; MSI/MSI-X writes go to
 * the zone's doorbell (its GICv3 ITS) through its own stage-2 space, INTx through the board's
 * interrupt-map lines, which reach the zone owning that interrupt number.
 */
export class BoardPci {
  readonly host: PciHostEcam;
  readonly switches = new Map<string, VirtualSwitch>();
  private readonly views = new Map<number, VirtualEcam>();
  private readonly images: FileBlockImage[] = [];

  constructor(
    readonly node: BoardPciHostNode,
    config: BoardPciConfig,
    /** Relative image paths resolve against this (the --pci file's folder). */
    baseDir: string,
  ) {
    this.host = new PciHostEcam({ ecamSize: node.ecamSize, busStart: node.busStart, busEnd: node.busEnd, windows: node.windows }, node.intx);
    this.host.add(node.busStart << 8, new PciHostBridgeFunction());
    try {
      for (const spec of config.functions) this.host.add(spec.bdf, this.build(spec, baseDir));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Names of the INTx lines ("SPI 3".."SPI 6"), for listings. */
  get lineNames(): string[] {
    return this.node.intx.map((l) => `${l.source} (irq ${l.number})`);
  }

  /**
   * A zone's vPCI (what the hypervisor's DeviceProvider returns): a zone with alloc_pci_devs gets its vECAM at ecam_base and its
   * windows at io_base / mem32_base / mem64_base. Throws PciAssignmentError naming the zone when the
   * config asks for what the board cannot give.
   */
  provide(zone: ZonePciRequest, space: AddressSpace): ZonePciDeviceWindow[] {
    if (zone.allocPciDevs.length === 0) return [];
    const label = `zone ${zone.zoneId} (${zone.name})`;
    const bus = zone.pciConfig.find((p) => p.domain === 0);
    if (bus === undefined) throw new PciAssignmentError(`${label}: alloc_pci_devs is set but pci_config has no domain 0 bus`);
    const devices: Bdf[] = [];
    for (const d of zone.allocPciDevs) {
      if (d.domain !== 0) throw new PciAssignmentError(`${label}: ${formatBdf(d.bdf)} is in PCI domain ${d.domain}; the board has domain 0 only`);
      if (d.devType !== 0) throw new PciAssignmentError(`${label}: ${formatBdf(d.bdf)} has dev_type ${d.devType}; only physical functions (0) are modelled`);
      devices.push(d.bdf);
    }
    const windows: ZonePciWindow[] = [];
    if (bus.ioSize > 0) windows.push({ space: 'io', cpuBase: bus.ioBase, pciBase: bus.pciIoBase, size: bus.ioSize });
    if (bus.mem32Size > 0) windows.push({ space: 'mem32', cpuBase: bus.mem32Base, pciBase: bus.pciMem32Base, size: bus.mem32Size });
    if (bus.mem64Size > 0) windows.push({ space: 'mem64', cpuBase: bus.mem64Base, pciBase: bus.pciMem64Base, size: bus.mem64Size });
    const name = String(zone.zoneId);
    const hostBridge = this.node.busStart << 8;
    // The host bridge function is every zone's; only the others must be exclusive.
    const others = [...this.views.entries()].filter(([id]) => id !== zone.zoneId).map(([, v]) => v);
    checkPciPartition([
      ...others.map((v) => ({ zone: v.zone, devices: v.functions().map(([b]) => b).filter((b) => b !== hostBridge), windows: v.windows })),
      { zone: name, devices: devices.filter((b) => b !== hostBridge), windows },
    ]);
    // MSIs are writes into the zone's own space: only a doorbell mapped there (its ITS) takes them.
    const msi = new ZoneMsiRouter(space);
    const view = new VirtualEcam(this.host, { zone: name, devices, windows, dma: guestMemory(space), msi, lineNames: this.lineNames });
    this.views.set(zone.zoneId, view);
    const ecamSize = Math.min(bus.ecamSize, this.node.ecamSize);
    return [
      { base: bus.ecamBase, size: ecamSize, device: view.ecam, name: `pci vECAM of ${label}`, pciReport: () => view.describe() },
      ...windows.map((w, i) => ({ base: w.cpuBase, size: w.size, device: view.windowDevices[i]!, name: `pci ${w.space} window of ${label}` })),
    ];
  }

  /** The zone's view, for `monitor pci`. */
  view(zoneId: number): VirtualEcam | undefined {
    return this.views.get(zoneId);
  }

  /** A zone left: its functions are free again (a later zone may take them). */
  release(zoneId: number): void {
    this.views.get(zoneId)?.detach();
    this.views.delete(zoneId);
  }

  /** The whole tree with owners (`hvisor board show`), or one zone's part of it (`monitor pci`). */
  describe(zoneId?: number): string {
    const lineNames = this.lineNames;
    if (zoneId === undefined) return describePciTree(this.host, { lineNames, views: [...this.views.values()] });
    return this.views.get(zoneId)?.describe() ?? `zone ${zoneId} has no PCI functions (no alloc_pci_devs)\n`;
  }

  close(): void {
    for (const image of this.images) image.close();
    this.images.length = 0;
  }

  private build(spec: PciFunctionSpec, baseDir: string): PciFunction {
    switch (spec.type) {
      case 'virtio-blk': {
        const image = this.open(spec.img, baseDir, spec.readOnly);
        return new VirtioPciFunction(new VirtioBlkBackend(image, spec.serial));
      }
      case 'nvme':
        return new NvmeController(this.open(spec.img, baseDir, false), spec.serial === undefined ? {} : { serial: spec.serial });
      case 'virtio-net': {
        if (spec.switch === undefined) return new VirtioPciFunction(new VirtioNetBackend(spec.mac, () => {}));
        let sw = this.switches.get(spec.switch);
        if (sw === undefined) this.switches.set(spec.switch, (sw = new VirtualSwitch()));
        return new VirtioPciFunction(sw.nic(`pci ${formatBdf(spec.bdf)}`, spec.mac));
      }
    }
  }

  private open(img: string, baseDir: string, readOnly: boolean): FileBlockImage {
    const image = new FileBlockImage(isAbsolute(img) ? img : resolve(baseDir, img), readOnly);
    this.images.push(image);
    return image;
  }
}
