import { chosen, cpuReg, DtNode, DtProperty, parseDtb, writeDtb, type DeviceTree } from '../../../dtb/index.js';
import type { Machine } from '../../machine/machine.js';
import type { PciBusConfig, ZoneConfig } from '../../config/zone-config.js';
import { virtioWakeIrq } from './virtio-trampoline.js';
import { zoneAiaLayout, type ZoneImsicLayout } from '../zone/aia-layout.js';
import { IMSIC_PAGE } from '../../devices/irqchip/imsic.js';

/** What the generator did with the board's nodes, for `hvisor zone dtb` and the logs. */
export interface ZoneDtbReport {
  readonly kept: readonly string[];
  readonly removed: readonly string[];
  readonly warnings: readonly string[];
}

export interface ZoneDtb {
  readonly blob: Uint8Array;
  readonly tree: DeviceTree;
  readonly report: ZoneDtbReport;
}

/** Nodes that describe the platform rather than a device: kept whatever their shape. */
const PLATFORM_NODES = new Set(['chosen', 'aliases', 'cpus', 'psci', 'timer', 'pmu', 'reserved-memory', '__symbols__']);

const hex = (n: number) => n.toString(16);

/**
 * A zone's device tree, made from the board's: only the zone's CPUs; one memory node per RAM
 * region (at its guest-physical address); the devices whose windows lie inside the zone's io
 * regions (identity-mapped; others are dropped) or virtio regions; the interrupt controller with
 * only the zone's harts' contexts (PLIC) and the zone's redistributor frames and ITS (GICv3, the ITS
 * only with gits_size, else msi-parent/msi-map naming it go too); the PCI
 * host bridge when the zone has a pci_config window at its ECAM; `bootargs` from `kernel_args`.
 * Everything else with a `reg` goes. Nodes without `reg` (clocks, psci, timer) stay.
 */
export interface ZoneDtbOptions {
  /** The virtio-mmio windows actually served (the virtio config): other slots are left out. */
  readonly servedVirtio?: readonly { readonly base: number; readonly size: number }[];
  /** Bytes of the zone's initrd (initrd_filepath), placed at initrd_load_paddr: named in /chosen. */
  readonly initrdSize?: number;
  /** `/chosen/kaslr-seed` for the zone's kernel (absent: none, so Linux runs at its link addresses). */
  readonly kaslrSeed?: bigint;
  /**
   * The virtio-mmio devices served in the zone's virtio regions, with their interrupts (the virtio
   * config's). Where the board has no virtio-mmio slot at one (a vendor board: hvisor-tool's zcu102
   * zone1 serves them at the USB controllers' addresses), the tree gets a `virtio_mmio@BASE` node
   * for it, as hvisor's hand-written zone device trees have.
   */
  readonly virtioDevices?: readonly { readonly base: number; readonly size: number; readonly irq: number }[];
}

