import { cpuReg, type DeviceTree, type DtNode } from '../../../dtb/index.js';
import type { ArchConfig } from '../../config/zone-config.js';

/**
 * Where an AIA zone's interrupt files are: the board's supervisor-level APLIC at the config's
 * aplic_base names its IMSIC by `msi-parent`. The zone sees that IMSIC at the same base with one
 * 4 KiB page per vCPU (vCPU i = hart index i, no guest-index bits: hvisor gives each vCPU one
 * guest file, mapped where the guest expects its S file).
 */
export interface ZoneImsicLayout {
  readonly aplic: DtNode;
  readonly imsic: DtNode;
  /** Guest-physical base of the zone's IMSIC window (the board's S-level IMSIC base). */
  readonly base: number;
  /** Implemented identities + 1 (riscv,num-ids + 1). */
  readonly numIds: number;
}

export function zoneImsicLayout(tree: DeviceTree, aplicBase: number): ZoneImsicLayout | undefined {
  const aplic = tree.compatibleNodes('riscv,aplic').find((n) => cpuReg(tree, n)?.some((w) => w.address === aplicBase));
  const parent = aplic?.u32('msi-parent');
  const imsic = parent === undefined ? undefined : tree.nodeByPhandle(parent);
  const base = imsic === undefined ? undefined : cpuReg(tree, imsic)?.[0]?.address;
  if (aplic === undefined || imsic === undefined || base === undefined || !imsic.isCompatible('riscv,imsics')) return undefined;
  // Identities come in 64s (eip/eie registers); QEMU virt says 255.
  const numIds = Math.min(2048, Math.max(64, Math.ceil(((imsic.u32('riscv,num-ids') ?? 63) + 1) / 64) * 64));
  return { aplic, imsic, base, numIds };
}

/**
 * Whether a zone's interrupt controller is the AIA, and its layout if so. hvisor-tool's riscv configs
 * carry both plic_* and aplic_* (examples/qemu-riscv64/linux2-aia.json) and hvisor uses the one its
 * platform was built with; here the board says: the AIA when aplic_size is set and the board has an
 * APLIC at aplic_base that signals an IMSIC, the PLIC otherwise. `'missing'`: a zone that names only
 * an APLIC on a board without one (refused by the zone's interrupt controller). No tree: no APLIC.
 */
export function zoneAiaLayout(tree: DeviceTree | undefined, arch: ArchConfig): ZoneImsicLayout | 'missing' | undefined {
  if (arch.kind !== 'riscv' || arch.aplicSize === 0) return undefined;
  const layout = tree === undefined ? undefined : zoneImsicLayout(tree, arch.aplicBase);
  return layout ?? (arch.plicSize === 0 ? 'missing' : undefined);
}
