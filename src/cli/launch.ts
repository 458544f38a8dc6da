import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBoard, type BoardDescriptor, type BoardParams } from '../../boards/index.js';
import { DEFAULT_GDB_BASE_PORT, gdbCommandLine, gdbPortForZone } from '../../gdbstub/ports.js';
import { GdbServer } from '../../gdbstub/server.js';
import { buildBoard, type BoardBuild } from '../board/board-builder.js';
import { bringUpZone } from '../board/bring-up-zone.js';
import { aarch64Factories, loongarchFactories, riscvFactories, type ArchFactories } from '../hypervisor/zone/arch-factories.js';
import { ControlServer } from '../hypervisor/control/control-server.js';
import type { ControlAddress } from '../hypervisor/control/control-protocol.js';
import { CONFIG_VERSIONS, type ConfigVersion } from '../config/zone-config-binary.js';
import { Hypervisor } from '../hypervisor/lifecycle/hypervisor.js';
import { loadZoneConfig, type ZoneConfig } from '../config/zone-config.js';
import type { CpuFactory, IrqchipFactory, Zone } from '../hypervisor/zone/zone.js';
import type { HostClock, TimeMode } from '../hypervisor/zone/virtual-clock.js';
import { loadVirtioConfig } from '../config/virtio-config.js';
import { BoardVirtio } from '../devices/virtio/virtio-provider.js';
import { loadBoardPciConfig } from '../config/pci-config.js';
import { BoardPci } from '../devices/pci/board-pci.js';
import { findBoardPciHost } from '../board/board-pci-host.js';
import { ZoneConsoles } from './zone-consoles.js';
import { LogLimiter } from '../util/log-limiter.js';
import { listenPrivate } from '../util/private-socket.js';
import type { Server } from 'node:net';
import { DTB_FILE_MAX_BYTES, InputFileError, readInputFileSync } from '../util/input-file.js';
import { HvisorError } from '../util/hvisor-error.js';
import { printable } from '../util/printable.js';
import { RecordReplay } from '../hypervisor/replay/record-replay.js';
import { ZoneReverseHistory } from '../hypervisor/replay/reverse-history.js';
import { writeRecordedRun } from './recorded-run.js';

/** The repository root (dist/src/cli/ when built, src/cli/ under vitest). */
const here = dirname(fileURLToPath(import.meta.url));
const REPO = [resolve(here, '..', '..'), resolve(here, '..', '..', '..')].find((d) => existsSync(join(d, 'boards', 'guests')))!;

/** Boards whose built-in demo guests `hvisor run` starts when no --zone is given: zone0, zoneR. */
const DEMO_ZONES: Readonly<Record<string, readonly string[]>> = {
  'qemu-virt-riscv64': ['boards/guests/riscv64/zone0-demo.json', 'boards/guests/riscv64/zoneR-heartbeat.json'],
};

/** Host ms a realtime zone's scheduling slice may take (Scheduler sliceMs). */
export const HOST_SLICE_MS = 5;

export class LaunchError extends HvisorError {}

