import type { Arch } from '../src/machine/machine.js';
import type { DtsNode } from './dts-source.js';
import type { ZoneConfigJson } from './zone-config-json.js';

/** The knobs of a board whose device tree we generate (QEMU's `-smp` and `-m`). */
export interface BoardParams {
  readonly cpus: number;
  readonly memoryBytes: number;
  /** QEMU's `virtualization=on` (EL2 present, as hvisor runs QEMU); only the aarch64 virt boards use it. */
  readonly virtualization?: boolean;
}

/** A RAM range of the board, CPU-physical. */
export interface RamRange {
  readonly base: number;
  readonly size: number;
}

/**
 * Which model a `compatible` string is meant to bind on this board, and how the board treats the
 * node. `role` overrides the device registry's guess for compatibles it does not know (the
 * LoongArch virt board's `loongarch,ls7a` PCH-PIC, for instance).
 */
export interface BoardBinding {
  readonly compatible: string;
  /** The model name we expect the registry to provide, e.g. "pl011". */
  readonly model: string;
  readonly role?: 'interrupt-controller' | 'timer' | 'no-model';
}

export interface BoardDescriptor {
  /** The name users type: `hvisor board show qemu-virt-aarch64`. */
  readonly name: string;
  readonly title: string;
  readonly arch: Arch;
  /**
   * The root `compatible` strings of the SoCs (or machines) this board models, e.g. "fsl,imx8mp": a
   * DTB whose root compatible names none of them is refused unless forced.
   */
  readonly rootCompatible: readonly string[];
  /** The hvisor platform (syswonder/hvisor platform/<arch>/<name>) whose root zone this board mirrors. */
  readonly hvisorPlatform: string;
  /** Defaults for a generated tree (and the size of `fallbackRam`). */
  readonly defaults: BoardParams;
  /**
   * The board's own device tree, the way QEMU 7.2 builds it for these parameters (renderDts gives
   * its DTS text). Absent for boards whose DTB is a vendor file given with --dtb.
   */
  generateTree?(params: BoardParams): DtsNode;
  /** Where the DTB comes from when it is not generated, for the error message. */
  readonly dtbHint?: string;
  /** RAM when the DTB has no /memory node (QEMU's LoongArch virt passes memory through fw_cfg). */
  fallbackRam?(params: BoardParams): readonly RamRange[];
  readonly bindings: readonly BoardBinding[];
  /**
   * Interrupt numbers the board's interrupt controller implements, as zone configs count them (GIC:
   * INTIDs, GICD_TYPER.ITLinesNumber; QEMU virt 288). Absent: the PLIC's riscv,ndev + 1, or for a
   * GIC the DTB's highest interrupt rounded up to a multiple of 32.
   */
  readonly interruptCount?: number;
  /**
   * SoC blocks at fixed addresses the vendor DTB does not describe (i.MX 8M Plus's NPU at 0x3850_0000
   * is in NXP's kernel DTB, not mainline's): a zone's io region over one is a valid, idle claim.
   */
  /**
   * The SoC's blocks the DTB describes and nothing models are present but idle: registers read as zero
   * and ignore writes (QEMU's unimplemented-device), where a zone passes them through. Absent: such a
   * window is a hole (an access faults), which shows a bring-up what is missing.
   */
  readonly unmodelledReadAsZero?: boolean;
  readonly undescribedBlocks?: readonly { readonly name: string; readonly base: number; readonly size: number }[];
  /** CNTFRQ_EL0 as the board's firmware sets it, where the DTB's timer node gives no clock-frequency (default 62.5 MHz, QEMU's). */
  readonly timerFrequency?: number;
  /**
   * The root zone (zone0) as hvisor compiles it for the platform, in hvisor-tool JSON form. Absent
   * only for the stand-in board that shows a DTB whose SoC no board models.
   */
  readonly rootZone?: ZoneConfigJson;
  /** hvisor's example nonroot zones for the platform (`hvisor zone start` files). */
  readonly exampleZones: readonly ZoneConfigJson[];
}

/** Whether a DTB with this root `compatible` is one the board models. */
export function boardMatches(board: BoardDescriptor, rootCompatible: readonly string[]): boolean {
  return rootCompatible.some((c) => board.rootCompatible.includes(c));
}

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;
