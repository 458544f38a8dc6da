/**
 * An A64 core running one vCPU of a zone at EL1/EL0. The hypervisor role (EL2) is TypeScript:
 * HVC/SMC go to PSCI or hvisor hypercalls through the VcpuHost, guest-physical memory is the zone's
 * stage-2 AddressSpace. Execution is by compiled blocks (see translate.ts) cached per guest page and
 * found through a small jump cache; memory goes through per-EL software TLBs with a RAM fast path.
 */
import { setFlagsFromString } from 'node:v8';
import type { AddressSpace } from '../../machine/address-space.js';
import { ACCESS_STALLED } from '../../machine/mmio-device.js';
import type { Ram } from '../../machine/ram.js';
import { Stops, guestErrorStop, watchpointStop, type Cpu, type RunResult, type VcpuHost, type WatchKind } from '../cpu.js';
import { CodePages, type CodePageListener } from './code-pages.js';
import { crc32Update } from './crc32.js';
import { describeEsr, describeFaultStatus, Ec, VectorKind } from './exception-syndrome.js';
import { AARCH64_GDB, readGdbRegister, writeGdbRegister } from './gdb-registers.js';
import { GenericTimer } from './generic-timer.js';
import { FaultKind, Perm, RegimeWord, translateStage1, walkStage1, type Translation } from './mmu.js';
import { firmwareCall, type PsciCaller } from './psci.js';
import { Reg } from './registers.js';
import type { SystemRegisterHook, TimerOutput } from './system-register-hook.js';
import { buildSystemRegisters, SCTLR_RESET, Sys, type SysRegCore, type SysRegSpec } from './system-registers.js';
import { compileBlock, type BlockFunction } from './translate.js';
import { Tlb } from './tlb.js';
import { SimdUnit } from './simd-unit.js';
import { FpUnit } from './fp-unit.js';
import { SimdFp } from './simd-fp.js';
import * as bitops from './bit-ops.js';

export interface Aarch64CpuOptions {
  readonly index: number;
  readonly physicalId: number;
  readonly host: VcpuHost;
  /** MPIDR_EL1 (default: 0x80000000 | Aff1 = physicalId / 8, Aff0 = physicalId % 8, like QEMU virt). */
  readonly mpidr?: bigint;
  /** vCPU index for a PSCI target MPIDR (default: the same Aff rule, identity on the index). */
  readonly vcpuOfMpidr?: (mpidr: bigint) => number | undefined;
  /** The GICv3 CPU interface (ICC_*), asked for system registers the core does not own. */
  readonly systemRegisterHook?: SystemRegisterHook;
  /** Advertise the GIC system-register interface in ID_AA64PFR0 (true when a hook is given). */
  readonly gicv3?: boolean;
  readonly timerOutput?: TimerOutput;
}

/** Thrown by helpers after an exception has been entered; caught by the run loop. */
const EXCEPTION_TAKEN = { exceptionTaken: true };

const HVISOR_HVC_IMM = 0x4856;
/**
 * The cores of each host (zone) in this thread, by vCPU index: a broadcast TLBI by VA reaches them
 * directly as the same by-VA invalidation (the host's remoteFence can only flush everything).
 */
const siblings = new WeakMap<VcpuHost, Aarch64Cpu[]>();

/**
 * A Linux boot compiles some 60,000 blocks and TurboFan optimises thousands of them; with V8's default
 * inlining each job pulls the core's memory and flag helpers into the block and costs several times
 * more. Inlining only small callees (the TLB fast paths of ld64/st64 and the flag helpers, not the
 * slow paths) keeps the boot's cost while the fixed-count loop gains. Measured on the same machine and
 * load (bench/aarch64.ts, bench/aarch64-linux.ts, process CPU): no inlining 441 MIPS / 23.5 s boot;
 * these limits 540 MIPS / 23.3 s; V8's defaults 600 MIPS / 27.4 s. Process-wide (V8 has no
 * per-function switch), set once the first core exists.
 */
let inliningLimited = false;
function limitTurbofanInlining(): void {
  if (inliningLimited) return;
  inliningLimited = true;
  setFlagsFromString('--max-inlined-bytecode-size=200');
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=400');
}
/** Jump-cache slots per EL, one per instruction of a 256 KiB window (a kernel's hot text is MiBs). */
const JC_SIZE = 1 << 16;
const MAX_BLOCK = 64;

interface Block {
  readonly fn: BlockFunction;
  readonly count: number;
  readonly vaLo: number;
  readonly vaHi: number;
  readonly va: bigint;
  readonly pageKey: number;
  /** The block branches to its own start and loops inside its function (see BlockFunction). */
  readonly loops: boolean;
  valid: boolean;
}

/** A core's state in a zone snapshot (saveState). */
interface Aarch64State {
  readonly r: BigUint64Array;
  readonly sys: BigUint64Array;
  readonly flags: readonly number[];
  readonly lines: readonly boolean[];
  readonly retired: number;
  readonly timer: unknown;
  readonly guestError: RunResult | undefined;
  /** A breakpoint the next run steps over, a watchpoint hit the next run resumes after. */
  readonly resume: readonly [bigint | undefined, boolean];
}

export class Aarch64Cpu implements Cpu, SysRegCore, PsciCaller, CodePageListener {
  readonly arch = 'aarch64' as const;
  readonly index: number;
  readonly physicalId: number;
  readonly host: VcpuHost;
  readonly gdb = AARCH64_GDB;
  readonly midr = 0x410fd034n; // Cortex-A53 r0p4
  readonly mpidr: bigint;
  readonly gicv3: boolean;
  powered = false;
  retired = 0;

  // --- architectural state (public for the compiled blocks and helpers) -------------------------
  readonly r = new BigUint64Array(Reg.Count);
  readonly r32 = new Uint32Array(this.r.buffer);
  readonly s = new BigUint64Array(8);
  readonly s32 = new Uint32Array(this.s.buffer);
  readonly si = new BigInt64Array(this.s.buffer);
  readonly sys = new BigUint64Array(Sys.Count);
  n = 0;
  z = 0;
  c = 0;
  v = 0;
  el = 1;
  spsel = 1;
  /** D A I F as a 4-bit number (D = 8 ... F = 1). */
  daif = 0xf;
  fpcr = 0;
  fpsr = 0;
  readonly simd = new SimdUnit(this.r, this);
  readonly fp = new FpUnit(this);
  readonly simdFp = new SimdFp(this.fp, this);

  private irqLevel = false;
  private fiqLevel = false;
  private readonly memory: AddressSpace;
  private readonly sysregs: Map<number, SysRegSpec>;
  private readonly hook: SystemRegisterHook | undefined;
  private readonly timer: GenericTimer;
  private readonly vcpuMap: (mpidr: bigint) => number | undefined;

  // TLBs: [el][0 = read, 1 = write, 2 = execute]
  private readonly tlbs: Tlb[][] = [[new Tlb(), new Tlb(), new Tlb()], [new Tlb(), new Tlb(), new Tlb()]];
  /** The data TLBs in use (read, write); generated loops read them (translate.ts withPageLocals). */
  rt: Tlb;
  wt: Tlb;
  private accessEl = 1;
  /** Translation regime words for walkStage1 and its reused result (refills allocate nothing). */
  private readonly sys32 = new Uint32Array(this.sys.buffer);
  private readonly regime = new Uint32Array(RegimeWord.Count);
  private readonly walked: Translation = { fault: 0, pagePa: 0, perms: 0, attrIndex: 0, level: 0, shareability: 0 };
  /** Keep data accesses off the RAM fast path (watchpoints or a write observer are set). */
  private slowData = false;
  private observer: ((gpa: number, size: number) => void) | undefined;

