import type { ArchZoneOps, Cpu, RunResult, VcpuHost } from '../../arch/cpu.js';
import { archZoneOps } from '../../arch/zone-ops.js';
import { Stops, guestErrorStop } from '../../arch/cpu.js';
import type { GdbArchDescription } from '../../../gdbstub/arch-description.js';
import type { GdbTarget, ResumeAction, StopEvent, ThreadInfo, WatchpointKind } from '../../../gdbstub/target.js';
import type { Machine, PhysicalCpu } from '../../machine/machine.js';
import type { IrqLine } from '../../machine/irq-line.js';
import { buildStage2, type DeviceProvider, type SharedRamWindow, type Stage2Hole, type VirtioProvider, type ZoneDeviceWindow } from '../stage2/stage2.js';
import type { Stage2Space } from '../stage2/stage2-space.js';
import { defaultHostClock, VirtualClock, type HostClock, type TimeMode } from './virtual-clock.js';
import type { ZoneConfig } from '../../config/zone-config.js';
import { ZoneMonitor } from './zone-monitor.js';
import type { ZoneTimeline } from './zone-timeline.js';
import type { DebugSetup, ZoneHistory } from './zone-history.js';
import type { Snapshottable } from '../../machine/snapshottable.js';
import { ImageError } from '../../loader/image-error.js';
import { ACCESS_STALLED } from '../../machine/mmio-device.js';
import { EXIT_COSTS } from './exit-costs.js';

/** What an arch's core factory gets to build one vCPU of a zone. */
export interface VcpuSpec {
  readonly index: number;
  readonly physical: PhysicalCpu;
  readonly host: VcpuHost;
}
export type CpuFactory = (spec: VcpuSpec) => Cpu;

/**
 * The zone's own interrupt controller instance (virtual GIC, PLIC view): its register windows
 * (mapped in stage 2) and the inputs the zone's passed-through interrupts are wired to.
 */
export interface ZoneIrqchip extends Partial<Snapshottable> {
  readonly windows: readonly ZoneDeviceWindow[];
  /** The input for interrupt `irq` (as zone configs number it), or undefined if the model has none. */
  input(irq: number): IrqLine | undefined;
  reset(): void;
  /** The controller's state as text (`monitor irq`). */
  describe?(): string;
}
export type IrqchipFactory = (zone: Zone) => ZoneIrqchip;

/** hvisor hypercalls reach the hypervisor through this (the lifecycle owner implements it). */
export type HypercallHandler = (caller: Zone, code: bigint, args: readonly bigint[]) => bigint;

/** Images placed in the zone's RAM at boot and again at each restart (host-physical addresses). */
export interface ZoneImage {
  readonly name: string;
  readonly paddr: number;
  readonly data: Uint8Array;
  /**
   * A kernel whose format says how it is entered (LoongArch's Image header, with the EFI boot
   * registers we hand it as its firmware): guest-physical entry and the boot vCPU's a0.. registers,
   * in place of the config's entry_point and the arch's boot arguments.
   */
  readonly boot?: { readonly entry: bigint; readonly registers: readonly bigint[] };
}

export interface ZoneOptions {
  readonly machine: Machine;
  readonly config: ZoneConfig;
  readonly createCpu: CpuFactory;
  /** Timer ticks per second of VcpuHost.now() (aarch64 CNTFRQ, riscv timebase-frequency). */
  readonly timerFrequency: number;
  readonly createIrqchip?: IrqchipFactory;
  /** Boot registers and firmware IPIs of the arch (default: the board's arch's, src/arch/zone-ops.ts). */
  readonly zoneOps?: ArchZoneOps;
  /** Further zone-owned windows (vECAM, IVC control tables). */
  readonly emulated?: readonly ZoneDeviceWindow[];
  readonly virtio?: VirtioProvider;
  /** RAM shared with other zones (IVC sections). */
  readonly sharedRam?: readonly SharedRamWindow[];
  /** Zone-owned models that DMA into the zone (vPCI), built once its RAM is mapped. */
  readonly devices?: DeviceProvider;
  readonly hypercall?: HypercallHandler;
  readonly images?: readonly ZoneImage[];
  /** Guest-physical address of the device tree handed to the boot vCPU (0 = none). */
  readonly dtbAddress?: number;
  /** Where firmware console output (SBI putchar/DBCN) goes. */
  readonly console?: (bytes: Uint8Array) => void;
  /** Diagnostics: stage-2 faults, crashes, lifecycle. */
  readonly log?: (line: string) => void;
  readonly hostClock?: HostClock;
  /** Where guest time comes from (virtual-clock.ts): instructions retired (default), or the host clock. */
  readonly timeMode?: TimeMode;
  /** Guest instructions per second of virtual time (default 1e9). */
  readonly instructionsPerSecond?: number;
  /** gdb `kill`: restart the zone (default) or stop it. */
  readonly killPolicy?: 'reset' | 'stop';
}

export type ZoneState = 'created' | 'running' | 'stopped' | 'crashed';

/** Why a zone stopped on its own: names zone, vCPU, pc and cause. */
export interface ZoneCrash {
  readonly zone: number;
  readonly vcpu: number;
  readonly pc: bigint;
  readonly cause: string;
  readonly address?: bigint;
}

/** What one scheduling slice of a zone did: plain data, so a zone can live in a worker later. */
export interface SliceResult {
  /** Instructions retired in the slice. */
  readonly retired: number;
  /** Nothing can run until an event or `wakeInMs` passes. */
  readonly idle: boolean;
  /** Host ms until the earliest timer deadline of a waiting vCPU (Infinity: none). */
  readonly wakeInMs: number;
}

interface VcpuSlot {
  readonly cpu: Cpu;
  readonly physical: PhysicalCpu;
  waiting: boolean;
  wakeAt: number;
  action: ResumeAction;
  /** Set while the vCPU waits in a stalled device access: it runs again once this holds. */
  stalledUntil: (() => boolean) | undefined;
  /** Exit charges beyond its quanta (exit-costs.ts), paid by sitting turns out. */
  debt: number;
}

