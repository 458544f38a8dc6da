/**
 * RISC-V AIA APLIC (riscv,aplic) in direct delivery mode, as a per-zone model of the supervisor
 * interrupt domain Linux's irq-riscv-aplic-direct driver drives: domaincfg, sourcecfg[1..N]
 * (inactive / detached / edge / level, no child domains), the pending and enable bit arrays and
 * their *num registers, target[i] (hart index + priority), and one interrupt delivery control
 * (IDC) block per hart: idelivery, iforce, ithreshold, topi, claimi. IDC i (hart index i) is vCPU i
 * of the zone, matching the zone DTB's interrupts-extended order. With `msiTarget` the domain also
 * offers MSI delivery mode (domaincfg.DM): sources are forwarded to the zone's IMSIC as (hart, EIID).
 *
 * Isolation: only the zone's sources exist; any other source's sourcecfg reads 0 (inactive) and
 * ignores writes, so it can never be pending, enabled or delivered.
 */
import { type IrqLine, levelIrqs, type LevelIrq } from '../../machine/irq-line.js';
import { PendingSet } from './pending-set.js';
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import { InterruptControllerConfigError, InterruptNotOwnedError } from './ownership.js';

const enum Off {
  DomainCfg = 0x0000,
  SourceCfg = 0x0004,
  SetIp = 0x1c00,
  SetIpNum = 0x1cdc,
  InClrIp = 0x1d00,
  ClrIpNum = 0x1ddc,
  SetIe = 0x1e00,
  SetIeNum = 0x1edc,
  ClrIe = 0x1f00,
  ClrIeNum = 0x1fdc,
  SetIpNumLe = 0x2000,
  Target = 0x3004,
  Idc = 0x4000,
}

export const enum SourceMode {
  Inactive = 0,
  Detached = 1,
  Edge1 = 4,
  Edge0 = 5,
  Level1 = 6,
  Level0 = 7,
}

const DOMAINCFG_IE = 1 << 8;
const DOMAINCFG_DM = 1 << 2;
const IDC_STRIDE = 32;

export interface AplicOptions {
  /** Source ids are 1..numSources-1 (QEMU virt: 96). */
  readonly numSources: number;
  readonly ownedSources: Iterable<number>;
  readonly vcpus: number;
  /** One output per vCPU (its supervisor external interrupt). */
  readonly hartOutputs: readonly IrqLine[];
  /** Implemented IPRIO bits (QEMU virt: 3). */
  readonly priorityBits?: number;
  /**
   * MSI delivery (domaincfg.DM = 1), offered when given: a pending, enabled source is sent as an
   * MSI to (hart index, EIID) from its target register, e.g. `(h, id) => imsic.setPending(h, id)`.
   */
  readonly msiTarget?: (hart: number, eiid: number) => void;
}

export class Aplic implements MmioDevice {
  readonly name = 'aplic';
  readonly accessRule = WORD_ACCESS;
  private readonly numSources: number;
  private readonly vcpus: number;
  private readonly owned: Uint8Array;
  private readonly mode: Uint8Array;
  private readonly input: Uint8Array;
  /** topi scans only the pending sources. */
  private readonly pending: PendingSet;
  private readonly enabled: Uint8Array;
  private readonly targetHart: Uint16Array;
  private readonly targetPrio: Uint8Array;
  private readonly targetEiid: Uint16Array;
  private domainCfg = 0;
  private readonly prioMask: number;
  private readonly idelivery: Uint8Array;
  private readonly iforce: Uint8Array;
  private readonly ithreshold: Uint8Array;
  private readonly outputs: LevelIrq[];

