import type { Machine } from '../../machine/machine.js';
import { checkPartition } from './partition-check.js';
import { deviceRamAsIo } from './device-ram.js';
import { Scheduler, type SchedulerOptions } from '../zone/scheduler.js';
import type { DeviceProvider, VirtioProvider, ZoneDeviceWindow } from '../stage2/stage2.js';
import { loadZoneConfig, type ZoneConfig } from '../../config/zone-config.js';
import { readZoneImages } from './zone-images.js';
import { zoneKaslrSeed } from './kaslr-seed.js';
import { generateZoneDtb } from './zone-dtb.js';
import { IvcHub, type IvcMapping } from './ivc.js';
import { Zone, type CpuFactory, type IrqchipFactory, type ZoneImage, type ZoneOptions, type ZoneState } from '../zone/zone.js';
import { handleHypercall } from './hypercalls.js';
import { LifecycleError } from './lifecycle-error.js';
import { Errno } from '../../util/hvisor-error.js';
import { scrubZoneRam } from './zone-ram-scrub.js';
import { LogLimiter, type LogLimits } from '../../util/log-limiter.js';
import { readInputFileSync, type InputReader } from '../../util/input-file.js';
import { VirtioBridge } from './virtio-bridge.js';
import type { ConfigVersion } from '../../config/zone-config-binary.js';
import { trampolineWindows, virtioWakeIrq, type TrampolineHost } from './virtio-trampoline.js';
import type { ArchZoneOps } from '../../arch/cpu.js';

export { Errno, LifecycleError };

export interface ZoneSummary {
  readonly id: number;
  readonly name: string;
  readonly cpus: readonly number[];
  readonly state: ZoneState;
  readonly halted: boolean;
  readonly stage2Faults: number;
  readonly crash?: string;
  /** The exit status the guest's power-off request carried (stopped zones). */
  readonly exitStatus?: number;
}

export interface HypervisorOptions {
  readonly machine: Machine;
  readonly createCpu: CpuFactory;
  readonly timerFrequency: number;
  readonly createIrqchip?: IrqchipFactory;
  /** The arch's zone behaviour (boot registers, firmware IPIs); default: the board's arch's. */
  readonly zoneOps?: ArchZoneOps;
  /** Further zone-owned windows per zone (vECAM, IVC control tables). */
  readonly emulated?: (config: ZoneConfig) => readonly ZoneDeviceWindow[];
  /**
   * The VMM serves the zones' virtio regions (`hvisor run --virtio`). A nonroot zone it serves nothing
   * to has its virtio regions trap to zone0's daemon through hvisor's virtio bridge, as on hvisor.
   */
  readonly virtio?: VirtioProvider;
  /** Zone-owned models that DMA into the zone (vPCI), built once its RAM is mapped and taken back when it goes. */
  readonly devices?: DeviceProvider;
  readonly console?: (zone: number, bytes: Uint8Array) => void;
  readonly log?: (line: string) => void;
  /** Per-zone rate of the zones' diagnostics (a guest can trigger them at will). */
  readonly logLimits?: LogLimits;
  readonly zoneDefaults?: Pick<ZoneOptions, 'hostClock' | 'timeMode' | 'killPolicy'>;
  readonly scheduler?: SchedulerOptions;
  /** The zone_config layout zone0's hvisor-tool sends (hypercalls 2 and 6): 6 (hvisor-tool main, default) or 5 (hvisor v0.4). */
  readonly configVersion?: ConfigVersion;
  /** The run's KASLR seed: each generated zone device tree gets a `kaslr-seed` derived from it (kaslr-seed.ts). */
  readonly kaslrSeed?: bigint;
  /** Zone lifecycle events, e.g. to open and close each zone's gdb stub. */
  readonly onZoneStarted?: (zone: Zone) => void;
  readonly onZoneRemoved?: (zone: Zone) => void;
  /** A zone stopped (powered off, shut down) or crashed. */
  readonly onZoneStopped?: (zone: Zone) => void;
}