  // Block cache
  private readonly blocks = new Map<number, Block>();
  private readonly stepBlocks = new Map<number, Block>();
  private readonly pageBlocks = new Map<number, Block[]>();
  private readonly jc: (Block | undefined)[][] = [new Array(JC_SIZE).fill(undefined), new Array(JC_SIZE).fill(undefined)];
  /** A jump-cache slot is valid only when its epoch is current: flushing is one increment. */
  private readonly jcEpochs = [new Int32Array(JC_SIZE), new Int32Array(JC_SIZE)];
  private jcEpoch = 1;
  private readonly subscribed = new Set<CodePages>();
  private current: Block | undefined;

  // Exclusive monitor
  private exclusiveAddr = -1;
  private exclusiveSize = 0;

  // Run-loop control
  private stopRequest: RunResult | undefined;
  private consecutiveExceptions = 0;

  // Debugger
  private readonly breakpoints = new Set<bigint>();
  private readonly breakpointPages = new Set<bigint>();
  private readonly watchpoints: { va: bigint; length: number; kind: WatchKind }[] = [];
  private resumeBreakpoint: bigint | undefined;
  private watchResume = false;
  private watchSuppressed = false;
  /** Set when the guest cannot continue: every later run stops with it until a reset. */
  private guestError: RunResult | undefined;

  constructor(options: Aarch64CpuOptions) {
    this.index = options.index;
    this.physicalId = options.physicalId;
    this.host = options.host;
    this.memory = options.host.memory;
    const id = options.physicalId;
    this.mpidr = options.mpidr ?? (0x80000000n | (BigInt(Math.floor(id / 8)) << 8n) | BigInt(id % 8));
    this.vcpuMap = options.vcpuOfMpidr ?? ((m) => Number(((m >> 8n) & 0xffn) * 8n + (m & 0xffn)));
    this.hook = options.systemRegisterHook;
    this.gicv3 = options.gicv3 ?? options.systemRegisterHook !== undefined;
    this.timer = new GenericTimer(options.timerOutput);
    this.sysregs = buildSystemRegisters();
    this.rt = this.tlbs[1]![0]!;
    this.wt = this.tlbs[1]![1]!;
    this.resetState();
    limitTurbofanInlining();
    let cores = siblings.get(options.host);
    if (cores === undefined) siblings.set(options.host, (cores = []));
    cores[options.index] = this;
  }

  get timerFrequency(): number {
    return this.host.timerFrequency;
  }

  get pc(): bigint {
    return this.r[Reg.Pc]!;
  }

