import { loadFields, saveFields, type FieldState } from '../../../machine/field-state.js';
/**
 * The interrupt state machine shared by the GICv2 and GICv3 models of one zone: per-interrupt
 * enable / pending / active / priority / group / trigger, SGIs and PPIs banked per vCPU, SPIs
 * restricted to the zone's set, and per-vCPU CPU-interface state (priority mask, binary point,
 * running priority). Front-ends (gicv2.ts, gicv3.ts) map registers onto it.
 *
 * Storage is flat typed arrays indexed by `slot(cpu, intid)`: slots 0..32*vcpus-1 are the banked
 * SGI/PPI copies, then one slot per SPI. Nothing here allocates after construction.
 */
import { type IrqLine, levelIrqs, type LevelIrq } from '../../../machine/irq-line.js';
import { InterruptControllerConfigError, InterruptNotOwnedError } from '../ownership.js';
import { FIRST_LPI, type LpiTable } from './lpis.js';

export const SPURIOUS = 1023;
/** Interrupt routing of an SPI to no vCPU (GICv3 affinity that names no vCPU of the zone). */
export const NO_TARGET = -1;

export interface GicCoreOptions {
  /** Model name for errors ("gicv2" / "gicv3"). */
  readonly name: string;
  readonly vcpus: number;
  /** INTIDs 0..numIrqs-1 exist (a multiple of 32, at least 64, at most 1020 rounded up). */
  readonly numIrqs: number;
  /** The SPIs (INTID >= 32) the zone owns; every other SPI is RAZ/WI and can never pend. */
  readonly ownedSpis: Iterable<number>;
  /** One IRQ output per vCPU. */
  readonly irqOutputs: readonly IrqLine[];
  /** Priority bits the CPU interface implements (GIC-400: 5; QEMU's GICv3 CPU interface: 5). */
  readonly priorityBits: number;
  /** Priority bits the distributor stores (GIC-400: 5; QEMU's GICv3 distributor: 8). */
  readonly distributorPriorityBits: number;
}

export class GicCore {
  readonly vcpus: number;
  readonly numIrqs: number;
  readonly priorityMask: number;
  /** Bits of GICD/GICR_IPRIORITYR that hold state. */
  readonly priorityMaskDistributor: number;
  readonly owned: Uint8Array;
  readonly ownedSpiList: Uint16Array;

  // Per slot.
  readonly enabled: Uint8Array;
  /** Latched pending state (edge, GICD_ISPENDR, SGIs); a level input adds pending on top. */
  readonly latch: Uint8Array;
  readonly level: Uint8Array;
  readonly active: Uint8Array;
  readonly priority: Uint8Array;
  readonly group: Uint8Array;
  readonly edge: Uint8Array;

  /** Per SPI (index intid): GICv2 CPU target mask, GICv3 resolved target vCPU (or NO_TARGET / any). */
  readonly targets: Uint8Array;
  readonly routeCpu: Int16Array;
  /** GICv3 IROUTER as written (low 32 bits and Aff3), for read-back. */
  readonly routeLow: Uint32Array;
  readonly routeHigh: Uint32Array;
  /** Whether SPIs are routed by `targets` (GICv2) or by `routeCpu` (GICv3). */
  affinityRouting = false;

  /** GICv2 SGI sources: bit s of sgiSources[cpu*16+id] = pending from vCPU s. */
  readonly sgiSources: Uint8Array;

  /** Distributor group enables (bit 0 = group 0, bit 1 = group 1). */
  distEnable = 0;

  /** GICv3 LPIs (Group 1, no active state), when the model offers them. */
  lpis: LpiTable | undefined;

  // CPU interface, per vCPU.
  readonly pmr: Uint8Array;
  readonly bpr0: Uint8Array;
  readonly bpr1: Uint8Array;
  /** Interface group enables (bit 0 = group 0, bit 1 = group 1). */
  readonly cpuEnable: Uint8Array;
  readonly eoiMode: Uint8Array;
  /** Count of acknowledged, not yet priority-dropped interrupts per (vCPU, priority). */
  readonly activePrio: Uint16Array;
  /** The priority each slot had when acknowledged (so EOI drops the right one). */
  readonly ackPrio: Uint8Array;
  /** Cached runningPriority per vCPU. */
  private readonly running: Uint16Array;

