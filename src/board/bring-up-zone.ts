/**
 * The one zone of a bring-up run (`hvisor run --board B --dtb FILE --kernel IMAGE`, as QEMU's
 * -kernel/-dtb/-initrd/-append): every CPU, every RAM bank and every device window of the board,
 * all of its device interrupts, the board's interrupt controller as the zone's, and the kernel,
 * device tree and initrd placed the way arm64/riscv boot protocols expect. The result is hvisor-tool
 * zone JSON, so it can be printed, saved and edited into a real zone config.
 */
import type { HexString, ZoneConfigJson } from '../../boards/zone-config-json.js';
import { hex, identity } from '../../boards/zone-config-json.js';
import { parseArm64ImageHeader } from '../loader/arm64-image.js';
import type { BoardBuild } from './board-builder.js';
import { HvisorError } from '../util/hvisor-error.js';

/** Zone JSON plus our extensions (kernel_args, initrd). */
export type BringUpZoneJson = ZoneConfigJson & {
  readonly kernel_args?: string;
  readonly initrd_filepath?: string;
  readonly initrd_load_paddr?: HexString;
};

export interface BringUpImages {
  /** Absolute path of the kernel (raw arm64 / riscv64 Image) and its bytes. */
  readonly kernel: { readonly path: string; readonly bytes: Uint8Array };
  readonly initrd?: { readonly path: string; readonly size: number };
  /** Kernel command line; absent: the DTB's own /chosen bootargs. */
  readonly append?: string;
}

export class BringUpError extends HvisorError {}

const MiB2 = 0x20_0000;
const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

export function bringUpZone(build: BoardBuild, images: BringUpImages): BringUpZoneJson {
  const { machine, board } = build;
  const bank = machine.ramBanks[0];
  if (bank === undefined) throw new BringUpError(`board ${board.name}: the DTB has no /memory and the board supplies none`);

  // Kernel 2 MiB into the first bank (arm64: a 2 MiB-aligned base + text_offset; riscv: 2 MiB aligned),
  // then the device tree and the initrd past the kernel's footprint (bss included).
  const kernelBase = alignUp(bank.base, MiB2) + MiB2;
  let footprint = images.kernel.bytes.length;
  let entry = kernelBase;
  if (board.arch === 'aarch64') {
    const header = parseArm64ImageHeader(images.kernel.bytes, images.kernel.path);
    entry = kernelBase + header.textOffset;
    footprint = header.textOffset + Math.max(header.imageSize, images.kernel.bytes.length);
  }
  const dtbAt = alignUp(entry + footprint, MiB2);
  const initrdAt = dtbAt + MiB2;
  const end = initrdAt + (images.initrd?.size ?? 0);
  if (end > bank.base + bank.size) {
    throw new BringUpError(`board ${board.name}: kernel, device tree and initrd need [${hex(bank.base)}, ${hex(end)}) but the first RAM bank ends at ${hex(bank.base + bank.size)}`);
  }

  const ram = machine.ramBanks.map((b) => identity('ram', b.base, b.size));
  const io = deviceWindows(build).map((w) => identity('io', w.base, w.size));
  const limit = machine.interruptCount ?? Infinity;
  const first = board.arch === 'aarch64' ? 32 : 1; // GIC SPIs; PLIC sources start at 1
  const interrupts = [...new Set(machine.devices.filter((d) => d.role !== 'interrupt-controller').flatMap((d) => d.irqs))]
    .filter((i) => i >= first && i < limit)
    .sort((a, b) => a - b);

  return {
    arch: board.arch === 'aarch64' ? 'arm64' : board.arch === 'riscv64' ? 'riscv' : board.arch,
    name: 'bring-up',
    zone_id: 0,
    cpus: machine.cpus.map((c) => c.id),
    memory_regions: [...ram, ...io],
    interrupts,
    ivc_configs: [],
    kernel_filepath: images.kernel.path,
    dtb_filepath: '',
    kernel_load_paddr: hex(entry),
    dtb_load_paddr: hex(dtbAt),
    entry_point: hex(entry),
    ...(images.initrd !== undefined ? { initrd_filepath: images.initrd.path, initrd_load_paddr: hex(initrdAt) } : {}),
    ...(images.append !== undefined ? { kernel_args: images.append } : {}),
    arch_config: archConfig(build),
  };
}