  set pc(v: bigint) {
    this.r[Reg.Pc] = v;
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  reset(entry: bigint, args: readonly bigint[]): void {
    this.resetState();
    for (let i = 0; i < args.length && i < 8; i++) this.r[i] = args[i]!;
    this.pc = entry;
    this.powered = true;
  }

  private resetState(): void {
    this.r.fill(0n);
    this.sys.fill(0n);
    this.sys[Sys.Sctlr] = SCTLR_RESET;
    this.n = this.c = this.v = 0;
    this.z = 1; // QEMU's reset NZCV (architecturally UNKNOWN): keeps oracle runs comparable
    this.el = 1;
    this.spsel = 1;
    this.daif = 0xf;
    this.fpcr = this.fpsr = 0;
    this.exclusiveAddr = -1;
    this.stopRequest = undefined;
    this.guestError = undefined;
    this.timer.reset();
    this.flushTlb();
  }

  // --- snapshots (Snapshottable) ---------------------------------------------------------------------

  saveState(): Aarch64State {
    return {
      r: this.r.slice(),
      sys: this.sys.slice(),
      flags: [this.n, this.z, this.c, this.v, this.el, this.spsel, this.daif, this.fpcr, this.fpsr, this.exclusiveAddr, this.exclusiveSize, this.accessEl, this.consecutiveExceptions],
      lines: [this.irqLevel, this.fiqLevel, this.powered, this.waiting],
      retired: this.retired,
      timer: this.timer.saveState(),
      guestError: this.guestError,
      resume: [this.resumeBreakpoint, this.watchResume],
    };
  }

  loadState(state: unknown): void {
    const st = state as Aarch64State;
    this.r.set(st.r);
    this.sys.set(st.sys);
    [this.n, this.z, this.c, this.v, this.el, this.spsel, this.daif, this.fpcr, this.fpsr, this.exclusiveAddr, this.exclusiveSize, this.accessEl, this.consecutiveExceptions] = st.flags as [number, number, number, number, number, number, number, number, number, number, number, number, number];
    [this.irqLevel, this.fiqLevel, this.powered, this.waiting] = st.lines as [boolean, boolean, boolean, boolean];
    this.retired = st.retired;
    this.timer.loadState(st.timer);
    this.guestError = st.guestError;
    this.stopRequest = undefined;
    [this.resumeBreakpoint, this.watchResume] = st.resume ?? [undefined, false];
    this.watchSuppressed = false;
    this.flushTlb();
    this.selectTlbs();
  }

  // --- run loop ------------------------------------------------------------------------------------

  run(budget: number, step = false): RunResult {
    if (!this.powered) return Stops.off;
    if (this.guestError !== undefined) return this.guestError;
    this.stopRequest = undefined;
    this.waiting = false;
    // Other vCPUs of the zone may have run since our last slice: the local monitor cannot be trusted
    // (a spurious STXR failure is allowed; a lost update is not). Kept while single-stepping.
    if (!step) this.exclusiveAddr = -1;
    this.pollTimer();
    if (!step && !this.watchResume && this.breakpoints.size === 0 && this.stopAt === Infinity) return this.runBlocks(budget);
    let executed = 0;
    let polls = 0;
    const skipBreakpoint = this.resumeBreakpoint;
    this.resumeBreakpoint = undefined;
    const r = this.r;
    const r32 = this.r32;
    while (executed < budget) {
      if ((!step || this.interruptsInSteps) && this.interruptDeliverable()) {
        this.takeInterrupt();
        executed++;
      }
      if (this.breakpoints.size !== 0) {
        const pc = r[Reg.Pc]!;
        if (this.breakpoints.has(pc) && !(executed === 0 && pc === skipBreakpoint)) {
          this.resumeBreakpoint = pc;
          return Stops.breakpoint;
        }
      }
      if (this.retired >= this.stopAt) return Stops.budget;
      const single = step || this.watchResume || (this.breakpoints.size !== 0 && this.breakpointPages.has(r[Reg.Pc]! >> 12n));
      const block = this.lookupBlock(r32[Reg.Pc * 2]!, r32[Reg.Pc * 2 + 1]!, single);
      if (block !== undefined && this.retired + block.count > this.stopAt) return this.approach(block);
      if (block === undefined) {
        // Instruction abort or PC alignment fault: the exception was entered (or the guest stopped).
        executed++;
      } else {
        this.watchSuppressed = this.watchResume;
        executed += this.execute(block, budget - executed);
        this.watchResume = this.watchSuppressed = false;
      }
      const reason = this.takeStopRequest();
      if (reason !== undefined) return reason;
      if (step) return Stops.step;
      if ((++polls & 255) === 0) this.pollTimer();
    }
    return Stops.budget;
  }

  /**
   * Cpu.stopAt: the block ahead passes it. A run without the stop executes that block whole, with
   * no interrupt or timer look inside it, so the same instructions run one at a time up to the
   * count: a re-execution stops where the original run was at that count.
   */
  private approach(block: Block): RunResult {
    this.watchResume = this.watchSuppressed = false;
    if (block.loops && this.stopAt - this.retired >= block.count) {
      this.execute(block, this.stopAt - this.retired);
      const reason = this.takeStopRequest();
      if (reason !== undefined) return reason;
    }
    const r32 = this.r32;
    while (this.retired < this.stopAt) {
      const single = this.lookupBlock(r32[Reg.Pc * 2]!, r32[Reg.Pc * 2 + 1]!, true);
      if (single !== undefined) this.execute(single, 1);
      const reason = this.takeStopRequest();
      if (reason !== undefined) return reason;
    }
    return Stops.budget;
  }

  /**
   * The run loop without a debugger: no breakpoint, step or watchpoint resume to check, the jump
   * cache probed here rather than through lookupBlock (TurboFan inlines only small callees; see above).
   */
  private runBlocks(budget: number): RunResult {
    const r32 = this.r32;
    const jc = this.jc;
    const epochs = this.jcEpochs;
    let executed = 0;
    let polls = 0;
    while (executed < budget) {
      if ((this.irqLevel && (this.daif & 2) === 0) || (this.fiqLevel && (this.daif & 1) === 0)) {
        this.takeInterrupt();
        executed++;
      }
      const lo = r32[Reg.Pc * 2]!;
      const hi = r32[Reg.Pc * 2 + 1]!;
      const el = this.el;
      const slot = (lo >>> 2) & (JC_SIZE - 1);
      let block = epochs[el]![slot] === this.jcEpoch ? jc[el]![slot] : undefined;
      if (block === undefined || block.vaLo !== lo || block.vaHi !== hi || !block.valid) block = this.lookupBlock(lo, hi, false);
      if (block === undefined) {
        // Instruction abort or PC alignment fault: the exception was entered (or the guest stopped).
        executed++;
      } else {
        executed += this.execute(block, budget - executed);
      }
      const reason = this.takeStopRequest();
      if (reason !== undefined) return reason;
      if ((++polls & 255) === 0) this.pollTimer();
    }
    return Stops.budget;
  }

  /** Runs one block with `budget` instructions left; returns what it counts for (an exception entry is one). */
  private execute(block: Block, budget: number): number {
    this.current = block;
    if (block.loops) {
      this.loopIter = 0;
      this.loopLimit = Math.max(1, Math.floor(budget / block.count));
    }
    try {
      const ran = block.fn(this, this.r, this.r32, this.s, this.s32, this.si);
      const done = ran > 0 ? ran * block.count : -ran;
      this.retired += done;
      if (this.consecutiveExceptions !== 0) this.consecutiveExceptions = 0;
      return done;
    } catch (e) {
      if (e !== EXCEPTION_TAKEN) throw e;
      const done = (block.loops ? this.loopIter * block.count : 0) + this.exceptionIndex;
      this.retired += done;
      this.accessEl = this.el;
      this.selectTlbs();
      return done + 1;
    }
  }

  /** The stop the instructions just run asked for, if any (taken: the next run starts afresh). */
  private takeStopRequest(): RunResult | undefined {
    // (Set by the instructions a block ran: TypeScript cannot see that, hence the widening.)
    const reason = this.stopRequest as RunResult | undefined;
    if (reason === undefined) return undefined;
    this.stopRequest = undefined;
    this.waiting = reason === Stops.wait;
    if (reason.kind === 'watchpoint') this.watchResume = true;
    return reason;
  }

  /** Cpu.stopAt: the retired count a re-execution stops at (Infinity: none). */
  stopAt = Infinity;
  private exceptionIndex = 0;
  /** The last slice ended in WFI with nothing pending. */
  private waiting = false;
  interruptsInSteps = false;

  get idle(): boolean {
    return this.waiting;
  }
  /** Iterations a self-looping block may run / has finished (see BlockFunction). */
  loopLimit = 1;
  loopIter = 0;

  /** The block at VA (lo, hi) for the current EL, compiling it if needed; undefined after a fetch fault. */
  private lookupBlock(lo: number, hi: number, single: boolean): Block | undefined {
    const jc = this.jc[this.el]!;
    const epochs = this.jcEpochs[this.el]!;
    const slot = (lo >>> 2) & (JC_SIZE - 1);
    if (!single && epochs[slot] === this.jcEpoch) {
      const b = jc[slot];
      if (b !== undefined && b.vaLo === lo && b.vaHi === hi && b.valid) return b;
    }
    if (lo & 3) {
      this.enterException(VectorKind.Sync, (Ec.PcAlignment << 26) | (1 << 25), this.pc, this.pc);
      return undefined;
    }
    const pa = this.translateFetch(lo, hi);
    if (pa < 0) return undefined;
    const cache = single ? this.stepBlocks : this.blocks;
    let b = cache.get(pa);
    if (b === undefined || !b.valid || b.vaLo !== lo || b.vaHi !== hi) {
      b = this.compile(lo, hi, pa, single);
      if (b === undefined) return undefined;
      cache.set(pa, b);
    }
    if (!single) {
      jc[slot] = b;
      epochs[slot] = this.jcEpoch;
    }
    return b;
  }

  private compile(lo: number, hi: number, pa: number, single: boolean): Block | undefined {
    const region = this.memory.find(pa);
    if (region === undefined || region.kind !== 'ram') {
      this.fetchAbort(FaultKind.External);
      return undefined;
    }
    const ram = region.ram;
    const offset = pa - region.base + region.ramOffset;
    const pageEnd = Math.min(0x1000 - (lo & 0xfff), region.base + region.size - pa) >>> 2;
    const limit = single ? 1 : Math.min(MAX_BLOCK, pageEnd);
    const va = (BigInt(hi) << 32n) | BigInt(lo);
    const compiled = compileBlock(va, (i) => ram.u32[(offset >>> 2) + i]!, limit);
    const pages = CodePages.of(ram);
    if (!this.subscribed.has(pages)) {
      pages.subscribe(this);
      this.subscribed.add(pages);
    }
    const ramPage = Math.floor(offset / 4096);
    const pageKey = pages.id * 0x200000 + ramPage;
    const block: Block = { fn: compiled.fn, count: compiled.count, vaLo: lo, vaHi: hi, va, pageKey, loops: compiled.loops, valid: true };
    let list = this.pageBlocks.get(pageKey);
    if (!list) this.pageBlocks.set(pageKey, (list = []));
    list.push(block);
    pages.mark(ramPage);
    return block;
  }

  codePageMarked(pages: CodePages, page: number): void {
    for (const set of this.tlbs) set[1]!.dropRamPage(pages.ram, page * 4096);
  }

  codePageWritten(pages: CodePages, page: number): void {
    const key = pages.id * 0x200000 + page;
    const list = this.pageBlocks.get(key);
    if (!list) return;
    for (const b of list) b.valid = false;
    this.pageBlocks.delete(key);
  }

  invalidateCode(gpa: number, length: number): void {
    for (let a = gpa - (gpa % 4096); a < gpa + length; a += 4096) {
      const region = this.memory.find(a);
      if (region?.kind === 'ram') CodePages.of(region.ram).written(Math.floor((a - region.base + region.ramOffset) / 4096));
    }
  }

  // --- interrupts and timer ------------------------------------------------------------------------

  setInterrupt(line: number, level: boolean): void {
    if (line === 0) this.irqLevel = level;
    else if (line === 1) this.fiqLevel = level;
  }

  pendingIrq(): boolean {
    return this.irqLevel;
  }

  pendingFiq(): boolean {
    return this.fiqLevel;
  }

  private interruptDeliverable(): boolean {
    return (this.irqLevel && (this.daif & 2) === 0) || (this.fiqLevel && (this.daif & 1) === 0);
  }

  private takeInterrupt(): void {
    const fiq = this.fiqLevel && (this.daif & 1) === 0;
    this.enterException(fiq ? VectorKind.Fiq : VectorKind.Irq, undefined, this.pc, undefined);
  }

  now(): number {
    return this.host.now();
  }

  private pollTimer(): void {
    this.timer.update(this.host.now());
  }

  nextTimerDeadline(): number {
    return this.timer.nextDeadline();
  }

  timerRead(t: number, reg: 'ctl' | 'cval' | 'tval'): bigint {
    const now = this.host.now();
    if (reg === 'ctl') return this.timer.readCtl(t, now);
    if (reg === 'cval') return this.timer.cval[t]!;
    return this.timer.readTval(t, now);
  }

  timerWrite(t: number, reg: 'ctl' | 'cval' | 'tval', v: bigint): void {
    const now = this.host.now();
    if (reg === 'ctl') this.timer.writeCtl(t, v, now);
    else if (reg === 'cval') this.timer.writeCval(t, v, now);
    else this.timer.writeTval(t, v, now);
  }

  // --- PSTATE ----------------------------------------------------------------------------------------

  nzcvBits(): number {
    return ((this.n << 31) | (this.z << 30) | (this.c << 29) | (this.v << 28)) >>> 0;
  }

  setNzcvBits(v: number): void {
    this.n = (v >>> 31) & 1;
    this.z = (v >>> 30) & 1;
    this.c = (v >>> 29) & 1;
    this.v = (v >>> 28) & 1;
  }

  /** SPSR / gdb cpsr layout. */
  pstate(): number {
    return (this.nzcvBits() | (this.daif << 6) | (this.el << 2) | this.spsel) >>> 0;
  }

  setPstate(p: number): void {
    this.setNzcvBits(p);
    this.daif = (p >>> 6) & 15;
    this.bankSp();
    this.el = (p >>> 2) & 3 ? 1 : 0;
    this.spsel = this.el === 0 ? 0 : p & 1;
    this.unbankSp();
    this.accessEl = this.el;
    this.selectTlbs();
  }

  selectSp(spsel: number): void {
    this.bankSp();
    this.spsel = spsel;
    this.unbankSp();
  }

  private bankSp(): void {
    this.sys[this.el === 1 && this.spsel === 1 ? Sys.SpEl1 : Sys.SpEl0] = this.r[Reg.Sp]!;
  }

  private unbankSp(): void {
    this.r[Reg.Sp] = this.sys[this.el === 1 && this.spsel === 1 ? Sys.SpEl1 : Sys.SpEl0]!;
  }

  // --- flags (called by compiled blocks) -------------------------------------------------------------

  /** s[2] = s[0] + s[1] + carry with NZCV (subtraction passes ~b and carry 1), on 32-bit halves. */
  addc64(carry: number): void {
    const s32 = this.s32;
    const ah = s32[1]!;
    const bh = s32[3]!;
    const lo = s32[0]! + s32[2]! + carry;
    const hi = ah + bh + (lo > 0xffffffff ? 1 : 0);
    const rl = lo >>> 0;
    const rh = hi >>> 0;
    s32[4] = rl;
    s32[5] = rh;
    this.n = rh >>> 31;
    this.z = (rl | rh) === 0 ? 1 : 0;
    this.c = hi > 0xffffffff ? 1 : 0;
    this.v = ((~(ah ^ bh) & (ah ^ rh)) >>> 31) & 1;
  }

  addc32(a: number, b: number, carry: number): number {
    const sum = a + b + carry;
    const res = sum >>> 0;
    this.n = res >>> 31;
    this.z = res === 0 ? 1 : 0;
    this.c = sum > 0xffffffff ? 1 : 0;
    this.v = ((~(a ^ b) & (a ^ res)) >>> 31) & 1;
    return res;
  }

  logicFlags64(): void {
    const hi = this.s32[5]!;
    this.n = hi >>> 31;
    this.z = (this.s32[4]! | hi) === 0 ? 1 : 0;
    this.c = this.v = 0;
  }

  logicFlags32(res: number): number {
    res >>>= 0;
    this.n = res >>> 31;
    this.z = res === 0 ? 1 : 0;
    this.c = this.v = 0;
    return res;
  }

  setNzcv(nzcv: number): void {
    this.setNzcvBits(nzcv << 28);
  }

  // --- bit operations (1-source) --------------------------------------------------------------------

  rbit32(x: number): number { return bitops.rbit32(x); }
  rev1632(x: number): number { return bitops.rev16(x); }
  rev32(x: number): number { return bitops.bswap32(x); }
  clz32(x: number): number { return Math.clz32(x); }
  cls32(x: number): number { return bitops.cls32(x); }
  rbit64(d: number, n: number): void {
    const lo = this.r32[2 * n]!, hi = this.r32[2 * n + 1]!;
    this.r32[2 * d] = bitops.rbit32(hi);
    this.r32[2 * d + 1] = bitops.rbit32(lo);
  }
  rev1664(d: number, n: number): void {
    this.r32[2 * d] = bitops.rev16(this.r32[2 * n]!);
    this.r32[2 * d + 1] = bitops.rev16(this.r32[2 * n + 1]!);
  }
  rev3264(d: number, n: number): void {
    this.r32[2 * d] = bitops.bswap32(this.r32[2 * n]!);
    this.r32[2 * d + 1] = bitops.bswap32(this.r32[2 * n + 1]!);
  }
  rev64(d: number, n: number): void {
    const lo = this.r32[2 * n]!, hi = this.r32[2 * n + 1]!;
    this.r32[2 * d] = bitops.bswap32(hi);
    this.r32[2 * d + 1] = bitops.bswap32(lo);
  }
  clz64(d: number, n: number): void {
    const hi = this.r32[2 * n + 1]!;
    this.r32[2 * d] = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(this.r32[2 * n]!);
    this.r32[2 * d + 1] = 0;
  }
  cls64(d: number, n: number): void {
    this.r32[2 * d] = bitops.cls64(this.r32[2 * n]!, this.r32[2 * n + 1]!);
    this.r32[2 * d + 1] = 0;
  }
  crc32(acc: number, data: bigint, bytes: number, castagnoli: boolean): number {
    return crc32Update(acc, data, bytes, castagnoli);
  }

  // --- memory (called by compiled blocks; the address is in s[3]) -----------------------------------

  ld64(d: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const t = this.rt;
    const i = (lo >>> 12) & 255;
    if (t.tagLo[i] === lo >>> 12 && t.tagHi[i] === hi && (lo & 7) === 0) {
      const ram = t.ram[i];
      if (ram !== undefined) {
        this.r[d] = ram.u64[(t.base[i]! + (lo & 0xfff)) >>> 3]!;
        return;
      }
    }
    this.r[d] = this.readSlow(lo, hi, 8, k);
  }

  ld32(d: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const t = this.rt;
    const i = (lo >>> 12) & 255;
    if (t.tagLo[i] === lo >>> 12 && t.tagHi[i] === hi && (lo & 3) === 0) {
      const ram = t.ram[i];
      if (ram !== undefined) {
        this.r32[2 * d] = ram.u32[(t.base[i]! + (lo & 0xfff)) >>> 2]!;
        this.r32[2 * d + 1] = 0;
        return;
      }
    }
    this.r[d] = this.readSlow(lo, hi, 4, k);
  }

  ld16(d: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const t = this.rt;
    const i = (lo >>> 12) & 255;
    if (t.tagLo[i] === lo >>> 12 && t.tagHi[i] === hi && (lo & 1) === 0) {
      const ram = t.ram[i];
      if (ram !== undefined) {
        this.r32[2 * d] = ram.u16[(t.base[i]! + (lo & 0xfff)) >>> 1]!;
        this.r32[2 * d + 1] = 0;
        return;
      }
    }
    this.r[d] = this.readSlow(lo, hi, 2, k);
  }

  ld8(d: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const t = this.rt;
    const i = (lo >>> 12) & 255;
    if (t.tagLo[i] === lo >>> 12 && t.tagHi[i] === hi) {
      const ram = t.ram[i];
      if (ram !== undefined) {
        this.r32[2 * d] = ram.u8[t.base[i]! + (lo & 0xfff)]!;
        this.r32[2 * d + 1] = 0;
        return;
      }
    }
    this.r[d] = this.readSlow(lo, hi, 1, k);
  }

  lds32(d: number, k: number): void {
    this.ld32(d, k);
    this.r32[2 * d + 1] = (this.r32[2 * d]! >> 31) >>> 0;
  }

  lds16(d: number, k: number, to32: number): void {
    this.ld16(d, k);
    const v = (this.r32[2 * d]! << 16) >> 16;
    this.r32[2 * d] = v;
    this.r32[2 * d + 1] = to32 ? 0 : (v >> 31) >>> 0;
  }

  lds8(d: number, k: number, to32: number): void {
    this.ld8(d, k);
    const v = (this.r32[2 * d]! << 24) >> 24;
    this.r32[2 * d] = v;
    this.r32[2 * d + 1] = to32 ? 0 : (v >> 31) >>> 0;
  }

  st64(t: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const w = this.wt;
    const i = (lo >>> 12) & 255;
    if (w.tagLo[i] === lo >>> 12 && w.tagHi[i] === hi && (lo & 7) === 0) {
      const ram = w.ram[i];
      if (ram !== undefined) {
        ram.u64[(w.base[i]! + (lo & 0xfff)) >>> 3] = this.r[t]!;
        return;
      }
    }
    this.writeSlow(lo, hi, 8, this.r[t]!, k);
  }

  st32(t: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const w = this.wt;
    const i = (lo >>> 12) & 255;
    if (w.tagLo[i] === lo >>> 12 && w.tagHi[i] === hi && (lo & 3) === 0) {
      const ram = w.ram[i];
      if (ram !== undefined) {
        ram.u32[(w.base[i]! + (lo & 0xfff)) >>> 2] = this.r32[2 * t]!;
        return;
      }
    }
    this.writeSlow(lo, hi, 4, this.r[t]! & 0xffffffffn, k);
  }

  st16(t: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const w = this.wt;
    const i = (lo >>> 12) & 255;
    if (w.tagLo[i] === lo >>> 12 && w.tagHi[i] === hi && (lo & 1) === 0) {
      const ram = w.ram[i];
      if (ram !== undefined) {
        ram.u16[(w.base[i]! + (lo & 0xfff)) >>> 1] = this.r32[2 * t]!;
        return;
      }
    }
    this.writeSlow(lo, hi, 2, this.r[t]! & 0xffffn, k);
  }

  st8(t: number, k: number): void {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    const w = this.wt;
    const i = (lo >>> 12) & 255;
    if (w.tagLo[i] === lo >>> 12 && w.tagHi[i] === hi) {
      const ram = w.ram[i];
      if (ram !== undefined) {
        ram.u8[w.base[i]! + (lo & 0xfff)] = this.r32[2 * t]!;
        return;
      }
    }
    this.writeSlow(lo, hi, 1, this.r[t]! & 0xffn, k);
  }

  /** LDTR/STTR: accesses checked with EL0 permissions while at EL1. */
  unprivileged(on: boolean): void {
    this.accessEl = on ? 0 : this.el;
    this.selectTlbs();
  }

  private selectTlbs(): void {
    const set = this.tlbs[this.accessEl]!;
    this.rt = set[0]!;
    this.wt = set[1]!;
  }

  /** A data read through translation: TLB refill, page-crossing split, devices, watchpoints. */
  private readSlow(lo: number, hi: number, size: number, k: number): bigint {
    if ((lo & 0xfff) + size > 0x1000) return this.splitRead(lo, hi, size, k);
    const pa = this.translateData(lo, hi, 0, k);
    if (this.watchpoints.length !== 0) this.checkWatch(lo, hi, size, false, k);
    const v = this.deviceRead(pa, size, k);
    if (v === undefined) this.dataAbort(lo, hi, FaultKind.External, false, k);
    return v!;
  }

  /** A read that may reach a device; a device that stalls abandons the instruction (see stall). */
  private deviceRead(pa: number, size: number, k: number): bigint | undefined {
    try {
      return this.memory.read(pa, size as 1 | 2 | 4 | 8);
    } catch (e) {
      if (e === ACCESS_STALLED) this.stall(k);
      throw e;
    }
  }

  private deviceWrite(pa: number, size: number, value: bigint, k: number): boolean {
    this.observer?.(pa, size);
    try {
      return this.memory.write(pa, size as 1 | 2 | 4 | 8, value);
    } catch (e) {
      if (e === ACCESS_STALLED) this.stall(k);
      throw e;
    }
  }

  /** The instruction at k has had no effect: stop before it, to make it again when the vCPU runs next. */
  private stall(k: number): never {
    this.pc = this.pcOf(k);
    this.stopRequest = Stops.stall;
    return this.throwAt(k);
  }

  private splitRead(lo: number, hi: number, size: number, k: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const a = this.vaAdd(lo, hi, i);
      v = (v << 8n) | this.readSlow(a.lo, a.hi, 1, k);
    }
    return v;
  }