/** A zone's own run state in a snapshot (Zone.saveRunState). */
export interface ZoneRunState {
  readonly clock: readonly number[];
  readonly retired: number;
  /** The vCPU the next slice starts with. */
  readonly next: number;
  readonly slots: readonly { readonly waiting: boolean; readonly wakeAt: number; readonly debt: number }[];
}

const PAGE = 0x1000;
const SIGSEGV = 11;
const MAX_LOGGED_FAULTS = 16;
/** Instructions a vCPU runs between looks at its exit charges and (realtime) the host clock. */
const SLICE_CHUNK = 2000;
/** How often a zone whose vCPUs all wait in stalled accesses looks whether their answers came. */
const STALL_POLL_MS = 1;

/**
 * A zone: its vCPUs, stage-2 map, interrupt routing and lifecycle. It is the hypervisor role
 * (EL2 / HS) for its vCPUs (VcpuHost) and the target of its own gdb stub (GdbTarget): threads are
 * its vCPUs, all-stop within the zone only. Nothing a zone does stops another zone.
 */
export class Zone implements VcpuHost, GdbTarget {
  readonly id: number;
  readonly name: string;
  readonly config: ZoneConfig;
  readonly machine: Machine;
  readonly memory: Stage2Space;
  readonly holes: readonly Stage2Hole[];
  readonly timerFrequency: number;
  readonly description: GdbArchDescription;
  readonly irqchip: ZoneIrqchip | undefined;
  readonly emulatedWindows: readonly ZoneDeviceWindow[];
  /** The virtio devices the VirtioProvider served to this zone. */
  readonly virtioWindows: readonly ZoneDeviceWindow[];
  /** The DMA-capable models the DeviceProvider gave this zone. */
  readonly deviceWindows: readonly ZoneDeviceWindow[];

  private readonly clock: VirtualClock;
  /** The host clock slices' deadlines are read on (the scheduler's). */
  private readonly hostClock: HostClock;
  /** Models whose work is bounded per slice of this zone (ZoneDeviceWindow.slicedWork). */
  private readonly slicedWindows: readonly ZoneDeviceWindow[];
  private readonly slots: VcpuSlot[];
  private readonly cpuList: Cpu[] = [];
  private readonly options: ZoneOptions;
  private readonly zoneOps: ArchZoneOps;
  private readonly monitorCommands: ZoneMonitor;
  private zoneState: ZoneState = 'created';
  private debugHalted = false;
  private stopListener: ((event: StopEvent) => void) | undefined;
  private readonly swBreakpoints = new Set<bigint>();
  private readonly hwBreakpoints = new Set<bigint>();
  private readonly watchList: { address: bigint; length: number; kind: WatchpointKind }[] = [];
  /** What the cores have armed: gdb's lists, or a re-execution's (armCores). */
  private readonly armedBreakpoints = new Set<bigint>();
  private readonly armedWatchpoints: { address: bigint; length: number; kind: WatchpointKind }[] = [];
  /**
   * A re-execution under way (reverse debugging, src/hypervisor/replay/): its stops go to `onStop`
   * instead of gdb, and `target` stops vCPU `cpu` once it has retired `retired` instructions.
   */
  rerun: { readonly onStop: (event: StopEvent) => void; target?: { readonly cpu: number; readonly retired: number } } | undefined;
  private exitCode: number | undefined;
  private running: VcpuSlot | undefined;
  /** The running vCPU's retired count when its turn in the slice began (its progress is time it has seen). */
  private turnStartRetired = 0;
  /** Instructions the zone's vCPUs retired since it was built (across restarts): record/replay's count. */
  private retiredTotal = 0;
  private next = 0;
  /** Exit charges made by the running vCPU's current chunk (consoleWrite, hypercall). */
  private chunkCharges = 0;
  /** Device work the slice began with (deferred from the last one): charged to its first turn. */
  private sliceCarry = 0;
  /** vCPU turns sat out to pay exit debts (exit-costs.ts). */
  turnsSatOut = 0;
  private crashReport: ZoneCrash | undefined;
  private faultCount = 0;
  readonly recentFaults: string[] = [];
  /** Others run while one vCPU single-steps ('run', QEMU) or stay halted ('halted', default). */
  stepPolicy: 'halted' | 'run' = 'halted';
  /**
   * What a debugger's single step does with time and interrupts (`monitor sstep`, after QEMU's sstep
   * flags). `timer`: virtual time counts the stepped instructions as if the zone ran (default) or
   * stands still (notimer). `sleep`: a step that leaves the vCPU idle (wfi with nothing pending)
   * moves time to its next timer deadline, so the wait has ended when the step returns (default),
   * or leaves time where it is (nosleep); a vCPU with no timer armed stays waiting either way.
   * Interrupts (`irq`) are the cores' (Cpu.interruptsInSteps, default off: QEMU's NOIRQ).
   */
  readonly stepFlags = { timer: true, sleep: true };
  /** Whether a debugger single step may take a pending interrupt (monitor sstep irq|noirq). */
  get interruptsInSteps(): boolean {
    return this.cpuList[0]?.interruptsInSteps === true;
  }

  set interruptsInSteps(on: boolean) {
    for (const c of this.cpuList) c.interruptsInSteps = on;
  }

  /** Called when the zone becomes runnable from outside a slice (kick, resume, start): the scheduler wakes. */
  onRunnable: (() => void) | undefined;
  /** Called when the zone stops or crashes (the hypervisor's lifecycle listeners). */
  onStopped: ((zone: Zone) => void) | undefined;
  /** Called as the zone (re)starts: whatever its previous run handed the hypervisor is void. */
  onStarting: ((zone: Zone) => void) | undefined;
  /** Record/replay's view of the zone's outside input (set before the zone's first slice). */
  timeline: ZoneTimeline | undefined;
  /** Reverse execution and snapshots under gdb (set as the zone starts, where its cores allow). */
  history: ZoneHistory | undefined;