/**
 * The hypervisor: the board, its zones and the scheduler. Zones start (partition-checked against
 * the running ones), shut down (their CPUs, RAM and devices become free again, as hvisor's
 * remove_zone does) and restart, from the CLI, the control channel or zone0's hypercalls.
 */
export class Hypervisor {
  readonly machine: Machine;
  readonly scheduler: Scheduler;
  private readonly zoneMap = new Map<number, Zone>();
  readonly ivc = new IvcHub();
  /** Every zone's diagnostics pass here, one bucket per zone id (also across restarts). */
  readonly logs: LogLimiter;
  /** hvisor's virtio bridge page in zone0's RAM (hypercalls 0 and 1). */
  readonly virtioBridge: VirtioBridge;
  private readonly trampoline: TrampolineHost;
  private wakeWarned = false;
  /** Per zone: resolves once its devices' host endpoints are up (the zone then gets time), or rejects why it was refused. */
  private readonly readiness = new Map<Zone, Promise<void>>();
  /** Departed zones' host resources whose close callbacks are outstanding. */
  private readonly releasing = new Set<Promise<void>>();

  constructor(readonly options: HypervisorOptions) {
    this.machine = options.machine;
    this.logs = new LogLimiter(options.log ?? (() => {}), options.logLimits);
    this.scheduler = new Scheduler(options.scheduler);
    this.virtioBridge = new VirtioBridge(options.machine.physical);
    this.trampoline = { bridge: this.virtioBridge, wakeDaemon: () => this.wakeVirtioDaemon() };
  }

  /** hvisor's IRQ_WAKEUP_VIRTIO_DEVICE into zone0 (an edge: the driver asks for IRQF_TRIGGER_RISING). */
  private wakeVirtioDaemon(): void {
    const irq = virtioWakeIrq(this.machine.arch);
    const input = irq === undefined ? undefined : this.zone(0)?.irqchip?.input(irq);
    if (input !== undefined) return input.pulse();
    if (!this.wakeWarned) this.logs.log(0, `zone 0 does not own interrupt ${irq} (hvisor's IRQ_WAKEUP_VIRTIO_DEVICE): its virtio daemon is never woken`);
    this.wakeWarned = true;
  }

  get configVersion(): ConfigVersion {
    return this.options.configVersion ?? 6;
  }

  get zones(): readonly Zone[] {
    return [...this.zoneMap.values()].sort((a, b) => a.id - b.id);
  }

  zone(id: number): Zone | undefined {
    return this.zoneMap.get(id);
  }

  /**
   * Checks the partition against the running zones, builds the zone and starts it. A zone whose
   * devices open host endpoints (sockets) gets time once they are up; if one cannot be set up the
   * zone is removed again and `ready(zone)` rejects saying which device and endpoint.
   */
  startZone(config: ZoneConfig, images: readonly ZoneImage[] = []): Zone {
    if (this.zoneMap.has(config.zoneId)) {
      throw new LifecycleError(Errno.EBUSY, `zone ${config.zoneId} is already running (${this.zoneMap.get(config.zoneId)!.config.source})`);
    }
    checkPartition(this.machine, [...this.zones.map((z) => z.config), config]);
    const ivc = this.ivc.attach(config);
    let zone: Zone;
    try {
      zone = this.createZone(config, images, ivc);
    } catch (e) {
      // Devices built before the failure (an image opened, a socket listening) go back at once.
      this.releaseDevices(config.zoneId);
      this.ivc.detach(config.zoneId);
      throw e;
    }
    this.ivc.bind(zone);
    this.zoneMap.set(zone.id, zone);
    this.options.onZoneStarted?.(zone);
    const endpoints = zone.endpointWindows;
    if (endpoints.length === 0) {
      this.scheduler.add(zone);
      return zone;
    }
    const ready = Promise.all(endpoints.map((w) => w.ready!.catch((e: Error) => Promise.reject(new Error(`${w.name}: ${e.message}`))))).then(
      () => {
        if (this.zoneMap.get(zone.id) === zone) this.scheduler.add(zone);
      },
      (e: Error) => {
        const refusal = new LifecycleError(Errno.EIO, `zone ${zone.id} (${zone.name}) not started: ${e.message}`);
        if (this.zoneMap.get(zone.id) === zone) {
          this.logs.log(zone.id, refusal.message);
          this.removeZone(zone, 'a device could not be set up');
        }
        throw refusal;
      },
    );
    ready.catch(() => {}); // logged above; whoever waits sees it through ready()
    this.readiness.set(zone, ready);
    return zone;
  }