  private writeSlow(lo: number, hi: number, size: number, value: bigint, k: number): void {
    if ((lo & 0xfff) + size > 0x1000) {
      // Translate both pages before writing so a fault leaves memory untouched.
      const end = this.vaAdd(lo, hi, size - 1);
      this.translateData(lo, hi, 1, k);
      this.translateData(end.lo, end.hi, 1, k);
      for (let i = 0; i < size; i++) {
        const a = this.vaAdd(lo, hi, i);
        this.writeSlow(a.lo, a.hi, 1, (value >> BigInt(8 * i)) & 0xffn, k);
      }
      return;
    }
    const pa = this.translateData(lo, hi, 1, k);
    if (this.watchpoints.length !== 0) this.checkWatch(lo, hi, size, true, k);
    const region = this.memory.find(pa);
    if (region?.kind === 'ram') CodePages.of(region.ram).written(Math.floor((pa - region.base + region.ramOffset) / 4096));
    if (!this.deviceWrite(pa, size, value, k)) this.dataAbort(lo, hi, FaultKind.External, true, k);
  }

  private vaAdd(lo: number, hi: number, add: number): { lo: number; hi: number } {
    const sum = lo + add;
    return sum > 0xffffffff ? { lo: sum >>> 0, hi: (hi + 1) >>> 0 } : { lo: sum, hi };
  }