  constructor(options: ZoneOptions) {
    this.options = options;
    this.zoneOps = options.zoneOps ?? archZoneOps(options.machine.arch);
    const { machine, config } = options;
    this.id = config.zoneId;
    this.name = config.name;
    this.config = config;
    this.machine = machine;
    this.timerFrequency = options.timerFrequency;
    this.hostClock = options.hostClock ?? defaultHostClock;
    this.clock = new VirtualClock(options.timerFrequency, {
      ...(options.timeMode !== undefined && { mode: options.timeMode }),
      ...(options.instructionsPerSecond !== undefined && { instructionsPerSecond: options.instructionsPerSecond }),
      host: this.hostClock,
    });

    const physicalCpus = config.cpus.map((id) => {
      const p = machine.cpus.find((c) => c.id === id);
      if (p === undefined) throw new RangeError(`zone ${this.id} (${this.name}): board ${machine.boardName} has no CPU ${id}`);
      return p;
    });
    // The irqchip comes first so its windows take precedence in stage 2; it must use the vCPUs only
    // in callbacks (they are created last, once the memory they run on exists).
    this.slots = [];
    this.irqchip = options.createIrqchip?.(this);
    this.emulatedWindows = [...(this.irqchip?.windows ?? []), ...(options.emulated ?? [])];
    const map = buildStage2(machine, config, this.emulatedWindows, options.virtio, options.sharedRam, options.devices);
    this.memory = map.space;
    this.holes = map.holes;
    this.memory.onFault = (gpa, size, write) => this.stage2Fault(gpa, size, write);
    this.virtioWindows = map.virtio;
    this.deviceWindows = map.devices;
    this.slicedWindows = [...map.virtio, ...map.devices].filter((w) => w.slicedWork !== undefined);
    physicalCpus.forEach((physical, index) => {
      const cpu = options.createCpu({ index, physical, host: this });
      this.slots.push({ cpu, physical, waiting: false, wakeAt: Infinity, action: 'continue', stalledUntil: undefined, debt: 0 });
      this.cpuList.push(cpu);
    });
    this.description = this.slots[0]!.cpu.gdb;
    this.connectInterrupts();
    this.monitorCommands = new ZoneMonitor(this);
  }

  // --- lifecycle ------------------------------------------------------------------------------

  get state(): ZoneState {
    return this.zoneState;
  }

  get crash(): ZoneCrash | undefined {
    return this.crashReport;
  }

  /** The exit status of the guest's power-off request that stopped the zone (0 when it carried none); undefined while running or after a crash. */
  get exitStatus(): number | undefined {
    return this.exitCode;
  }

  /** The vCPUs in `cpus` order (a stable array: interrupt callbacks index it). */
  get cpus(): readonly Cpu[] {
    return this.cpuList;
  }

  /**
   * The index of the vCPU executing right now, for models with per-CPU banked registers (GICv2's
   * CPU interface); 0 when the access comes from outside a vCPU (a debugger, a device).
   */
  get currentVcpu(): number {
    return this.running === undefined ? 0 : this.cpuList.indexOf(this.running.cpu);
  }

  /** Loads the images and powers on the boot vCPU (the first of `cpus`) at the entry point. */
  start(): void {
    this.onStarting?.(this);
    this.loadImages();
    for (const s of this.slots) {
      s.cpu.powered = false;
      s.waiting = false;
      s.wakeAt = Infinity;
      s.action = 'continue';
      s.stalledUntil = undefined;
      s.debt = 0;
    }
    this.resetDevices();
    const boot = this.slots[0]!;
    const kernel = this.options.images?.find((i) => i.boot !== undefined)?.boot;
    boot.cpu.reset(kernel?.entry ?? this.config.entryPoint, kernel?.registers ?? this.zoneOps.bootArguments(boot.physical.hwid, BigInt(this.options.dtbAddress ?? 0)));
    boot.cpu.powered = true;
    this.crashReport = undefined;
    this.exitCode = undefined;
    this.zoneState = 'running';
    // A halt left by a debugger that saw the zone crash and went away does not outlive the zone's
    // run: with no debugger attached, a (re)started zone runs.
    if (this.stopListener === undefined) this.debugHalted = false;
    this.clock.reset();
    this.history?.forget();
    if (!this.debugHalted) this.clock.thaw();
    this.log(`started at ${hex(kernel?.entry ?? this.config.entryPoint)} on CPU ${boot.physical.id}`);
    this.onRunnable?.();
  }

  /**
   * Powers every vCPU off and resets the zone's devices (a powered-off board's DMA stops: no ring
   * is used again); the zone keeps its memory (hvisor shutdown), other zones run on.
   * `status`: the exit status of the guest's request, where it carries one.
   */
  shutdown(reason = 'shutdown', status = 0): void {
    for (const s of this.slots) s.cpu.powered = false;
    this.zoneState = 'stopped';
    this.exitCode = status;
    this.clock.freeze();
    this.resetDevices();
    this.log(`stopped (${reason}${status !== 0 ? `, exit status ${status}` : ''})`);
    this.emit({ kind: 'exited', code: status & 0xff });
    this.onStopped?.(this);
  }

  /** Every model the zone owns: its interrupt controller, emulated, virtio and DMA-capable windows. */
  private resetDevices(): void {
    this.irqchip?.reset();
    for (const w of [...(this.options.emulated ?? []), ...this.virtioWindows, ...this.deviceWindows]) w.device.reset();
  }

  /** Models with a host endpoint (sockets, web pages) whose set-up may still fail: see ZoneDeviceWindow.ready. */
  get endpointWindows(): readonly ZoneDeviceWindow[] {
    return [...this.virtioWindows, ...this.deviceWindows].filter((w) => w.ready !== undefined);
  }

  restart(): void {
    this.log('restarting');
    this.start();
  }

  // --- VcpuHost -------------------------------------------------------------------------------

  now(): number {
    const s = this.running;
    return this.clock.now(s === undefined ? 0 : s.cpu.retired - this.turnStartRetired);
  }