export function generateZoneDtb(machine: Machine, zone: ZoneConfig, options: ZoneDtbOptions = {}): ZoneDtb {
  const tree = parseDtb(machine.dtb);
  const kept: string[] = [];
  const removed: string[] = [];
  const warnings: string[] = [];
  const drop = (n: DtNode) => {
    removed.push(n.path);
    n.parent?.removeChild(n);
  };

  const zoneHwids = new Set(zone.cpus.map((id) => machine.cpus.find((c) => c.id === id)?.hwid).filter((h) => h !== undefined));
  const keptCpuPhandles = new Set<number>();
  const cpus = tree.node('/cpus');
  if (cpus !== undefined) {
    for (const cpu of [...cpus.children]) {
      if (cpu.name === 'cpu-map') {
        drop(cpu); // clusters reference CPUs the zone does not have
        continue;
      }
      if (cpu.string('device_type') !== 'cpu') continue;
      const reg = cpu.cells('reg') ?? [];
      const hwid = reg.reduce((v, c) => (v << 32n) | BigInt(c >>> 0), 0n);
      if (!zoneHwids.has(hwid)) {
        drop(cpu);
        continue;
      }
      for (const n of cpu.walk()) {
        const p = n.u32('phandle');
        if (p !== undefined) keptCpuPhandles.add(p);
      }
    }
  }

  if (machine.arch === 'loongarch64' && cpus !== undefined) renumberLoongarchCpus(cpus, zone, machine);

  // Memory: replaced by the zone's RAM regions (guest-physical).
  for (const n of [...tree.root.children]) if (n.string('device_type') === 'memory') drop(n);
  const addrCells = tree.addressCells(tree.root);
  const sizeCells = tree.sizeCells(tree.root);
  for (const r of zone.memoryRegions.filter((m) => m.type === 'ram').sort((a, b) => a.virtualStart - b.virtualStart)) {
    const mem = tree.root.addChild(`memory@${hex(r.virtualStart)}`);
    mem.setProperty('device_type', 'memory');
    mem.setProperty('reg', [...cells(r.virtualStart, addrCells), ...cells(r.size, sizeCells)]);
  }

  const inside = (address: number, size: number, type: 'io' | 'virtio') =>
    zone.memoryRegions.some((r) => {
      if (r.type !== type) return false;
      const start = type === 'io' ? r.physicalStart : r.virtualStart;
      return address >= start && address + size <= start + r.size && (type === 'virtio' || r.physicalStart === r.virtualStart);
    });
  const interruptControllers = new Set<DtNode>();
  const arch = zone.archConfig;
  // AIA zones (an APLIC at aplic_base on an AIA board): the S-level APLIC and the IMSIC it signals, one page per vCPU.
  const layout = zoneAiaLayout(tree, arch);
  const aia = layout === 'missing' ? undefined : layout;
  const irqchipBase =
    arch.kind === 'gicv2' || arch.kind === 'gicv3' ? arch.gicdBase : arch.kind === 'riscv' ? (aia !== undefined ? arch.aplicBase : arch.plicBase) : undefined;
  let irqchip: DtNode | undefined;
  const owned = new Set(zone.interrupts);

  const buses: DtNode[] = [];
  // Walk every node with a CPU-physical reg outside /cpus and the new memory nodes.
  const candidates = [...tree.nodes()].filter((n) => n !== tree.root && !n.path.startsWith('/cpus') && n.has('reg') && n.string('device_type') !== 'memory');
  for (const n of candidates) {
    if (n.parent === undefined) continue; // under a node dropped already
    // By name without a unit address: `/timer` is the architected timer, `/timer@feae0000` a device.
    const top = n.path.split('/')[1] ?? '';
    if (PLATFORM_NODES.has(top)) continue;
    const windows = cpuReg(tree, n);
    if (windows === undefined || windows.length === 0) continue;
    const isController = n.has('interrupt-controller');
    // LoongArch zones' PCH-PIC is their own model at the board's address (arch_config names nothing).
    const zonePchPic = machine.arch === 'loongarch64' && n.isCompatible('loongson,pch-pic-1.0');
    if (isController && ((irqchipBase !== undefined && windows.some((w) => w.address === irqchipBase)) || n === aia?.imsic || zonePchPic)) {
      if (n !== aia?.imsic) irqchip ??= n;
      interruptControllers.add(n);
      kept.push(n.path);
      continue;
    }
    if (n.isCompatible('arm,gic-v3-its') && arch.kind === 'gicv3' && arch.gitsSize > 0 && windows.some((w) => w.address === arch.gitsBase)) {
      kept.push(n.path); // the zone's own ITS model sits at gits_base
      continue;
    }
    const isPciHost = n.string('device_type') === 'pci';
    if (isPciHost) {
      const bus = zone.pciConfig.find((p) => windows.some((w) => w.address === p.ecamBase));
      if (bus === undefined) {
        drop(n);
        continue;
      }
      kept.push(n.path);
      describeZonePciBus(tree, n, bus);
      continue;
    }
    if (isBus(n)) {
      buses.push(n); // decided once its devices are: kept while it holds any
      continue;
    }
    const served = (w: { address: number; size: number }) =>
      inside(w.address, w.size, 'virtio') &&
      (options.servedVirtio === undefined || options.servedVirtio.some((v) => w.address >= v.base && w.address + w.size <= v.base + v.size));
    const board = machine.deviceAt(windows[0]!.address);
    const missing = board?.irqs.filter((i) => !owned.has(i)) ?? [];
    if (windows.every((w) => inside(w.address, w.size, 'io'))) {
      // Passed through as configured; say so when its interrupts are not the zone's.
      kept.push(n.path);
      if (missing.length > 0) warnings.push(`${n.path}: interrupt ${missing.join(', ')} is not in the zone's interrupts: the device cannot interrupt`);
    } else if (windows.every(served) && missing.length === 0 && n.isCompatible('virtio,mmio')) {
      // An emulated virtio slot appears only with its interrupt.
      kept.push(n.path);
    } else {
      drop(n);
    }
  }
  // A bus with a reg of its own (i.MX's AIPS and SPBA buses) stays while it holds a device the zone
  // keeps: its ranges translate the device's addresses. Innermost first, so emptied parents go too.
  // Containers without reg (buses like /soc) left with no devices still describe translation: keep.
  for (const bus of buses.sort((a, b) => b.path.split('/').length - a.path.split('/').length)) {
    if (bus.parent === undefined) continue;
    if (bus.children.some((c) => c.has('reg'))) kept.push(bus.path);
    else drop(bus);
  }

  for (const ic of interruptControllers) {
    trimInterruptController(tree, ic, zone, keptCpuPhandles, addrCells, sizeCells, aia);
    dropForeignPpiPartitions(tree, ic, keptCpuPhandles, drop);
  }
  addVirtioNodes(tree, zone, irqchip, options.virtioDevices ?? [], kept, warnings, addrCells, sizeCells);
  if (zone.zoneId === 0) describeRootZone(tree, zone, irqchip, machine.arch, addrCells, sizeCells, warnings);
  dropDanglingReferences(tree, drop);

  // Aliases and stdout-path must not name removed nodes.
  const aliasesNode = tree.node('/aliases');
  if (aliasesNode !== undefined) {
    for (const p of [...aliasesNode.properties]) {
      const target = p.string();
      if (target.startsWith('/') && tree.node(target) === undefined) aliasesNode.removeProperty(p.name);
    }
  }
  const chosenNode = tree.node('/chosen');
  if (chosenNode !== undefined) {
    const stdoutPath = chosenNode.string('stdout-path');
    if (stdoutPath !== undefined && chosen(tree).stdout === undefined) chosenNode.removeProperty('stdout-path');
    if (zone.kernelArgs !== undefined && zone.kernelArgs !== '') chosenNode.setProperty('bootargs', zone.kernelArgs);
    // The board firmware's boot artefacts (initrd addresses, kaslr seed) are not the zone's.
    for (const p of ['linux,initrd-start', 'linux,initrd-end', 'kaslr-seed', 'rng-seed']) chosenNode.removeProperty(p);
  }
  if (options.kaslrSeed !== undefined) {
    const seed = options.kaslrSeed;
    (tree.node('/chosen') ?? tree.root.addChild('chosen')).setProperty('kaslr-seed', [Number(seed >> 32n), Number(seed & 0xffffffffn)]);
  }
  if (zone.initrdLoadPaddr !== undefined && options.initrdSize !== undefined) {
    // The guest sees its RAM at virtual_start: name the initrd at its guest-physical address.
    const paddr = zone.initrdLoadPaddr;
    const ram = zone.memoryRegions.find((r) => r.type === 'ram' && paddr >= r.physicalStart && paddr + options.initrdSize! <= r.physicalStart + r.size);
    if (ram === undefined) warnings.push(`initrd [0x${hex(paddr)}, 0x${hex(paddr + options.initrdSize)}) is not inside one of the zone's RAM regions: not named in /chosen`);
    else {
      const start = paddr - ram.physicalStart + ram.virtualStart;
      const node = chosenNode ?? tree.root.addChild('chosen');
      node.setProperty('linux,initrd-start', cells(start, 2));
      node.setProperty('linux,initrd-end', cells(start + options.initrdSize, 2));
    }
  }
  return { blob: writeDtb(tree), tree, report: { kept, removed, warnings } };
}

