import { Buffer } from 'node:buffer';
import { Stops, guestErrorStop, watchpointStop, type Cpu, type GuestErrorReport, type RunResult, type VcpuHost, type WatchKind } from '../cpu.js';
import type { Ram } from '../../machine/ram.js';
import { ACCESS_STALLED } from '../../machine/mmio-device.js';
import { hex } from '../../machine/address-space.js';
import { Op } from './ops.js';
import { decode, SINK, type Decoded } from './decode.js';
import { expandCompressed } from './compressed.js';
import { Access, PAGE_FAULT, translate, translateParts, type TranslationContext } from './mmu.js';
import {
  Cause, causeName, CSR, IRQ_SEI, IRQ_SSI, IRQ_STI, SIP_MASK, SSTATUS_FS, SSTATUS_MXR, SSTATUS_SIE, SSTATUS_SPIE,
  SSTATUS_SPP, SSTATUS_SUM, SSTATUS_UXL64, SSTATUS_WRITABLE, ISELECT_IMSIC_FIRST, ISELECT_IMSIC_LAST, ISELECT_IPRIO_FIRST,
  ISELECT_IPRIO_LAST,
} from './csr.js';
import type { InterruptFile } from './interrupt-file.js';
import { handleSbi, type SbiHart } from './sbi.js';
import { riscv64GdbDescription, RV_CSR0, RV_F0, RV_PC, RV_PRIV } from './gdb-description.js';
import { executeFp, type FpState } from './fpu.js';
import { executeBitmanip } from './bitmanip.js';
import { executeAmo, type AmoHart } from './amo.js';
import { mulHigh, mulHigh64 } from './mul-high.js';
import { HvisorError } from '../../util/hvisor-error.js';
import { compileBlock, JALR_EXIT, type BlockHost, type CompiledBlock } from './compile-block.js';

const TLB_BITS = 10;
/** TLB slots remembered for a cheap flush; more fills than this since the last flush clear every slot. */
const TLB_FILL_LOG = 256;
const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
const SLOTS = 2048;
const TWO32 = 4294967296;
/** Instructions between checks of the timer and the budget inside `run`. */
const CHUNK = 8192;
const NO_DEADLINE = 0xffffffffffffffffn;

/** Decoding is a pure function of the instruction bits: a shared cache makes re-decoding stale pages cheap. */
const DECODE_CACHE_BITS = 14;
const DECODE_CACHE_SIZE = 1 << DECODE_CACHE_BITS;
const decodeCacheKey = new Float64Array(DECODE_CACHE_SIZE).fill(-1);
const decodeCacheWord = new Int32Array(DECODE_CACHE_SIZE);
const decodeCacheImm = new Int32Array(DECODE_CACHE_SIZE);
const decodeCacheImmB = new BigInt64Array(DECODE_CACHE_SIZE);

/** Per-RAM-block state of this hart: views, which pages hold decoded code, and the decoded pages. */
interface RamInfo {
  readonly ram: Ram;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
  /** Signed view for the interpreter's 64-bit loads and stores (see Riscv64Cpu.xs). */
  readonly i64: BigInt64Array;
  /** Compiled blocks read and write 64-bit values as two int32 halves. */
  readonly i32: Int32Array;
  /** Non-zero for RAM pages with a decoded page: stores there must drop it. */
  readonly code: Uint8Array;
  readonly pages: Map<number, DecodedPage>;
}

/**
 * Predecoded instructions of one 4 KiB guest page, one slot per halfword; slot 2048 holds a
 * page-crossing one (always fetched afresh). Invalidation is lazy: a page whose `gen` differs from the
 * hart's code generation is stale and is checked when it is next executed; its slots are dropped only
 * if its bytes differ from the snapshot taken when they were last dropped (Linux runs fence.i every few
 * thousand instructions while booting, almost always with the code unchanged).
 */
class DecodedPage {
  readonly w = new Int32Array(SLOTS + 1);
  readonly imm = new Int32Array(SLOTS + 1);
  readonly immB = new BigInt64Array(SLOTS + 1);
  /** Times each slot was entered as a block start, up to the core's compile threshold. */
  readonly heat = new Uint16Array(SLOTS);
  /** Compiled blocks by starting slot (allocated on the page's first compilation). */
  blocks: (CompiledBlock | undefined)[] | undefined;
  private readonly snapshot = Buffer.alloc(4096);
  /**
   * The snapshot in halfwords: slots are decoded from it, not from RAM, so the decoded page is always
   * exactly the bytes `refresh` compares against.
   */
  readonly code = new Uint16Array(this.snapshot.buffer, this.snapshot.byteOffset, 2048);
  /** The page in guest RAM (a Buffer view: `equals` is a memcmp, 4x faster than a JS loop). */
  private readonly ram: Buffer;
  constructor(readonly info: RamInfo, readonly ramOffset: number, public gen: number) {
    this.ram = Buffer.from(info.u8.buffer, info.u8.byteOffset + ramOffset, 4096);
    this.ram.copy(this.snapshot);
  }

  /** Drops the decoded slots if the page's bytes changed since they were decoded. */
  refresh(): void {
    if (this.ram.equals(this.snapshot)) return;
    this.w.fill(0);
    this.heat.fill(0);
    this.blocks = undefined;
    this.ram.copy(this.snapshot);
  }
}

/** A guest fault the guest cannot take (no trap vector): the vCPU stops with this report. */
export class Riscv64GuestError extends HvisorError {}

interface Watchpoint {
  va: bigint;
  length: number;
  kind: WatchKind;
}

/**
 * One riscv64 hart running a vCPU of a zone in S/U mode (the guest kernel runs as VS, seen as S);
 * the HS-mode side (SBI, stage 2) is TypeScript. Integer registers live in a BigUint64Array with
 * 32-bit views for address arithmetic; x0 writes go to the sink register 32.
 */
export class Riscv64Cpu implements Cpu, SbiHart, FpState, AmoHart, BlockHost {
  readonly arch = 'riscv64' as const;
  readonly gdb = riscv64GdbDescription;

  readonly x = new BigUint64Array(34);
  /**
   * The same registers signed: the interpreter computes on this view because V8 keeps BigInt
   * arithmetic in machine int64 only while values stay in the signed 64-bit range (an unsigned view
   * yields values >= 2^63 for every kernel address and falls back to heap BigInts).
   */
  readonly xs = new BigInt64Array(this.x.buffer);
  readonly x32 = new Uint32Array(this.x.buffer);
  readonly xi = new Int32Array(this.x.buffer);
  readonly f = new Float64Array(32);
  readonly fb = new BigUint64Array(this.f.buffer);
  readonly fu32 = new Uint32Array(this.f.buffer);
  fflags = 0;
  frm = 0;

  powered = false;
  /** 0 = U-mode, 1 = S-mode. */
  priv = 1;
  private pcLo = 0;
  private pcHi = 0;
  private retiredCount = 0;

  // Supervisor CSRs.
  status = 0;
  private sieReg = 0;
  /** SSIP as written by the guest or set by an IPI. */
  private ssip = 0;
  /** Levels of interrupt lines from setInterrupt (sip bit positions). */
  private lineLevels = 0;
  stvec = 0n;
  sscratch = 0n;
  sepc = 0n;
  scause = 0n;
  stval = 0n;
  private satpValue = 0n;
  get satp(): bigint {
    return this.satpValue;
  }
  /** Also keeps the translation context's number form of satp (MODE, root PPN) in step. */
  set satp(v: bigint) {
    this.satpValue = v;
    this.tctx.mode = Number(v >> 60n);
    this.tctx.rootPpn = Number(v & 0xfffffffffffn);
  }
  senvcfg = 0n;
  scounteren = 0;
  /** Ssaia's siselect (WARL, 12 bits kept): which register sireg reaches. */
  private siselect = 0;
  private stimecmp = NO_DEADLINE;
  private timerDeadline = Infinity;
  private timerPending = false;

  /** LR reservation: guest-physical address, or -1. */
  reservation = -1;
  reservationValue = 0n;

  private irqDirty = true;
  /** The current run is a debugger single step (interrupts wait unless interruptsInSteps). */
  private stepping = false;
  interruptsInSteps = false;
  /** Decoded pages with another generation are stale (fence.i bumps it). */
  private codeGen = 1;
  /**
   * Times a block start runs interpreted before it is compiled (at most 65535; 0: never compile).
   * High, because a block costs V8 about a millisecond of TurboFan time, the price of some 50,000
   * interpreted instructions: over a Linux boot (838 M instructions on one hart, CPU time) 2,000
   * cost 71% more than interpreting only, 8,000 (923 blocks) 16% more, 16,000 (582) 3% more, 50,000
   * (263) 8% less. Tests lower it to compare compiled and interpreted runs.
   */
  compileThreshold = 50_000;
  /** Blocks compiled so far (for tests and profiles). */
  blocksCompiled = 0;
  /** Set by a compiled block that left before a load or store for the interpreter to make. */
  bail = false;
  /** Where the last compiled block left (see BlockHost). */
  exit = 0;
  readonly jump = new Int32Array(2);
  /** Parked in wfi (or HSM suspend) until an enabled interrupt is pending. */
  private waiting = false;
  /** An SBI HSM suspend in progress: where a non-retentive one resumes (undefined: retentive). */
  private hsmSuspend: { readonly resume?: { readonly pc: bigint; readonly opaque: bigint } } | undefined;
  private stopReason: RunResult | undefined;
  private error: GuestErrorReport | undefined;
  private readonly breakpoints = new Set<bigint>();
  private readonly watchpoints: Watchpoint[] = [];
  /** Instructions executed in the current chunk, for cycle/instret reads inside it. */
  private inflight = 0;
  private trapsInChunk = 0;

