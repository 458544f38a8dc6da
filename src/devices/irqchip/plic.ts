/**
 * RISC-V PLIC (sifive,plic-1.0.0 / riscv,plic0) as a per-zone model. The register map is the SiFive
 * one Linux's irq-sifive-plic driver uses: source priorities at 0x0, the pending bitmap at 0x1000,
 * per-context enable bitmaps at 0x2000 + 0x80 * ctx, and per-context threshold / claim-complete at
 * 0x200000 + 0x1000 * ctx. Contexts are the zone's harts x {M, S} in QEMU virt's order
 * (context 2i = vCPU i's M mode, 2i+1 = its S mode), matching the zone DTB's interrupts-extended.
 *
 * Isolation: only the zone's sources exist here. Every other source reads as priority 0, never
 * pending, enable bit stuck at 0, and can never be claimed.
 */
import { type IrqLine, levelIrqs, type LevelIrq } from '../../machine/irq-line.js';
import { PendingSet } from './pending-set.js';
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import { InterruptControllerConfigError, InterruptNotOwnedError } from './ownership.js';

const PENDING = 0x1000;
const ENABLE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT = 0x200000;
const CONTEXT_STRIDE = 0x1000;

export interface PlicOptions {
  /** Number of source ids the controller has (`riscv,ndev` + 1 counting the reserved source 0). */
  readonly numSources: number;
  /** The sources this zone owns (1..numSources-1); everything else is invisible to the zone. */
  readonly ownedSources: Iterable<number>;
  /** vCPUs of the zone: contexts = 2 x vcpus. */
  readonly vcpus: number;
  /** One output per context (2i = vCPU i M-mode, 2i+1 = S-mode); the zone wires S to the hart's SEIP. */
  readonly contextOutputs: readonly IrqLine[];
  /** Highest priority value (QEMU virt: 7, three bits). */
  readonly maxPriority?: number;
}

export class Plic implements MmioDevice {
  readonly name = 'plic';
  readonly accessRule = WORD_ACCESS;
  readonly contexts: number;
  private readonly numSources: number;
  private readonly words: number;
  private readonly maxPriority: number;
  private readonly owned: Uint8Array;
  /** Owned source ids, ascending: the claim scan order (ties go to the lowest id). */
  private readonly ownedList: Uint32Array;
  private readonly ownedMask: Uint32Array;
  private readonly priority: Uint32Array;
  /** Claims scan only the pending sources. */
  private readonly pending: PendingSet;
  private readonly inFlight: Uint8Array;
  private readonly level: Uint8Array;
  private readonly enable: Uint32Array;
  private readonly threshold: Uint32Array;
  private readonly outputs: LevelIrq[];
  private readonly inputs: IrqLine[] = [];

  constructor(private readonly options: PlicOptions) {
    const n = options.numSources;
    if (!Number.isInteger(n) || n < 2 || n > 1024) throw new InterruptControllerConfigError('plic', `numSources ${n} must be 2..1024`);
    if (!Number.isInteger(options.vcpus) || options.vcpus < 1 || options.vcpus > 7936) {
      throw new InterruptControllerConfigError('plic', `vcpus ${options.vcpus} out of range`);
    }
    this.contexts = options.vcpus * 2;
    if (options.contextOutputs.length !== this.contexts) {
      throw new InterruptControllerConfigError('plic', `${options.contextOutputs.length} context outputs for ${this.contexts} contexts`);
    }
    this.numSources = n;
    this.words = (n + 31) >> 5;
    this.maxPriority = options.maxPriority ?? 7;
    this.owned = new Uint8Array(n);
    this.ownedMask = new Uint32Array(this.words);
    const list: number[] = [];
    for (const s of options.ownedSources) {
      if (!Number.isInteger(s) || s < 1 || s >= n) throw new InterruptControllerConfigError('plic', `owned source ${s} outside 1..${n - 1}`);
      if (this.owned[s]) continue;
      this.owned[s] = 1;
      this.ownedMask[s >> 5]! |= 1 << (s & 31);
      list.push(s);
    }
    this.ownedList = Uint32Array.from(list.sort((a, b) => a - b));
    this.priority = new Uint32Array(n);
    this.pending = new PendingSet(n);
    this.inFlight = new Uint8Array(n);
    this.level = new Uint8Array(n);
    this.enable = new Uint32Array(this.contexts * this.words);
    this.threshold = new Uint32Array(this.contexts);
    this.outputs = levelIrqs(options.contextOutputs);
  }

  private setPending(s: number, on: boolean): void {
    this.pending.set(s, on);
  }

  /** The wire from a device to source `source`; only owned sources can be wired. */
  input(source: number): IrqLine {
    if (source < 1 || source >= this.numSources || !this.owned[source]) throw new InterruptNotOwnedError('plic', source);
    let line = this.inputs[source];
    if (line === undefined) {
      line = {
        set: (lvl: boolean) => this.setLevel(source, lvl),
        pulse: () => this.pulse(source),
      };
      this.inputs[source] = line;
    }
    return line;
  }

  owns(source: number): boolean {
    return source >= 1 && source < this.numSources && this.owned[source] === 1;
  }

  reset(): void {
    this.priority.fill(0);
    this.pending.clear();
    this.inFlight.fill(0);
    this.enable.fill(0);
    this.threshold.fill(0);
    // Input levels are the devices' state, not ours: a source still asserted is pending again.
    for (const s of this.ownedList) if (this.level[s]) this.setPending(s, true);
    this.updateAll();
  }

  private setLevel(source: number, lvl: boolean): void {
    this.level[source] = lvl ? 1 : 0;
    // Level-triggered gateway (as QEMU's): pending follows the line unless the source is in service.
    if (!this.inFlight[source]) this.setPending(source, lvl);
    this.updateAll();
  }

