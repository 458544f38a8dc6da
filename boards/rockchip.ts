import type { BoardBinding, BoardParams, RamRange } from './board-descriptor.js';

/** What RK3568 and RK3588 share: GIC-600 with its ITS, the architected timer, Synopsys UARTs. */
export const rockchipBindings: readonly BoardBinding[] = [
  { compatible: 'arm,gic-v3', model: 'gicv3', role: 'interrupt-controller' },
  { compatible: 'arm,gic-v3-its', model: 'gicv3-its', role: 'interrupt-controller' },
  { compatible: 'arm,armv8-timer', model: 'generic-timer', role: 'timer' },
  { compatible: 'snps,dw-apb-uart', model: 'dw-apb-uart' },
];

/**
 * Rockchip DTBs carry no /memory: U-Boot adds it. Its layout on RK3568 and RK3588: DRAM from 2 MiB
 * (below is TF-A's) up to the peripheral space at 0xf000_0000, the rest above 4 GiB from `highBase`.
 */
export function rockchipRam(params: BoardParams, highBase: number): RamRange[] {
  const low = { base: 0x20_0000, size: Math.min(params.memoryBytes, 0xf000_0000) - 0x20_0000 };
  const rest = params.memoryBytes - 0xf000_0000;
  return rest > 0 ? [low, { base: highBase, size: rest }] : [low];
}