/** A `virtio_mmio@BASE` node for each served device in the zone's virtio regions the tree has no slot for. */
function addVirtioNodes(
  tree: DeviceTree,
  zone: ZoneConfig,
  ic: DtNode | undefined,
  devices: readonly { readonly base: number; readonly size: number; readonly irq: number }[],
  kept: string[],
  warnings: string[],
  addrCells: number,
  sizeCells: number,
): void {
  const slots = [...tree.nodes()].filter((n) => n.isCompatible('virtio,mmio') && n.parent !== undefined);
  for (const d of devices) {
    const region = zone.memoryRegions.find((r) => r.type === 'virtio' && d.base >= r.virtualStart && d.base + d.size <= r.virtualStart + r.size);
    if (region === undefined) continue;
    if (slots.some((n) => (cpuReg(tree, n) ?? []).some((w) => w.address === d.base))) continue;
    const phandle = ic?.u32('phandle');
    const icCells = ic?.u32('#interrupt-cells');
    if (phandle === undefined || icCells === undefined) {
      warnings.push(`virtio device at 0x${hex(d.base)}: the zone's interrupt controller has no phandle: no virtio_mmio node`);
      continue;
    }
    const node = tree.root.addChild(`virtio_mmio@${hex(d.base)}`);
    node.setProperty('compatible', 'virtio,mmio');
    node.setProperty('reg', [...cells(d.base, addrCells), ...cells(d.size, sizeCells)]);
    node.setProperty('interrupt-parent', [phandle]);
    // GIC: <SPI, level high>, as QEMU virt's slots; PLIC: <source>; APLIC: <source, level high>.
    node.setProperty('interrupts', icCells === 3 ? [0, d.irq - 32, 4] : icCells === 2 ? [d.irq, 4] : [d.irq]);
    node.setProperty('dma-coherent', []);
    kept.push(node.path);
  }
}