  startVcpu(vcpu: number, entry: bigint, arg: bigint): 'ok' | 'invalid' | 'already-on' {
    const s = this.slots[vcpu];
    if (s === undefined) return 'invalid';
    if (s.cpu.powered) return 'already-on';
    s.cpu.reset(entry, this.zoneOps.secondaryArguments(s.physical.hwid, arg));
    s.cpu.powered = true;
    s.waiting = false;
    s.action = this.debugHalted ? 'stop' : 'continue';
    this.onRunnable?.();
    return 'ok';
  }

  vcpuState(vcpu: number): 'on' | 'off' | 'suspended' | 'invalid' {
    const s = this.slots[vcpu];
    return s === undefined ? 'invalid' : !s.cpu.powered ? 'off' : s.cpu.suspended === true ? 'suspended' : 'on';
  }

  kick(vcpu: number): void {
    const s = this.slots[vcpu];
    // An interrupt does not end a stalled access: the vCPU is inside the hypervisor until it is answered.
    if (s === undefined || !s.waiting || s.stalledUntil !== undefined) return;
    s.waiting = false;
    this.onRunnable?.();
  }

  /** A firmware IPI (SBI send_ipi): the arch raises the target's software interrupt. */
  ipi(vcpu: number): void {
    const s = this.slots[vcpu];
    if (s === undefined) return;
    this.zoneOps.ipi(s.cpu);
    this.kick(vcpu);
  }

  remoteFence(vcpu: number): void {
    this.slots[vcpu]?.cpu.flushTranslations();
  }

  consoleWrite(bytes: Uint8Array): void {
    this.chunkCharges += EXIT_COSTS.consoleWrite + EXIT_COSTS.consoleByte * bytes.length;
    this.options.console?.(bytes);
  }

  platformSmc(regs: BigUint64Array): boolean {
    return this.machine.smcCall(regs);
  }

  hypercall(code: bigint, args: readonly bigint[]): bigint {
    this.chunkCharges += EXIT_COSTS.hypercall;
    if (this.options.hypercall === undefined) {
      this.log(`hypercall ${code} unsupported (no hypervisor attached)`);
      return 0n;
    }
    return this.options.hypercall(this, code, args);
  }

  // --- running ------------------------------------------------------------------------------

  /** Whether its guest time follows the host clock (realtime): the scheduler then cuts its slices by host time too. */
  get hostTimed(): boolean {
    return !this.clock.countsInstructions;
  }

  /** Whether the scheduler should give this zone slices at all. */
  get runnable(): boolean {
    return this.zoneState === 'running' && !this.debugHalted && this.timeline?.ended !== true;
  }

  /**
   * Instructions the zone's vCPUs have retired since it was built, the running vCPU's progress in
   * its current turn included: where outside input lands (record/replay).
   */
  get instructionCount(): number {
    const s = this.running;
    return this.retiredTotal + (s === undefined ? 0 : s.cpu.retired - this.turnStartRetired);
  }

  /**
   * Outside input arrives now: an idle stretch paced by the host clock ends here, so the input lands
   * at the virtual time it arrived (which a recording notes beside the count).
   */
  outsideInputLands(): void {
    this.clock.catchUp();
  }

  /**
   * The zone's own run state for a snapshot (src/hypervisor/replay/zone-snapshot.ts keeps vCPUs,
   * RAM and models beside it): time, the instruction count, each vCPU's wait.
   */
  saveRunState(): ZoneRunState {
    return {
      clock: this.clock.saveState(),
      retired: this.retiredTotal,
      next: this.next,
      slots: this.slots.map((s) => ({ waiting: s.waiting, wakeAt: s.wakeAt, debt: s.debt })),
    };
  }

  loadRunState(state: ZoneRunState): void {
    this.clock.loadState(state.clock);
    this.retiredTotal = state.retired;
    this.next = state.next ?? 0;
    state.slots.forEach((st, i) => {
      const s = this.slots[i]!;
      s.waiting = st.waiting;
      s.wakeAt = st.wakeAt;
      s.debt = st.debt;
      s.stalledUntil = undefined;
    });
  }

  /** A replay moves time to where the recorded input landed (never backwards). */
  warpTime(ticks: number): void {
    this.clock.warpTo(ticks);
  }

  /**
   * Runs each runnable vCPU once for a quantum of `budget` instructions and exit charges
   * (exit-costs.ts; round robin, starting after the one that ran first last time). A vCPU whose
   * charges overran its quanta sits turns out until it has paid. Guest errors and emulator
   * exceptions stop this zone only.
   */
  runSlice(budget: number, endsAtMs = Infinity): SliceResult {
    if (!this.runnable) return { retired: 0, idle: true, wakeInMs: Infinity };
    this.history?.atBoundary(this.retiredTotal);
    if (this.timeline !== undefined) {
      this.timeline.atBoundary(this.retiredTotal);
      if (!this.runnable) return { retired: 0, idle: true, wakeInMs: Infinity };
    }
    if (this.slicedWindows.length > 0) {
      this.startDeviceSlices();
      this.sliceCarry = this.deviceWork();
    }
    this.clock.catchUp();
    if (this.slots.some((s) => s.action === 'step')) return this.stepSlice();
    this.history?.beforeRun();
    let retired = 0;
    let longest = 0;
    let turns = 0;
    const n = this.slots.length;
    const now = this.clock.now();
    for (let k = 0; k < n && this.runnable; k++) {
      const s = this.slots[(this.next + k) % n]!;
      if (!s.cpu.powered || s.action === 'stop') continue;
      if (s.waiting) {
        if (s.stalledUntil !== undefined) {
          if (!s.stalledUntil()) continue;
          s.stalledUntil = undefined;
        } else if (now < s.wakeAt) continue;
        s.waiting = false;
      }
      if (s.debt >= budget) {
        s.debt -= budget;
        this.turnsSatOut++;
        continue;
      }
      const before = s.cpu.retired;
      this.turnStartRetired = before;
      turns++;
      const why = this.runTurn(s, budget, endsAtMs);
      const ran = s.cpu.retired - before;
      retired += ran;
      if (ran > longest) longest = ran;
      this.afterRun(s, why);
    }
    // The vCPUs ran side by side: the slice lasted as long as the busiest one.
    this.clock.retire(longest);
    this.retiredTotal += retired;
    // Slices where every vCPU waited do not count: how many an idle stretch takes follows the host clock.
    if (turns > 0) this.next = (this.next + 1) % n;
    return this.idleState(retired);
  }