export interface LaunchOptions {
  readonly board: string;
  readonly dtb?: string;
  readonly params?: Partial<BoardParams>;
  /** Use a DTB whose root compatible the board does not model. */
  readonly force?: boolean;
  /** Zone config files, zone0 first; empty = the board's demo zones (or the bring-up zone). */
  readonly zones: readonly string[];
  /**
   * A one-zone bring-up run instead of zone configs (QEMU's -kernel/-initrd/-append): the zone is
   * the whole board (bring-up-zone.ts); its config is written to a temporary file and named in the summary.
   */
  readonly bringUp?: { readonly kernel: string; readonly initrd?: string; readonly append?: string };
  /** Zone N's stub listens on base + N (N = zone id); 0 = ports the OS picks; `false` = no gdb stubs. */
  readonly gdbBasePort: number | false;
  readonly gdbHost?: string;
  /** Serve each zone's stub on DIR/zoneN.sock (mode 0600: owner and root) instead of TCP. */
  readonly gdbSocketDir?: string;
  readonly control?: ControlAddress;
  /** hvisor-tool's virtio_cfg.json: the virtio devices served into the zones' virtio regions. */
  readonly virtio?: string;
  /** The zone_config layout zone0's hvisor-tool sends with its zone start hypercall: 6 (default) or 5 (hvisor v0.4). */
  readonly configVersion?: number;
  /** The board's PCI functions and their backends (board-pci-config.ts); zones take them with alloc_pci_devs. */
  readonly pci?: string;
  /** Where zone consoles and messages go (stdout by default). */
  readonly output?: (text: string) => void;
  /** Hold console output until `instance.consoles.release()` (the CLI prints its banner first). */
  readonly holdOutput?: boolean;
  readonly log?: (line: string) => void;
  /**
   * The host clock zones' time and the scheduler's slices follow (default performance.now). Tests of
   * timing under attack pass the process's CPU time, so other processes of a loaded host do not count.
   */
  readonly hostClock?: HostClock;
  /** Where the zones' guest time comes from (default `virtual`: the instructions they retire) and its rate. */
  readonly time?: { readonly mode?: TimeMode; readonly instructionsPerSecond?: number };
  /** Every zone, when it starts, holds at its first instruction until its gdb says continue (QEMU's -S). */
  readonly waitGdb?: boolean;
  /** Give each generated zone device tree a `kaslr-seed` derived from this (absent: no KASLR, kernels at their link addresses). */
  readonly kaslrSeed?: bigint;
  /**
   * Record every zone's outside input into DIR (`hvisor run --record`), or replay a recording from DIR
   * and check the zones do again what they did (`--replay`; see `Instance.replay`).
   */
  readonly recordReplay?: { readonly mode: 'record' | 'replay'; readonly dir: string };
  /** Each zone keeps a checkpoint snapshot every this many instructions (the last two; `monitor snapshot load auto-N`). */
  readonly snapshotEvery?: number;
}

/** How a run ended on its own: every zone stopped or crashed. */
export interface RunEnd {
  /**
   * The guests' exit status: the board finisher's code when a guest wrote it (sifive,test fail),
   * else the first non-zero status a zone's power-off request carried (SBI SRST system failure),
   * else 1 when a zone crashed, else 0.
   */
  readonly status: number;
  /** One line: which zones stopped how. */
  readonly reason: string;
}

/** A running board: its zones, their gdb stubs and the control channel. */
export interface Instance {
  readonly build: BoardBuild;
  readonly hypervisor: Hypervisor;
  readonly consoles: ZoneConsoles;
  readonly gdb: ReadonlyMap<number, GdbServer>;
  readonly control: ControlServer | undefined;
  /** The board's PCIe host and the zones' virtual ECAMs (when `pci` was given). */
  readonly pci: BoardPci | undefined;
  /** The zones' virtio devices and the board switches joining their NICs (when `virtio` was given). */
  readonly virtio: BoardVirtio | undefined;
  /** One line per zone: name, CPUs and the gdb command that debugs it. */
  readonly summary: readonly string[];
  /** Settles once every zone has stopped or crashed (the board is then idle for good unless a zone is restarted). */
  readonly stopped: Promise<RunEnd>;
  /** `recordReplay`: the recording (closed with the instance) or the replay (its `outcome`). */
  readonly recordReplay: RecordReplay | undefined;
  close(): Promise<void>;
}

/**
 * `hvisor run`: board → machine → zone configs → partition check → zones with their images and
 * device trees → one gdb stub per zone → the scheduler. Everything that can be wrong with the
 * input is reported before the first instruction runs.
 */