  constructor(private readonly options: AplicOptions) {
    const n = options.numSources;
    if (!Number.isInteger(n) || n < 2 || n > 1024) throw new InterruptControllerConfigError('aplic', `numSources ${n} must be 2..1024`);
    if (!Number.isInteger(options.vcpus) || options.vcpus < 1 || options.vcpus > 16384) {
      throw new InterruptControllerConfigError('aplic', `vcpus ${options.vcpus} out of range`);
    }
    if (options.hartOutputs.length !== options.vcpus) {
      throw new InterruptControllerConfigError('aplic', `${options.hartOutputs.length} hart outputs for ${options.vcpus} vCPUs`);
    }
    this.numSources = n;
    this.vcpus = options.vcpus;
    this.prioMask = (1 << Math.min(Math.max(options.priorityBits ?? 3, 1), 8)) - 1;
    this.owned = new Uint8Array(n);
    for (const s of options.ownedSources) {
      if (!Number.isInteger(s) || s < 1 || s >= n) throw new InterruptControllerConfigError('aplic', `owned source ${s} outside 1..${n - 1}`);
      this.owned[s] = 1;
    }
    this.mode = new Uint8Array(n);
    this.input = new Uint8Array(n);
    this.pending = new PendingSet(n);
    this.enabled = new Uint8Array(n);
    this.targetHart = new Uint16Array(n);
    this.targetPrio = new Uint8Array(n).fill(1);
    this.targetEiid = new Uint16Array(n);
    this.idelivery = new Uint8Array(this.vcpus);
    this.iforce = new Uint8Array(this.vcpus);
    this.ithreshold = new Uint8Array(this.vcpus);
    this.outputs = levelIrqs(options.hartOutputs);
  }

  private setPend(s: number, on: number): void {
    this.pending.set(s, on === 1);
  }

  /** The wire from a device to source `source` (owned sources only). */
  sourceInput(source: number): IrqLine {
    if (source < 1 || source >= this.numSources || !this.owned[source]) throw new InterruptNotOwnedError('aplic', source);
    return {
      set: (lvl) => this.setInput(source, lvl),
      pulse: () => {
        this.setInput(source, true);
        this.setInput(source, false);
      },
    };
  }

  reset(): void {
    this.domainCfg = 0;
    this.mode.fill(0);
    this.pending.clear();
    this.enabled.fill(0);
    this.targetHart.fill(0);
    this.targetPrio.fill(1);
    this.targetEiid.fill(0);
    this.idelivery.fill(0);
    this.iforce.fill(0);
    this.ithreshold.fill(0);
    this.update();
  }

  private rectified(s: number): number {
    switch (this.mode[s]) {
      case SourceMode.Edge1:
      case SourceMode.Level1:
        return this.input[s]!;
      case SourceMode.Edge0:
      case SourceMode.Level0:
        return this.input[s]! ^ 1;
    }
    return 0;
  }

  private isLevel(s: number): boolean {
    return this.mode[s] === SourceMode.Level1 || this.mode[s] === SourceMode.Level0;
  }

  private setInput(s: number, lvl: boolean): void {
    const before = this.rectified(s);
    this.input[s] = lvl ? 1 : 0;
    const after = this.rectified(s);
    const m = this.mode[s]!;
    if ((m === SourceMode.Edge1 || m === SourceMode.Edge0) && !before && after) this.setPend(s, 1);
    if (this.isLevel(s)) {
      // Direct mode: pending follows the input. MSI mode: a rising input pends once; the MSI consumes it.
      if (!this.msiMode) this.setPend(s, after);
      else if (!before && after) this.setPend(s, 1);
    }
    this.update();
  }

  /** setip / setipnum: edge and detached sources only (a level source follows its input). */
  private setPendingBySoftware(s: number, on: boolean): void {
    if (!this.owned[s] || this.mode[s] === SourceMode.Inactive) return;
    if (this.isLevel(s)) {
      if (this.msiMode) {
        // MSI mode: software may re-pend a level source only while its input is asserted (Linux's retrigger).
        this.setPend(s, on ? this.rectified(s) : 0);
        return;
      }
      // Direct mode: clearing is allowed (claim-like), setting is not; the input re-asserts it.
      if (!on) this.setPend(s, this.rectified(s));
      return;
    }
    this.setPend(s, on ? 1 : 0);
  }