  private readonly outputs: LevelIrq[];

  constructor(private readonly options: GicCoreOptions) {
    const { vcpus, numIrqs, name } = options;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 255) throw new InterruptControllerConfigError(name, `vcpus ${vcpus} out of range`);
    if (options.irqOutputs.length !== vcpus) throw new InterruptControllerConfigError(name, `${options.irqOutputs.length} IRQ outputs for ${vcpus} vCPUs`);
    if (!Number.isInteger(numIrqs) || numIrqs < 64 || numIrqs > 1024 || numIrqs % 32 !== 0) {
      throw new InterruptControllerConfigError(name, `numIrqs ${numIrqs} must be a multiple of 32 in 64..1024`);
    }
    this.vcpus = vcpus;
    this.numIrqs = numIrqs;
    this.priorityMask = (0xff << (8 - options.priorityBits)) & 0xff;
    this.priorityMaskDistributor = (0xff << (8 - options.distributorPriorityBits)) & 0xff;
    this.owned = new Uint8Array(numIrqs);
    const list: number[] = [];
    for (const id of options.ownedSpis) {
      if (!Number.isInteger(id) || id < 32 || id >= Math.min(numIrqs, 1020)) {
        throw new InterruptControllerConfigError(name, `owned SPI ${id} outside 32..${Math.min(numIrqs, 1020) - 1}`);
      }
      if (!this.owned[id]) list.push(id);
      this.owned[id] = 1;
    }
    this.ownedSpiList = Uint16Array.from(list.sort((a, b) => a - b));
    const slots = vcpus * 32 + numIrqs - 32;
    this.enabled = new Uint8Array(slots);
    this.latch = new Uint8Array(slots);
    this.level = new Uint8Array(slots);
    this.active = new Uint8Array(slots);
    this.priority = new Uint8Array(slots);
    this.group = new Uint8Array(slots);
    this.edge = new Uint8Array(slots);
    this.ackPrio = new Uint8Array(slots);
    this.targets = new Uint8Array(numIrqs);
    this.routeCpu = new Int16Array(numIrqs);
    this.routeLow = new Uint32Array(numIrqs);
    this.routeHigh = new Uint32Array(numIrqs);
    this.sgiSources = new Uint8Array(vcpus * 16);
    this.pmr = new Uint8Array(vcpus);
    this.bpr0 = new Uint8Array(vcpus);
    this.bpr1 = new Uint8Array(vcpus);
    this.cpuEnable = new Uint8Array(vcpus);
    this.eoiMode = new Uint8Array(vcpus);
    this.activePrio = new Uint16Array(vcpus * 256);
    this.running = new Uint16Array(vcpus).fill(0xff);
    this.outputs = levelIrqs(options.irqOutputs);
    this.resetState();
  }

  get name(): string {
    return this.options.name;
  }

  /** The flat index of interrupt `intid` as seen by vCPU `cpu`. */
  slot(cpu: number, intid: number): number {
    return intid < 32 ? cpu * 32 + intid : this.vcpus * 32 + intid - 32;
  }

  /** Whether the zone can see interrupt `intid` at all (SGIs/PPIs always; SPIs when owned). */
  exists(intid: number): boolean {
    return intid < 32 || (intid < this.numIrqs && this.owned[intid] === 1);
  }

  resetState(): void {
    for (const a of [this.enabled, this.latch, this.active, this.priority, this.group, this.edge, this.targets, this.sgiSources, this.ackPrio]) a.fill(0);
    this.routeCpu.fill(0);
    this.routeLow.fill(0);
    this.routeHigh.fill(0);
    this.activePrio.fill(0);
    this.running.fill(0xff);
    // SGIs are always edge-triggered.
    for (let c = 0; c < this.vcpus; c++) for (let i = 0; i < 16; i++) this.edge[c * 32 + i] = 1;
    this.distEnable = 0;
    this.pmr.fill(0);
    // Five priority bits: the smallest binary points are 2 (group 0) and 3 (group 1).
    this.bpr0.fill(2);
    this.bpr1.fill(3);
    this.cpuEnable.fill(0);
    this.eoiMode.fill(0);
    this.lpis?.reset();
    this.updateAll();
  }

  // --- inputs --------------------------------------------------------------------------------

  /** A device wire to SPI `intid`; throws for an SPI the zone does not own. */
  spiLine(intid: number): IrqLine {
    if (intid < 32 || intid >= this.numIrqs || !this.owned[intid]) throw new InterruptNotOwnedError(this.name, intid);
    const s = this.slot(0, intid);
    return { set: (l) => this.input(s, l), pulse: () => this.pulseSlot(s) };
  }

  /** A per-vCPU wire to PPI `intid` (16..31), e.g. the generic timer's (27 virtual, 30 physical). */
  ppiLine(cpu: number, intid: number): IrqLine {
    if (intid < 16 || intid > 31 || cpu < 0 || cpu >= this.vcpus) throw new InterruptNotOwnedError(this.name, intid);
    const s = this.slot(cpu, intid);
    return { set: (l) => this.input(s, l), pulse: () => this.pulseSlot(s) };
  }

  /** A message-signalled (edge) request for SPI `intid`; false when the zone does not own it. */
  signalSpi(intid: number): boolean {
    if (intid < 32 || intid >= this.numIrqs || !this.owned[intid]) return false;
    this.pulseSlot(this.slot(0, intid));
    return true;
  }

  private input(s: number, lvl: boolean): void {
    const v = lvl ? 1 : 0;
    if (this.level[s] === v) return;
    this.level[s] = v;
    // An edge-triggered interrupt latches on the rising edge.
    if (v && this.edge[s]) this.latch[s] = 1;
    this.updateSlot(s);
  }

  private pulseSlot(s: number): void {
    this.latch[s] = 1;
    this.updateSlot(s);
  }

  /** A banked (SGI/PPI) slot concerns one vCPU only; an SPI may concern any. */
  private updateSlot(s: number): void {
    if (s < this.vcpus * 32) this.update(s >> 5);
    else this.updateAll();
  }

  isPending(s: number): boolean {
    return this.latch[s] === 1 || (this.level[s] === 1 && this.edge[s] === 0);
  }

  /** Software pend (GICD_ISPENDR, SGI generation). */
  setPending(s: number, on: boolean): void {
    this.latch[s] = on ? 1 : 0;
  }

  // --- SGIs ----------------------------------------------------------------------------------

  /** Pends SGI `id` on vCPU `target`, sent by vCPU `source`. */
  sendSgi(source: number, target: number, id: number): void {
    if (target < 0 || target >= this.vcpus) return;
    const s = target * 32 + (id & 15);
    this.latch[s] = 1;
    this.sgiSources[target * 16 + (id & 15)]! |= 1 << (source & 7);
  }

  // --- the CPU interface -------------------------------------------------------------------

  /** Whether SPI `intid` may be taken by vCPU `cpu`. */
  private targets_(cpu: number, intid: number): boolean {
    if (this.vcpus === 1) return true; // a uniprocessor GIC ignores targets
    if (this.affinityRouting) {
      const r = this.routeCpu[intid]!;
      return r === cpu || r === -2; // -2: 1-of-N, any vCPU
    }
    return ((this.targets[intid]! >> cpu) & 1) === 1;
  }

  /**
   * The highest-priority pending, enabled, inactive interrupt for `cpu` in an enabled group
   * (lowest INTID on ties), or SPURIOUS. `groupMask` selects groups (bit g = group g).
   */
  highestPending(cpu: number, groupMask: number): number {
    let best = SPURIOUS;
    let bestPrio = 0x100;
    const base = cpu * 32;
    for (let i = 0; i < 32; i++) {
      const s = base + i;
      if (this.enabled[s] && !this.active[s] && this.isPending(s) && (groupMask >> this.group[s]!) & 1 && this.priority[s]! < bestPrio) {
        best = i;
        bestPrio = this.priority[s]!;
      }
    }
    const list = this.ownedSpiList;
    const spiBase = this.vcpus * 32 - 32;
    for (let k = 0; k < list.length; k++) {
      const id = list[k]!;
      const s = spiBase + id;
      if (
        this.enabled[s] &&
        !this.active[s] &&
        this.isPending(s) &&
        (groupMask >> this.group[s]!) & 1 &&
        this.priority[s]! < bestPrio &&
        this.targets_(cpu, id)
      ) {
        best = id;
        bestPrio = this.priority[s]!;
      }
    }
    if (this.lpis !== undefined && groupMask & 2) {
      const lpi = this.lpis.best(cpu);
      if (lpi >= 0 && this.lpis.priority(lpi) < bestPrio) best = lpi;
    }
    return best;
  }

  private prioOf(cpu: number, intid: number): number {
    return intid >= FIRST_LPI ? this.lpis!.priority(intid) : this.priority[this.slot(cpu, intid)]!;
  }

  private groupOf(cpu: number, intid: number): number {
    return intid >= FIRST_LPI ? 1 : this.group[this.slot(cpu, intid)]!;
  }

  /** The running priority: the highest active priority not yet dropped, or 0xff when idle. */
  runningPriority(cpu: number): number {
    return this.running[cpu]!;
  }

  /** Recomputes the cached running priority of `cpu` after its active priorities changed. */
  private refreshRunning(cpu: number): void {
    const base = cpu * 256;
    let r = 0xff;
    for (let p = 0; p < 256; p++) {
      if (this.activePrio[base + p]) {
        r = p;
        break;
      }
    }
    this.running[cpu] = r;
  }

  /** Group priority under the binary point of `group` (v3 BPR1 is BPR0 + 1 in meaning). */
  private groupPriority(cpu: number, prio: number, group: number): number {
    const bpr = group === 0 ? this.bpr0[cpu]! : Math.max(this.bpr1[cpu]! - 1, 0);
    return prio & ((0xff << (bpr + 1)) & 0xff);
  }

  /** Whether `intid` would be signalled now: above the mask and preempting the running priority. */
  private signallable(cpu: number, intid: number): boolean {
    if (intid === SPURIOUS) return false;
    const p = this.prioOf(cpu, intid);
    if (p >= this.pmr[cpu]!) return false;
    const running = this.runningPriority(cpu);
    if (running === 0xff) return true;
    const g = this.groupOf(cpu, intid);
    return this.groupPriority(cpu, p, g) < this.groupPriority(cpu, running, g);
  }

  private enabledGroups(cpu: number): number {
    return this.distEnable & this.cpuEnable[cpu]!;
  }

  /**
   * Acknowledge (IAR): the best signallable interrupt of the groups in `groupMask` becomes active.
   * Returns its INTID (GICv2 SGIs carry the source CPU in bits 12:10), or SPURIOUS.
   */
  acknowledge(cpu: number, groupMask: number): number {
    const id = this.highestPending(cpu, groupMask & this.enabledGroups(cpu));
    if (!this.signallable(cpu, id)) return SPURIOUS;
    if (id >= FIRST_LPI) {
      // LPIs have no active state: acknowledging consumes the pending bit and raises the running priority.
      this.lpis!.clearPending(id);
      this.activePrio[cpu * 256 + this.lpis!.priority(id)]!++;
      this.refreshRunning(cpu);
      this.update(cpu);
      return id;
    }
    const s = this.slot(cpu, id);
    let result = id;
    if (id < 16) {
      // One acknowledge per pending source (GICv2 reports the lowest-numbered source).
      const k = cpu * 16 + id;
      const srcs = this.sgiSources[k]!;
      if (this.affinityRouting) {
        // GICv3: no source tracking, every request of one SGI is a single pending state.
        this.sgiSources[k] = 0;
        this.latch[s] = 0;
      } else if (srcs !== 0) {
        const src = 31 - Math.clz32(srcs & -srcs);
        this.sgiSources[k] = srcs & ~(1 << src);
        result |= src << 10;
        if (this.sgiSources[k] === 0) this.latch[s] = 0;
      } else {
        this.latch[s] = 0;
      }
    } else {
      this.latch[s] = 0;
    }
    this.active[s] = 1;
    const p = this.priority[s]!;
    this.ackPrio[s] = p;
    this.activePrio[cpu * 256 + p]!++;
    this.refreshRunning(cpu);
    this.update(cpu);
    return result;
  }

  /** EOI: priority drop (and deactivation unless EOImode is split). `intid` is the acknowledged value. */
  endOfInterrupt(cpu: number, intid: number): void {
    if (intid >= FIRST_LPI) {
      if (this.lpis?.has(intid)) this.dropPriority(cpu);
      this.update(cpu);
      return;
    }
    const id = intid & 0x3ff;
    if (id >= 1020 || !this.exists(id)) return;
    const s = this.slot(cpu, id);
    if (!this.active[s]) return;
    this.dropPriority(cpu);
    if (!this.eoiMode[cpu]) this.active[s] = 0;
    this.updateSlot(s);
  }

  /** Priority drop: the highest active priority goes (the architecture requires EOIs in order). */
  private dropPriority(cpu: number): void {
    const base = cpu * 256;
    for (let p = 0; p < 256; p++) {
      if (this.activePrio[base + p]) {
        this.activePrio[base + p]!--;
        this.refreshRunning(cpu);
        return;
      }
    }
  }

  /** DIR: deactivate (EOImode split). */
  deactivate(cpu: number, intid: number): void {
    if (intid >= FIRST_LPI) return; // LPIs are never active
    const id = intid & 0x3ff;
    if (id >= 1020 || !this.exists(id)) return;
    this.active[this.slot(cpu, id)] = 0;
    this.updateAll();
  }

  /** HPPIR: the INTID that IAR would return (without acknowledging it). */
  highestPendingSignallable(cpu: number, groupMask: number): number {
    const id = this.highestPending(cpu, groupMask & this.enabledGroups(cpu));
    return id === SPURIOUS || this.prioOf(cpu, id) >= this.pmr[cpu]! ? SPURIOUS : id;
  }

  /** Drops all active priorities of `cpu` (a write of 0 to the active-priority registers). */
  clearActivePriorities(cpu: number): void {
    this.activePrio.fill(0, cpu * 256, cpu * 256 + 256);
    this.running[cpu] = 0xff;
    this.update(cpu);
  }

  /** Active-priority bitmap (APR0) at the implemented preemption levels. */
  activePriorityBits(cpu: number): number {
    const shift = 8 - Math.min(this.options.priorityBits, 7);
    let v = 0;
    for (let p = 0; p < 256; p++) if (this.activePrio[cpu * 256 + p]) v |= 1 << (p >> shift);
    return v >>> 0;
  }

  update(cpu: number): void {
    const groups = this.enabledGroups(cpu);
    this.outputs[cpu]!.set(groups !== 0 && this.signallable(cpu, this.highestPending(cpu, groups)));
  }

  updateAll(): void {
    for (let c = 0; c < this.vcpus; c++) this.update(c);
  }

  /** Snapshot state (Snapshottable through its GIC): registers and the output levels; LPIs are not kept yet. */
  saveState(): { readonly fields: FieldState; readonly outputs: readonly boolean[] } {
    return { fields: saveFields(this), outputs: this.outputs.map((o) => o.level) };
  }

  loadState(state: { readonly fields: FieldState; readonly outputs: readonly boolean[] }): void {
    loadFields(this, state.fields);
    state.outputs.forEach((level, i) => this.outputs[i]!.restoreLevel(level));
  }

  /** The IRQ output level of `cpu` as last driven (for tests and `monitor` listings). */
  irqLevel(cpu: number): boolean {
    return this.outputs[cpu]!.level;
  }
}