export async function launch(options: LaunchOptions): Promise<Instance> {
  const board = findBoard(options.board);
  const consoles = new ZoneConsoles(options.output, options.holdOutput === true);
  const rr = options.recordReplay === undefined ? undefined : new RecordReplay(options.recordReplay.mode, options.recordReplay.dir);
  if (rr !== undefined) {
    if (rr.mode === 'record') writeRecordedRun(rr.dir, options);
    if (options.time?.mode === 'realtime') throw new LaunchError('--time realtime follows the host clock: a run on it cannot be recorded or replayed');
    consoles.inputs = (zone) => rr.inputs(zone);
    consoles.tap = (zone, bytes) => rr.output(zone, bytes);
  }
  const liveWallClock = () => BigInt(Date.now()) * 1_000_000n;
  // A guest's write to the board's power-off device (sifive,test) turns the whole board off, as on QEMU.
  let boardExit: number | undefined;
  let hypervisorRef: Hypervisor | undefined;
  const powerOffBoard = (code: number) => {
    boardExit ??= code;
    for (const z of hypervisorRef?.zones ?? []) if (z.state === 'running') z.shutdown('the board powered off', code);
  };
  const build = buildBoard(board, {
    ...(options.dtb !== undefined && { dtb: readInputFileSync(options.dtb, { what: 'board DTB', maxBytes: DTB_FILE_MAX_BYTES }) }),
    ...(options.params && { params: options.params }),
    ...(options.force === true && { force: true }),
    services: {
      console: (path) => consoles.uart(path),
      log: new LogLimiter(options.log ?? ((line) => consoles.log(line))).for('board devices'),
      powerOff: powerOffBoard,
      // Real-time clocks read the host's: a recording notes each read, a replay answers it.
      wallClockNs: rr === undefined ? liveWallClock : () => rr.value('wall-clock', liveWallClock),
    },
  });
  if (options.bringUp !== undefined && options.zones.length > 0) throw new LaunchError('a bring-up run (--kernel) is one zone: give --zone files or --kernel, not both');
  const bringUpFile = options.bringUp === undefined ? undefined : writeBringUpZone(build, options.bringUp);
  const files = bringUpFile !== undefined ? [bringUpFile] : options.zones.length > 0 ? options.zones : demoZones(board);
  const configs = files.map((f) => loadZoneConfig(f));
  if (configs[0]?.zoneId !== 0) throw new LaunchError(`${configs[0]?.source}: the first zone must be the root zone (zone_id 0)`);

  const virtioLoad = options.virtio === undefined ? undefined : loadVirtio(options.virtio, configs);
  const virtio = virtioLoad?.virtio;
  if (virtio !== undefined && rr !== undefined) virtio.inputs = (zone) => rr.inputs(zone);
  const pci = options.pci === undefined ? undefined : loadPci(options.pci, build, board);
  const gdb = new Map<number, GdbServer>();
  // A gdb client can provoke a log line per packet: rate-limited per stub.
  const gdbLogs = new LogLimiter(options.log ?? ((line) => consoles.log(line)));
  const pending: Promise<void>[] = [];
  const summary: string[] = [];
  let startupDone = false;
  let ended: ((end: RunEnd) => void) | undefined;
  const stopped = new Promise<RunEnd>((resolve) => (ended = resolve));
  const checkStopped = () => {
    const zones = hypervisorRef?.zones ?? [];
    if (!startupDone || zones.length === 0 || zones.some((z) => z.state !== 'stopped' && z.state !== 'crashed')) return;
    ended?.(runEnd(zones, boardExit));
    ended = undefined;
  };
  // Every zone gets its stub when it starts, also zones started later (control channel, zone0's
  // hypercalls); zone N listens on base + N.
  const serve = (zone: Zone) => {
    if (options.gdbBasePort === false) return;
    const port = options.gdbBasePort === 0 ? 0 : gdbPortForZone(zone.id, options.gdbBasePort);
    const socketDir = options.gdbSocketDir;
    const server = new GdbServer({
      target: zone,
      port,
      name: zone.name,
      log: gdbLogs.for(`gdb stub of zone ${zone.id}`),
      ...(options.gdbHost && { host: options.gdbHost }),
      ...(socketDir !== undefined && {
        unixSocket: { path: join(socketDir, `zone${zone.id}.sock`), bind: (s: Server) => listenPrivate(s, join(socketDir, `zone${zone.id}.sock`), `gdb socket of zone ${zone.id}`) },
      }),
    });
    gdb.set(zone.id, server);
    // Zones started later (zone0's hypercalls can start and stop them in a loop): rate-limited too.
    const log = gdbLogs.for(`gdb stub of zone ${zone.id}`);
    const listening = server.listen().then(() => {
      if (startupDone) log(describeZone(zone, server));
    });
    if (startupDone) listening.catch((e: Error) => log(e.message));
    else pending.push(listening);
  };
  if (options.waitGdb === true && options.gdbBasePort === false) throw new LaunchError('--wait-gdb holds every zone until its gdb says continue: it needs the gdb stubs (not --no-gdb)');
  const configVersion = options.configVersion ?? 6;
  if (!CONFIG_VERSIONS.includes(configVersion as ConfigVersion)) {
    throw new LaunchError(`config version ${configVersion}: hvisor's zone_config layouts are ${CONFIG_VERSIONS.join(' (hvisor v0.4) and ')} (hvisor-tool main)`);
  }
  const hypervisor = new Hypervisor({
    configVersion: configVersion as ConfigVersion,
    ...(options.kaslrSeed !== undefined && { kaslrSeed: options.kaslrSeed }),
    machine: build.machine,
    ...archFactories(board, build),
    timerFrequency: build.timerFrequency,
    // Realtime zones' exits take host time the instruction budget does not see: their slices have a
    // host-time budget too (zones in virtual or warp time are charged in instructions: exit-costs.ts).
    scheduler: { sliceMs: HOST_SLICE_MS, ...(options.hostClock && { hostClock: options.hostClock }) },
    zoneDefaults: {
      ...(options.hostClock && { hostClock: options.hostClock }),
      // A replay's idle stretches end where the recording's did: at once, with nothing to wait for.
      ...(rr?.mode === 'replay' ? { timeMode: 'warp' as const } : options.time?.mode !== undefined && { timeMode: options.time.mode }),
      ...(options.time?.instructionsPerSecond !== undefined && { instructionsPerSecond: options.time.instructionsPerSecond }),
    },
    console: (zone, bytes) => consoles.write(zone, bytes),
    ...(virtio && { virtio: { provide: (config, space) => virtio.provide(config.zoneId, space), release: (id) => virtio.release(id), slots: (id) => virtio.slots(id) } }),
    ...(pci && { devices: { provide: (config, space) => pci.provide(config, space), release: async (id) => pci.release(id) } }),
    log: options.log ?? ((line) => consoles.log(line)),
    onZoneStarted: (zone) => {
      if (options.waitGdb === true) zone.holdAtEntry();
      rr?.attach(zone);
      // Cores that keep snapshot state and show their writes can be reverse-stepped.
      // With record/replay, whose outside input comes again, it goes back across runs by re-execution.
      const rerun = rr === undefined ? undefined : {
        budget: hypervisor.scheduler.budget,
        quiet: (on: boolean) => {
          if (on) consoles.quiet.add(zone.id);
          else consoles.quiet.delete(zone.id);
          rr.quiet(zone.id, on);
        },
        log: options.log ?? ((line: string) => consoles.log(line)),
      };
      if (zone.cpus.every((c) => c.saveState !== undefined && c.observeWrites !== undefined)) zone.history = new ZoneReverseHistory(zone, options.snapshotEvery, rerun);
      consoles.nameZone(zone.id, zone.name);
      serve(zone);
    },
    onZoneRemoved: (zone) => {
      void gdb.get(zone.id)?.close();
      gdb.delete(zone.id);
      checkStopped();
    },
    onZoneStopped: (zone) => {
      rr?.zoneStopped(zone);
      checkStopped();
    },
  });
  hypervisorRef = hypervisor;
  // A replay starts, shuts down and restarts zones where the recording's control commands did.
  if (rr !== undefined) {
    rr.lifecycle = (id, e) => {
      try {
        if (e.command === 'shutdown') hypervisor.shutdownZone(id);
        else if (e.command === 'restart') hypervisor.restartZone(id);
        else hypervisor.startZoneFile(e.file!);
      } catch (err) {
        (options.log ?? ((line: string) => consoles.log(line)))(`replay: hvisor zone ${e.command} (zone ${id}'s event ${e.index}): ${(err as Error).message}`);
      }
    };
  }
  // A zone that cannot start, a port in use: nothing of this board may stay open.
  const release = async () => {
    await Promise.allSettled(pending);
    await Promise.all([...gdb.values()].map((s) => s.close()));
    await virtio?.close();
    pci?.close();
  };
  let control: ControlServer | undefined;
  try {
    for (const [i, config] of configs.entries()) {
      for (const d of build.machine.devices) {
        if (d.model?.name !== undefined && /uart|pl011|16550|xuartps/.test(d.model.name) && ownsWindow(config, d.windows[0])) {
          consoles.assignUart(d.path, config.zoneId);
        }
      }
      hypervisor.startZoneFile(files[i]!);
    }
    // A virtio endpoint that cannot listen (port in use, bad address, no such folder) refuses the run.
    await Promise.all(hypervisor.zones.map((z) => hypervisor.ready(z)));
    await Promise.all(pending);
    const lifecycle = rr === undefined ? undefined : (r: { cmd: 'start'; file: string } | { cmd: 'shutdown' | 'restart'; id: number }) => (r.cmd === 'start' ? rr.control('start', 0, r.file) : rr.control(r.cmd, r.id));
    if (options.control !== undefined) control = await ControlServer.listen(hypervisor, options.control, lifecycle);
  } catch (e) {
    await release();
    throw e;
  }
  startupDone = true;
  for (const zone of hypervisor.zones) summary.push(describeZone(zone, gdb.get(zone.id)));
  if (options.kaslrSeed !== undefined) summary.push(`KASLR: each zone's kaslr-seed derives from 0x${options.kaslrSeed.toString(16)} (--kaslr-seed 0x${options.kaslrSeed.toString(16)} repeats it)`);
  if (virtioLoad !== undefined) summary.push(...virtioLoad.waiting);
  if (bringUpFile !== undefined) summary.push(`bring-up zone config: ${bringUpFile} (edit it and pass it with --zone)`);
  // Consoles served on sockets: where to connect (a config may ask for port 0).
  if (virtio !== undefined) {
    await virtio.ready().catch(() => undefined);
    for (const w of virtio.windows) {
      const where = w.built.describe();
      const owner = hypervisor.zones.find((z) => z.virtioWindows.includes(w));
      if (w.name.startsWith('virtio-console') && /^(tcp|unix) /.test(where)) summary.push(`zone ${owner?.id ?? '?'} ${w.name}: ${where}`);
    }
  }
  hypervisor.run();
  return {
    stopped,
    build,
    hypervisor,
    consoles,
    gdb,
    control,
    pci,
    virtio,
    summary,
    recordReplay: rr,
    async close() {
      hypervisor.stop();
      rr?.close();
      gdbLogs.flush();
      consoles.flush();
      await Promise.all([...gdb.values()].map((s) => s.close()));
      await control?.close();
      await virtio?.close();
      pci?.close();
    },
  };
}