/**
 * What hvisor's own zone0 device trees add (platform/aarch64/qemu-gicv3/image/dts/zone0.dts): the
 * `hvisor_virtio_device` node whose interrupt wakes the virtio daemon (hvisor.ko looks it up by path),
 * when zone0 owns that interrupt, and `no-map` reserved-memory over the RAM it lends to nonroot zones.
 */
function describeRootZone(tree: DeviceTree, zone: ZoneConfig, ic: DtNode | undefined, arch: string, addrCells: number, sizeCells: number, warnings: string[]): void {
  const wake = virtioWakeIrq(arch);
  const phandle = ic?.u32('phandle');
  if (wake !== undefined && zone.interrupts.includes(wake)) {
    if (phandle === undefined) warnings.push(`interrupt ${wake} (hvisor's virtio wake-up): the zone's interrupt controller has no phandle: no hvisor_virtio_device node`);
    else {
      const node = tree.root.addChild('hvisor_virtio_device');
      node.setProperty('compatible', 'hvisor');
      node.setProperty('interrupt-parent', [phandle]);
      // GIC: <SPI number, edge rising>; PLIC: <source>; APLIC: <source, level high>.
      node.setProperty('interrupts', arch === 'aarch64' ? [0, wake - 32, 1] : ic!.u32('#interrupt-cells') === 2 ? [wake, 4] : [wake]);
    }
  }
  const lent = zone.reservedMemory ?? [];
  if (lent.length === 0) return;
  let reserved = tree.node('/reserved-memory');
  if (reserved === undefined) {
    reserved = tree.root.addChild('reserved-memory');
    reserved.setProperty('#address-cells', [addrCells]);
    reserved.setProperty('#size-cells', [sizeCells]);
    reserved.setProperty('ranges', []);
  }
  for (const r of lent) {
    const n = reserved.addChild(`nonroot@${hex(r.start)}`);
    n.setProperty('no-map', []);
    n.setProperty('reg', [...cells(r.start, addrCells), ...cells(r.size, sizeCells)]);
  }
}

/**
 * Nodes left pointing at removed ones: a syscon user (`regmap`, e.g. QEMU's poweroff/reboot on the
 * sifive test device) or an interrupt source whose controller is gone is dropped; an `msi-parent`
 * naming a removed ITS is deleted.
 */