/** Stage-2 maps pages: a region is whole 4 KiB pages, as hvisor's zone configs give them. */
const PAGE = 0x1000;

/**
 * Every device window the zone passes through: all nodes with MMIO but the interrupt controllers
 * (the zone gets its own), minus what lies in RAM, widened to whole pages, with windows that share
 * or touch a page (syscon users sharing a block, RK3568's 32-byte QoS blocks) merged into one region:
 * a vendor SoC's windows then fit hvisor's 64 regions.
 */
function deviceWindows(build: BoardBuild): { base: number; size: number }[] {
  const { machine } = build;
  const inRam = (w: { base: number; size: number }) => machine.ramBanks.some((b) => w.base < b.base + b.size && b.base < w.base + w.size);
  const windows = machine.devices
    .filter((d) => d.role !== 'interrupt-controller')
    .flatMap((d) => d.windows)
    .filter((w) => w.size > 0 && !inRam(w))
    .map((w) => {
      const base = Math.floor(w.base / PAGE) * PAGE;
      return { base, size: Math.ceil((w.base + w.size) / PAGE) * PAGE - base };
    })
    .filter((w) => !inRam(w))
    .sort((a, b) => a.base - b.base);
  const merged: { base: number; size: number }[] = [];
  for (const w of windows) {
    const last = merged.at(-1);
    if (last !== undefined && w.base <= last.base + last.size) last.size = Math.max(last.size, w.base + w.size - last.base);
    else merged.push({ base: w.base, size: w.size });
  }
  return merged;
}

/** The zone's interrupt controller where the board's is: GICv3 (with its ITS), GICv2, or the PLIC. */
function archConfig(build: BoardBuild): ZoneConfigJson['arch_config'] {
  const { machine, board } = build;
  const controller = (...compatible: string[]) => machine.devices.find((d) => d.role === 'interrupt-controller' && d.compatible.some((c) => compatible.includes(c)));
  const window = (d: { windows: readonly { base: number; size: number }[] } | undefined, i: number) => d?.windows[i];
  const gicv3 = controller('arm,gic-v3');
  if (gicv3 !== undefined) {
    const d = window(gicv3, 0)!;
    const r = window(gicv3, 1);
    if (r === undefined) throw new BringUpError(`${gicv3.path}: a GICv3 without a redistributor window`);
    const its = controller('arm,gic-v3-its');
    const itsWindow = window(its, 0);
    return {
      gic_version: 'v3', gicd_base: hex(d.base), gicd_size: hex(d.size), gicr_base: hex(r.base), gicr_size: hex(r.size),
      gits_base: hex(itsWindow?.base ?? 0), gits_size: hex(itsWindow?.size ?? 0), is_aarch32: false,
    };
  }
  const gicv2 = controller('arm,gic-400', 'arm,cortex-a15-gic', 'arm,cortex-a9-gic', 'arm,gic-v2');
  if (gicv2 !== undefined) {
    const [d, c, h, v] = [0, 1, 2, 3].map((i) => window(gicv2, i));
    if (c === undefined) throw new BringUpError(`${gicv2.path}: a GICv2 without a CPU-interface window`);
    return {
      gic_version: 'v2', gicd_base: hex(d!.base), gicd_size: hex(d!.size), gicc_base: hex(c.base), gicc_size: hex(c.size), gicc_offset: hex(0),
      gich_base: hex(h?.base ?? 0), gich_size: hex(h?.size ?? 0), gicv_base: hex(v?.base ?? 0), gicv_size: hex(v?.size ?? 0), is_aarch32: false,
    };
  }
  const plic = machine.devices.find((d) => d.role === 'interrupt-controller' && d.compatible.some((c) => c.includes('plic')));
  if (plic !== undefined && board.arch === 'riscv64') {
    const p = window(plic, 0)!;
    return { plic_base: hex(p.base), plic_size: hex(p.size), aplic_base: hex(0), aplic_size: hex(0) };
  }
  throw new BringUpError(`board ${board.name}: its DTB has no GICv2, GICv3 or PLIC a bring-up zone can be given`);
}