  /** Guest-physical address of a data access, refilling the TLB; raises the data abort on a fault. */
  private translateData(lo: number, hi: number, write: number, k: number): number {
    const tlb = write ? this.wt : this.rt;
    const i = tlb.lookup(lo, hi);
    if (i >= 0) return tlb.pa[i]! + (lo & 0xfff);
    const tr = this.walkWords(lo, hi);
    if (tr.fault !== 0) this.dataAbort(lo, hi, tr.fault, write === 1, k);
    const need = this.accessEl === 0 ? (write ? Perm.W0 : Perm.R0) : write ? Perm.W1 : Perm.R1;
    if ((tr.perms & need) === 0) this.dataAbort(lo, hi, FaultKind.Permission + tr.level, write === 1, k);
    this.fill(tlb, lo, hi, tr.pagePa, write === 1);
    return tr.pagePa + (lo & 0xfff);
  }

  private fill(tlb: Tlb, lo: number, hi: number, pagePa: number, write: boolean): void {
    const region = this.memory.find(pagePa);
    let ram: Ram | undefined;
    let base = 0;
    if (region?.kind === 'ram' && pagePa + 4096 - region.base <= region.size && !this.slowData) {
      base = pagePa - region.base + region.ramOffset;
      if (!(write && CodePages.of(region.ram).isCode(Math.floor(base / 4096)))) ram = region.ram;
    }
    tlb.fill(lo, hi, pagePa, ram, base);
  }

  private translateFetch(lo: number, hi: number): number {
    const tlb = this.tlbs[this.el]![2]!;
    const i = tlb.lookup(lo, hi);
    if (i >= 0) return tlb.pa[i]! + (lo & 0xfff);
    const tr = this.walkWords(lo, hi);
    if (tr.fault !== 0) {
      this.fetchAbort(tr.fault);
      return -1;
    }
    if ((tr.perms & (this.el === 0 ? Perm.X0 : Perm.X1)) === 0) {
      this.fetchAbort(FaultKind.Permission + tr.level);
      return -1;
    }
    tlb.fill(lo, hi, tr.pagePa, undefined, 0);
    return tr.pagePa + (lo & 0xfff);
  }