function runEnd(zones: readonly Zone[], boardExit: number | undefined): RunEnd {
  const how = zones.map((z) => `zone ${z.id} ${z.state}${z.state === 'stopped' && z.exitStatus ? ` (exit status ${z.exitStatus})` : ''}`).join(', ');
  const requested = zones.find((z) => (z.exitStatus ?? 0) !== 0)?.exitStatus;
  const status = boardExit ?? requested ?? (zones.some((z) => z.state === 'crashed') ? 1 : 0);
  return { status, reason: boardExit !== undefined ? `the board powered off with code ${boardExit}: ${how}` : `every zone has stopped: ${how}` };
}

/** The bring-up zone's config, written where `--zone` can take it back. */
function writeBringUpZone(build: BoardBuild, files: NonNullable<LaunchOptions['bringUp']>): string {
  // Images larger than the board's RAM cannot be loaded: that caps what is read.
  const maxBytes = build.machine.ramBanks.reduce((n, b) => n + b.size, 0);
  const kernel = readInputFileSync(files.kernel, { what: '--kernel image', maxBytes });
  const initrd = files.initrd === undefined ? undefined : readInputFileSync(files.initrd, { what: '--initrd image', maxBytes });
  const json = bringUpZone(build, {
    kernel: { path: resolve(files.kernel), bytes: kernel },
    ...(initrd !== undefined && { initrd: { path: resolve(files.initrd!), size: initrd.length } }),
    ...(files.append !== undefined && { append: files.append }),
  });
  const file = join(mkdtempSync(join(tmpdir(), 'hvisor-bring-up-')), 'zone0.json');
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  return file;
}