  /**
   * A vCPU's turn: its quantum of `budget` less its debt, spent on instructions and exit charges
   * (exit-costs.ts), in chunks; a charge beyond the quantum becomes its debt. A guest whose exits
   * are expensive (MMIO in a loop) ends its turn early instead of taking the other zones' share;
   * the charges depend on what the guest did only, so where a turn ends is deterministic. A
   * host-timed zone's turn also ends once the host clock reaches `endsAtMs`.
   */
  private runTurn(s: VcpuSlot, budget: number, endsAtMs: number): RunResult {
    let left = budget - s.debt - this.sliceCarry / EXIT_COSTS.deviceWorkPerInstruction;
    s.debt = 0;
    this.sliceCarry = 0;
    if (left <= 0) {
      s.debt = Math.ceil(-left);
      return Stops.budget;
    }
    for (;;) {
      const retired = s.cpu.retired;
      const accesses = this.memory.deviceAccesses;
      const work = this.slicedWindows.length > 0 ? this.deviceWork() : 0;
      this.chunkCharges = 0;
      const why = this.runVcpu(s, Math.ceil(Math.min(left, SLICE_CHUNK)), false);
      if (this.reachedTarget(s)) return why;
      left -= s.cpu.retired - retired + this.chunkCharges + (this.memory.deviceAccesses - accesses) * EXIT_COSTS.deviceAccess;
      if (this.slicedWindows.length > 0) left -= (this.deviceWork() - work) / EXIT_COSTS.deviceWorkPerInstruction;
      // Anything but a spent chunk (a wait, a trap, a Yield) ends the vCPU's turn.
      if (why !== Stops.budget || left <= 0 || (endsAtMs !== Infinity && this.hostClock() >= endsAtMs)) {
        if (left < 0) s.debt = Math.ceil(-left);
        return why;
      }
    }
  }

  /** The work the zone's sliced devices have done this slice (SlicedDeviceWork.workThisSlice). */
  private deviceWork(): number {
    let total = 0;
    for (const w of this.slicedWindows) total += w.slicedWork!.workThisSlice;
    return total;
  }

  /** The zone's devices get their per-slice budget back; work they left goes on, on this zone's time. */
  private startDeviceSlices(): void {
    for (const w of this.slicedWindows) {
      try {
        w.slicedWork!.startSlice();
      } catch (e) {
        this.crashWith(this.slots[0]!, `emulator error in ${w.name}: ${(e as Error).message ?? String(e)}`);
        return;
      }
    }
  }

  private stepSlice(): SliceResult {
    let retired = 0;
    let longest = 0;
    let stepped: VcpuSlot | undefined;
    for (const s of this.slots) {
      if (!s.cpu.powered || s.action !== 'step') continue;
      const before = s.cpu.retired;
      this.turnStartRetired = before;
      this.history?.beforeStep(s.cpu);
      const why = this.runVcpu(s, 1, true);
      this.history?.afterStep();
      if (this.reachedTarget(s)) {
        this.retiredTotal += retired;
        return this.idleState(retired);
      }
      retired += s.cpu.retired - before;
      longest = Math.max(longest, s.cpu.retired - before);
      // A step over an idle instruction: the wait ends at the vCPU's next timer deadline.
      if (this.stepFlags.sleep && (why === Stops.wait || (why === Stops.step && s.cpu.idle === true))) {
        const deadline = s.cpu.nextTimerDeadline();
        if (this.stepFlags.timer) this.clock.retire(longest);
        longest = 0;
        this.clock.warpTo(deadline);
      }
      if (why === Stops.step || why === Stops.wait || why === Stops.budget || why === Stops.yield || why === Stops.stall) {
        if (why === Stops.stall) this.afterRun(s, why);
        else if (why === Stops.wait) {
          s.waiting = true;
          s.wakeAt = s.cpu.nextTimerDeadline();
        }
        stepped ??= s;
      } else {
        this.afterRun(s, why);
        if (!this.runnable) {
          this.retiredTotal += retired;
          return this.idleState(retired);
        }
      }
    }
    if (this.stepPolicy === 'run') {
      for (const s of this.slots) {
        if (s.action !== 'continue' || !s.cpu.powered || s.waiting) continue;
        const before = s.cpu.retired;
        this.turnStartRetired = before;
        this.afterRun(s, this.runVcpu(s, 1, false));
        retired += s.cpu.retired - before;
        longest = Math.max(longest, s.cpu.retired - before);
      }
    }
    if (this.stepFlags.timer || this.stepPolicy === 'run') this.clock.retire(longest);
    this.retiredTotal += retired;
    if (this.runnable && stepped !== undefined) this.debugStop({ kind: 'step', thread: this.threadOf(stepped) });
    else if (this.runnable) this.debugStop({ kind: 'interrupted', thread: 1 }); // the stepping vCPU was off
    return this.idleState(retired);
  }

  /** A re-execution's target reached by `s`: the zone halts there (reported to the re-execution). */
  private reachedTarget(s: VcpuSlot): boolean {
    const target = this.rerun?.target;
    if (target === undefined || target.cpu !== s.cpu.index || s.cpu.retired < target.retired) return false;
    this.rerun!.target = undefined;
    this.debugStop({ kind: 'interrupted', thread: this.threadOf(s) });
    return true;
  }

  private runVcpu(s: VcpuSlot, budget: number, step: boolean): RunResult {
    this.running = s;
    const target = this.rerun?.target;
    if (target !== undefined && target.cpu === s.cpu.index) s.cpu.stopAt = target.retired;
    try {
      return s.cpu.run(budget, step);
    } catch (e) {
      // A bug in the emulation of this zone must not take down the others.
      const cause = `emulator error: ${(e as Error).message ?? String(e)}`;
      this.crashWith(s, cause);
      return guestErrorStop({ pc: s.cpu.pc, cause });
    } finally {
      this.running = undefined;
      if (target !== undefined) s.cpu.stopAt = Infinity;
    }
  }