  /** The stage-1 walk of VA (lo, hi) on numbers; the result object is reused by the next walk. */
  private walkWords(lo: number, hi: number): Translation {
    const w = this.regime;
    const s = this.sys32;
    w[RegimeWord.SctlrLo] = s[Sys.Sctlr * 2]!;
    w[RegimeWord.TcrLo] = s[Sys.Tcr * 2]!;
    w[RegimeWord.TcrHi] = s[Sys.Tcr * 2 + 1]!;
    w[RegimeWord.Ttbr0Lo] = s[Sys.Ttbr0 * 2]!;
    w[RegimeWord.Ttbr0Hi] = s[Sys.Ttbr0 * 2 + 1]!;
    w[RegimeWord.Ttbr1Lo] = s[Sys.Ttbr1 * 2]!;
    w[RegimeWord.Ttbr1Hi] = s[Sys.Ttbr1 * 2 + 1]!;
    return walkStage1(lo, hi, w, this.memory, this.walked);
  }

  private walk(va: bigint): Translation {
    return translateStage1(
      va,
      { sctlr: this.sys[Sys.Sctlr]!, tcr: this.sys[Sys.Tcr]!, ttbr0: this.sys[Sys.Ttbr0]!, ttbr1: this.sys[Sys.Ttbr1]! },
      this.memory,
    );
  }

  debugTranslate(va: bigint, access: 'r' | 'w' | 'x'): number | undefined {
    const tr = this.walk(BigInt.asUintN(64, va));
    if (tr.fault !== 0) return undefined;
    const need = access === 'r' ? (this.el ? Perm.R1 : Perm.R0) : access === 'w' ? (this.el ? Perm.W1 : Perm.W0) : this.el ? Perm.X1 : Perm.X0;
    if ((tr.perms & need) === 0) return undefined;
    return tr.pagePa + Number(va & 0xfffn);
  }

  translationChanged(): void {
    this.flushTlb();
  }

  /** Drops every cached translation (VcpuHost.remoteFence from another vCPU's TLBI ...IS). */
  flushTranslations(): void {
    this.flushTlb();
  }

  /** TLBI ...IS: `xt` for the by-VA forms (cores in this thread drop that page), else everything. */
  private broadcastTlbFlush(xt: bigint | undefined): void {
    const cores = siblings.get(this.host);
    for (let v = 0; v < 4096; v++) {
      if (v === this.index) continue;
      const state = this.host.vcpuState(v);
      if (state === 'invalid') break;
      const core = cores?.[v];
      if (core === undefined) this.host.remoteFence(v);
      else if (xt !== undefined) core.flushTlbPage(xt);
      else core.flushTlb();
    }
  }

  /** TLBI by VA: Xt[43:0] holds VA[55:12] (upper bits copy VA[55]). */
  private flushTlbPage(xt: bigint): void {
    let va = (xt & 0xfffffffffffn) << 12n;
    if ((va >> 55n) & 1n) va |= 0xff00000000000000n;
    const lo = Number(va & 0xffffffffn);
    const hi = Number(va >> 32n);
    for (const set of this.tlbs) {
      for (const tlb of set) {
        const i = (lo >>> 12) & 255;
        // Tagged-byte (TBI) aliases differ only in the top byte: drop any entry for this page index
        // whose low tag matches.
        if (tlb.tagLo[i] === lo >>> 12 && ((tlb.tagHi[i]! ^ hi) & 0x00ffffff) === 0) tlb.tagLo[i] = -1;
      }
    }
    // Blocks reached through the jump cache skip the execute TLB: forget the slots of this page.
    const first = (lo >>> 2) & (JC_SIZE - 1);
    for (const e of this.jcEpochs) e.fill(0, first, first + 1024);
  }

  private flushTlb(): void {
    for (const set of this.tlbs) for (const t of set) t.flush();
    this.jcEpoch++;
  }

  // --- exclusives and atomics -----------------------------------------------------------------------

  private alignedPa(size: number, write: boolean, k: number): number {
    const lo = this.s32[6]!, hi = this.s32[7]!;
    if (lo & (size - 1)) this.dataAbort(lo, hi, FaultKind.Alignment, write, k);
    if (this.watchpoints.length !== 0) this.checkWatch(lo, hi, size, write, k);
    return this.translateData(lo, hi, write ? 1 : 0, k);
  }

  private physRead(pa: number, size: number, write: boolean, k: number): bigint {
    const v = this.deviceRead(pa, size, k);
    if (v === undefined) this.dataAbort(this.s32[6]!, this.s32[7]!, FaultKind.External, write, k);
    return v!;
  }

  private physWrite(pa: number, size: number, value: bigint, k: number): void {
    const region = this.memory.find(pa);
    if (region?.kind === 'ram') CodePages.of(region.ram).written(Math.floor((pa - region.base + region.ramOffset) / 4096));
    if (!this.deviceWrite(pa, size, value, k)) this.dataAbort(this.s32[6]!, this.s32[7]!, FaultKind.External, true, k);
  }

  clearExclusive(): void {
    this.exclusiveAddr = -1;
  }

  ldxr(t: number, size: number, k: number): void {
    const pa = this.alignedPa(size, false, k);
    this.r[t] = this.physRead(pa, size, false, k);
    this.exclusiveAddr = pa;
    this.exclusiveSize = size;
  }

  ldxp(t: number, t2: number, size: number, k: number): void {
    const pa = this.alignedPa(size * 2, false, k);
    const a = this.physRead(pa, size, false, k);
    const b = this.physRead(pa + size, size, false, k);
    this.r[t] = a;
    this.r[t2] = b;
    this.exclusiveAddr = pa;
    this.exclusiveSize = size * 2;
  }

  stxr(status: number, t: number, size: number, k: number): void {
    const pa = this.alignedPa(size, true, k);
    const ok = pa === this.exclusiveAddr && size === this.exclusiveSize;
    const mask = size === 8 ? 0xffffffffffffffffn : (1n << BigInt(size * 8)) - 1n;
    if (ok) this.physWrite(pa, size, this.r[t]! & mask, k);
    this.exclusiveAddr = -1;
    this.r[status] = ok ? 0n : 1n;
  }

  stxp(status: number, t: number, t2: number, size: number, k: number): void {
    const pa = this.alignedPa(size * 2, true, k);
    const ok = pa === this.exclusiveAddr && size * 2 === this.exclusiveSize;
    const mask = size === 8 ? 0xffffffffffffffffn : 0xffffffffn;
    if (ok) {
      this.physWrite(pa, size, this.r[t]! & mask, k);
      this.physWrite(pa + size, size, this.r[t2]! & mask, k);
    }
    this.exclusiveAddr = -1;
    this.r[status] = ok ? 0n : 1n;
  }

  cas(s: number, t: number, size: number, k: number): void {
    const pa = this.alignedPa(size, true, k);
    const mask = size === 8 ? 0xffffffffffffffffn : (1n << BigInt(size * 8)) - 1n;
    const old = this.physRead(pa, size, true, k);
    if (old === (this.r[s]! & mask)) this.physWrite(pa, size, this.r[t]! & mask, k);
    if (s !== 31) this.r[s] = old;
  }

  /** LSE LD<op>/SWP: op 0 ADD, 1 CLR, 2 EOR, 3 SET, 4 SMAX, 5 SMIN, 6 UMAX, 7 UMIN, 8 SWP. */
  atomic(op: number, s: number, t: number, size: number, k: number): void {
    const pa = this.alignedPa(size, true, k);
    const bitsN = size * 8;
    const mask = size === 8 ? 0xffffffffffffffffn : (1n << BigInt(bitsN)) - 1n;
    const old = this.physRead(pa, size, true, k);
    const operand = this.r[s]! & mask;
    let v: bigint;
    switch (op) {
      case 0: v = old + operand; break;
      case 1: v = old & ~operand; break;
      case 2: v = old ^ operand; break;
      case 3: v = old | operand; break;
      case 4: v = BigInt.asIntN(bitsN, old) > BigInt.asIntN(bitsN, operand) ? old : operand; break;
      case 5: v = BigInt.asIntN(bitsN, old) < BigInt.asIntN(bitsN, operand) ? old : operand; break;
      case 6: v = old > operand ? old : operand; break;
      case 7: v = old < operand ? old : operand; break;
      default: v = operand;
    }
    this.physWrite(pa, size, v & mask, k);
    this.r[t] = old;
  }