  /** Resolves once the zone runs with its devices' endpoints up; rejects if its start was refused. */
  ready(zone: Zone): Promise<void> {
    return this.readiness.get(zone) ?? Promise.resolve();
  }

  /** Resolves once every departed zone's sockets and files have finished closing. */
  async released(): Promise<void> {
    await Promise.all([...this.releasing]);
  }

  private createZone(config: ZoneConfig, images: readonly ZoneImage[], ivc: IvcMapping): Zone {
    const dtbGpa = config.memoryRegions.find((r) => r.type === 'ram' && config.dtbLoadPaddr >= r.physicalStart && config.dtbLoadPaddr < r.physicalStart + r.size);
    let built: Zone | undefined;
    // A nonroot zone the VMM serves no virtio device to (`--virtio` names none for it) gets hvisor's
    // trampoline to zone0's daemon; zone0's own virtio regions are the VMM's or empty.
    const vmm = this.options.virtio;
    const virtio: VirtioProvider | undefined =
      config.zoneId === 0
        ? vmm
        : {
            provide: (c, space) => {
              const served = vmm?.provide(c, space) ?? [];
              return served.length > 0 ? served : trampolineWindows(() => built!, c.memoryRegions, this.trampoline);
            },
            release: (id) => vmm?.release(id) ?? Promise.resolve(),
          };
    const zone = new Zone({
      ...this.options.zoneDefaults,
      machine: this.machine,
      config,
      createCpu: this.options.createCpu,
      timerFrequency: this.options.timerFrequency,
      ...(this.options.createIrqchip && { createIrqchip: this.options.createIrqchip }),
      ...(this.options.zoneOps && { zoneOps: this.options.zoneOps }),
      emulated: [...(this.options.emulated?.(config) ?? []), ...ivc.windows],
      sharedRam: ivc.sharedRam,
      ...(virtio && { virtio }),
      ...(this.options.devices && { devices: this.options.devices }),
      hypercall: (caller, code, args) => handleHypercall(this, caller, code, args),
      images,
      dtbAddress: dtbGpa === undefined ? 0 : config.dtbLoadPaddr - dtbGpa.physicalStart + dtbGpa.virtualStart,
      console: (bytes) => this.options.console?.(config.zoneId, bytes),
      log: this.logs.for(config.zoneId),
    });
    zone.onStarting = (z) => this.forgetRun(z);
    zone.onStopped = (z) => {
      this.forgetRun(z);
      this.options.onZoneStopped?.(z);
    };
    built = zone;
    zone.start();
    return zone;
  }