  // Software TLBs: tag = (va >> 12) as hi * 2^20 + lo >>> 12; NaN = empty. The data TLBs are read by compiled blocks.
  private readonly tlbXKey = new Float64Array(TLB_SIZE).fill(NaN);
  private readonly tlbXPage: (DecodedPage | undefined)[] = new Array(TLB_SIZE).fill(undefined);
  readonly tlbRKey = new Float64Array(TLB_SIZE).fill(NaN);
  readonly tlbROff = new Uint32Array(TLB_SIZE);
  readonly tlbRInfo: (RamInfo | undefined)[] = new Array(TLB_SIZE).fill(undefined);
  readonly tlbWKey = new Float64Array(TLB_SIZE).fill(NaN);
  readonly tlbWOff = new Uint32Array(TLB_SIZE);
  readonly tlbWInfo: (RamInfo | undefined)[] = new Array(TLB_SIZE).fill(undefined);
  /** Slots filled since the last flush (the first TLB_FILL_LOG of them), for dropTlb. */
  private readonly tlbFilled = new Int32Array(TLB_FILL_LOG);
  private tlbFillCount = 0;
  private readonly ramInfos = new Map<Ram, RamInfo>();
  private readonly scratch: Decoded = { word: 0, imm: 0 };
  private readonly tctx: TranslationContext = { mode: 0, rootPpn: 0, priv: 1, sum: false, mxr: false, leafLevel: 0 };
  /**
   * The virtual page numbers (hi * 2^20 + lo >>> 12) spanned by the superpages whose pages the TLBs hold
   * (empty: min > max): a by-address sfence.vma inside them drops every entry, as any page of a superpage
   * may be cached from the leaf it names.
   */
  private superMin = Infinity;
  private superMax = -Infinity;

  constructor(
    readonly host: VcpuHost,
    readonly index: number,
    readonly physicalId: number = index,
    /** The physical hart id of each vCPU of the zone, in vCPU order (default: hart id = vCPU index). */
    private readonly hartIds?: readonly bigint[],
    /** The vCPU's IMSIC supervisor file (AIA zones): sireg's 0x70..0xff and stopei reach it; without one they are illegal. */
    private readonly interruptFile?: InterruptFile,
  ) {}

  vcpuOfHart(hartId: bigint): number | undefined {
    if (this.hartIds !== undefined) {
      const v = this.hartIds.indexOf(hartId);
      return v < 0 ? undefined : v;
    }
    return hartId < 64n && this.host.vcpuState(Number(hartId)) !== 'invalid' ? Number(hartId) : undefined;
  }

  get retired(): number {
    // Mid-chunk (a slow-path instruction reading time or instret), the chunk's instructions so far count.
    return this.retiredCount + this.inflight;
  }

  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  set pc(value: bigint) {
    this.pcLo = Number(value & 0xffffffffn);
    this.pcHi = Number(BigInt.asIntN(32, value >> 32n));
  }

  reg(n: number): bigint {
    return n === 0 ? 0n : this.x[n]!;
  }

  setReg(n: number, value: bigint): void {
    if (n !== 0) this.x[n] = value;
  }

  reset(entry: bigint, args: readonly bigint[]): void {
    this.x.fill(0n);
    this.f.fill(0);
    this.fflags = 0;
    this.frm = 0;
    args.forEach((a, i) => {
      if (i < 8) this.x[10 + i] = a;
    });
    this.pc = entry;
    this.priv = 1;
    this.status = 0;
    this.sieReg = 0;
    this.ssip = 0;
    this.stvec = this.sscratch = this.sepc = this.scause = this.stval = this.satp = this.senvcfg = 0n;
    this.scounteren = 0;
    this.siselect = 0;
    this.stimecmp = NO_DEADLINE;
    this.timerDeadline = Infinity;
    this.timerPending = false;
    this.reservation = -1;
    this.error = undefined;
    this.stopReason = undefined;
    this.waiting = false;
    this.hsmSuspend = undefined;
    this.dropTlb();
    this.flushCode();
    this.irqDirty = true;
    this.powered = true;
  }

  // ------------------------------------------------------------------------------------------------
  // Running

  get idle(): boolean {
    return this.waiting;
  }

  run(budget: number, step = false): RunResult {
    if (!this.powered) return Stops.off;
    this.stepping = step;
    this.stopReason = undefined;
    if (this.waiting) {
      if (!this.wakeable()) return Stops.wait;
      this.waiting = false;
      if (this.hsmSuspend !== undefined) this.resumeFromSuspend();
    }
    const debugChecks = this.breakpoints.size > 0 || this.watchpoints.length > 0;
    let left = step ? 1 : budget;
    while (left > 0) {
      this.pollTimer();
      if (debugChecks && !step && this.breakpoints.has(this.pc)) return Stops.breakpoint;
      const limit = debugChecks ? 1 : Math.min(left, CHUNK);
      const done = this.execute(limit);
      left -= done;
      const stop = this.stopReason;
      if (stop !== undefined) {
        this.stopReason = undefined;
        if (stop === Stops.wait) {
          this.waiting = true;
          if (step) return Stops.step;
        }
        return stop;
      }
      if (done === 0 && step) break;
    }
    return step ? Stops.step : Stops.budget;
  }

  private pollTimer(): void {
    if (this.host.now() >= this.timerDeadline) {
      if (!this.timerPending) {
        this.timerPending = true;
        this.irqDirty = true;
      }
    } else if (this.timerPending) {
      this.timerPending = false;
    }
  }

  private pendingInterrupts(): number {
    return (this.ssip | this.lineLevels | (this.timerPending ? 1 << IRQ_STI : 0)) & SIP_MASK;
  }

  /** Takes the highest-priority enabled pending interrupt (SEI > SSI > STI). Returns true if one was taken. */
  private takeInterrupt(): boolean {
    const pending = this.pendingInterrupts() & this.sieReg;
    if (pending === 0) return false;
    if (this.priv === 1 && (this.status & SSTATUS_SIE) === 0) return false;
    const cause = pending & (1 << IRQ_SEI) ? IRQ_SEI : pending & (1 << IRQ_SSI) ? IRQ_SSI : IRQ_STI;
    this.trap(cause, 0n, true);
    return true;
  }

  setInterrupt(line: number, level: boolean): void {
    if (line === IRQ_SSI) {
      // An IPI sets SSIP; the guest clears it by writing sip.
      if (level) this.ssip |= 1 << IRQ_SSI;
    } else if (line === IRQ_STI || line === IRQ_SEI) {
      if (level) this.lineLevels |= 1 << line;
      else this.lineLevels &= ~(1 << line);
    } else {
      return;
    }
    this.irqDirty = true;
  }

  nextTimerDeadline(): number {
    return this.timerDeadline;
  }

  /** Whether `wfi` may stop waiting: an interrupt is pending and enabled in sie (regardless of SIE). */
  private wakeable(): boolean {
    this.pollTimer();
    return (this.pendingInterrupts() & this.sieReg) !== 0;
  }

  setTimer(deadline: bigint): void {
    this.stimecmp = BigInt.asUintN(64, deadline);
    this.timerDeadline = this.stimecmp === NO_DEADLINE ? Infinity : Number(this.stimecmp);
    this.pollTimer();
    this.irqDirty = true;
  }

  powerOff(): void {
    this.powered = false;
  }

  suspend(nonRetentive: boolean, resume: bigint, opaque: bigint): void {
    this.hsmSuspend = nonRetentive ? { resume: { pc: resume, opaque } } : {};
  }

  get suspended(): boolean {
    return this.powered && this.hsmSuspend !== undefined;
  }

  /** Woken from hart_suspend: a retentive one returns SUCCESS (a0 is set), a non-retentive one starts over at its resume address. */
  private resumeFromSuspend(): void {
    const r = this.hsmSuspend!.resume;
    this.hsmSuspend = undefined;
    if (r === undefined) return;
    this.pc = r.pc;
    this.x[10] = this.hartIds?.[this.index] ?? BigInt(this.index);
    this.x[11] = r.opaque;
    this.priv = 1;
    this.status &= ~SSTATUS_SIE;
    this.satp = 0n;
    this.dropTlb();
    this.irqDirty = true;
  }

