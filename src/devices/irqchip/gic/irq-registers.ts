/**
 * The per-interrupt register blocks GICD (v2 and v3) and GICR's SGI_base frame share, at the same
 * offsets: IGROUPR 0x080, IS/ICENABLER 0x100/0x180, IS/ICPENDR 0x200/0x280, IS/ICACTIVER
 * 0x300/0x380, IPRIORITYR 0x400 (byte-accessible), ITARGETSR 0x800 (GICv2, byte-accessible),
 * ICFGR 0xC00. `cpu` is the vCPU whose banked SGIs/PPIs (INTIDs 0..31) the access sees;
 * INTIDs outside [lo, hi) — or SPIs the zone does not own — read as zero and ignore writes.
 */
import type { AccessSize } from '../../../machine/mmio-device.js';
import type { GicCore } from './gic-core.js';

export interface IrqRegisterView {
  readonly core: GicCore;
  readonly cpu: number;
  /** First INTID this view serves (GICv3 GICD with ARE: 32; GICR: 0). */
  readonly lo: number;
  /** One past the last INTID it serves. */
  readonly hi: number;
  /** Whether ITARGETSR exists (GICv2). */
  readonly targets: boolean;
  /** Whether IGROUPR is implemented (RAZ/WI on a GICv2 without security extensions). */
  readonly groups: boolean;
}

/** The offset ranges this module serves. */
export function isIrqRegister(offset: number): boolean {
  return offset >= 0x080 && offset < 0xd00;
}

function visible(v: IrqRegisterView, intid: number): boolean {
  return intid >= v.lo && intid < v.hi && v.core.exists(intid);
}

/** One bit per INTID from `state` (or the pending state when `state` is undefined). */
function bitmapRead(v: IrqRegisterView, first: number, state: Uint8Array | undefined): number {
  let r = 0;
  for (let b = 0; b < 32; b++) {
    const id = first + b;
    if (!visible(v, id)) continue;
    const s = v.core.slot(v.cpu, id);
    if (state === undefined ? v.core.isPending(s) : state[s] === 1) r |= 1 << b;
  }
  return r >>> 0;
}

export function readIrqRegister(v: IrqRegisterView, offset: number, size: AccessSize): number {
  const c = v.core;
  if (offset >= 0x400 && offset < 0x800) return bytesRead(v, offset - 0x400, size, (s) => c.priority[s]!);
  if (offset >= 0x800 && offset < 0xc00) {
    if (!v.targets) return 0;
    return bytesRead(v, offset - 0x800, size, (s, id) => (id < 32 ? 1 << v.cpu : c.targets[id]!));
  }
  if (size !== 4 || offset & 3) return 0;
  if (offset >= 0xc00) {
    const first = ((offset - 0xc00) >> 2) * 16;
    let r = 0;
    for (let k = 0; k < 16; k++) {
      const id = first + k;
      if (visible(v, id) && c.edge[c.slot(v.cpu, id)]) r |= 2 << (2 * k);
    }
    return r >>> 0;
  }
  const first = ((offset & 0x7f) >> 2) * 32;
  switch (offset & ~0x7f) {
    case 0x080:
      return v.groups ? bitmapRead(v, first, c.group) : 0;
    case 0x100:
    case 0x180:
      return bitmapRead(v, first, c.enabled);
    case 0x200:
    case 0x280:
      return bitmapRead(v, first, undefined);
    case 0x300:
    case 0x380:
      return bitmapRead(v, first, c.active);
  }
  return 0;
}

function bytesRead(v: IrqRegisterView, byteOffset: number, size: AccessSize, get: (s: number, id: number) => number): number {
  if (byteOffset & (size - 1)) return 0;
  let r = 0;
  for (let k = 0; k < size; k++) {
    const id = byteOffset + k;
    if (visible(v, id)) r |= (get(v.core.slot(v.cpu, id), id) & 0xff) << (8 * k);
  }
  return r >>> 0;
}

export function writeIrqRegister(v: IrqRegisterView, offset: number, size: AccessSize, value: number): void {
  const c = v.core;
  if (offset >= 0x400 && offset < 0x800) {
    if ((offset - 0x400) & (size - 1)) return;
    for (let k = 0; k < size; k++) {
      const id = offset - 0x400 + k;
      if (visible(v, id)) c.priority[c.slot(v.cpu, id)] = (value >>> (8 * k)) & c.priorityMaskDistributor;
    }
    c.updateAll();
    return;
  }
  if (offset >= 0x800 && offset < 0xc00) {
    if (!v.targets || (offset - 0x800) & (size - 1)) return;
    for (let k = 0; k < size; k++) {
      const id = offset - 0x800 + k;
      // SGI/PPI targets are read-only; SPI targets only name vCPUs that exist.
      if (id >= 32 && visible(v, id)) c.targets[id] = (value >>> (8 * k)) & ((1 << c.vcpus) - 1);
    }
    c.updateAll();
    return;
  }
  if (size !== 4 || offset & 3) return;
  if (offset >= 0xc00) {
    const first = ((offset - 0xc00) >> 2) * 16;
    for (let k = 0; k < 16; k++) {
      const id = first + k;
      // SGIs are always edge; the config of other interrupts is bit 1 of each field.
      if (id >= 16 && visible(v, id)) c.edge[c.slot(v.cpu, id)] = (value >>> (2 * k + 1)) & 1;
    }
    c.updateAll();
    return;
  }
  const first = ((offset & 0x7f) >> 2) * 32;
  const kind = offset & ~0x7f;
  for (let b = 0; b < 32; b++) {
    const on = (value >>> b) & 1;
    const id = first + b;
    if (!visible(v, id)) continue;
    const s = c.slot(v.cpu, id);
    switch (kind) {
      case 0x080:
        if (v.groups) c.group[s] = on;
        break;
      case 0x100:
        if (on) c.enabled[s] = 1;
        break;
      case 0x180:
        if (on) c.enabled[s] = 0;
        break;
      case 0x200:
        if (on) c.setPending(s, true);
        break;
      case 0x280:
        if (on) {
          c.setPending(s, false);
          if (id < 16) c.sgiSources.fill(0, v.cpu * 16 + id, v.cpu * 16 + id + 1);
        }
        break;
      case 0x300:
        if (on) c.active[s] = 1;
        break;
      case 0x380:
        if (on) c.active[s] = 0;
        break;
    }
  }
  c.updateAll();
}