  /**
   * `hvisor zone start FILE`: the config and the images it names. With an empty dtb_filepath the
   * zone's device tree is generated from the board's (zone-dtb.ts) and placed at dtb_load_paddr.
   * `read` serves the files (regular files only, size-capped); a running instance passes the
   * files `prefetchZoneFiles` read off the event loop.
   */
  startZoneFile(path: string, read: InputReader = readInputFileSync): Zone {
    const onBoard = deviceRamAsIo(this.machine, loadZoneConfig(path, read));
    const config = onBoard.config;
    for (const n of onBoard.notes) this.logs.log(config.zoneId, `zone ${config.zoneId} (${config.name}): ${n}`);
    const images = readZoneImages(config, read);
    if (config.dtbFilepath === '' && this.machine.dtb.length > 0) {
      const initrd = config.initrdFilepath === undefined ? undefined : images.at(-1);
      const virtioDevices = this.options.virtio?.slots?.(config.zoneId) ?? [];
      const { blob, report } = generateZoneDtb(this.machine, config, {
        ...(initrd !== undefined && { initrdSize: initrd.data.length }),
        ...(this.options.kaslrSeed !== undefined && { kaslrSeed: zoneKaslrSeed(this.options.kaslrSeed, config.zoneId) }),
        virtioDevices,
      });
      for (const w of report.warnings) this.logs.log(config.zoneId, `zone ${config.zoneId} (${config.name}) device tree: ${w}`);
      images.push({ name: `generated device tree of zone ${config.zoneId}`, paddr: config.dtbLoadPaddr, data: blob });
    }
    return this.startZone(config, images);
  }

  /** Stops a zone and frees its resources. The root zone (0) cannot be shut down, as in hvisor. */
  shutdownZone(id: number): void {
    if (id === 0) throw new LifecycleError(Errno.EINVAL, 'zone 0 is the root zone and cannot be shut down');
    const zone = this.zoneMap.get(id);
    if (zone === undefined) throw new LifecycleError(Errno.EINVAL, `zone ${id} not found`);
    this.removeZone(zone, 'shut down by the hypervisor');
  }

  /**
   * Teardown, in the order that keeps one zone's leftovers from reaching the next owner of its
   * CPUs, RAM, interrupts or ports: vCPUs off and devices reset; board interrupts disconnected;
   * devices taken back (unplugged, files, sockets and PCI functions freed); its RAM zeroed; its IVC
   * peers left; then it is gone.
   */
  private removeZone(zone: Zone, reason: string): void {
    if (zone.state !== 'stopped') zone.shutdown(reason);
    zone.disconnectInterrupts();
    this.scheduler.remove(zone);
    this.zoneMap.delete(zone.id);
    this.readiness.delete(zone);
    this.releaseDevices(zone.id);
    scrubZoneRam(this.machine, zone.config);
    this.ivc.detach(zone.id);
    this.options.onZoneRemoved?.(zone);
  }

  private releaseDevices(zoneId: number): void {
    for (const source of [this.options.virtio, this.options.devices]) {
      if (source === undefined) continue;
      const closing: Promise<void> = source.release(zoneId).catch((e: Error) => this.logs.log(zoneId, `zone ${zoneId}: releasing its devices: ${e.message}`));
      this.releasing.add(closing);
      void closing.then(() => this.releasing.delete(closing));
    }
  }

  /**
   * What a zone's run handed the hypervisor ends with that run: zone0's virtio bridge page lies in its
   * RAM, so after zone0 stops or restarts no request goes there until its next daemon sets one up
   * (hypercall 0); nonroot zones' waiting accesses are then made again to that daemon.
   */
  private forgetRun(zone: Zone): void {
    if (zone.id === 0) this.virtioBridge.detach();
  }

  restartZone(id: number): void {
    const zone = this.zoneMap.get(id);
    if (zone === undefined) throw new LifecycleError(Errno.EINVAL, `zone ${id} not found`);
    zone.restart();
  }

  list(): ZoneSummary[] {
    return this.zones.map((z) => ({
      id: z.id,
      name: z.name,
      cpus: z.config.cpus,
      state: z.state,
      halted: z.halted,
      stage2Faults: z.stage2Faults,
      ...(z.crash && { crash: `vCPU ${z.crash.vcpu} pc 0x${z.crash.pc.toString(16)}: ${z.crash.cause}` }),
      ...(z.exitStatus !== undefined && { exitStatus: z.exitStatus }),
    }));
  }

  run(): void {
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
    this.logs.flush();
  }
}
