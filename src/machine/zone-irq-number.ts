/**
 * Interrupt specifiers from a device tree, numbered the way hvisor's zone configs name them:
 * GIC: SPI n → n + 32, PPI n → n + 16 (the GIC INTID); PLIC: the source number; Loongson PCH-PIC,
 * EIOINTC and LIOINTC: the first cell. Hart-local interrupts (riscv,cpu-intc targets of the PLIC
 * and CLINT) are not zone interrupts and are dropped. Interrupts of cascaded controllers (a GPIO
 * block, an IRQ steer) are listed without a number: the zone owns the cascade's own interrupt.
 */
import type { DeviceTree } from '../../dtb/device-tree.js';
import type { InterruptSpec } from '../../dtb/interrupts.js';

export interface ZoneIrq {
  /** The number a zone config lists in `interrupts`; undefined behind a cascaded controller. */
  readonly number: number | undefined;
  /** How the device tree names it, e.g. "SPI 1", "PPI 14", "PLIC 10". */
  readonly source: string;
  /** Trigger from the specifier's flags, when it has them. */
  readonly trigger?: 'edge-rising' | 'edge-falling' | 'level-high' | 'level-low';
}

const GIC_SPI = 0;
const GIC_PPI = 1;

export function isGic(compatible: readonly string[]): boolean {
  return compatible.some((c) => /^arm,(gic-v[1-4]|gic-400|cortex-a(7|9|15)-gic|gic-v2m-frame|pl390|arm11mp-gic)$/.test(c));
}

/** SiFive/T-Head PLICs and the AIA APLIC: sources numbered from 1 (riscv,plic0, thead,c900-plic, riscv,aplic). */
function isPlic(compatible: readonly string[]): boolean {
  return compatible.some((c) => /(^|[,-])a?plic(0|-[0-9.]+)?$/.test(c));
}

function isLoongsonRootController(compatible: readonly string[]): boolean {
  return compatible.some((c) =>
    ['loongarch,ls7a', 'loongson,pch-pic-1.0', 'loongson,ls7a-pch-pic', 'loongson,eiointc-1.0', 'loongson,liointc-2.0', 'loongson,cpu-interrupt-controller'].includes(c),
  );
}

function trigger(flags: number | undefined): ZoneIrq['trigger'] {
  switch ((flags ?? 0) & 0xf) {
    case 1:
      return 'edge-rising';
    case 2:
      return 'edge-falling';
    case 4:
      return 'level-high';
    case 8:
      return 'level-low';
    default:
      return undefined;
  }
}

/** The zone interrupt number of one specifier, or undefined for hart-local interrupts. */
export function zoneIrq(spec: InterruptSpec): ZoneIrq | undefined {
  const compatible = spec.controller.compatible;
  const cells = spec.cells;
  if (compatible.includes('riscv,cpu-intc')) return undefined;
  if (isGic(compatible) && cells.length >= 3) {
    const [type, n, flags] = cells as [number, number, number];
    if (type === GIC_SPI) return { number: n + 32, source: `SPI ${n}`, trigger: trigger(flags) };
    if (type === GIC_PPI) return { number: n + 16, source: `PPI ${n}`, trigger: trigger(flags) };
    return { number: n, source: `GIC type ${type} ${n}`, trigger: trigger(flags) };
  }
  if (isPlic(compatible)) {
    const label = compatible.includes('riscv,aplic') ? 'APLIC' : 'PLIC';
    return { number: cells[0] ?? 0, source: `${label} ${cells[0] ?? 0}`, trigger: trigger(cells[1]) };
  }
  const first = cells[0] ?? 0;
  const flags = cells.length > 1 ? trigger(cells[1]) : undefined;
  if (isLoongsonRootController(compatible)) return { number: first, source: `${spec.controller.baseName} ${first}`, trigger: flags };
  return { number: undefined, source: `${spec.controller.path} ${first}`, trigger: flags };
}

/** A node's own interrupts (`interrupts` / `interrupts-extended`), numbered; hart-local ones dropped. */
export function nodeZoneIrqs(tree: DeviceTree, node: Parameters<DeviceTree['interrupts']>[0]): ZoneIrq[] {
  const out: ZoneIrq[] = [];
  for (const spec of tree.interrupts(node)) {
    const irq = zoneIrq(spec);
    if (irq !== undefined) out.push(irq);
  }
  return out;
}

/** The distinct interrupts a PCI host's `interrupt-map` routes INTx to, in map order. */
export function interruptMapZoneIrqs(tree: DeviceTree, nexus: Parameters<DeviceTree['interruptMap']>[0]): ZoneIrq[] {
  const seen = new Map<number | string, ZoneIrq>();
  for (const e of tree.interruptMap(nexus)) {
    const irq = zoneIrq({ controller: e.parent, cells: e.parentInterrupt });
    const key = irq?.number ?? irq?.source;
    if (irq !== undefined && key !== undefined && !seen.has(key)) seen.set(key, irq);
  }
  return [...seen.values()];
}