  private pulse(source: number): void {
    // Edge-triggered: latch one request; it stays pending until claimed.
    if (!this.inFlight[source]) this.setPending(source, true);
    this.updateAll();
  }

  read(offset: number, size: AccessSize): number {
    if (offset >= CONTEXT) {
      const ctx = ((offset - CONTEXT) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT) % CONTEXT_STRIDE;
      if (ctx >= this.contexts) return 0;
      if (reg === 0) return this.threshold[ctx]!;
      if (reg === 4) return this.claim(ctx);
      return 0;
    }
    return this.peekWord(offset);
  }

  peek(offset: number, size: AccessSize): number | undefined {
    if (offset >= CONTEXT) {
      const ctx = ((offset - CONTEXT) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT) % CONTEXT_STRIDE;
      if (ctx >= this.contexts) return 0;
      if (reg === 0) return this.threshold[ctx]!;
      if (reg === 4) return undefined; // a claim
      return 0;
    }
    return this.peekWord(offset);
  }

  private peekWord(offset: number): number {
    if (offset < PENDING) {
      const s = offset >> 2;
      return s < this.numSources ? this.priority[s]! : 0;
    }
    if (offset < ENABLE) {
      const word = (offset - PENDING) >> 2;
      if (word >= this.words) return 0;
      let v = 0;
      for (let b = 0; b < 32; b++) if (this.pending.has(word * 32 + b)) v |= 1 << b;
      return v >>> 0;
    }
    const ctx = ((offset - ENABLE) / ENABLE_STRIDE) | 0;
    const word = ((offset - ENABLE) % ENABLE_STRIDE) >> 2;
    if (ctx >= this.contexts || word >= this.words) return 0;
    return this.enable[ctx * this.words + word]!;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset >= CONTEXT) {
      const ctx = ((offset - CONTEXT) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT) % CONTEXT_STRIDE;
      if (ctx >= this.contexts) return;
      if (reg === 0) {
        this.threshold[ctx] = Math.min(value >>> 0, this.maxPriority);
        this.updateContext(ctx);
      } else if (reg === 4) {
        this.complete(ctx, value >>> 0);
      }
      return;
    }
    if (offset < PENDING) {
      const s = offset >> 2;
      if (s < this.numSources && this.owned[s]) {
        this.priority[s] = Math.min(value >>> 0, this.maxPriority);
        this.updateAll();
      }
      return;
    }
    if (offset < ENABLE) return; // pending is read-only
    const ctx = ((offset - ENABLE) / ENABLE_STRIDE) | 0;
    const word = ((offset - ENABLE) % ENABLE_STRIDE) >> 2;
    if (ctx >= this.contexts || word >= this.words) return;
    this.enable[ctx * this.words + word] = (value & this.ownedMask[word]!) >>> 0;
    this.updateContext(ctx);
  }

  /**
   * The zone's sources and contexts as text, for a debugger (`monitor irq`): priority, pending,
   * claimed, line level and the contexts that enable each source; each context's threshold.
   */
  describe(): string {
    const lines = ['plic: source prio pending claimed level enabled-in', ];
    for (const s of this.ownedList) {
      const contexts: string[] = [];
      for (let c = 0; c < this.contexts; c++) if (this.enabled(c, s)) contexts.push(`ctx${c}`);
      lines.push(`  ${String(s).padStart(6)} ${String(this.priority[s]).padStart(4)} ${this.pending.has(s) ? 'yes' : 'no '}     ${this.inFlight[s] ? 'yes' : 'no '}     ${this.level[s] ? 'high' : 'low '}  ${contexts.join(' ') || 'none'}`);
    }
    for (let c = 0; c < this.contexts; c++) {
      lines.push(`  ctx${c} (vcpu${c >> 1} ${c & 1 ? 'S' : 'M'}-mode): threshold ${this.threshold[c]}, output ${this.outputs[c]!.level ? 'raised' : 'low'}`);
    }
    return lines.join('\n') + '\n';
  }

  private enabled(ctx: number, s: number): boolean {
    return ((this.enable[ctx * this.words + (s >> 5)]! >>> (s & 31)) & 1) === 1;
  }

  /** Highest-priority pending source enabled for ctx above its threshold (lowest id on ties), or 0. */
  private best(ctx: number): number {
    let best = 0;
    let bestPriority = this.threshold[ctx]!;
    const list = this.pending.list;
    for (let i = 0; i < this.pending.count; i++) {
      const s = list[i]!;
      const p = this.priority[s]!;
      // Higher priority wins; on equal priority the lower source id.
      if ((p > bestPriority || (p === bestPriority && best !== 0 && s < best)) && this.enabled(ctx, s)) {
        best = s;
        bestPriority = p;
      }
    }
    return best;
  }

  private claim(ctx: number): number {
    const s = this.best(ctx);
    if (s !== 0) {
      this.setPending(s, false);
      this.inFlight[s] = 1;
      this.updateAll();
    }
    return s;
  }

  private complete(ctx: number, s: number): void {
    // Completions for a source not enabled on this context are ignored (PLIC spec).
    if (s < 1 || s >= this.numSources || !this.owned[s] || !this.enabled(ctx, s)) return;
    this.inFlight[s] = 0;
    if (this.level[s]) this.setPending(s, true);
    this.updateAll();
  }

  private updateContext(ctx: number): void {
    this.outputs[ctx]!.set(this.best(ctx) !== 0);
  }

  private updateAll(): void {
    for (let c = 0; c < this.contexts; c++) this.updateContext(c);
  }
}
