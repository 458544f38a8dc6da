import type { GdbArchDescription } from './arch-description.js';

export type WatchpointKind = 'write' | 'read' | 'access';

/** Why the target stopped, as the stub reports it (GDB signal numbers). */
export type StopEvent =
  | { readonly kind: 'breakpoint'; readonly thread: number; readonly hw: boolean }
  | { readonly kind: 'watchpoint'; readonly thread: number; readonly watch: WatchpointKind; readonly address: bigint }
  | { readonly kind: 'step'; readonly thread: number }
  | { readonly kind: 'interrupted'; readonly thread: number }
  | { readonly kind: 'signal'; readonly thread: number; readonly signal: number; readonly reason: string }
  | { readonly kind: 'exited'; readonly code: number }
  /** Going backwards reached the oldest state the target kept (gdb: "No more reverse-execution history"). */
  | { readonly kind: 'history-start'; readonly thread: number };

export interface ThreadInfo {
  /** gdb thread id: vCPU index + 1. */
  readonly id: number;
  /** e.g. "zone0/vcpu1 (cpu 1)". */
  readonly name: string;
  /** e.g. "EL1h, running" / "S-mode, halted". */
  readonly extra: string;
}

export type ResumeAction = 'continue' | 'step' | 'stop';

/** One entry of the optional qXfer:memory-map (addresses as gdb will use them). */
export interface GdbMemoryRegion {
  readonly kind: 'ram' | 'rom';
  readonly start: bigint;
  readonly length: bigint;
}

/**
 * A zone as its gdb stub sees it: threads are the zone's vCPUs, all-stop within the zone.
 * Implemented by the hypervisor's Zone; the stub knows nothing else about zones or arches.
 */
export interface GdbTarget {
  readonly description: GdbArchDescription;
  threads(): readonly ThreadInfo[];
  readRegister(thread: number, regno: number): Uint8Array | undefined;
  writeRegister(thread: number, regno: number, value: Uint8Array): boolean;
  /** Reads through the thread's current translation (or guest-physical); returns the readable prefix. */
  readMemory(thread: number, address: bigint, length: number, physical: boolean): Uint8Array;
  /** Writes RAM only; returns how many bytes were written. */
  writeMemory(thread: number, address: bigint, data: Uint8Array, physical: boolean): number;
  setBreakpoint(address: bigint, hw: boolean, on: boolean): boolean;
  setWatchpoint(address: bigint, length: number, kind: WatchpointKind, on: boolean): boolean;
  /** Halt every vCPU of the zone (connect, Ctrl-C). Fires onStop with 'interrupted' once halted. */
  halt(): void;
  /** Resume with a per-thread action; threads absent from the map get `otherwise`. */
  resume(actions: ReadonlyMap<number, ResumeAction>, otherwise: ResumeAction): void;
  /** The one listener the stub installs; called when a resumed zone stops. */
  onStop(listener: ((event: StopEvent) => void) | undefined): void;
  /**
   * `monitor ...` commands; returns the text to print, or a promise of it for a slow command (the stub
   * keeps gdb waiting meanwhile; the target should yield to the event loop every second or so).
   */
  monitor(command: string): string | Promise<string>;
  /** gdb `kill`: reset or stop this zone only, by policy. */
  kill(): void;
  /**
   * Optional memory map for qXfer:memory-map:read. Only offer it when gdb's addresses are the ones
   * mapped (gdb refuses accesses outside a map it was given, which breaks guest-virtual views).
   */
  memoryMap?(): readonly GdbMemoryRegion[];
  /**
   * Optional reverse execution (`bs`, `bc`; qSupported ReverseStep+, ReverseContinue+): undo one
   * instruction of `thread`, or go back until a breakpoint or watchpoint, or to the start of the
   * history the target kept ('history-start'). Like `resume`, it reports through onStop.
   */
  reverse?(kind: 'step' | 'continue', thread: number): void;
  /** True while every vCPU of the zone is halted by the debugger. */
  readonly halted: boolean;
}
