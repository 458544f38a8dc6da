import type { RoutedIrq } from '../machine/routed-irq.js';
import { zoneIrq } from '../machine/zone-irq-number.js';
import type { BoardPciHostNode } from '../devices/pci/board-pci.js';
import type { PciWindow } from '../devices/pci/windows.js';
import type { BoardBuild } from './board-builder.js';

/**
 * Finds the board's (first) ECAM host bridge: its ECAM window, bus-range, `ranges` windows and the
 * four INTx lines its interrupt-map routes slot 0's pins to (the host bridge model swizzles the
 * other slots onto them, as QEMU virt's map does).
 */
export function findBoardPciHost(build: BoardBuild): BoardPciHostNode | undefined {
  const detail = build.details.find((d) => d.instance.role === 'pci-host' && d.instance.compatible.includes('pci-host-ecam-generic'));
  if (detail === undefined) return undefined;
  const node = build.tree.node(detail.instance.path);
  const ecam = detail.instance.windows[0];
  if (node === undefined || ecam === undefined) return undefined;
  const windows: PciWindow[] = [];
  for (const w of detail.pciWindows ?? []) {
    if (w.space === 'io' || w.space === 'mem32' || w.space === 'mem64') {
      windows.push({ space: w.space, cpuBase: w.cpuBase, pciBase: w.pciBase, size: w.size, prefetchable: w.prefetchable });
    }
  }
  const intx: RoutedIrq[] = [];
  for (let pin = 1; pin <= 4; pin++) {
    const spec = node.has('interrupt-map') ? build.tree.mapInterrupt(node, [0, 0, 0], [pin]) : undefined;
    const n = spec === undefined ? undefined : zoneIrq(spec)?.number;
    const line = detail.instance.irqLines.find((l) => l.number === n);
    if (line !== undefined) intx.push(line);
  }
  return {
    path: detail.instance.path,
    ecamBase: ecam.base,
    ecamSize: ecam.size,
    busStart: detail.busRange?.[0] ?? 0,
    busEnd: detail.busRange?.[1] ?? Math.min(255, ecam.size / 0x10_0000 - 1),
    windows,
    intx: intx.length === 4 ? intx : [],
  };
}