  /**
   * The interpreter: runs up to `limit` instructions; returns how many were executed (trapping ones
   * included). Leaves early when stopReason is set.
   * Op numbers are written as literals with the name in a comment: transpilers that do not inline const enums
   * (vitest's) would otherwise turn every case into a property load and V8 could not build a jump
   * table. test/riscv64/op-literals.test.ts checks the literals against the Op enum.
   */
  private execute(limit: number): number {
    const x = this.xs;
    const xu = this.x;
    const x32 = this.x32;
    const xi = this.xi;
    const tlbXKey = this.tlbXKey, tlbXPage = this.tlbXPage;
    const tlbRKey = this.tlbRKey, tlbROff = this.tlbROff, tlbRInfo = this.tlbRInfo;
    const tlbWKey = this.tlbWKey, tlbWOff = this.tlbWOff, tlbWInfo = this.tlbWInfo;
    let count = 0;
    this.trapsInChunk = 0;
    const compiling = limit > 1 && this.compileThreshold > 0;
    const hot = this.compileThreshold;
    outer: while (count < limit && this.stopReason === undefined) {
      if (this.irqDirty && (!this.stepping || this.interruptsInSteps)) {
        this.irqDirty = false;
        if (this.takeInterrupt()) {
          if (this.stopReason !== undefined) break;
          if (limit === 1) { count++; break; }
        }
      }
      // Find the decoded page for pc. TLB keys are (va >> 12) * 2 + privilege.
      const priv = this.priv;
      let pcLo = this.pcLo;
      const pageHi = this.pcHi;
      const t = (pcLo >>> 12) & TLB_MASK;
      const key = (pageHi * 1048576 + (pcLo >>> 12)) * 2 + priv;
      let page = tlbXKey[t] === key ? tlbXPage[t] : undefined;
      if (page === undefined) {
        page = this.fillFetch(t, key);
        if (page === undefined) {
          count++;
          continue outer;
        }
      }
      if (page.gen !== this.codeGen) this.revalidate(page);
      const pageLo = pcLo - (pcLo & 0xfff);
      const w = page.w, imm = page.imm, immB = page.immB;
      let off = pcLo & 0xfff;
      // A block starts here (a jump target or the instruction after one the blocks do not compile).
      let entry = compiling;
      while (count < limit) {
        let i = off >> 1;
        if (entry) {
          entry = false;
          const block = page.blocks?.[i];
          if (block !== undefined) {
            if (block.count <= limit - count) {
              this.bail = false;
              count += block.fn(this, xi, pageHi, pageLo | 0, limit - count);
              const e = this.exit;
              if (e >= 0 && e < 4096) {
                off = e;
                // After a bail the interpreter makes the access (its slow path marks the next instruction an entry).
                entry = !this.bail;
                continue;
              }
              if (e === JALR_EXIT) {
                const hi = this.jump[0]!, lo = this.jump[1]! >>> 0;
                if (hi === pageHi && lo - pageLo >= 0 && lo - pageLo < 4096) { off = (lo - pageLo) | 0; entry = true; continue; }
                this.pcLo = lo;
                this.pcHi = hi;
              } else {
                this.setPc(pageHi, pageLo + e);
              }
              continue outer;
            }
          } else if (page.heat[i]! < hot && ++page.heat[i]! === hot) {
            this.compileAt(page, off);
            entry = true;
            continue;
          }
        }
        let word = w[i]!;
        if (word === 0) word = this.decodeSlot(page, off);
        if ((word & 0xff) === 2 /* CrossPage */) {
          this.pcLo = pageLo + off;
          this.pcHi = pageHi;
          word = this.decodeCrossPage(page);
          if (word === 0) { count++; continue outer; }
          i = SLOTS;
        }
        count++;
        const d = (word >>> 8) & 63;
        const s1 = (word >>> 14) & 63;
        const s2 = (word >>> 20) & 63;
        const next = off + 4 - ((word >>> 25) & 2);
        switch (word & 0xff) {
          case 24 /* Addi */: x[d] = x[s1]! + immB[i]!; break;
          case 33 /* Add */: x[d] = x[s1]! + x[s2]!; break;
          case 34 /* Sub */: x[d] = x[s1]! - x[s2]!; break;
          case 38 /* Xor */: x[d] = x[s1]! ^ x[s2]!; break;
          case 41 /* Or */: x[d] = x[s1]! | x[s2]!; break;
          case 42 /* And */: x[d] = x[s1]! & x[s2]!; break;
          case 27 /* Xori */: x[d] = x[s1]! ^ immB[i]!; break;
          case 28 /* Ori */: x[d] = x[s1]! | immB[i]!; break;
          case 29 /* Andi */: x[d] = x[s1]! & immB[i]!; break;
          case 3 /* Lui */: x[d] = immB[i]!; break;
          case 43 /* Addiw */: x[d] = BigInt.asIntN(32, x[s1]! + immB[i]!); break;
          case 47 /* Addw */: x[d] = BigInt.asIntN(32, x[s1]! + x[s2]!); break;
          case 48 /* Subw */: x[d] = BigInt.asIntN(32, x[s1]! - x[s2]!); break;
          case 52 /* Mul */: x[d] = x[s1]! * x[s2]!; break;
          case 30 /* Slli */: {
            const sh = imm[i]!;
            const lo = x32[s1 * 2]!, hi = x32[s1 * 2 + 1]!;
            if (sh === 0) { x[d] = x[s1]!; } else if (sh < 32) {
              x32[d * 2 + 1] = (hi << sh) | (lo >>> (32 - sh));
              x32[d * 2] = lo << sh;
            } else {
              x32[d * 2 + 1] = lo << (sh - 32);
              x32[d * 2] = 0;
            }
            break;
          }
          case 31 /* Srli */: shiftRight(x32, xi, d, s1, imm[i]!, false); break;
          case 32 /* Srai */: shiftRight(x32, xi, d, s1, imm[i]!, true); break;
          case 35 /* Sll */: {
            const sh = x32[s2 * 2]! & 63;
            const lo = x32[s1 * 2]!, hi = x32[s1 * 2 + 1]!;
            if (sh === 0) { x[d] = x[s1]!; } else if (sh < 32) {
              x32[d * 2 + 1] = (hi << sh) | (lo >>> (32 - sh));
              x32[d * 2] = lo << sh;
            } else {
              x32[d * 2 + 1] = lo << (sh - 32);
              x32[d * 2] = 0;
            }
            break;
          }
          case 39 /* Srl */: shiftRight(x32, xi, d, s1, x32[s2 * 2]! & 63, false); break;
          case 44 /* Slliw */: setW(x32, xi, d, x32[s1 * 2]! << imm[i]!); break;
          case 45 /* Srliw */: setW(x32, xi, d, x32[s1 * 2]! >>> imm[i]!); break;
          case 37 /* Sltu */: x[d] = ltu(x32, s1, x32[s2 * 2 + 1]!, x32[s2 * 2]!) ? 1n : 0n; break;
          case 26 /* Sltiu */: x[d] = ltu(x32, s1, imm[i]! < 0 ? 0xffffffff : 0, imm[i]! >>> 0) ? 1n : 0n; break;
          case 4 /* Auipc */: {
            let lo = pageLo + off + imm[i]!;
            let hi = pageHi;
            if (lo >= TWO32) { lo -= TWO32; hi++; } else if (lo < 0) { lo += TWO32; hi--; }
            x32[d * 2] = lo;
            x32[d * 2 + 1] = hi;
            break;
          }
          case 7 /* Beq */:
            if (x[s1] === x[s2]) { off += imm[i]!; if (off >>> 12 === 0) { entry = compiling; continue; } this.setPc(pageHi, pageLo + off); continue outer; }
            break;
          case 8 /* Bne */:
            if (x[s1] !== x[s2]) { off += imm[i]!; if (off >>> 12 === 0) { entry = compiling; continue; } this.setPc(pageHi, pageLo + off); continue outer; }
            break;
          case 9 /* Blt */:
            if (x[s1]! < x[s2]!) { off += imm[i]!; if (off >>> 12 === 0) { entry = compiling; continue; } this.setPc(pageHi, pageLo + off); continue outer; }
            break;
          case 10 /* Bge */:
            if (x[s1]! >= x[s2]!) { off += imm[i]!; if (off >>> 12 === 0) { entry = compiling; continue; } this.setPc(pageHi, pageLo + off); continue outer; }
            break;
          case 11 /* Bltu */:
            if (ltu(x32, s1, x32[s2 * 2 + 1]!, x32[s2 * 2]!)) { off += imm[i]!; if (off >>> 12 === 0) { entry = compiling; continue; } this.setPc(pageHi, pageLo + off); continue outer; }
            break;
          case 12 /* Bgeu */:
            if (!ltu(x32, s1, x32[s2 * 2 + 1]!, x32[s2 * 2]!)) { off += imm[i]!; if (off >>> 12 === 0) { entry = compiling; continue; } this.setPc(pageHi, pageLo + off); continue outer; }
            break;
          case 5 /* Jal */: {
            x32[d * 2] = pageLo + next;
            x32[d * 2 + 1] = pageHi;
            off += imm[i]!;
            if (off >>> 12 === 0) { entry = compiling; continue; }
            this.setPc(pageHi, pageLo + off);
            continue outer;
          }
          case 6 /* Jalr */: {
            let lo = x32[s1 * 2]! + imm[i]!;
            let hi = xi[s1 * 2 + 1]!;
            if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; } else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
            lo -= lo & 1;
            x32[d * 2] = pageLo + next;
            x32[d * 2 + 1] = pageHi;
            // `| 0` keeps `off` an int32 for V8: a double here makes the loop's `off` a float64 phi and
            // halves the speed of every instruction once jalr has type feedback (measured 150 -> 75 MIPS).
            if (hi === pageHi && lo - pageLo >= 0 && lo - pageLo < 4096) { off = (lo - pageLo) | 0; entry = compiling; continue; }
            this.pcLo = lo;
            this.pcHi = hi;
            continue outer;
          }
          // Loads: the TLB gives the RAM page; misaligned or missing entries take the slow path.
          case 16 /* Ld */: case 15 /* Lw */: case 19 /* Lwu */: case 14 /* Lh */: case 18 /* Lhu */: case 13 /* Lb */: case 17 /* Lbu */: {
            let lo = x32[s1 * 2]! + imm[i]!;
            let hi = xi[s1 * 2 + 1]!;
            if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; } else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
            const tt = (lo >>> 12) & TLB_MASK;
            const op = word & 0xff;
            if (tlbRKey[tt] === (hi * 1048576 + (lo >>> 12)) * 2 + priv) {
              const info = tlbRInfo[tt]!;
              const o = tlbROff[tt]! + (lo & 0xfff);
              if (op === 16 /* Ld */) { if ((o & 7) === 0) { x[d] = info.i64[o >>> 3]!; break; } }
              else if (op === 15 /* Lw */) { if ((o & 3) === 0) { setW(x32, xi, d, info.u32[o >>> 2]! | 0); break; } }
              else if (op === 19 /* Lwu */) { if ((o & 3) === 0) { x32[d * 2] = info.u32[o >>> 2]!; x32[d * 2 + 1] = 0; break; } }
              else if (op === 17 /* Lbu */) { x32[d * 2] = info.u8[o]!; x32[d * 2 + 1] = 0; break; }
              else if (op === 13 /* Lb */) { setW(x32, xi, d, (info.u8[o]! << 24) >> 24); break; }
              else if (op === 18 /* Lhu */) { if ((o & 1) === 0) { x32[d * 2] = info.u16[o >>> 1]!; x32[d * 2 + 1] = 0; break; } }
              else if ((o & 1) === 0) { setW(x32, xi, d, (info.u16[o >>> 1]! << 16) >> 16); break; }
              // Misaligned inside the page (Linux times misaligned copies at boot, millions of them): no walk.
              if (loadBytes(x32, xi, d, info.u8, o, 4096 - (lo & 0xfff), op)) break;
            }
            this.pcLo = pageLo + off;
            this.pcHi = pageHi;
            if (!this.loadSlow(op, d, lo, hi)) continue outer;
            entry = compiling;
            break;
          }
          case 23 /* Sd */: case 22 /* Sw */: case 21 /* Sh */: case 20 /* Sb */: {
            let lo = x32[s1 * 2]! + imm[i]!;
            let hi = xi[s1 * 2 + 1]!;
            if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; } else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
            const tt = (lo >>> 12) & TLB_MASK;
            const op = word & 0xff;
            if (tlbWKey[tt] === (hi * 1048576 + (lo >>> 12)) * 2 + priv) {
              const info = tlbWInfo[tt]!;
              const o = tlbWOff[tt]! + (lo & 0xfff);
              if (info.code[o >>> 12] === 0) {
                if (op === 23 /* Sd */) { if ((o & 7) === 0) { info.i64[o >>> 3] = x[s2]!; break; } }
                else if (op === 22 /* Sw */) { if ((o & 3) === 0) { info.u32[o >>> 2] = x32[s2 * 2]!; break; } }
                else if (op === 20 /* Sb */) { info.u8[o] = x32[s2 * 2]!; break; }
                else if ((o & 1) === 0) { info.u16[o >>> 1] = x32[s2 * 2]!; break; }
                if (storeBytes(info.u8, o, 4096 - (lo & 0xfff), op, x32[s2 * 2]!, x32[s2 * 2 + 1]!)) break;
              }
            }
            this.pcLo = pageLo + off;
            this.pcHi = pageHi;
            if (!this.storeSlow(op, s2, lo, hi)) continue outer;
            // A store into this very page may have made its decoded instructions stale: refetch.
            if (page.gen !== this.codeGen) { this.setPc(pageHi, pageLo + next); continue outer; }
            entry = compiling;
            break;
          }
          case 65 /* Fence */: break;
          default: {
            // Everything else may trap, stop or change the translation: go through the slow path with pc saved.
            this.pcLo = pageLo + off;
            this.pcHi = pageHi;
            this.inflight = count;
            const r = this.executeSlow(word, i, page, next - off);
            entry = compiling;
            if (r === SLOW_NEXT && page.gen === this.codeGen) break;
            if (r !== SLOW_TRAP) { this.setPc(pageHi, pageLo + next); continue outer; }
            continue outer; // SLOW_TRAP: pc already set
          }
        }
        off = next;
        if (off >= 4096) {
          this.setPc(pageHi, pageLo + off);
          continue outer;
        }
      }
      this.pcLo = pageLo + off;
      this.pcHi = pageHi;
      break;
    }
    // A stalled device access left its instruction undone (pc still on it): it runs again, and retires, next time.
    if (this.stopReason === Stops.stall) count--;
    this.retiredCount += count - this.trapsInChunk;
    this.inflight = 0;
    return count;
  }

  /** A stale decoded page about to run again: forget its instructions if they changed and watch it for stores again. */
  private revalidate(page: DecodedPage): void {
    page.refresh();
    page.gen = this.codeGen;
    page.info.code[page.ramOffset / 4096] = 1;
  }

  /** Compiles the block starting at `off` of `page` (nothing if its first instruction does not compile). */
  private compileAt(page: DecodedPage, off: number): void {
    const block = compileBlock(off, (o) => {
      let word = page.w[o >> 1]!;
      if (word === 0) word = this.decodeSlot(page, o);
      return { word: (word & 0xff) === Op.CrossPage ? 0 : word, imm: page.imm[o >> 1]! };
    });
    if (block === undefined) return;
    this.blocksCompiled++;
    (page.blocks ??= new Array<CompiledBlock | undefined>(SLOTS).fill(undefined))[off >> 1] = block;
  }

  private setPc(hi: number, lo: number): void {
    if (lo >= TWO32) { lo -= TWO32; hi = (hi + 1) | 0; } else if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
    this.pcLo = lo;
    this.pcHi = hi;
  }

  // ------------------------------------------------------------------------------------------------
  // Instruction fetch and the decoded-page cache

  private ramInfo(ram: Ram): RamInfo {
    let info = this.ramInfos.get(ram);
    if (info === undefined) {
      info = {
        ram, u8: ram.u8, u16: ram.u16, u32: ram.u32, u64: ram.u64, i64: new BigInt64Array(ram.buffer), i32: new Int32Array(ram.buffer),
        code: new Uint8Array(Math.ceil(ram.size / 4096)), pages: new Map(),
      };
      this.ramInfos.set(ram, info);
    }
    return info;
  }

  /** Set by ramPageOffset: the RAM block of the page it found. */
  private pageInfo: RamInfo | undefined;

  /**
   * Page-aligned RAM offset of the guest-physical page holding `gpa` (its block in this.pageInfo),
   * or -1 for MMIO, unmapped addresses and RAM windows not aligned to pages.
   */
  private ramPageOffset(gpa: number): number {
    const r = this.host.memory.find(gpa);
    if (r === undefined || r.kind !== 'ram') return -1;
    const pageGpa = gpa - (gpa % 4096);
    if (pageGpa < r.base || pageGpa + 4096 > r.base + r.size) return -1;
    const offset = pageGpa - r.base + r.ramOffset;
    if (offset % 4096 !== 0) return -1;
    this.pageInfo = this.ramInfo(r.ram);
    return offset;
  }

  /** A page walk that fills a TLB entry: notes the span of a superpage leaf for by-address fences. */
  private walk(hi: number, lo: number, access: Access): number {
    const ctx = this.translationContext();
    const gpa = translateParts(hi, lo, access, ctx, this.host.memory, true);
    if (gpa >= 0 && ctx.leafLevel > 0) {
      const pages = 2 ** (9 * ctx.leafLevel);
      const first = Math.floor((hi * 1048576 + (lo >>> 12)) / pages) * pages;
      if (first < this.superMin) this.superMin = first;
      if (first + pages - 1 > this.superMax) this.superMax = first + pages - 1;
    }
    return gpa;
  }

  private translationContext(): TranslationContext {
    const c = this.tctx;
    c.priv = this.priv;
    c.sum = (this.status & SSTATUS_SUM) !== 0;
    c.mxr = (this.status & SSTATUS_MXR) !== 0;
    return c;
  }

  /** Translates pc for execution and fills the fetch TLB; takes the fetch fault and returns undefined on failure. */
  private fillFetch(t: number, key: number): DecodedPage | undefined {
    const gpa = this.walk(this.pcHi, this.pcLo, Access.Execute);
    if (gpa < 0) {
      this.exception(gpa === PAGE_FAULT ? Cause.InstructionPageFault : Cause.InstructionAccessFault, this.pc);
      return undefined;
    }
    const offset = this.ramPageOffset(gpa);
    if (offset < 0) {
      this.exception(Cause.InstructionAccessFault, this.pc);
      return undefined;
    }
    const info = this.pageInfo!;
    const pageNo = offset / 4096;
    let page = info.pages.get(pageNo);
    if (page === undefined) {
      page = new DecodedPage(info, offset, this.codeGen);
      info.pages.set(pageNo, page);
    } else if (page.gen !== this.codeGen) {
      this.revalidate(page);
    }
    info.code[pageNo] = 1;
    this.tlbXKey[t] = key;
    this.noteTlbFill(t);
    this.tlbXPage[t] = page;
    return page;
  }

  private decodeSlot(page: DecodedPage, off: number): number {
    const code = page.code;
    const lo16 = code[off >> 1]!;
    if ((lo16 & 3) !== 3) return this.store(page, off >> 1, lo16, true);
    if (off === 4094) {
      page.w[off >> 1] = Op.CrossPage;
      return Op.CrossPage;
    }
    return this.store(page, off >> 1, (lo16 | (code[(off >> 1) + 1]! << 16)) >>> 0, false);
  }

  /** Decodes `raw` (16-bit compressed or 32-bit) into a slot, through a small cache keyed by the raw bits. */
  private store(page: DecodedPage, slot: number, raw: number, compressed: boolean): number {
    const key = compressed ? raw + TWO32 : raw;
    const h = (Math.imul(raw, 0x9e3779b1) >>> (32 - DECODE_CACHE_BITS)) & (DECODE_CACHE_SIZE - 1);
    if (decodeCacheKey[h] !== key) {
      const s = this.scratch;
      decode(compressed ? expandCompressed(raw) : raw, compressed, raw, s);
      decodeCacheKey[h] = key;
      decodeCacheWord[h] = s.word;
      decodeCacheImm[h] = s.imm;
      decodeCacheImmB[h] = BigInt(s.imm);
    }
    page.imm[slot] = decodeCacheImm[h]!;
    page.immB[slot] = decodeCacheImmB[h]!;
    return (page.w[slot] = decodeCacheWord[h]!);
  }

  /** A 32-bit instruction whose upper half lies on the next page: fetched through the slow path every time. */
  private decodeCrossPage(page: DecodedPage): number {
    const lo16 = this.fetch16(this.pc);
    if (lo16 < 0) return 0;
    const hi16 = this.fetch16(this.pc + 2n);
    if (hi16 < 0) return 0;
    return this.store(page, SLOTS, (lo16 | (hi16 << 16)) >>> 0, false);
  }

  private fetch16(va: bigint): number {
    const v = BigInt.asUintN(64, va);
    const gpa = translate(v, Access.Execute, this.translationContext(), this.host.memory, true);
    if (gpa < 0) {
      this.exception(gpa === PAGE_FAULT ? Cause.InstructionPageFault : Cause.InstructionAccessFault, v);
      return -1;
    }
    const r = this.host.memory.find(gpa);
    if (r === undefined || r.kind !== 'ram') {
      this.exception(Cause.InstructionAccessFault, v);
      return -1;
    }
    const o = gpa - r.base + r.ramOffset;
    return r.ram.u8[o]! | (r.ram.u8[o + 1]! << 8);
  }

  /** fence.i: every decoded page becomes stale (cleared lazily when next executed). */
  flushCode(): void {
    this.codeGen++;
  }

  /**
   * A fence requested for this hart by another one (SBI remote sfence.vma or fence.i; the zone cannot
   * tell which): drops the TLBs and the decoded instructions.
   */
  flushTranslations(): void {
    this.dropTlb();
    this.flushCode();
  }

  /** sfence.vma: drops the software TLBs. */
  private dropTlb(): void {
    // Linux flushes the TLB every few thousand instructions: clear only the slots filled since the last flush.
    const n = this.tlbFillCount;
    if (n > TLB_FILL_LOG) {
      this.tlbXKey.fill(NaN);
      this.tlbRKey.fill(NaN);
      this.tlbWKey.fill(NaN);
    } else {
      for (let k = 0; k < n; k++) {
        const t = this.tlbFilled[k]!;
        this.tlbXKey[t] = this.tlbRKey[t] = this.tlbWKey[t] = NaN;
      }
    }
    this.tlbFillCount = 0;
    this.superMin = Infinity;
    this.superMax = -Infinity;
  }

  /** sfence.vma with an address: drops that virtual page's entries (every entry if a cached superpage spans it). */
  private dropTlbPage(hi: number, lo: number): void {
    const vpn = hi * 1048576 + (lo >>> 12);
    if (vpn >= this.superMin && vpn <= this.superMax) {
      this.dropTlb();
      return;
    }
    const t = (lo >>> 12) & TLB_MASK;
    const k0 = vpn * 2, k1 = k0 + 1;
    if (this.tlbXKey[t] === k0 || this.tlbXKey[t] === k1) this.tlbXKey[t] = NaN;
    if (this.tlbRKey[t] === k0 || this.tlbRKey[t] === k1) this.tlbRKey[t] = NaN;
    if (this.tlbWKey[t] === k0 || this.tlbWKey[t] === k1) this.tlbWKey[t] = NaN;
  }

  private noteTlbFill(t: number): void {
    if (this.tlbFillCount < TLB_FILL_LOG) this.tlbFilled[this.tlbFillCount] = t;
    this.tlbFillCount++;
  }

  invalidateCode(gpa: number, length: number): void {
    for (let a = gpa - (gpa % 4096); a < gpa + length; a += 4096) {
      const r = this.host.memory.find(a);
      if (r === undefined || r.kind !== 'ram') continue;
      const info = this.ramInfos.get(r.ram);
      if (info === undefined) continue;
      const offset = a - r.base + r.ramOffset;
      const page = info.pages.get(Math.floor(offset / 4096));
      if (page !== undefined) page.gen = 0;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Data accesses (slow path): translation, TLB fill, MMIO, watchpoints, misalignment

  /**
   * Translates a data access; returns the guest-physical address or -1 after taking the fault.
   * `store` selects write permission; `cause` offsets: load faults 5/13, store faults 7/15.
   */
  translateData(va: bigint, store: boolean): number {
    const gpa = this.walk(Number(BigInt.asIntN(32, va >> 32n)), Number(va & 0xffffffffn), store ? Access.Write : Access.Read);
    if (gpa >= 0) return gpa;
    const cause = gpa === PAGE_FAULT
      ? (store ? Cause.StorePageFault : Cause.LoadPageFault)
      : (store ? Cause.StoreAccessFault : Cause.LoadAccessFault);
    this.exception(cause, va);
    return -1;
  }

  /** Stops before a data access that hits a debugger watchpoint. */
  private watch(va: bigint, size: number, store: boolean): boolean {
    for (const wp of this.watchpoints) {
      if (va < wp.va + BigInt(wp.length) && wp.va < va + BigInt(size)) {
        const hit = wp.kind === 'access' || (wp.kind === 'write') === store;
        if (hit) {
          this.stopReason = watchpointStop({ kind: wp.kind, address: va });
          return true;
        }
      }
    }
    return false;
  }

  private fillDataTlb(va: bigint, gpa: number, store: boolean): void {
    this.fillDataTlbParts(Number(BigInt.asIntN(32, va >> 32n)), Number(va & 0xffffffffn), gpa, store);
  }

  /** Caches a RAM page for data accesses; returns its RAM offset (block in pageInfo) or -1 (not RAM). */
  private fillDataTlbParts(hi: number, lo: number, gpa: number, store: boolean): number {
    const offset = this.ramPageOffset(gpa);
    if (offset < 0 || this.watchpoints.length > 0) return offset;
    const t = (lo >>> 12) & TLB_MASK;
    const key = (hi * 1048576 + (lo >>> 12)) * 2 + this.priv;
    if (store) {
      this.tlbWKey[t] = key;
      this.noteTlbFill(t);
      this.tlbWOff[t] = offset;
      this.tlbWInfo[t] = this.pageInfo;
    } else {
      this.tlbRKey[t] = key;
      this.noteTlbFill(t);
      this.tlbROff[t] = offset;
      this.tlbRInfo[t] = this.pageInfo;
    }
    return offset;
  }

  /** Reads `size` bytes at a virtual address; undefined after a fault or watchpoint stop. */
  readVirtual(va: bigint, size: 1 | 2 | 4 | 8, fillTlb: boolean): bigint | undefined {
    if (this.watchpoints.length > 0 && this.watch(va, size, false)) return undefined;
    const pageEnd = (va | 0xfffn) - va + 1n;
    if (BigInt(size) > pageEnd) {
      // Misaligned and crossing a page: byte by byte (each page translated, faults name the byte).
      let v = 0n;
      for (let k = 0; k < size; k++) {
        const b = this.readVirtual(BigInt.asUintN(64, va + BigInt(k)), 1, false);
        if (b === undefined) return undefined;
        v |= b << BigInt(8 * k);
      }
      return v;
    }
    const gpa = this.translateData(va, false);
    if (gpa < 0) return undefined;
    const v = this.deviceRead(gpa, size);
    if (this.stopReason === Stops.stall) return undefined;
    if (v === undefined) {
      this.exception(Cause.LoadAccessFault, va);
      return undefined;
    }
    if (fillTlb) this.fillDataTlb(va, gpa, false);
    return v;
  }

  /** Writes at a virtual address; false after a fault or watchpoint stop. */
  writeVirtual(va: bigint, size: 1 | 2 | 4 | 8, value: bigint, fillTlb: boolean): boolean {
    if (this.watchpoints.length > 0 && this.watch(va, size, true)) return false;
    const pageEnd = (va | 0xfffn) - va + 1n;
    if (BigInt(size) > pageEnd) {
      // Translate both pages before writing anything, so a fault leaves memory untouched.
      const firstLen = Number(pageEnd);
      if (this.translateData(va, true) < 0) return false;
      if (this.translateData(BigInt.asUintN(64, va + pageEnd), true) < 0) return false;
      for (let k = 0; k < size; k++) {
        if (!this.writeVirtual(BigInt.asUintN(64, va + BigInt(k)), 1, (value >> BigInt(8 * k)) & 0xffn, false)) return false;
      }
      void firstLen;
      return true;
    }
    const gpa = this.translateData(va, true);
    if (gpa < 0) return false;
    this.noteStore(gpa, size);
    const written = this.deviceWrite(gpa, size, value);
    if (this.stopReason === Stops.stall) return false;
    if (!written) {
      this.exception(Cause.StoreAccessFault, va);
      return false;
    }
    if (fillTlb) this.fillDataTlb(va, gpa, true);
    return true;
  }

  /**
   * An access that may reach a device. A device that cannot answer yet (ACCESS_STALLED) leaves the
   * instruction undone, as a watchpoint does: the vCPU stops with a stall and makes it again.
   */
  private deviceRead(gpa: number, size: 1 | 2 | 4 | 8): bigint | undefined {
    try {
      return this.host.memory.read(gpa, size);
    } catch (e) {
      if (e !== ACCESS_STALLED) throw e;
      this.stopReason = Stops.stall;
      return undefined;
    }
  }

  private deviceWrite(gpa: number, size: 1 | 2 | 4 | 8, value: bigint): boolean {
    try {
      return this.host.memory.write(gpa, size, value);
    } catch (e) {
      if (e !== ACCESS_STALLED) throw e;
      this.stopReason = Stops.stall;
      return false;
    }
  }

  checkWatch(va: bigint, size: number, store: boolean): boolean {
    return this.watchpoints.length > 0 && this.watch(va, size, store);
  }

  readPhysical(gpa: number, size: 4 | 8): bigint | undefined {
    const r = this.host.memory.find(gpa);
    if (r !== undefined && r.kind === 'ram' && gpa + size - r.base <= r.size) {
      const o = gpa - r.base + r.ramOffset;
      if (size === 8 && (o & 7) === 0) return r.ram.u64[o / 8]!;
      if (size === 4 && (o & 3) === 0) return BigInt(r.ram.u32[o / 4]!);
    }
    return this.host.memory.read(gpa, size);
  }

  writePhysical(gpa: number, size: 4 | 8, value: bigint): boolean {
    this.noteStore(gpa, size);
    const r = this.host.memory.find(gpa);
    if (r !== undefined && r.kind === 'ram' && gpa + size - r.base <= r.size) {
      const o = gpa - r.base + r.ramOffset;
      if (size === 8 && (o & 7) === 0) { r.ram.u64[o / 8] = value; return true; }
      if (size === 4 && (o & 3) === 0) { r.ram.u32[o / 4] = Number(value & 0xffffffffn); return true; }
    }
    return this.host.memory.write(gpa, size, value);
  }

  /** A store to guest-physical memory: drops decoded code on that page and any LR reservation there. */
  private noteStore(gpa: number, size: number): void {
    if (this.reservation >= 0 && gpa < this.reservation + 8 && this.reservation < gpa + size) this.reservation = -1;
    const r = this.host.memory.find(gpa);
    if (r === undefined || r.kind !== 'ram') return;
    const info = this.ramInfos.get(r.ram);
    if (info === undefined) return;
    const offset = gpa - r.base + r.ramOffset;
    const pageNo = Math.floor(offset / 4096);
    if (info.code[pageNo] !== 0) {
      info.code[pageNo] = 0;
      const page = info.pages.get(pageNo);
      if (page !== undefined) page.gen = 0;
    }
    const endPage = Math.floor((offset + size - 1) / 4096);
    if (endPage !== pageNo && info.code[endPage] !== 0) {
      info.code[endPage] = 0;
      const page = info.pages.get(endPage);
      if (page !== undefined) page.gen = 0;
    }
  }

  private loadSlow(op: number, d: number, lo: number, hi: number): boolean {
    const size = op === Op.Ld ? 8 : op === Op.Lw || op === Op.Lwu ? 4 : op === Op.Lh || op === Op.Lhu ? 2 : 1;
    if (this.watchpoints.length === 0 && (lo & 0xfff) + size <= 4096) {
      // The common TLB miss: one page, no watchpoints. Numbers only, no BigInt until the value.
      const gpa = this.walk(hi, lo, Access.Read);
      if (gpa < 0) {
        this.exception(gpa === PAGE_FAULT ? Cause.LoadPageFault : Cause.LoadAccessFault, vaOf(hi, lo));
        return false;
      }
      const offset = this.fillDataTlbParts(hi, lo, gpa, false);
      if (offset >= 0) {
        const u8 = this.pageInfo!.u8;
        const o = offset + (lo & 0xfff);
        let low = 0, high = 0;
        for (let k = Math.min(size, 4) - 1; k >= 0; k--) low = low * 256 + u8[o + k]!;
        for (let k = size - 1; k >= 4; k--) high = high * 256 + u8[o + k]!;
        const x32 = this.x32;
        if (size === 8) { x32[d * 2] = low; x32[d * 2 + 1] = high; }
        else if (op === Op.Lw) setW(x32, this.xi, d, low | 0);
        else if (op === Op.Lh) setW(x32, this.xi, d, (low << 16) >> 16);
        else if (op === Op.Lb) setW(x32, this.xi, d, (low << 24) >> 24);
        else { x32[d * 2] = low; x32[d * 2 + 1] = 0; }
        return true;
      }
    }
    const va = (BigInt(hi >>> 0) << 32n) | BigInt(lo);
    const v = this.readVirtual(va, size, true);
    if (v === undefined) return false;
    switch (op) {
      case Op.Lw: this.x[d] = BigInt.asIntN(32, v); break;
      case Op.Lh: this.x[d] = BigInt.asIntN(16, v); break;
      case Op.Lb: this.x[d] = BigInt.asIntN(8, v); break;
      default: this.x[d] = v;
    }
    return true;
  }

  private storeSlow(op: number, s2: number, lo: number, hi: number): boolean {
    const size = op === Op.Sd ? 8 : op === Op.Sw ? 4 : op === Op.Sh ? 2 : 1;
    if (this.watchpoints.length === 0 && (lo & 0xfff) + size <= 4096) {
      const gpa = this.walk(hi, lo, Access.Write);
      if (gpa < 0) {
        this.exception(gpa === PAGE_FAULT ? Cause.StorePageFault : Cause.StoreAccessFault, vaOf(hi, lo));
        return false;
      }
      this.noteStore(gpa, size);
      const offset = this.fillDataTlbParts(hi, lo, gpa, true);
      if (offset >= 0) {
        const u8 = this.pageInfo!.u8;
        const o = offset + (lo & 0xfff);
        let low = this.x32[s2 * 2]!;
        const high = this.x32[s2 * 2 + 1]!;
        for (let k = 0; k < size && k < 4; k++) { u8[o + k] = low & 0xff; low >>>= 8; }
        for (let k = 4, h = high; k < size; k++) { u8[o + k] = h & 0xff; h >>>= 8; }
        return true;
      }
      const value = size === 8 ? this.x[s2]! : BigInt.asUintN(size * 8, this.x[s2]!);
      if (!this.deviceWrite(gpa, size, value)) {
        if (this.stopReason !== Stops.stall) this.exception(Cause.StoreAccessFault, vaOf(hi, lo));
        return false;
      }
      return true;
    }
    const va = (BigInt(hi >>> 0) << 32n) | BigInt(lo);
    const v = size === 8 ? this.x[s2]! : BigInt.asUintN(size * 8, this.x[s2]!);
    return this.writeVirtual(va, size, v, true);
  }

  // ------------------------------------------------------------------------------------------------
  // Traps

  /** Takes a synchronous exception at the current pc. */
  exception(cause: number, tval: bigint): void {
    this.trap(cause, tval, false);
  }

  private trap(cause: number, tval: bigint, interrupt: boolean): void {
    if (!interrupt) this.trapsInChunk++;
    if (this.stvec === 0n && !interrupt) {
      // No handler installed: the guest cannot take this; stop the vCPU with a report.
      this.error = { pc: this.pc, cause: causeName(cause, false), address: tval };
      this.stopReason = guestErrorStop(this.error);
      return;
    }
    this.sepc = this.pc;
    this.scause = interrupt ? (1n << 63n) | BigInt(cause) : BigInt(cause);
    this.stval = tval;
    let s = this.status & ~(SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE);
    if (this.status & SSTATUS_SIE) s |= SSTATUS_SPIE;
    if (this.priv === 1) s |= SSTATUS_SPP;
    this.status = s;
    this.priv = 1; // TLB entries are tagged with the privilege: no flush
    const base = this.stvec & ~3n;
    this.pc = interrupt && (this.stvec & 3n) === 1n ? base + 4n * BigInt(cause) : base;
    this.reservation = -1;
  }

  // ------------------------------------------------------------------------------------------------
  // The rarer instructions

  private executeSlow(word: number, i: number, page: DecodedPage, len: number): number {
    const op = word & 0xff;
    const d = (word >>> 8) & 63;
    const s1 = (word >>> 14) & 63;
    const s2 = (word >>> 20) & 63;
    const imm = page.imm[i]!;
    const x = this.xs, xu = this.x, x32 = this.x32, xi = this.xi;
    switch (op) {
      // Integer operations rarer than 1 in 2000 instructions of a Linux boot: out of the hot loop, whose
      // first use of any case deoptimises the whole of it (and costs V8 a long recompilation).
      case 60 /* Mulw */: x[d] = BigInt.asIntN(32, x[s1]! * x[s2]!); return SLOW_NEXT;
      case 40 /* Sra */: shiftRight(x32, xi, d, s1, x32[s2 * 2]! & 63, true); return SLOW_NEXT;
      case 46 /* Sraiw */: setW(x32, xi, d, xi[s1 * 2]! >> imm); return SLOW_NEXT;
      case 49 /* Sllw */: setW(x32, xi, d, x32[s1 * 2]! << (x32[s2 * 2]! & 31)); return SLOW_NEXT;
      case 50 /* Srlw */: setW(x32, xi, d, x32[s1 * 2]! >>> (x32[s2 * 2]! & 31)); return SLOW_NEXT;
      case 51 /* Sraw */: setW(x32, xi, d, xi[s1 * 2]! >> (x32[s2 * 2]! & 31)); return SLOW_NEXT;
      case 36 /* Slt */: x[d] = lts(x32, xi, s1, s2) ? 1n : 0n; return SLOW_NEXT;
      case 25 /* Slti */: x[d] = x[s1]! < page.immB[i]! ? 1n : 0n; return SLOW_NEXT;
      case 56 /* Div */: xu[d] = div(xu[s1]!, xu[s2]!, true, 64); return SLOW_NEXT;
      case 57 /* Divu */: xu[d] = xu[s2] === 0n ? 0xffffffffffffffffn : xu[s1]! / xu[s2]!; return SLOW_NEXT;
      case 58 /* Rem */: xu[d] = rem(xu[s1]!, xu[s2]!, true, 64); return SLOW_NEXT;
      case 59 /* Remu */: xu[d] = xu[s2] === 0n ? xu[s1]! : xu[s1]! % xu[s2]!; return SLOW_NEXT;
      case 61 /* Divw */: xu[d] = div(xu[s1]!, xu[s2]!, true, 32); return SLOW_NEXT;
      case 62 /* Divuw */: xu[d] = div(xu[s1]!, xu[s2]!, false, 32); return SLOW_NEXT;
      case 63 /* Remw */: xu[d] = rem(xu[s1]!, xu[s2]!, true, 32); return SLOW_NEXT;
      case 64 /* Remuw */: xu[d] = rem(xu[s1]!, xu[s2]!, false, 32); return SLOW_NEXT;
      case 53 /* Mulh */: case 54 /* Mulhsu */: case 55 /* Mulhu */: {
        const lo = mulHigh64(x32[s1 * 2]!, xi[s1 * 2 + 1]!, x32[s2 * 2]!, xi[s2 * 2 + 1]!, op === 55 ? 0 : op === 54 ? 1 : 2);
        x32[d * 2] = lo;
        x32[d * 2 + 1] = mulHigh[0]!;
        return SLOW_NEXT;
      }
      case 66 /* FenceI */: this.flushCode(); return SLOW_NEXT_RELOAD;
      case Op.Illegal:
        return this.illegal(imm);
      case Op.Ecall:
        if (this.priv === 0) {
          this.exception(Cause.EcallFromU, 0n);
          return SLOW_TRAP;
        } else {
          const stop = handleSbi(this);
          if (stop !== undefined) {
            this.pc = this.pc + 4n;
            this.stopReason = stop;
            return SLOW_TRAP;
          }
          return SLOW_NEXT_RELOAD;
        }
      case Op.Ebreak:
        this.exception(Cause.Breakpoint, 0n); // stval 0, as QEMU 7.2 reports it
        return SLOW_TRAP;
      case Op.Sret: {
        if (this.priv === 0) return this.illegal(imm === 0 ? 0x10200073 : imm);
        const s = this.status;
        const toUser = (s & SSTATUS_SPP) === 0;
        let n = s & ~(SSTATUS_SIE | SSTATUS_SPP);
        if (s & SSTATUS_SPIE) n |= SSTATUS_SIE;
        n |= SSTATUS_SPIE;
        this.status = n;
        if (toUser) this.priv = 0;
        this.pc = this.sepc & ~1n;
        this.reservation = -1;
        this.irqDirty = true;
        return SLOW_TRAP;
      }
      case Op.Wfi:
        if (this.priv === 0) return this.illegal(0x10500073);
        this.pc = this.pc + 4n;
        if (!this.wakeable()) this.stopReason = Stops.wait;
        this.irqDirty = true;
        return SLOW_TRAP;
      case Op.SfenceVma:
        if (this.priv === 0) return this.illegal(0x12000073 | (s1 << 15) | (s2 << 20));
        // Linux fences one page after each PTE it sets (some 190,000 times a boot): drop only that page.
        if (s1 === 0) this.dropTlb();
        else this.dropTlbPage(xi[s1 * 2 + 1]!, x32[s1 * 2]!);
        return SLOW_NEXT_RELOAD;
      case Op.Csr:
        return this.executeCsr(imm, d, s1);
      case Op.Amo:
        return executeAmo(this, imm, d, s1, s2) ? SLOW_NEXT : SLOW_TRAP;
      case Op.Flw: case Op.Fld: case Op.Fsw: case Op.Fsd:
        return this.fpMemory(op, d, s1, s2, page.immB[i]!);
      case Op.Fp: {
        if ((this.status & SSTATUS_FS) === 0) return this.illegal(imm);
        const ok = executeFp(this, imm >>> 0);
        return ok ? SLOW_NEXT : this.illegal(imm);
      }
      case Op.Bitmanip:
        executeBitmanip(this.x, d, s1, s2, imm >>> 0, this.x32);
        return SLOW_NEXT;
      case Op.Cbo: {
        // cbo.zero writes a 64-byte block; clean/flush/inval are no-ops on a coherent memory model.
        if (((imm >>> 20) & 0xfff) !== 4) return SLOW_NEXT;
        const base = this.x[s1]! & ~63n;
        for (let k = 0n; k < 64n; k += 8n) if (!this.writeVirtual(BigInt.asUintN(64, base + k), 8, 0n, false)) return SLOW_TRAP;
        return SLOW_NEXT;
      }
      default:
        void len;
        return this.illegal(imm);
    }
  }

  private illegal(bits: number): number {
    this.exception(Cause.IllegalInstruction, BigInt(bits >>> 0));
    return SLOW_TRAP;
  }

  private fpMemory(op: number, fd: number, s1: number, fs2: number, imm: bigint): number {
    if ((this.status & SSTATUS_FS) === 0) {
      return this.illegal(0); // raw bits are not kept for FP loads/stores; stval 0 is allowed
    }
    const va = BigInt.asUintN(64, this.x[s1]! + imm);
    if (op === Op.Flw || op === Op.Fld) {
      const v = this.readVirtual(va, op === Op.Fld ? 8 : 4, true);
      if (v === undefined) return SLOW_TRAP;
      this.fb[fd] = op === Op.Fld ? v : v | 0xffffffff00000000n;
      this.status |= SSTATUS_FS;
      return SLOW_NEXT;
    }
    const v = op === Op.Fsd ? this.fb[fs2]! : this.fb[fs2]! & 0xffffffffn;
    return this.writeVirtual(va, op === Op.Fsd ? 8 : 4, v, true) ? SLOW_NEXT : SLOW_TRAP;
  }

  /** Marks the FP state dirty (sstatus.FS = 3) after an instruction wrote FP registers or flags. */
  markFpDirty(): void {
    this.status |= SSTATUS_FS;
  }

  private executeCsr(inst: number, d: number, s1: number): number {
    const f3 = (inst >> 12) & 7;
    const csr = (inst >>> 20) & 0xfff;
    const rdRaw = (inst >> 7) & 31;
    const rs1Raw = (inst >> 15) & 31;
    const operand = f3 >= 5 ? BigInt(rs1Raw) : this.x[s1]!;
    const writes = f3 === 1 || f3 === 5 || rs1Raw !== 0;
    const reads = !(f3 === 1 || f3 === 5) || rdRaw !== 0;
    if (!this.csrAccessible(csr, writes)) return this.illegal(inst);
    const old = this.readCsr(csr);
    if (old === undefined) return this.illegal(inst);
    if (writes) {
      const kind = f3 & 3;
      const value = kind === 1 ? operand : kind === 2 ? old | operand : old & ~operand;
      if (!this.writeCsr(csr, BigInt.asUintN(64, value))) return this.illegal(inst);
    }
    if (reads || writes) this.x[d] = old;
    return writes ? SLOW_NEXT_RELOAD : SLOW_NEXT;
  }

  private csrAccessible(csr: number, writes: boolean): boolean {
    if (writes && csr >>> 10 === 3) return false;
    const minPriv = (csr >>> 8) & 3;
    if (minPriv > this.priv) return false;
    if (csr >= 0xc00 && csr <= 0xc1f && this.priv === 0) return ((this.scounteren >>> (csr - 0xc00)) & 1) !== 0;
    if (csr <= 3 && (this.status & SSTATUS_FS) === 0) return false;
    return true;
  }

  readCsr(csr: number): bigint | undefined {
    switch (csr) {
      case CSR.fflags: return BigInt(this.fflags);
      case CSR.frm: return BigInt(this.frm);
      case CSR.fcsr: return BigInt((this.frm << 5) | this.fflags);
      case CSR.sstatus: {
        const s = BigInt(this.status) | SSTATUS_UXL64;
        return (this.status & SSTATUS_FS) === SSTATUS_FS ? s | (1n << 63n) : s;
      }
      case CSR.sie: return BigInt(this.sieReg);
      case CSR.stvec: return this.stvec;
      case CSR.scounteren: return BigInt(this.scounteren);
      case CSR.senvcfg: return this.senvcfg;
      case CSR.sscratch: return this.sscratch;
      case CSR.sepc: return this.sepc;
      case CSR.scause: return this.scause;
      case CSR.stval: return this.stval;
      case CSR.sip: this.pollTimer(); return BigInt(this.pendingInterrupts());
      case CSR.stimecmp: return this.stimecmp;
      case CSR.satp: return this.satp;
      case CSR.siselect: return BigInt(this.siselect);
      case CSR.sireg: return this.readSireg();
      case CSR.stopei: return this.interruptFile === undefined ? undefined : BigInt(this.interruptFile.topei());
      case CSR.stopi: this.pollTimer(); return BigInt(this.topInterrupt());
      case CSR.cycle: case CSR.instret: return BigInt(this.retired);
      case CSR.time: return BigInt(Math.floor(this.host.now()));
      default:
        if (csr > CSR.instret && csr <= 0xc1f) return 0n; // hpmcounters: implemented as zero
        return undefined;
    }
  }

  writeCsr(csr: number, v: bigint): boolean {
    switch (csr) {
      case CSR.fflags: this.fflags = Number(v & 0x1fn); this.status |= SSTATUS_FS; return true;
      case CSR.frm: this.frm = Number(v & 7n); this.status |= SSTATUS_FS; return true;
      case CSR.fcsr: this.fflags = Number(v & 0x1fn); this.frm = Number((v >> 5n) & 7n); this.status |= SSTATUS_FS; return true;
      case CSR.sstatus: {
        const old = this.status;
        this.status = Number(v & BigInt(SSTATUS_WRITABLE));
        if ((old ^ this.status) & (SSTATUS_SUM | SSTATUS_MXR)) this.dropTlb();
        this.irqDirty = true;
        return true;
      }
      case CSR.sie: this.sieReg = Number(v) & SIP_MASK; this.irqDirty = true; return true;
      // WARL: a reserved mode (2, 3) makes the whole write a no-op, as QEMU does.
      case CSR.stvec: if ((v & 3n) < 2n) this.stvec = v; return true;
      case CSR.scounteren: this.scounteren = Number(v & 0xffffffffn); return true;
      case CSR.senvcfg: this.senvcfg = v & 0xf1n; return true; // FIOM, CBIE, CBCFE, CBZE
      case CSR.sscratch: this.sscratch = v; return true;
      case CSR.sepc: this.sepc = v & ~1n; return true;
      case CSR.scause: this.scause = v; return true;
      case CSR.stval: this.stval = v; return true;
      case CSR.sip: this.ssip = Number(v) & (1 << IRQ_SSI); this.irqDirty = true; return true;
      case CSR.stimecmp: this.setTimer(v); return true;
      case CSR.satp: {
        const mode = v >> 60n;
        if (mode !== 0n && mode !== 8n && mode !== 9n && mode !== 10n) return true; // unsupported mode: write ignored
        this.satp = mode === 0n ? 0n : v & 0xf0000fffffffffffn; // ASID not implemented (reads as 0)
        this.dropTlb();
        return true;
      }
      case CSR.siselect: this.siselect = Number(v & 0xfffn); return true;
      case CSR.sireg: return this.writeSireg(v);
      case CSR.stopei: this.interruptFile?.claimTopei(); return this.interruptFile !== undefined;
      case CSR.cycle: case CSR.time: case CSR.instret: case CSR.stopi: return false;
      default: return false;
    }
  }

  /** sireg: iprio0..15 are read-only zero (default priorities only); 0x70..0xff are the IMSIC file's. */
  private readSireg(): bigint | undefined {
    const sel = this.siselect;
    if (sel >= ISELECT_IPRIO_FIRST && sel <= ISELECT_IPRIO_LAST) return sel & 1 ? undefined : 0n;
    if (sel >= ISELECT_IMSIC_FIRST && sel <= ISELECT_IMSIC_LAST) return this.interruptFile?.readIndirect(sel);
    return undefined;
  }

  private writeSireg(v: bigint): boolean {
    const sel = this.siselect;
    if (sel >= ISELECT_IPRIO_FIRST && sel <= ISELECT_IPRIO_LAST) return (sel & 1) === 0;
    if (sel >= ISELECT_IMSIC_FIRST && sel <= ISELECT_IMSIC_LAST) return this.interruptFile?.writeIndirect(sel, v) ?? false;
    return false;
  }

  /**
   * stopi: (IID << 16) | IPRIO of the highest-priority pending and enabled interrupt (sstatus.SIE
   * aside), in the default order SEI > SSI > STI. With every iprio zero, IPRIO is 0 for SEI and 255
   * for the interrupts of lower default priority (as QEMU reports it).
   */
  private topInterrupt(): number {
    const pending = this.pendingInterrupts() & this.sieReg;
    if (pending & (1 << IRQ_SEI)) return IRQ_SEI << 16;
    if (pending & (1 << IRQ_SSI)) return (IRQ_SSI << 16) | 255;
    if (pending & (1 << IRQ_STI)) return (IRQ_STI << 16) | 255;
    return 0;
  }

  // ------------------------------------------------------------------------------------------------
  // Debugger view

  readRegister(regno: number): Uint8Array | undefined {
    const v = this.registerValue(regno);
    if (v === undefined) return undefined;
    const width = regno >= RV_CSR0 + CSR.fflags && regno <= RV_CSR0 + CSR.fcsr ? 4 : 8;
    const out = new Uint8Array(width);
    for (let k = 0; k < width; k++) out[k] = Number((v >> BigInt(8 * k)) & 0xffn);
    return out;
  }

  private registerValue(regno: number): bigint | undefined {
    if (regno >= 0 && regno < 32) return this.reg(regno);
    if (regno === RV_PC) return this.pc;
    if (regno >= RV_F0 && regno < RV_F0 + 32) return this.fb[regno - RV_F0];
    if (regno === RV_PRIV) return BigInt(this.priv);
    if (regno >= RV_CSR0 && regno < RV_CSR0 + 4096) {
      const csr = regno - RV_CSR0;
      if (csr >= CSR.cycle && csr <= CSR.instret) return this.readCsr(csr);
      return this.readCsr(csr);
    }
    return undefined;
  }

  writeRegister(regno: number, value: Uint8Array): boolean {
    let v = 0n;
    for (let k = value.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(value[k]!);
    if (regno >= 0 && regno < 32) {
      this.setReg(regno, v);
      return true;
    }
    if (regno === RV_PC) {
      this.pc = v & ~1n;
      return true;
    }
    if (regno >= RV_F0 && regno < RV_F0 + 32) {
      this.fb[regno - RV_F0] = v;
      return true;
    }
    if (regno === RV_PRIV) {
      if (v > 1n) return false;
      this.priv = Number(v);
      this.dropTlb();
      this.irqDirty = true;
      return true;
    }
    if (regno >= RV_CSR0 && regno < RV_CSR0 + 4096) {
      const csr = regno - RV_CSR0;
      if (this.readCsr(csr) === undefined) return false;
      return this.writeCsr(csr, v);
    }
    return false;
  }

  debugTranslate(va: bigint, access: 'r' | 'w' | 'x'): number | undefined {
    const a = access === 'r' ? Access.Read : access === 'w' ? Access.Write : Access.Execute;
    const gpa = translate(BigInt.asUintN(64, va), a, this.translationContext(), this.host.memory, false);
    return gpa < 0 ? undefined : gpa;
  }

  setBreakpoint(va: bigint, on: boolean): void {
    if (on) this.breakpoints.add(BigInt.asUintN(64, va));
    else this.breakpoints.delete(BigInt.asUintN(64, va));
  }

  setWatchpoint(va: bigint, length: number, kind: WatchKind, on: boolean): void {
    const v = BigInt.asUintN(64, va);
    const at = this.watchpoints.findIndex((w) => w.va === v && w.length === length && w.kind === kind);
    if (on && at < 0) this.watchpoints.push({ va: v, length, kind });
    if (!on && at >= 0) this.watchpoints.splice(at, 1);
    // Data TLB entries bypass the watch check: drop them while watchpoints exist.
    this.dropTlb();
  }

  describe(): string {
    const mode = this.priv === 1 ? 'S-mode' : 'U-mode';
    const state = !this.powered ? 'off' : this.error ? `stopped: ${this.error.cause} at ${hex(this.error.pc)}` : 'on';
    return `${mode}, ${state}`;
  }
}

/** executeSlow results: continue with the next instruction, do so after re-reading pc's page, or pc was set (trap/jump/stop). */
const SLOW_NEXT = 0;
const SLOW_NEXT_RELOAD = 1;
const SLOW_TRAP = 2;

function shiftRight(x32: Uint32Array, xi: Int32Array, d: number, s: number, sh: number, arith: boolean): void {
  const lo = x32[s * 2]!;
  const hi = xi[s * 2 + 1]!;
  if (sh === 0) {
    x32[d * 2] = lo;
    x32[d * 2 + 1] = hi;
  } else if (sh < 32) {
    x32[d * 2] = (lo >>> sh) | (hi << (32 - sh));
    x32[d * 2 + 1] = arith ? hi >> sh : hi >>> sh;
  } else {
    x32[d * 2] = arith ? hi >> (sh - 32) : hi >>> (sh - 32);
    x32[d * 2 + 1] = arith ? hi >> 31 : 0;
  }
}

/** Bytes a load or store op moves. */
function accessSize(op: number): number {
  return op === 16 /* Ld */ || op === 23 /* Sd */ ? 8 : op === 15 /* Lw */ || op === 19 /* Lwu */ || op === 22 /* Sw */ ? 4
    : op === 14 /* Lh */ || op === 18 /* Lhu */ || op === 21 /* Sh */ ? 2 : 1;
}

/** A misaligned load from RAM at byte offset `o`, if it fits in the `room` bytes left on its page. */
function loadBytes(x32: Uint32Array, xi: Int32Array, d: number, u8: Uint8Array, o: number, room: number, op: number): boolean {
  const size = accessSize(op);
  if (size > room) return false;
  const v = size === 2 ? u8[o]! | (u8[o + 1]! << 8) : u8[o]! | (u8[o + 1]! << 8) | (u8[o + 2]! << 16) | (u8[o + 3]! << 24);
  if (op === 16 /* Ld */) {
    x32[d * 2] = v;
    x32[d * 2 + 1] = u8[o + 4]! | (u8[o + 5]! << 8) | (u8[o + 6]! << 16) | (u8[o + 7]! << 24);
  } else if (op === 15 /* Lw */) setW(x32, xi, d, v);
  else if (op === 14 /* Lh */) setW(x32, xi, d, (v << 16) >> 16);
  else { x32[d * 2] = v; x32[d * 2 + 1] = 0; }
  return true;
}

/** A misaligned store of lo:hi to RAM at byte offset `o`, if it fits in the `room` bytes left on its page. */
function storeBytes(u8: Uint8Array, o: number, room: number, op: number, lo: number, hi: number): boolean {
  const size = accessSize(op);
  if (size > room) return false;
  for (let k = 0; k < size && k < 4; k++) u8[o + k] = lo >>> (8 * k);
  for (let k = 4; k < size; k++) u8[o + k] = hi >>> (8 * (k - 4));
  return true;
}

/**
 * Signed 64-bit x[a] < x[b], on 32-bit halves: V8 compares BigInts read from a BigInt64Array by
 * allocating them (some 40 ns and a heap object per branch), while it keeps arithmetic in int64.
 */
function lts(x32: Uint32Array, xi: Int32Array, a: number, b: number): boolean {
  const aHi = xi[a * 2 + 1]!, bHi = xi[b * 2 + 1]!;
  return aHi < bHi || (aHi === bHi && x32[a * 2]! < x32[b * 2]!);
}

/** Unsigned 64-bit x[a] < (bHi:bLo), on 32-bit halves. */
function ltu(x32: Uint32Array, a: number, bHi: number, bLo: number): boolean {
  const aHi = x32[a * 2 + 1]!;
  return aHi < bHi || (aHi === bHi && x32[a * 2]! < bLo);
}

function vaOf(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Writes a 32-bit result sign-extended to 64 bits. */
function setW(x32: Uint32Array, xi: Int32Array, d: number, v: number): void {
  x32[d * 2] = v;
  xi[d * 2 + 1] = v >> 31;
}

function div(a: bigint, b: bigint, signed: boolean, bits: 32 | 64): bigint {
  const ua = BigInt.asUintN(bits, a), ub = BigInt.asUintN(bits, b);
  if (ub === 0n) return 0xffffffffffffffffn;
  if (!signed) return BigInt.asIntN(32, ua / ub); // only the 32-bit form reaches here unsigned
  const sa = BigInt.asIntN(bits, a), sb = BigInt.asIntN(bits, b);
  return BigInt.asIntN(bits, sa / sb); // overflow (MIN / -1) wraps to MIN
}

function rem(a: bigint, b: bigint, signed: boolean, bits: 32 | 64): bigint {
  const ua = BigInt.asUintN(bits, a), ub = BigInt.asUintN(bits, b);
  if (ub === 0n) return BigInt.asIntN(bits, a);
  if (!signed) return BigInt.asIntN(32, ua % ub);
  const sa = BigInt.asIntN(bits, a), sb = BigInt.asIntN(bits, b);
  return BigInt.asIntN(bits, sa % sb);
}

export { SINK };