  read(offset: number, size: AccessSize): number {
    if (offset >= Off.Idc) {
      const hart = (offset - Off.Idc) >> 5;
      if (hart < this.vcpus && ((offset - Off.Idc) & 31) === 0x1c) return this.claim(hart);
    }
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (offset === Off.DomainCfg) return (0x80000000 | this.domainCfg) >>> 0;
    if (offset < Off.SetIp) {
      const s = offset >> 2;
      return s < this.numSources && this.owned[s] ? this.mode[s]! : 0;
    }
    if (offset >= Off.SetIp && offset < Off.SetIp + 128) return this.bits((offset - Off.SetIp) >> 2, this.pending.flags);
    if (offset >= Off.InClrIp && offset < Off.InClrIp + 128) {
      const first = ((offset - Off.InClrIp) >> 2) * 32;
      let v = 0;
      for (let b = 0; b < 32; b++) {
        const s = first + b;
        if (s < this.numSources && this.owned[s] && this.rectified(s)) v |= 1 << b;
      }
      return v >>> 0;
    }
    if (offset >= Off.SetIe && offset < Off.SetIe + 128) return this.bits((offset - Off.SetIe) >> 2, this.enabled);
    if (offset >= Off.Target && offset < Off.Idc) {
      const s = ((offset - Off.Target) >> 2) + 1;
      if (s >= this.numSources || !this.owned[s]) return 0;
      return ((this.targetHart[s]! << 18) | (this.msiMode ? this.targetEiid[s]! : this.targetPrio[s]!)) >>> 0;
    }
    if (offset >= Off.Idc) {
      const hart = (offset - Off.Idc) >> 5;
      if (hart >= this.vcpus) return 0;
      switch ((offset - Off.Idc) & 31) {
        case 0x00:
          return this.idelivery[hart]!;
        case 0x04:
          return this.iforce[hart]!;
        case 0x08:
          return this.ithreshold[hart]!;
        case 0x18:
          return this.topi(hart);
        case 0x1c:
          return this.topi(hart); // a debugger sees what claimi would return, without claiming
      }
    }
    return 0;
  }