function dropDanglingReferences(tree: DeviceTree, drop: (n: DtNode) => void): void {
  const alive = (phandle: number | undefined) => phandle !== undefined && tree.nodeByPhandle(phandle) !== undefined;
  for (const n of [...tree.nodes()]) {
    if (n.parent === undefined && n !== tree.root) continue;
    const regmap = n.u32('regmap');
    const parent = n.u32('interrupt-parent');
    const gpio = n.u32('gpios');
    if ([regmap, parent, gpio].some((p) => p !== undefined && !alive(p))) {
      const container = n.parent;
      drop(n);
      // A gpio-keys node with no keys left goes too.
      if (container !== undefined && container !== tree.root && container.children.length === 0 && container.isCompatible('gpio-keys')) drop(container);
      continue;
    }
    const msi = n.u32('msi-parent');
    if (msi !== undefined && !alive(msi)) n.removeProperty('msi-parent');
    // msi-map = <rid-base msi-controller msi-base length>...
    const msiMap = n.cells('msi-map');
    if (msiMap !== undefined && msiMap.some((c, i) => i % 4 === 1 && !alive(c))) n.removeProperty('msi-map');
  }
}

/**
 * The zone's PCI host bridge node says what its pci_config gives it: the zone's ECAM size, its bus
 * range, and only its I/O, 32-bit and 64-bit windows (CPU address → zone PCI address), so Linux
 * places BARs where the zone's virtual ECAM forwards them.
 */
function describeZonePciBus(tree: DeviceTree, n: DtNode, bus: PciBusConfig): void {
  const parent = n.parent!;
  const parentAddr = tree.addressCells(parent);
  const parentSize = tree.sizeCells(parent);
  const sizeCells = tree.sizeCells(n);
  n.setProperty('reg', [...cells(bus.ecamBase, parentAddr), ...cells(Math.min(bus.ecamSize, (bus.busRangeEnd - bus.busRangeBegin + 1) * 0x10_0000), parentSize)]);
  n.setProperty('bus-range', [bus.busRangeBegin, bus.busRangeEnd]);
  const ranges: number[] = [];
  const add = (hi: number, pci: number, cpu: number, size: number) => {
    if (size > 0) ranges.push(hi, ...cells(pci, 2), ...cells(cpu, parentAddr), ...cells(size, sizeCells));
  };
  add(0x0100_0000, bus.pciIoBase, bus.ioBase, bus.ioSize);
  add(0x0200_0000, bus.pciMem32Base, bus.mem32Base, bus.mem32Size);
  add(0x0300_0000, bus.pciMem64Base, bus.mem64Base, bus.mem64Size);
  n.setProperty('ranges', ranges);
}

/**
 * PLIC and IMSIC: keep only the zone's harts' contexts / files; the IMSIC's window becomes one page
 * per vCPU (no guest-index bits: the zone's files are its S files). GICv3: only the zone's
 * redistributor frames.
 */
function trimInterruptController(
  tree: DeviceTree, ic: DtNode, zone: ZoneConfig, cpuPhandles: ReadonlySet<number>, addrCells: number, sizeCells: number, aia: ZoneImsicLayout | undefined,
): void {
  const ext = ic.cells('interrupts-extended');
  if (ext !== undefined) {
    // PLIC contexts: <&hart-intc cause> pairs.
    const out: number[] = [];
    for (let i = 0; i + 1 < ext.length; i += 2) if (cpuPhandles.has(ext[i]!)) out.push(ext[i]!, ext[i + 1]!);
    ic.setProperty('interrupts-extended', out);
  }
  if (ic === aia?.imsic) {
    const parentAddr = ic.parent === tree.root ? addrCells : tree.addressCells(ic.parent!);
    const parentSize = ic.parent === tree.root ? sizeCells : tree.sizeCells(ic.parent!);
    ic.setProperty('reg', [...cells(aia.base, parentAddr), ...cells(zone.cpus.length * IMSIC_PAGE, parentSize)]);
    for (const p of ['riscv,guest-index-bits', 'riscv,hart-index-bits', 'riscv,group-index-bits', 'riscv,group-index-shift']) ic.removeProperty(p);
  }
  const a = zone.archConfig;
  if (a.kind === 'gicv3') {
    const frames = zone.cpus.length * 0x20000;
    const parentAddr = ic.parent === tree.root ? addrCells : tree.addressCells(ic.parent!);
    const parentSize = ic.parent === tree.root ? sizeCells : tree.sizeCells(ic.parent!);
    ic.setProperty('reg', [...cells(a.gicdBase, parentAddr), ...cells(a.gicdSize, parentSize), ...cells(a.gicrBase, parentAddr), ...cells(frames, parentSize)]);
    ic.setProperty('#redistributor-regions', [1]);
    // Without gits_size the zone's GIC model has no ITS.
    if (a.gitsSize === 0) for (const child of [...ic.children]) if (child.isCompatible('arm,gic-v3-its')) ic.removeChild(child);
  }
}

