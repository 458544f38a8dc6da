/**
 * A plain-data view of a built board (what `hvisor board show --json` prints): memory, CPUs, each
 * device with its CPU-physical windows, zone interrupt numbers and bound model, disabled nodes and
 * the root zone. Addresses are hex strings, as in hvisor-tool's JSON.
 */
import type { ZoneConfigJson } from '../../boards/zone-config-json.js';
import type { BoardBuild } from './board-builder.js';
import type { DeviceInstance } from '../machine/machine.js';

export interface BoardReport {
  readonly board: string;
  readonly title: string;
  readonly arch: string;
  readonly hvisorPlatform: string;
  /** "generated" or the DTB's origin as the caller names it. */
  readonly deviceTree: string;
  readonly params?: { readonly cpus: number; readonly memoryBytes: number };
  readonly memory: readonly { readonly base: string; readonly size: string }[];
  readonly memoryFromBoardFallback: boolean;
  /** Hz of the timer guests read (CNTFRQ_EL0 / timebase). */
  readonly timerFrequency: number;
  /** Interrupt numbers the board's controller implements (GIC INTIDs, PLIC sources + 1), when known. */
  readonly interruptCount?: number;
  readonly cpus: readonly { readonly id: number; readonly hwid: string; readonly path: string }[];
  readonly devices: readonly DeviceReport[];
  readonly disabled: readonly { readonly path: string; readonly compatible: readonly string[]; readonly status: string; readonly windows: readonly WindowReport[] }[];
  /** Absent when no board models the DTB's SoC. */
  readonly rootZone?: ZoneConfigJson;
  readonly exampleZones: readonly ZoneConfigJson[];
}

export interface WindowReport {
  readonly base: string;
  readonly size: string;
  readonly name?: string;
}

export interface DeviceReport {
  readonly path: string;
  readonly compatible: readonly string[];
  readonly role: DeviceInstance['role'];
  readonly windows: readonly WindowReport[];
  /** Each interrupt: zone number (absent behind a cascaded controller), DT name, trigger. */
  readonly irqs: readonly { readonly number?: number; readonly source: string; readonly trigger?: string }[];
  /** The bound model, or null: "no model". */
  readonly model: string | null;
  readonly expectedModel?: string;
  readonly modelError?: string;
  readonly pci?: {
    readonly busRange?: readonly [number, number];
    readonly windows: readonly { readonly space: string; readonly cpuBase: string; readonly pciBase: string; readonly size: string; readonly prefetchable: boolean }[];
  };
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

export function boardReport(build: BoardBuild, deviceTree: string): BoardReport {
  const { board, machine } = build;
  return {
    board: board.name,
    title: board.title,
    arch: board.arch,
    hvisorPlatform: board.hvisorPlatform,
    deviceTree,
    ...(build.generated ? { params: { cpus: build.params.cpus, memoryBytes: build.params.memoryBytes } } : {}),
    memory: machine.ramBanks.map((b) => ({ base: hex(b.base), size: hex(b.size) })),
    memoryFromBoardFallback: build.ramFromFallback,
    timerFrequency: build.timerFrequency,
    ...(machine.interruptCount !== undefined ? { interruptCount: machine.interruptCount } : {}),
    cpus: machine.cpus.map((c) => ({ id: c.id, hwid: hex(c.hwid), path: c.path })),
    devices: build.details.map((d) => {
      const i = d.instance;
      return {
        path: i.path,
        compatible: i.compatible,
        role: i.role,
        windows: i.windows.map((w, k) => ({ base: hex(w.base), size: hex(w.size), ...(d.windowNames?.[k] !== undefined ? { name: d.windowNames[k] } : {}) })),
        irqs: d.irqs.map((q) => ({ ...(q.number !== undefined ? { number: q.number } : {}), source: q.source, ...(q.trigger !== undefined ? { trigger: q.trigger } : {}) })),
        model: i.modelName ?? null,
        ...(d.expectedModel !== undefined ? { expectedModel: d.expectedModel } : {}),
        ...(d.modelError !== undefined ? { modelError: d.modelError } : {}),
        ...(d.pciWindows !== undefined
          ? {
              pci: {
                ...(d.busRange !== undefined ? { busRange: d.busRange } : {}),
                windows: d.pciWindows.map((w) => ({ space: w.space, cpuBase: hex(w.cpuBase), pciBase: hex(w.pciBase), size: hex(w.size), prefetchable: w.prefetchable })),
              },
            }
          : {}),
      };
    }),
    disabled: build.disabled.map((d) => ({ path: d.path, compatible: d.compatible, status: d.status, windows: d.windows.map((w) => ({ base: hex(w.base), size: hex(w.size) })) })),
    ...(board.rootZone !== undefined ? { rootZone: board.rootZone } : {}),
    exampleZones: board.exampleZones,
  };
}