  private bits(word: number, arr: Uint8Array): number {
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const s = word * 32 + b;
      if (s < this.numSources && this.owned[s] && arr[s]) v |= 1 << b;
    }
    return v >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = value >>> 0;
    if (offset === Off.DomainCfg) {
      // DM (MSI mode) only when an MSI target exists; BE (big-endian) is not offered.
      this.domainCfg = v & (DOMAINCFG_IE | (this.options.msiTarget ? DOMAINCFG_DM : 0));
    } else if (offset < Off.SetIp) {
      const s = offset >> 2;
      if (s < this.numSources && this.owned[s]) this.setSourceCfg(s, v);
    } else if (offset >= Off.SetIp && offset < Off.SetIp + 128) {
      this.eachBit((offset - Off.SetIp) >> 2, v, (s) => this.setPendingBySoftware(s, true));
    } else if (offset === Off.SetIpNum || offset === Off.SetIpNumLe) {
      if (v < this.numSources) this.setPendingBySoftware(v, true);
    } else if (offset >= Off.InClrIp && offset < Off.InClrIp + 128) {
      this.eachBit((offset - Off.InClrIp) >> 2, v, (s) => this.setPendingBySoftware(s, false));
    } else if (offset === Off.ClrIpNum) {
      if (v < this.numSources) this.setPendingBySoftware(v, false);
    } else if (offset >= Off.SetIe && offset < Off.SetIe + 128) {
      this.eachBit((offset - Off.SetIe) >> 2, v, (s) => this.setEnable(s, true));
    } else if (offset === Off.SetIeNum) {
      if (v < this.numSources) this.setEnable(v, true);
    } else if (offset >= Off.ClrIe && offset < Off.ClrIe + 128) {
      this.eachBit((offset - Off.ClrIe) >> 2, v, (s) => this.setEnable(s, false));
    } else if (offset === Off.ClrIeNum) {
      if (v < this.numSources) this.setEnable(v, false);
    } else if (offset >= Off.Target && offset < Off.Idc) {
      const s = ((offset - Off.Target) >> 2) + 1;
      if (s < this.numSources && this.owned[s]) {
        this.targetHart[s] = v >>> 18;
        if (this.msiMode) this.targetEiid[s] = v & 0x7ff; // guest index (17:12) stays 0: no guest files
        else this.targetPrio[s] = v & this.prioMask || 1; // priority 0 is not allowed: it becomes 1
      }
    } else if (offset >= Off.Idc) {
      const hart = (offset - Off.Idc) >> 5;
      if (hart >= this.vcpus) return;
      switch ((offset - Off.Idc) & 31) {
        case 0x00:
          this.idelivery[hart] = v & 1;
          break;
        case 0x04:
          this.iforce[hart] = v & 1;
          break;
        case 0x08:
          this.ithreshold[hart] = v & this.prioMask;
          break;
      }
    }
    this.update();
  }

  private eachBit(word: number, v: number, f: (s: number) => void): void {
    for (let b = 0; b < 32; b++) if ((v >>> b) & 1) f(word * 32 + b);
  }

  private setEnable(s: number, on: boolean): void {
    if (s < 1 || s >= this.numSources || !this.owned[s] || this.mode[s] === SourceMode.Inactive) return;
    this.enabled[s] = on ? 1 : 0;
  }

  private setSourceCfg(s: number, v: number): void {
    // No child domains: D (bit 10) is read-only zero, so the value is a source mode.
    const sm = v & 0x400 ? SourceMode.Inactive : v & 7;
    const valid = sm === SourceMode.Inactive || sm === SourceMode.Detached || sm >= SourceMode.Edge1;
    this.mode[s] = valid ? sm : SourceMode.Inactive;
    if (this.mode[s] === SourceMode.Inactive) {
      this.setPend(s, 0);
      this.enabled[s] = 0;
    } else if (this.isLevel(s)) {
      this.setPend(s, this.rectified(s));
    }
  }

  /**
   * The zone's sources as text, for a debugger (`monitor irq`): delivery mode, and per source its
   * mode, input level, pending and enable bits and target (hart and EIID, or hart and priority).
   */
  describe(): string {
    const modes: Record<number, string> = { 0: 'inactive', 1: 'detached', 4: 'edge1', 5: 'edge0', 6: 'level1', 7: 'level0' };
    const lines = [`aplic: ${this.msiMode ? 'MSI' : 'direct'} delivery, interrupts ${this.domainCfg & DOMAINCFG_IE ? 'enabled' : 'disabled'}`, '  source mode     input pending enabled target'];
    for (let s = 1; s < this.numSources; s++) {
      if (!this.owned[s]) continue;
      const target = `hart ${this.targetHart[s]} ${this.msiMode ? `eiid ${this.targetEiid[s]}` : `prio ${this.targetPrio[s]}`}`;
      lines.push(`  ${String(s).padStart(6)} ${(modes[this.mode[s]!] ?? '?').padEnd(8)} ${this.input[s] ? 'high' : 'low '}  ${this.pending.has(s) ? 'yes' : 'no '}     ${this.enabled[s] ? 'yes' : 'no '}     ${target}`);
    }
    return lines.join('\n') + '\n';
  }

  /** (identity << 16) | priority of the best eligible source for `hart`, or 0. */
  private topi(hart: number): number {
    let best = 0;
    let bestPrio = 0x100;
    const threshold = this.ithreshold[hart]!;
    const list = this.pending.list;
    for (let i = 0; i < this.pending.count; i++) {
      const s = list[i]!;
      if (!this.enabled[s] || this.targetHart[s] !== hart) continue;
      const p = this.targetPrio[s]!;
      if (threshold !== 0 && p >= threshold) continue;
      if (p < bestPrio || (p === bestPrio && s < best)) {
        best = s;
        bestPrio = p;
      }
    }
    return best === 0 ? 0 : ((best << 16) | bestPrio) >>> 0;
  }

  private claim(hart: number): number {
    const t = this.topi(hart);
    if (t === 0) {
      this.iforce[hart] = 0;
    } else {
      const s = t >>> 16;
      // An edge source is consumed; a level source stays pending while its input holds.
      this.setPend(s, this.isLevel(s) ? this.rectified(s) : 0);
    }
    this.update();
    return t;
  }

  private get msiMode(): boolean {
    return (this.domainCfg & DOMAINCFG_DM) !== 0;
  }

  /** MSI mode: sends every pending, enabled source as its MSI and clears its pending bit. */
  private forwardMsis(): void {
    const send = this.options.msiTarget!;
    for (let i = 0; i < this.pending.count; ) {
      const s = this.pending.list[i]!;
      if (this.enabled[s]) {
        this.setPend(s, 0); // swaps another source into slot i
        send(this.targetHart[s]!, this.targetEiid[s]!);
      } else {
        i++;
      }
    }
  }

  private update(): void {
    const ie = (this.domainCfg & DOMAINCFG_IE) !== 0;
    if (this.msiMode) {
      if (ie) this.forwardMsis();
      for (const out of this.outputs) out.set(false);
      return;
    }
    for (let h = 0; h < this.vcpus; h++) {
      this.outputs[h]!.set(ie && this.idelivery[h] === 1 && (this.iforce[h] === 1 || this.topi(h) !== 0));
    }
  }
}