/**
 * GICv3 PPI partitions (`ppi-partitions`, RK3588's per-cluster PMU interrupts): each partition's
 * `affinity` keeps only the zone's CPUs; a partition left with none goes, and so does a node whose
 * interrupt names it (the other cluster's PMU), as Linux warns about CPUs it cannot find.
 */
function dropForeignPpiPartitions(tree: DeviceTree, ic: DtNode, cpuPhandles: ReadonlySet<number>, drop: (n: DtNode) => void): void {
  const partitions = ic.children.find((c) => c.name === 'ppi-partitions');
  if (partitions === undefined || ic.u32('#interrupt-cells') !== 4) return;
  const gone = new Set<number>();
  for (const part of [...partitions.children]) {
    const kept = (part.cells('affinity') ?? []).filter((p) => cpuPhandles.has(p));
    if (kept.length > 0) {
      part.setProperty('affinity', kept);
      continue;
    }
    const phandle = part.u32('phandle');
    if (phandle !== undefined) gone.add(phandle);
    drop(part);
  }
  if (gone.size === 0) return;
  const icPhandle = ic.u32('phandle');
  for (const n of [...tree.nodes()]) {
    if (n.parent === undefined) continue;
    let parent: number | undefined;
    for (let at: DtNode | undefined = n; at !== undefined && parent === undefined; at = at.parent) parent = at.u32('interrupt-parent');
    const cells = n.cells('interrupts');
    if (parent !== icPhandle || cells === undefined || cells.length % 4 !== 0) continue;
    if (cells.some((c, i) => i % 4 === 3 && gone.has(c))) drop(n);
  }
}

/** A node whose children are devices on it: simple-bus and the like, with `ranges` to translate them. */
function isBus(n: DtNode): boolean {
  return n.has('ranges') && n.children.some((c) => c.has('reg'));
}

function cells(value: number, count: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  for (let i = 0; i < count; i++) {
    out.unshift(Number(v & 0xffffffffn));
    v >>= 32n;
  }
  return out;
}

/**
 * LoongArch zones see their vCPUs as cores 0..n-1 (CSR.CPUID, IPI and EIOINTC core numbers), as
 * hvisor's LVZ zones do (it sets each zone's GCSR.CPUID to 0): Linux maps CPUs to NUMA nodes by core
 * number, and a zone on board core 2 alone would have a boot CPU no node owns. The kept CPU nodes
 * become cpu@<vCPU index> with that reg, in the config's `cpus` order.
 */
function renumberLoongarchCpus(cpus: DtNode, zone: ZoneConfig, machine: Machine): void {
  const hwidOf = (id: number) => machine.cpus.find((c) => c.id === id)?.hwid;
  const kept = cpus.children.filter((c) => c.string('device_type') === 'cpu');
  for (const cpu of kept) cpus.removeChild(cpu);
  const renamed: { index: number; node: DtNode }[] = [];
  for (const cpu of kept) {
    const hwid = (cpu.cells('reg') ?? []).reduce((v, c) => (v << 32n) | BigInt(c >>> 0), 0n);
    const index = zone.cpus.findIndex((id) => hwidOf(id) === hwid);
    const node = new DtNode(`cpu@${index.toString(16)}`);
    for (const p of cpu.properties) node.appendProperty(new DtProperty(p.name, p.value.slice()));
    for (const child of [...cpu.children]) node.appendChild(child);
    node.setProperty('reg', [index]);
    renamed.push({ index, node });
  }
  for (const { node } of renamed.sort((a, b) => a.index - b.index)) cpus.appendChild(node);
}