/**
 * hvisor-tool's virtio_cfg.json. A zone in it that this run does not start is not an error: its
 * devices are served when `hvisor zone start` starts it, so the summary says they wait (a typo in
 * an id shows there too).
 */
function loadVirtio(file: string, configs: readonly ZoneConfig[]): { virtio: BoardVirtio; waiting: string[] } {
  const zones = loadVirtioConfig(file);
  const ids = configs.map((c) => c.zoneId);
  const waiting = zones.filter((z) => !ids.includes(z.zoneId))
    .map((z) => `${file}: zone ${z.zoneId}'s virtio devices wait for \`hvisor zone start\` (this run starts zone${ids.length > 1 ? 's' : ''} ${ids.join(', ')})`);
  return { virtio: new BoardVirtio(zones, dirname(resolve(file))), waiting };
}

/** The board's PCI functions from a `--pci` file, plugged into its ECAM host bridge. */
export function loadPci(file: string, build: BoardBuild, board: BoardDescriptor): BoardPci {
  const config = loadBoardPciConfig(file);
  const host = findBoardPciHost(build);
  if (host === undefined) throw new LaunchError(`${file}: board ${board.name} has no pci-host-ecam-generic host bridge to plug PCI functions into`);
  return new BoardPci(host, config, dirname(resolve(file)));
}