  private afterRun(s: VcpuSlot, why: RunResult): void {
    switch (why.kind) {
      case 'budget':
      case 'yield':
      case 'off':
      case 'step':
        return;
      case 'wait':
        s.waiting = true;
        s.wakeAt = s.cpu.nextTimerDeadline();
        return;
      case 'stall':
        if (s.stalledUntil === undefined) throw new Error('a device stalled an access without saying what it waits for (Zone.stallAccess)');
        s.waiting = true;
        s.wakeAt = Infinity;
        return;
      case 'breakpoint':
        this.debugStop({ kind: 'breakpoint', thread: this.threadOf(s), hw: this.hwBreakpoints.has(s.cpu.pc) && !this.swBreakpoints.has(s.cpu.pc) });
        return;
      case 'watchpoint':
        this.debugStop({ kind: 'watchpoint', thread: this.threadOf(s), watch: why.hit.kind, address: why.hit.address });
        return;
      case 'system-event':
        if (why.event === 'reset') this.restart();
        else this.shutdown('the guest powered off', why.status);
        return;
      case 'guest-error':
        if (this.zoneState === 'crashed') return; // already reported (emulator exception)
        this.crashWith(s, why.report.cause, why.report.pc, why.report.address);
        return;
    }
  }

  private crashWith(s: VcpuSlot, cause: string, pc: bigint = s.cpu.pc, address?: bigint): void {
    this.crashReport = { zone: this.id, vcpu: s.cpu.index, pc, cause, ...(address !== undefined && { address }) };
    this.zoneState = 'crashed';
    this.clock.freeze();
    for (const o of this.slots) o.cpu.powered = o.cpu.powered && o === s;
    this.log(`crashed: vCPU ${s.cpu.index} (CPU ${s.physical.id}) pc ${hex(pc)}: ${cause}${address !== undefined ? ` at ${hex(address)}` : ''}`);
    // A debugger sees the crash as a signal and can inspect the zone's state.
    if (this.stopListener !== undefined) {
      this.debugHalted = true;
      this.emit({ kind: 'signal', thread: this.threadOf(s), signal: SIGSEGV, reason: cause });
    }
    this.onStopped?.(this);
  }

  private idleState(retired: number): SliceResult {
    if (!this.runnable) return { retired, idle: true, wakeInMs: Infinity };
    if (this.timeline?.due(this.retiredTotal) === true) return { retired, idle: false, wakeInMs: 0 };
    let earliest = Infinity;
    let anyReady = false;
    let stalled = false;
    for (const s of this.slots) {
      if (!s.cpu.powered || s.action === 'stop') continue;
      if (!s.waiting) anyReady = true;
      else if (s.stalledUntil !== undefined) {
        if (s.stalledUntil()) anyReady = true;
        else stalled = true;
      } else earliest = Math.min(earliest, s.wakeAt);
    }
    // Device work deferred by a bounded exit keeps the zone busy while its vCPUs wait.
    for (const w of this.slicedWindows) if (w.slicedWork!.hasDeferredWork) anyReady = true;
    if (anyReady) return { retired, idle: false, wakeInMs: 0 };
    if (stalled) return { retired, idle: true, wakeInMs: Math.min(STALL_POLL_MS, this.clock.msUntil(earliest)) };
    if (Number.isFinite(earliest) && this.clock.idleUntil(earliest)) return { retired, idle: false, wakeInMs: 0 };
    if (!Number.isFinite(earliest)) this.timeline?.stuck(this.retiredTotal);
    return { retired, idle: true, wakeInMs: this.clock.msUntil(earliest) };
  }

  private stage2Fault(gpa: number, size: number, write: boolean): void {
    const s = this.running;
    const line =
      `stage-2 fault: vCPU ${s?.cpu.index ?? '?'} pc ${s ? hex(s.cpu.pc) : '?'} ` +
      `${write ? 'write' : 'read'} of ${size} bytes at ${hex(gpa)}`;
    this.faultCount++;
    this.recentFaults.push(line);
    if (this.recentFaults.length > MAX_LOGGED_FAULTS) this.recentFaults.shift();
    if (this.faultCount <= MAX_LOGGED_FAULTS) this.log(line);
    else if (this.faultCount === MAX_LOGGED_FAULTS + 1) this.log('further stage-2 faults are counted, not logged (monitor zone)');
  }

  get stage2Faults(): number {
    return this.faultCount;
  }

  // --- GdbTarget ----------------------------------------------------------------------------

  get halted(): boolean {
    return this.debugHalted;
  }

  threads(): readonly ThreadInfo[] {
    return this.slots.map((s, i) => ({
      id: i + 1,
      name: `${this.name}/vcpu${i} (cpu ${s.physical.id})`,
      extra: `${s.cpu.describe()}, ${this.threadState(s)}`,
    }));
  }

  private threadState(s: VcpuSlot): string {
    if (this.zoneState === 'crashed') return 'crashed';
    if (this.zoneState !== 'running' || !s.cpu.powered) return 'off';
    if (this.debugHalted || s.action === 'stop') return 'halted';
    if (s.stalledUntil !== undefined) return 'waiting for a device';
    return s.waiting ? 'waiting' : 'running';
  }

  readRegister(thread: number, regno: number): Uint8Array | undefined {
    return this.slot(thread)?.cpu.readRegister(regno);
  }

  writeRegister(thread: number, regno: number, value: Uint8Array): boolean {
    this.history?.forget();
    return this.slot(thread)?.cpu.writeRegister(regno, value) ?? false;
  }