  // --- exceptions ----------------------------------------------------------------------------------

  private pcOf(k: number): bigint {
    return this.current ? this.current.va + BigInt(4 * k) : this.pc;
  }

  /** Enters an exception at EL1. esr undefined: asynchronous (ESR/FAR untouched). */
  private enterException(kind: VectorKind, esr: number | undefined, returnPc: bigint, far: bigint | undefined): void {
    const vbar = this.sys[Sys.Vbar]!;
    if (++this.consecutiveExceptions > 8 || (vbar === 0n && esr !== undefined)) {
      this.stopWithError(returnPc, esr, far);
      return;
    }
    const offset = this.el === 0 ? 0x400 : this.spsel ? 0x200 : 0;
    this.sys[Sys.Spsr] = BigInt(this.pstate());
    this.sys[Sys.Elr] = returnPc;
    if (esr !== undefined) {
      this.sys[Sys.Esr] = BigInt(esr >>> 0);
      if (far !== undefined) this.sys[Sys.Far] = far;
    }
    this.bankSp();
    this.el = 1;
    this.spsel = 1;
    this.unbankSp();
    this.daif = 0xf;
    // NZCV after entry as QEMU leaves them (cleared); the interrupted values are in SPSR_EL1.
    this.n = this.z = this.c = this.v = 0;
    this.accessEl = 1;
    this.selectTlbs();
    this.exclusiveAddr = -1;
    this.pc = vbar + BigInt(offset + kind);
  }

  private stopWithError(pc: bigint, esr: number | undefined, far: bigint | undefined): void {
    const cause =
      esr !== undefined
        ? `${describeEsr(esr)} at EL${this.el} with no exception vector (VBAR_EL1 = 0x${this.sys[Sys.Vbar]!.toString(16)})`
        : 'exception loop: the vector itself faults';
    this.guestError = guestErrorStop(far !== undefined ? { pc, cause, address: far } : { pc, cause });
    this.stopRequest = this.guestError;
    this.pc = pc;
  }

  private throwAt(k: number): never {
    this.exceptionIndex = k;
    throw EXCEPTION_TAKEN;
  }

  private dataAbort(lo: number, hi: number, fsc: number, write: boolean, k: number): never {
    const ec = this.el === 0 ? Ec.DataAbortLower : Ec.DataAbortSame;
    const esr = (ec << 26) | (1 << 25) | (write ? 1 << 6 : 0) | fsc;
    this.enterException(VectorKind.Sync, esr, this.pcOf(k), (BigInt(hi) << 32n) | BigInt(lo));
    return this.throwAt(k);
  }

  private fetchAbort(fsc: number): void {
    const ec = this.el === 0 ? Ec.InstrAbortLower : Ec.InstrAbortSame;
    this.enterException(VectorKind.Sync, (ec << 26) | (1 << 25) | fsc, this.pc, this.pc);
  }

  undefinedInstruction(k: number, insn: number): void {
    const pc = this.pcOf(k);
    this.enterException(VectorKind.Sync, Ec.Unknown << 26 | (1 << 25), pc, undefined);
    if (this.guestError?.kind === 'guest-error') {
      // "ESR 0x2000000: undefined instruction at EL1 ..." gains the instruction's bits.
      const bits = `0x${(insn >>> 0).toString(16).padStart(8, '0')}`;
      const cause = this.guestError.report.cause.replace(/^ESR (0x[0-9a-f]+): undefined instruction/, `undefined instruction ${bits} (ESR $1)`);
      this.guestError = this.stopRequest = guestErrorStop({ pc, cause });
    }
    this.throwAt(k);
  }

  svc(imm: number, k: number): void {
    this.enterException(VectorKind.Sync, (Ec.Svc64 << 26) | (1 << 25) | imm, this.pcOf(k) + 4n, undefined);
  }

  brk(imm: number, k: number): void {
    this.enterException(VectorKind.Sync, (Ec.Brk << 26) | (1 << 25) | imm, this.pcOf(k), undefined);
  }

  hvc(imm: number, k: number): void {
    if (this.el === 0) return this.undefinedInstruction(k, 0xd4000002 | (imm << 5));
    this.pc = this.pcOf(k) + 4n;
    // hvisor takes every HVC as a hypercall (hvisor codes are small numbers); SMCCC fast calls (PSCI,
    // SMCCC discovery, vendor UID probes: bit 31 set) still reach the firmware role, as Linux may use HVC.
    const id = this.r[0]!;
    const firmware = (id & 0x80000000n) !== 0n && id <= 0xffffffffn;
    if (imm === HVISOR_HVC_IMM || !firmware) {
      const r = this.r;
      this.r[0] = this.host.hypercall(r[0]!, [r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!]);
      return;
    }
    this.firmware();
  }

  smc(imm: number, k: number): void {
    if (this.el === 0) return this.undefinedInstruction(k, 0xd4000003 | (imm << 5));
    this.pc = this.pcOf(k) + 4n;
    this.firmware();
  }

  vcpuOfMpidr(mpidr: bigint): number | undefined {
    return this.vcpuMap(mpidr);
  }

  private firmware(): void {
    const { x0, outcome } = firmwareCall(this, this.r);
    this.r[0] = x0;
    if (outcome === 'off') {
      this.powered = false;
      this.stopRequest = Stops.off;
    } else if (outcome === 'system-off') {
      this.stopRequest = Stops.systemOff;
    } else if (outcome === 'system-reset') {
      this.stopRequest = Stops.systemReset;
    } else if (outcome === 'standby') {
      this.wfi(0);
    }
  }

  eret(): void {
    if (this.el === 0) {
      this.undefinedInstruction(0, 0xd69f03e0);
      return;
    }
    const spsr = Number(this.sys[Sys.Spsr]! & 0xffffffffn);
    this.pc = this.sys[Sys.Elr]!;
    this.setPstate(spsr);
    this.exclusiveAddr = -1;
  }

  wfi(_k: number): void {
    this.pollTimer();
    if (!this.irqLevel && !this.fiqLevel) this.stopRequest = Stops.wait;
  }

  wfe(): void {
    // No event register: WFE ends the slice so other vCPUs of the zone get to run.
    this.stopRequest = Stops.budget;
  }

  // --- system instructions -------------------------------------------------------------------------

  msrImmediate(op1: number, op2: number, crm: number, k: number): void {
    if (op1 === 0 && op2 === 5 && this.el === 1) return this.selectSp(crm & 1);
    if (op1 === 3 && (op2 === 6 || op2 === 7) && (this.el === 1 || (this.sys[Sys.Sctlr]! >> 9n) & 1n)) {
      this.daif = op2 === 6 ? this.daif | crm : this.daif & ~crm;
      return;
    }
    this.undefinedInstruction(k, 0xd500401f | (op1 << 16) | (crm << 8) | (op2 << 5));
  }

