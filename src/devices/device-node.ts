import type { IrqLine } from '../machine/irq-line.js';
import type { CharBackend } from './uart/char-backend.js';
import { HvisorError } from '../util/hvisor-error.js';

/** One address window of a device node, CPU-physical (after `ranges` translation). */
export interface DeviceWindow {
  readonly base: number;
  readonly size: number;
}

/**
 * What a model factory needs to know about a device-tree node. The board fills it from the DTB;
 * models never parse device trees themselves.
 */
export interface DeviceNodeDescription {
  /** Full node path, e.g. "/soc/serial@10000000": names the model in listings and errors. */
  readonly path: string;
  /** The node's `compatible` list, most specific first. */
  readonly compatible: readonly string[];
  /** `reg` windows in order. */
  readonly windows: readonly DeviceWindow[];
  /**
   * Interrupt outputs in the order of the node's `interrupts` (usually the board's RoutedIrq
   * objects, connected later to the owning zone's interrupt controller).
   */
  readonly irqs: readonly IrqLine[];
  /** `clock-frequency` (or the rate of the node's first clock), in Hz, when known. */
  readonly clockFrequency?: number;
  /** `reg-shift` (8250-style UARTs: register stride is 1 << regShift bytes). */
  readonly regShift?: number;
  /** `reg-io-width` in bytes (1 or 4). */
  readonly regIoWidth?: number;
  /** Any other property as raw big-endian bytes (undefined when absent). */
  property?(name: string): Uint8Array | undefined;
  /** The CPU-physical windows of the node a phandle property names (an SCMI channel's `shmem`); empty when none. */
  linkedWindows?(name: string): readonly DeviceWindow[];
}

/**
 * Host services a model may need. Every field has a sensible default so a test can pass `{}`.
 */
export interface DeviceServices {
  /** The character backend for the UART at `path` (default: output discarded, no input). */
  console?(path: string): CharBackend;
  /** Host wall-clock time in nanoseconds since the Unix epoch (default: Date.now()). RTCs use it. */
  wallClockNs?(): bigint;
  /** Guest asked to power the system off (sifive,test finisher, syscon-poweroff); `code` 0 = pass. */
  powerOff?(code: number): void;
  /** Guest asked for a system reset (sifive,test 0x7777, syscon-reboot). */
  reset?(): void;
  /** A diagnostic line from a model (an SoC block's unmodelled register); the host rate-limits them. Default: dropped. */
  log?(line: string): void;
  /** vCPUs of the zone the device serves (fw-cfg's CPU count); default 1. */
  readonly cpus?: number;
}

/** A device node whose description cannot build a model (e.g. no `reg`): names the node and why. */
export class DeviceDescriptionError extends HvisorError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** The first window, or a typed error naming the node. */
export function firstWindow(node: DeviceNodeDescription): DeviceWindow {
  const w = node.windows[0];
  if (w === undefined) throw new DeviceDescriptionError(node.path, 'has no reg window');
  return w;
}