  readMemory(thread: number, address: bigint, length: number, physical: boolean): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const gpa = this.debugAddress(thread, address + BigInt(done), physical, 'r');
      if (gpa === undefined) break;
      const n = Math.min(length - done, PAGE - (gpa % PAGE));
      const got = this.memory.readDebug(gpa, n);
      out.set(got, done);
      done += got.length;
      if (got.length < n) break;
    }
    return out.subarray(0, done);
  }

  writeMemory(thread: number, address: bigint, data: Uint8Array, physical: boolean): number {
    this.history?.forget();
    let done = 0;
    while (done < data.length) {
      const gpa = this.debugAddress(thread, address + BigInt(done), physical, 'w');
      if (gpa === undefined) break;
      const n = Math.min(data.length - done, PAGE - (gpa % PAGE));
      const wrote = this.memory.writeDebug(gpa, data.subarray(done, done + n));
      if (wrote > 0) for (const s of this.slots) s.cpu.invalidateCode(gpa, wrote);
      done += wrote;
      if (wrote < n) break;
    }
    return done;
  }

  private debugAddress(thread: number, address: bigint, physical: boolean, access: 'r' | 'w'): number | undefined {
    if (physical) return address <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(address) : undefined;
    return this.slot(thread)?.cpu.debugTranslate(address, access);
  }

  /** Whether gdb has a breakpoint at `address`. */
  hasBreakpoint(address: bigint): boolean {
    return this.swBreakpoints.has(address) || this.hwBreakpoints.has(address);
  }

  setBreakpoint(address: bigint, hw: boolean, on: boolean): boolean {
    const set = hw ? this.hwBreakpoints : this.swBreakpoints;
    if (on) set.add(address);
    else set.delete(address);
    const active = this.swBreakpoints.has(address) || this.hwBreakpoints.has(address);
    if (active === this.armedBreakpoints.has(address)) return true;
    if (active) this.armedBreakpoints.add(address);
    else this.armedBreakpoints.delete(address);
    for (const s of this.slots) s.cpu.setBreakpoint(address, active);
    return true;
  }

  setWatchpoint(address: bigint, length: number, kind: WatchpointKind, on: boolean): boolean {
    const i = this.watchList.findIndex((w) => w.address === address && w.length === length && w.kind === kind);
    if (on && i < 0) this.watchList.push({ address, length, kind });
    if (!on && i >= 0) this.watchList.splice(i, 1);
    this.armWatchpoint({ address, length, kind }, on);
    return true;
  }

  private armWatchpoint(w: { readonly address: bigint; readonly length: number; readonly kind: WatchpointKind }, on: boolean): void {
    const i = this.armedWatchpoints.findIndex((a) => a.address === w.address && a.length === w.length && a.kind === w.kind);
    if (on === i >= 0) return;
    if (on) this.armedWatchpoints.push({ ...w });
    else this.armedWatchpoints.splice(i, 1);
    for (const s of this.slots) s.cpu.setWatchpoint(w.address, w.length, w.kind, on);
  }

  /** What gdb has set now that changes how the zone runs (a re-execution sets the same again). */
  debugSetup(): DebugSetup {
    return {
      breakpoints: [...new Set([...this.swBreakpoints, ...this.hwBreakpoints])],
      watchpoints: this.watchList.map((w) => ({ ...w })),
      interruptsInSteps: this.interruptsInSteps,
      timer: this.stepFlags.timer,
      sleep: this.stepFlags.sleep,
      stepPolicy: this.stepPolicy,
    };
  }

  /** Arms the cores as `setup` says (a re-execution), or as gdb's lists say again (undefined). */
  armCores(setup: DebugSetup | undefined): void {
    const want = setup ?? this.debugSetup();
    const bps = new Set(want.breakpoints);
    for (const b of [...this.armedBreakpoints]) {
      if (bps.has(b)) continue;
      this.armedBreakpoints.delete(b);
      for (const s of this.slots) s.cpu.setBreakpoint(b, false);
    }
    for (const b of bps) {
      if (this.armedBreakpoints.has(b)) continue;
      this.armedBreakpoints.add(b);
      for (const s of this.slots) s.cpu.setBreakpoint(b, true);
    }
    for (const w of [...this.armedWatchpoints]) {
      if (!want.watchpoints.some((x) => x.address === w.address && x.length === w.length && x.kind === w.kind)) this.armWatchpoint(w, false);
    }
    for (const w of want.watchpoints) this.armWatchpoint(w, true);
    this.interruptsInSteps = want.interruptsInSteps;
    this.stepFlags.timer = want.timer;
    this.stepFlags.sleep = want.sleep;
    this.stepPolicy = want.stepPolicy;
  }

  /** Whether a gdb is attached to the zone's stub. */
  get debuggerAttached(): boolean {
    return this.stopListener !== undefined;
  }

  /** A re-execution resumes the halted zone with these per-vCPU actions (nothing is journalled). */
  rerunResume(actions: readonly ResumeAction[]): void {
    this.slots.forEach((s, i) => (s.action = actions[i] ?? 'stop'));
    this.debugHalted = false;
  }

  /** A re-execution halts the zone between slices (a journalled Ctrl-C, its start of history). */
  rerunHalt(): void {
    this.debugHalted = true;
    for (const s of this.slots) s.action = 'stop';
  }

  /** Re-executions jump over idle stretches (the original run's ended at their deadlines: nothing woke it). */
  set warpIdle(on: boolean) {
    this.clock.warpIdle = on;
  }

  halt(): void {
    if (!this.debugHalted && this.zoneState === 'running') this.history?.halted(this.retiredTotal);
    this.debugStop({ kind: 'interrupted', thread: this.threadOf(this.slots.find((s) => s.cpu.powered) ?? this.slots[0]!) });
  }

  resume(actions: ReadonlyMap<number, ResumeAction>, otherwise: ResumeAction): void {
    this.slots.forEach((s, i) => (s.action = actions.get(i + 1) ?? otherwise));
    const stepping = this.slots.some((s) => s.action === 'step');
    const anything = this.slots.some((s) => s.action !== 'stop');
    if (!anything) {
      this.debugStop({ kind: 'interrupted', thread: 1 });
      return;
    }
    this.debugHalted = false;
    // A zone that is not running (stopped, crashed) has nothing to resume: report that at once.
    if (this.zoneState === 'stopped') {
      this.emit({ kind: 'exited', code: 0 });
      return;
    }
    if (this.zoneState === 'crashed') {
      this.debugHalted = true;
      const c = this.crashReport!;
      this.emit({ kind: 'signal', thread: c.vcpu + 1, signal: SIGSEGV, reason: c.cause });
      return;
    }
    this.history?.resumed(this.slots.map((s) => s.action), this.debugSetup());
    // Realtime: the host clock counts only while the zone runs, not while it steps (stepFlags say
    // what instruction time does during steps).
    if (!stepping) this.clock.thaw();
    this.onRunnable?.();
  }

  /**
   * `bs` / `bc`: only this zone goes back (others run on); the zone stays halted and reports where
   * it stopped. Without a history (a core that keeps no snapshot state) it is at its start at once.
   */
  reverse(kind: 'step' | 'continue', thread: number): void {
    if (this.zoneState !== 'running' || this.history === undefined) {
      this.emit({ kind: 'history-start', thread });
      return;
    }
    const event = this.history.reverse(kind, thread);
    this.debugStop(event);
  }

  /** The zone's watchpoints as gdb set them (reverse-continue checks them against undone writes). */
  get watchpoints(): readonly { readonly address: bigint; readonly length: number; readonly kind: WatchpointKind }[] {
    return this.watchList;
  }

  onStop(listener: ((event: StopEvent) => void) | undefined): void {
    this.stopListener = listener;
  }

  monitor(command: string): string | Promise<string> {
    return this.monitorCommands.run(command);
  }

  kill(): void {
    this.debugHalted = false;
    for (const s of this.slots) s.action = 'continue';
    if (this.options.killPolicy === 'stop') this.shutdown('killed by gdb');
    else this.restart();
  }

  /** Halts the whole zone for the debugger and reports why. */
  private debugStop(event: StopEvent): void {
    this.debugHalted = true;
    for (const s of this.slots) s.action = 'stop';
    this.clock.freeze();
    this.emit(event);
  }

  private emit(event: StopEvent): void {
    if (this.rerun !== undefined) this.rerun.onStop(event);
    else this.stopListener?.(event);
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * Holds the zone, just started, at its first instruction until a debugger resumes it (`hvisor run
   * --wait-gdb`); the debugger that connects finds it halted there.
   */
  holdAtEntry(): void {
    this.debugStop({ kind: 'interrupted', thread: 1 });
    this.log(`held at its entry point ${hex(this.config.entryPoint)} until its gdb says continue`);
  }

  /** Debugger-side reset that leaves the zone halted (monitor reset). */
  resetHalted(): void {
    this.start();
    this.debugStop({ kind: 'interrupted', thread: 1 });
  }

  get clockFrozen(): boolean {
    return this.clock.isFrozen;
  }

  /**
   * Called by a device model during an access of this zone's running vCPU that cannot be answered yet:
   * the vCPU leaves the instruction undone and waits, whatever interrupts come, until `ready()` holds,
   * then makes the access again. Returns the vCPU's index and physical CPU; throws ACCESS_STALLED.
   */
  stallAccess(ready: () => boolean): never {
    const s = this.running;
    if (s === undefined) throw new Error(`zone ${this.id}: a device stalled an access made outside a vCPU`);
    s.stalledUntil = ready;
    throw ACCESS_STALLED;
  }

  /** The vCPU making the current access (its index and board CPU), or undefined outside a vCPU. */
  get accessingVcpu(): { readonly index: number; readonly physicalId: number } | undefined {
    const s = this.running;
    return s === undefined ? undefined : { index: s.cpu.index, physicalId: s.physical.id };
  }

  vcpuWaiting(vcpu: number): boolean {
    return this.slots[vcpu]?.waiting ?? false;
  }

  private slot(thread: number): VcpuSlot | undefined {
    return this.slots[thread - 1];
  }

  private threadOf(s: VcpuSlot): number {
    return this.slots.indexOf(s) + 1;
  }

  private loadImages(): void {
    for (const image of this.options.images ?? []) {
      const end = image.paddr + image.data.length;
      const inside = this.config.memoryRegions.some((r) => r.type === 'ram' && image.paddr >= r.physicalStart && end <= r.physicalStart + r.size);
      if (!inside) {
        throw new ImageError(image.name, `[${hex(image.paddr)}, ${hex(end)}) is not inside one of the RAM regions of zone ${this.id} (${this.name})`);
      }
      this.machine.physical.writeDebug(image.paddr, image.data);
      const gpa = this.guestAddressOf(image.paddr);
      if (gpa !== undefined) for (const s of this.slots) s.cpu.invalidateCode(gpa, image.data.length);
    }
  }

  /** The guest-physical address at which the zone sees host-physical RAM `paddr`. */
  guestAddressOf(paddr: number): number | undefined {
    const r = this.config.memoryRegions.find((m) => m.type === 'ram' && paddr >= m.physicalStart && paddr < m.physicalStart + m.size);
    return r === undefined ? undefined : paddr - r.physicalStart + r.virtualStart;
  }

  /** The zone is gone: the board's interrupts it owned reach no controller until their next owner connects them. */
  disconnectInterrupts(): void {
    const owned = new Set(this.config.interrupts);
    for (const d of this.machine.devices) for (const line of d.irqLines) if (owned.has(line.number)) line.connect(undefined);
  }

  private connectInterrupts(): void {
    if (this.irqchip === undefined) return;
    const owned = new Set(this.config.interrupts);
    for (const w of [...this.virtioWindows, ...this.deviceWindows, ...this.emulatedWindows]) {
      const line = w.irqLine;
      if (line === undefined) continue;
      const input = owned.has(line.number) ? this.irqchip.input(line.number) : undefined;
      if (input === undefined) this.log(`${w.name}: interrupt ${line.number} is not one of the zone's interrupts: the device cannot interrupt`);
      else line.connect(input);
    }
    for (const d of this.machine.devices) {
      for (const line of d.irqLines) {
        if (!owned.has(line.number)) continue;
        const input = this.irqchip.input(line.number);
        if (input !== undefined) line.connect(input);
      }
    }
  }

  log(line: string): void {
    this.options.log?.(`zone ${this.id} (${this.name}): ${line}`);
  }
}

function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