  private sysRegTrap(encoding: number, t: number, read: boolean, k: number): void {
    const op0 = encoding >> 14, op1 = (encoding >> 11) & 7, crn = (encoding >> 7) & 15, crm = (encoding >> 3) & 15, op2 = encoding & 7;
    const rt = t === Reg.Discard || t === Reg.Zero ? 31 : t;
    const iss = (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (read ? 1 : 0);
    this.enterException(VectorKind.Sync, (Ec.SysRegTrap << 26) | (1 << 25) | iss, this.pcOf(k), undefined);
    this.throwAt(k);
  }

  mrs(encoding: number, t: number, k: number): void {
    const spec = this.sysregs.get(encoding);
    if (spec) {
      if (this.el === 0 && !spec.el0) return this.undefinedInstruction(k, 0xd5300000 | encoding << 5 | (t & 31));
      if (this.el === 0 && !spec.el0!(this, false)) return this.sysRegTrap(encoding, t, true, k);
      this.r[t] = spec.read(this);
      return;
    }
    const v = this.el === 1 ? this.hook?.read(this.index, encoding) : undefined;
    if (v === undefined) return this.undefinedInstruction(k, 0xd5300000 | encoding << 5 | (t & 31));
    this.r[t] = v;
  }

  msr(encoding: number, t: number, k: number): void {
    const spec = this.sysregs.get(encoding);
    const value = this.r[t]!;
    if (spec) {
      if (!spec.write) return this.undefinedInstruction(k, 0xd5100000 | encoding << 5 | (t & 31));
      if (this.el === 0 && !spec.el0) return this.undefinedInstruction(k, 0xd5100000 | encoding << 5 | (t & 31));
      if (this.el === 0 && !spec.el0!(this, true)) return this.sysRegTrap(encoding, t, false, k);
      spec.write(this, value);
      return;
    }
    if (this.el !== 1 || !this.hook?.write(this.index, encoding, value)) {
      this.undefinedInstruction(k, 0xd5100000 | encoding << 5 | (t & 31));
    }
  }

  /** SYS: DC ZVA, cache maintenance (no-ops), TLBI (flush), AT (PAR_EL1). */
  sysInstruction(encoding: number, t: number, k: number): void {
    const op1 = (encoding >> 11) & 7, crn = (encoding >> 7) & 15, crm = (encoding >> 3) & 15, op2 = encoding & 7;
    if (crn === 8) {
      if (this.el === 0) return this.undefinedInstruction(k, 0xd5080000 | encoding << 5 | t);
      // By-VA forms (VAE1, VAAE1, VALE1, VAALE1 and their IS variants) drop one page; the rest flush all.
      const byVa = op1 === 0 && (crm === 3 || crm === 7) && (op2 === 1 || op2 === 3 || op2 === 5 || op2 === 7);
      if (byVa) this.flushTlbPage(this.r[t]!);
      else this.flushTlb();
      // Inner-shareable forms reach every vCPU of the zone.
      if (crm === 3) this.broadcastTlbFlush(byVa ? this.r[t]! : undefined);
      return;
    }
    if (crn === 7 && this.el === 0) {
      // EL0 may use DC ZVA (SCTLR_EL1.DZE) and the by-VA-to-PoC/PoU maintenance (SCTLR_EL1.UCI);
      // with the control clear they trap as system-register accesses. Everything else is UNDEFINED.
      const byVa = op1 === 3 && op2 === 1 && (crm === 4 || crm === 5 || crm === 10 || crm === 11 || crm === 12 || crm === 14);
      if (!byVa) return this.undefinedInstruction(k, 0xd5080000 | encoding << 5 | t);
      const control = crm === 4 ? 14n : 26n;
      if (((this.sys[Sys.Sctlr]! >> control) & 1n) === 0n) return this.sysRegTrap((1 << 14) | encoding, t, false, k);
    }
    if (crn === 7 && crm === 4 && op1 === 3 && op2 === 1) return this.dcZva(t, k);
    if (crn === 7 && crm === 8 && op1 === 0 && op2 < 4) return this.addressTranslate(t, op2);
    if (crn === 7) return; // IC / DC maintenance: our caches are coherent
    this.undefinedInstruction(k, 0xd5080000 | encoding << 5 | t);
  }

  private dcZva(t: number, k: number): void {
    const va = this.r[t]! & ~63n;
    for (let i = 0n; i < 64n; i += 8n) {
      this.s[3] = va + i;
      this.st64(Reg.Zero, k);
    }
  }

  private addressTranslate(t: number, op2: number): void {
    const va = this.r[t]!;
    const tr = this.walk(va);
    const el0 = op2 >= 2;
    const write = (op2 & 1) === 1;
    const need = el0 ? (write ? Perm.W0 : Perm.R0) : write ? Perm.W1 : Perm.R1;
    if (tr.fault !== 0 || (tr.perms & need) === 0) {
      const fst = tr.fault !== 0 ? tr.fault : FaultKind.Permission + tr.level;
      this.sys[Sys.Par] = BigInt((fst << 1) | 1 | (1 << 11));
      return;
    }
    const attr = (this.sys[Sys.Mair]! >> BigInt(8 * tr.attrIndex)) & 0xffn;
    // SH is the descriptor's (for Device memory too, as QEMU 7.2 reports it); bit 11 is RES1 and
    // NS (bit 9) is set as QEMU does for a Non-secure EL1.
    this.sys[Sys.Par] = (attr << 56n) | BigInt(tr.pagePa) | (1n << 11n) | (1n << 9n) | (BigInt(tr.shareability) << 7n);
  }

  // --- watchpoints -----------------------------------------------------------------------------------

  private checkWatch(lo: number, hi: number, size: number, write: boolean, k: number): void {
    if (this.watchSuppressed) return;
    const va = (BigInt(hi) << 32n) | BigInt(lo);
    for (const w of this.watchpoints) {
      if (va + BigInt(size) <= w.va || va >= w.va + BigInt(w.length)) continue;
      if (w.kind === 'write' && !write) continue;
      if (w.kind === 'read' && write) continue;
      this.stopRequest = watchpointStop({ kind: w.kind, address: va < w.va ? w.va : va });
      this.pc = this.pcOf(k);
      this.throwAt(k);
    }
  }

  // --- debugger ------------------------------------------------------------------------------------

  setBreakpoint(va: bigint, on: boolean): void {
    if (on) this.breakpoints.add(va);
    else this.breakpoints.delete(va);
    this.breakpointPages.clear();
    for (const b of this.breakpoints) this.breakpointPages.add(b >> 12n);
  }

  /** Cpu.observeWrites: every data write goes the slow way and is shown first (reverse stepping's undo log). */
  observeWrites(observer: ((gpa: number, size: number) => void) | undefined): void {
    this.observer = observer;
    this.slowData = this.watchpoints.length !== 0 || observer !== undefined;
    this.flushTlb();
  }

  setWatchpoint(va: bigint, length: number, kind: WatchKind, on: boolean): void {
    const i = this.watchpoints.findIndex((w) => w.va === va && w.length === length && w.kind === kind);
    if (on && i < 0) this.watchpoints.push({ va, length, kind });
    if (!on && i >= 0) this.watchpoints.splice(i, 1);
    this.slowData = this.watchpoints.length !== 0 || this.observer !== undefined;
    this.flushTlb();
  }

  readRegister(regno: number): Uint8Array | undefined {
    return readGdbRegister(this, regno);
  }

  writeRegister(regno: number, value: Uint8Array): boolean {
    return writeGdbRegister(this, regno, value);
  }

  /** System-register value by name for the debugger view (undefined when not ours). */
  readSystemRegister(encoding: number): bigint | undefined {
    if (encoding === -1) return this.sys[Sys.SpEl1]!;
    const spec = this.sysregs.get(encoding);
    return spec ? spec.read(this) : undefined;
  }

  writeSystemRegister(encoding: number, value: bigint): boolean {
    const spec = this.sysregs.get(encoding);
    if (!spec?.write) return false;
    spec.write(this, value);
    return true;
  }

  /** The live stack pointers as gdb shows them (SP_EL0/SP_EL1 banked copies kept current). */
  bankedSp(el: number): bigint {
    const live = (this.el === 1 && this.spsel === 1 ? 1 : 0) === el;
    return live ? this.r[Reg.Sp]! : this.sys[el === 1 ? Sys.SpEl1 : Sys.SpEl0]!;
  }

  describe(): string {
    const mode = `EL${this.el}${this.el === 1 ? (this.spsel ? 'h' : 't') : 't'}`;
    if (!this.powered) return `${mode}, off`;
    if (this.guestError?.kind === 'guest-error') return `${mode}, stopped: ${this.guestError.report.cause}`;
    return `${mode}, ${this.waiting ? 'waiting for an interrupt (WFI)' : 'running'}`;
  }

  /** For reports: the last ESR as text. */
  describeLastFault(): string {
    const esr = Number(this.sys[Sys.Esr]! & 0xffffffffn);
    return `${describeEsr(esr)} FAR 0x${this.sys[Sys.Far]!.toString(16)} ${describeFaultStatus(esr & 0x3f)}`;
  }
}