function demoZones(board: BoardDescriptor): string[] {
  const demo = DEMO_ZONES[board.name];
  if (demo === undefined) {
    throw new LaunchError(`board ${board.name} has no built-in demo guests: give its zones with --zone FILE (zone0 first); boards with demos: ${Object.keys(DEMO_ZONES).join(', ')}`);
  }
  return demo.map((f) => join(REPO, f));
}

function archFactories(board: BoardDescriptor, build: BoardBuild): ArchFactories {
  switch (board.arch) {
    case 'riscv64': {
      return riscvFactories(build.machine.interruptCount ?? 96);
    }
    case 'aarch64': {
      const compatibles = [...build.tree.nodes()].flatMap((n) => n.strings('compatible') ?? []);
      const intids = build.machine.interruptCount ?? 288;
      if (compatibles.includes('arm,gic-v3')) return aarch64Factories('gicv3', intids);
      if (compatibles.some((c) => c === 'arm,cortex-a15-gic' || c === 'arm,gic-400')) return aarch64Factories('gicv2', intids);
      throw new LaunchError(`board ${board.name}: its device tree has no GICv2 or GICv3 to give zones`);
    }
    case 'loongarch64':
      return loongarchFactories();
    default:
      throw new LaunchError(`board ${board.name}: running ${board.arch} zones is not implemented yet (hvisor board show works)`);
  }
}

function ownsWindow(config: ZoneConfig, w: { base: number; size: number } | undefined): boolean {
  return w !== undefined && config.memoryRegions.some((r) => r.type === 'io' && w.base >= r.physicalStart && w.base + w.size <= r.physicalStart + r.size);
}

function describeZone(zone: Zone, server: GdbServer | undefined): string {
  const cpus = `CPU${zone.config.cpus.length > 1 ? 's' : ''} ${zone.config.cpus.join(',')}`;
  const gdb = server === undefined ? 'no gdb stub' : gdbCommandLine(server.socketPath ?? server.port, server.host);
  return `zone ${zone.id} ${printable(zone.name)} (${cpus}): ${gdb}`;
}

export { DEFAULT_GDB_BASE_PORT };
