import { formatBdf, type Bdf } from '../../machine/bdf.js';
import { CapId } from './capabilities.js';
import type { PciHostEcam } from './host-bridge.js';
import type { PciFunction } from './pci-function.js';
import type { VirtualEcam } from './virtual-ecam.js';

export interface DescribeOptions {
  /** Names of the 4 INTx lines (e.g. "SPI 3".."SPI 6" from the board's RoutedIrqs). */
  readonly lineNames?: readonly string[];
  /** Which zone owns each function (from the zones' virtual ECAMs). */
  readonly views?: readonly VirtualEcam[];
  /** Show only this zone's functions, with its BAR values (gdb `monitor pci` in a zone). */
  readonly zone?: VirtualEcam;
}

const CLASS_NAMES: Record<number, string> = {
  0x0100: 'SCSI storage controller',
  0x0106: 'SATA controller',
  0x0108: 'Non-Volatile memory controller',
  0x0180: 'Mass storage controller',
  0x0200: 'Ethernet controller',
  0x0280: 'Network controller',
  0x0600: 'Host bridge',
  0x0604: 'PCI bridge',
  0x0780: 'Communication controller',
  0x0c03: 'USB controller',
  0xff00: 'Unassigned class',
};

const CAP_NAMES: Record<number, string> = {
  [CapId.PowerManagement]: 'PM',
  [CapId.Msi]: 'MSI',
  [CapId.VendorSpecific]: 'vendor',
  [CapId.PciExpress]: 'PCIe',
  [CapId.MsiX]: 'MSI-X',
};

/**
 * The PCI tree as text, one function per paragraph, in the spirit of `lspci -v`: address, ids,
 * class, model, BARs (PCI and CPU address, size, whether decoded), interrupt routing, capabilities
 * and owner. Used by `hvisor board show` and the gdb `monitor pci` command.
 */
export function describePciTree(host: PciHostEcam, opts: DescribeOptions = {}): string {
  const list: [Bdf, PciFunction][] = opts.zone !== undefined ? opts.zone.functions() : host.functions();
  const { ecamSize, busStart, busEnd, windows } = host.config;
  const out: string[] = [];
  out.push(`pci-host-ecam-generic: buses ${hex2(busStart)}-${hex2(busEnd)}, ECAM 0x${ecamSize.toString(16)} bytes`);
  for (const w of windows) {
    out.push(`  window ${w.space.padEnd(5)} cpu 0x${w.cpuBase.toString(16)} -> pci 0x${w.pciBase.toString(16)} size ${size(w.size)}`);
  }
  if (list.length === 0) out.push(opts.zone !== undefined ? `  (no PCI functions in zone ${opts.zone.zone})` : '  (no PCI functions)');
  const decoded = host.decodedBars();
  for (const [where, fn] of list) {
    const cfg = fn.config;
    const cls = cfg.classCode;
    const className = CLASS_NAMES[cls >>> 8] ?? `class ${hexN(cls >>> 8, 4)}`;
    out.push(
      `${formatBdf(where)} ${className} [${hexN(cls, 6)}]: ${fn.name} [${hexN(cfg.vendorId, 4)}:${hexN(cfg.deviceId, 4)}] rev ${hexN(cfg.get(0x08, 1), 2)}`,
    );
    for (let bar = 0; bar < cfg.bars.length; bar++) {
      const spec = cfg.bars[bar];
      if (spec === undefined) continue;
      const phys = cfg.barAddress(bar)!;
      const d = decoded.find((x) => x.bdf === where && x.bar === bar);
      const cpu = d === undefined ? undefined : host.pciToCpu(spec.kind === 'io', phys);
      const zoneVal = opts.zone !== undefined ? zoneBarAddress(opts.zone, where, bar, spec.kind) : undefined;
      const blocked = opts.zone?.blocked().some((b) => b.bdf === where && b.bar === bar) === true;
      const kind = spec.kind + (spec.prefetchable === true ? ',pref' : '');
      const addr = zoneVal !== undefined ? `zone-pci 0x${zoneVal.toString(16)}` : `pci 0x${phys.toString(16)}`;
      const state = blocked ? 'outside the zone windows, not decoded' : cpu !== undefined ? `cpu 0x${cpu.toString(16)}` : 'not decoded';
      out.push(`    BAR${bar} ${kind.padEnd(10)} ${addr} size ${size(spec.size)} (${state})`);
    }
    const pin = cfg.interruptPin;
    if (pin >= 1 && pin <= 4) {
      const line = host.intxLine(where)!;
      const name = opts.lineNames?.[line] ?? `line ${line}`;
      const mode = fn.messages.msixEnabled ? ', MSI-X enabled' : fn.messages.msiEnabled ? ', MSI enabled' : '';
      out.push(`    IRQ INT${'ABCD'[pin - 1]} -> ${name}${cfg.intxDisabled ? ' (INTx disabled)' : ''}${mode}`);
    }
    const caps: string[] = [];
    let p = cfg.get(0x34, 1) & ~3;
    for (let guard = 0; p !== 0 && guard < 48; guard++) {
      const id = cfg.get(p, 1);
      caps.push(`${CAP_NAMES[id] ?? `cap ${hexN(id, 2)}`}@${hexN(p, 2)}`);
      p = cfg.get(p + 1, 1) & ~3;
    }
    if (caps.length > 0) out.push(`    capabilities: ${caps.join(' ')}`);
    const flags = [cfg.memoryDecode ? 'mem' : '', cfg.ioDecode ? 'io' : '', cfg.busMaster ? 'bus-master' : ''].filter((s) => s !== '');
    out.push(`    command: ${flags.length > 0 ? flags.join(' ') : 'off'}`);
    const owner = opts.views?.find((v) => v.owns(where));
    if (opts.views !== undefined) out.push(`    owner: ${owner === undefined ? 'none' : `zone ${owner.zone}`}`);
  }
  return out.join('\n') + '\n';
}

function zoneBarAddress(view: VirtualEcam, where: Bdf, bar: number, kind: string): number {
  const lo = view.barShadow(where, bar)! & (kind === 'io' ? ~0x3 : ~0xf);
  return (kind === 'mem64' ? view.barShadow(where, bar + 1)! * 0x1_0000_0000 : 0) + (lo >>> 0);
}

function hexN(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
function hex2(n: number): string {
  return hexN(n, 2);
}
function size(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30}G`;
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return `${n}`;
}
