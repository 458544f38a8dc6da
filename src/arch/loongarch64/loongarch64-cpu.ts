import { Stops, guestErrorStop, watchpointStop, type Cpu, type GuestErrorReport, type RunResult, type VcpuHost, type WatchKind } from '../cpu.js';
import type { Ram } from '../../machine/ram.js';
import { hex } from '../../machine/address-space.js';
import { decode, type Decoded } from './decode.js';
import {
  CRMD_DA, CRMD_IE, CRMD_PG, CRMD_PLV, CSR, CSR_WRITE_MASK, Ecode, ecodeName, ESTAT_IS_MASK, EUEN_FPE, IRQ_TIMER,
  LLBCTL_KLO, LLBCTL_WCLLB, PA_MASK, PRMD_PIE, SAVE_COUNT, TLBELO_MASK, TLBR, TLBRERA_ISTLBR,
} from './csr.js';
import { Access, Fault, translate, type MmuContext } from './mmu.js';
import { LoongArchTlb, STLB_SIZE, TLB_SIZE, va48Of } from './tlb.js';
import { executeFp, FpResult, type FpHost } from './fpu.js';
import { IdentificationIocsr, type IocsrSpace } from './iocsr.js';
import { executeLsx, LsxResult } from './lsx.js';
import { LA_BADV, LA_F0, LA_FCC0, LA_FCSR, LA_ORIG_A0, LA_PC, loongarch64GdbDescription } from './gdb-description.js';
import { HvisorError } from '../../util/hvisor-error.js';

const TLB_BITS = 10;
const TLB_SIZE_SOFT = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE_SOFT - 1;
/** Soft-TLB slots remembered for a cheap flush; more fills than this since the last flush clear every slot. */
const TLB_FILL_LOG = 256;
const TWO32 = 4294967296;
/** Instructions between checks of the timer inside `run`. */
const CHUNK = 8192;

/** Decoding is a pure function of the instruction bits: one cache, keyed by them, for every core. */
const DECODE_BITS = 14;
const DECODE_SIZE = 1 << DECODE_BITS;
const decodeKey = new Float64Array(DECODE_SIZE).fill(-1);
const decodeWord = new Int32Array(DECODE_SIZE);
const decodeImm = new Int32Array(DECODE_SIZE);
const decodeImmB = new BigInt64Array(DECODE_SIZE);

/** Masks of n low ones and shift amounts as BigInt constants, so bit-field operations allocate no BigInt. */
const ONES: bigint[] = Array.from({ length: 65 }, (_, n) => (1n << BigInt(n)) - 1n);
const SHIFT: bigint[] = Array.from({ length: 65 }, (_, n) => BigInt(n));
const MASK64 = 0xffff_ffff_ffff_ffffn;

/** Per-RAM-block typed views of this core. */
interface RamInfo {
  readonly ram: Ram;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i64: BigInt64Array;
}

interface Watchpoint {
  va: bigint;
  length: number;
  kind: WatchKind;
}

/** CPUCFG words of an LA464 (Loongson-3A5000) without LSX/LASX/LVZ/LBT, which this core does not implement. */
function cpucfgWords(timerFrequency: number): Uint32Array {
  const w = new Uint32Array(21);
  w[0] = 0x14c010; // PRID
  // ARCH=2 (LA64), PGMMU, IOCSR, PALEN-1=47, VALEN-1=47, UAL, RI, EP, RPLV, HP, IOCSR_BRD
  w[1] = 2 | (1 << 2) | (1 << 3) | (0x2f << 4) | (0x2f << 12) | (1 << 20) | (1 << 21) | (1 << 22) | (1 << 23) | (1 << 24) | (1 << 25);
  // FP, FP_SP, FP_DP, FP_ver=1, LSX (lsx.ts: Debian's userland is built with it), LLFTP, LLFTP_ver=1, LSPW, LAM
  w[2] = 1 | 2 | 4 | (1 << 3) | (1 << 6) | (1 << 14) | (1 << 15) | (1 << 21) | (1 << 22);
  w[3] = 0x0; // no coherent cache management hints
  w[4] = timerFrequency; // the constant timer's crystal frequency
  w[5] = 1 | (1 << 16); // CC_MUL = 1, CC_DIV = 1
  // Caches as QEMU's LA464 describes them (Linux sizes its cache_desc from these; zero reads as none):
  // L1 I and D, a unified private L2 and a unified inclusive L3.
  w[16] = 1 | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 10) | (1 << 11) | (1 << 13);
  const cache = (ways: number, setsLog2: number, lineLog2: number) => (ways - 1) | (setsLog2 << 16) | (lineLog2 << 24);
  w[17] = cache(4, 8, 6); // L1 I: 4 ways, 256 sets, 64-byte lines
  w[18] = cache(4, 8, 6); // L1 D
  w[19] = cache(16, 8, 6); // L2
  w[20] = cache(16, 14, 6); // L3
  return w;
}

/** A guest fault the guest cannot take (no exception entry set): the vCPU stops with this report. */
export class Loongarch64GuestError extends HvisorError {}

/**
 * One LA464 core running a vCPU of a zone at PLV0/PLV3 (the guest kernel's view of the LVZ guest
 * mode); the hypervisor side is TypeScript. Integer registers live in a BigUint64Array with 32-bit
 * views for address arithmetic (r0 writes go to the sink register 32); pc is kept as two 32-bit
 * halves. Memory is reached through small software TLBs over the architectural translation (DA,
 * DMW, the software-refilled TLB), which are dropped whenever anything translation depends on
 * changes.
 */
export class Loongarch64Cpu implements Cpu, FpHost {
  readonly arch = 'loongarch64' as const;
  readonly gdb = loongarch64GdbDescription;

  readonly x = new BigUint64Array(33);
  /** The same registers signed: V8 keeps BigInt arithmetic in machine int64 on this view. */
  readonly xs = new BigInt64Array(this.x.buffer);
  readonly x32 = new Uint32Array(this.x.buffer);
  readonly xi = new Int32Array(this.x.buffer);
  readonly fb = new BigUint64Array(32);
  /** Bits 127..64 of the LSX vector registers (bits 63..0 are the FPRs). */
  readonly vhi = new BigUint64Array(32);
  readonly fu32 = new Uint32Array(this.fb.buffer);
  readonly fcc = new Uint8Array(8);
  fcsr = 0;

  /** CSR storage, indexed by CSR number; CRMD, ESTAT, TVAL, PGD, LLBCTL and ASID are kept in step by the core. */
  readonly csr = new BigUint64Array(0x600);
  readonly tlb = new LoongArchTlb();
  readonly mmu: MmuContext = {
    direct: true, plv: 0, dmwPlv: new Uint8Array(4), dmwVseg: new Uint8Array(4), asid: 0, stlbps: 0, tlb: this.tlb,
  };
  readonly iocsr: IocsrSpace;
  private readonly cpucfg: Uint32Array;

  powered = false;
  pcLo = 0;
  pcHi = 0;
  private retiredCount = 0;
  /** ESTAT.IS bits 2..12 driven by interrupt lines (HWI0-7, IPI). */
  private lineLevels = 0;
  /** The constant timer: deadline in host ticks (Infinity when off) and the reload for periodic mode. */
  private timerDeadline = Infinity;
  private timerPeriod = 0;
  /** LLbit: set by ll, cleared by sc, ertn (unless LLBCTL.KLO) and LLBCTL.WCLLB. */
  private llbit = false;
  private irqDirty = true;
  /** The current run is a debugger single step (interrupts wait unless interruptsInSteps). */
  private stepping = false;
  interruptsInSteps = false;
  private waiting = false;
  private stopReason: RunResult | undefined;
  private error: GuestErrorReport | undefined;
  private readonly breakpoints = new Set<bigint>();
  private readonly watchpoints: Watchpoint[] = [];
  private trapsInChunk = 0;
  /** The raw bits of the instruction being executed (for BADI). */
  private inst = 0;

  // Software TLBs: key = (va >> 12) * 4 + PLV; NaN = empty.
  private readonly tlbXKey = new Float64Array(TLB_SIZE_SOFT).fill(NaN);
  private readonly tlbXOff = new Uint32Array(TLB_SIZE_SOFT);
  private readonly tlbXInfo: (RamInfo | undefined)[] = new Array(TLB_SIZE_SOFT).fill(undefined);
  private readonly tlbRKey = new Float64Array(TLB_SIZE_SOFT).fill(NaN);
  private readonly tlbROff = new Uint32Array(TLB_SIZE_SOFT);
  private readonly tlbRInfo: (RamInfo | undefined)[] = new Array(TLB_SIZE_SOFT).fill(undefined);
  private readonly tlbWKey = new Float64Array(TLB_SIZE_SOFT).fill(NaN);
  private readonly tlbWOff = new Uint32Array(TLB_SIZE_SOFT);
  private readonly tlbWInfo: (RamInfo | undefined)[] = new Array(TLB_SIZE_SOFT).fill(undefined);
  private readonly tlbFilled = new Int32Array(TLB_FILL_LOG);
  private tlbFillCount = 0;
  private readonly ramInfos = new Map<Ram, RamInfo>();
  private readonly scratch: Decoded = { word: 0, imm: 0 };

  constructor(
    readonly host: VcpuHost,
    readonly index: number,
    readonly physicalId: number = index,
    iocsr?: IocsrSpace,
    /** The core number the guest reads in CPUID (a zone's vCPU index in the hypervisor role, as LVZ's GCSR.CPUID). */
    readonly coreId: number = physicalId,
  ) {
    this.iocsr = iocsr ?? new IdentificationIocsr();
    this.cpucfg = cpucfgWords(host.timerFrequency);
  }

  get retired(): number {
    return this.retiredCount;
  }

  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  set pc(value: bigint) {
    this.pcLo = Number(value & 0xffffffffn);
    this.pcHi = Number(BigInt.asIntN(32, value >> 32n));
  }

  get plv(): number {
    return this.mmu.plv;
  }

  reg(n: number): bigint {
    return n === 0 ? 0n : this.x[n]!;
  }

  setReg(n: number, value: bigint): void {
    if (n !== 0 && n < 32) this.x[n] = value;
  }

  /** Power-on state (as the LA464 resets): PLV0, direct address mode, interrupts off; a0.. from args. */
  reset(entry: bigint, args: readonly bigint[]): void {
    this.x.fill(0n);
    this.fb.fill(0n);
    this.vhi.fill(0n);
    this.fcc.fill(0);
    this.fcsr = 0;
    args.forEach((a, i) => {
      if (i < 8) this.x[4 + i] = a;
    });
    this.pc = entry;
    this.csr.fill(0n);
    this.csr[CSR.CRMD] = BigInt(CRMD_DA | (1 << 5) | (1 << 7)); // DA, DATF = DATM = 1 (coherent cached)
    this.csr[CSR.ASID] = 0xa0000n; // ASIDBITS = 10
    this.csr[CSR.CPUID] = BigInt(this.coreId);
    this.csr[CSR.TID] = BigInt(this.coreId);
    this.csr[CSR.PRCFG1] = BigInt(8 | (47 << 4) | (7 << 12)); // SAVENum 8, TimerBits 48, VSMax 7
    this.csr[CSR.PRCFG2] = 0x3ffff000n; // page sizes 4 KiB .. 1 GiB
    this.csr[CSR.PRCFG3] = 0x8073f2n; // TLB type 2: 64-entry MTLB, STLB 8 ways x 256 sets
    this.tlb.reset();
    this.lineLevels = 0;
    this.timerDeadline = Infinity;
    this.timerPeriod = 0;
    this.llbit = false;
    this.error = undefined;
    this.stopReason = undefined;
    this.waiting = false;
    this.refreshMmu();
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

  /** Latches ESTAT.TI when the constant timer reaches zero, reloading it in periodic mode. */
  private pollTimer(): void {
    const now = this.host.now();
    if (now < this.timerDeadline) return;
    this.csr[CSR.ESTAT] |= 1n << BigInt(IRQ_TIMER);
    this.irqDirty = true;
    if (this.timerPeriod > 0) {
      const periods = Math.floor((now - this.timerDeadline) / this.timerPeriod) + 1;
      this.timerDeadline += periods * this.timerPeriod;
    } else {
      // A one-shot timer stops: TCFG.En reads 0 again (as QEMU models the LA464).
      this.timerDeadline = Infinity;
      this.csr[CSR.TCFG] &= ~1n;
    }
  }

  /** ESTAT.IS & ECFG.LIE. */
  private pendingInterrupts(): number {
    const is = (Number(this.csr[CSR.ESTAT]! & 0x1fffn) | this.lineLevels) & ESTAT_IS_MASK;
    return is & Number(this.csr[CSR.ECFG]! & 0x1fffn);
  }

  private wakeable(): boolean {
    this.pollTimer();
    return this.pendingInterrupts() !== 0;
  }

  /** Takes the highest-numbered pending enabled interrupt when CRMD.IE is set. */
  private takeInterrupt(): boolean {
    if ((Number(this.csr[CSR.CRMD]!) & CRMD_IE) === 0) return false;
    const pending = this.pendingInterrupts();
    if (pending === 0) return false;
    this.enterException(Ecode.INT, 31 - Math.clz32(pending), 0, undefined);
    return true;
  }

  setInterrupt(line: number, level: boolean): void {
    if (line < 2 || line > 12 || line === 10 || line === IRQ_TIMER) return;
    if (level) this.lineLevels |= 1 << line;
    else this.lineLevels &= ~(1 << line);
    this.irqDirty = true;
  }

  nextTimerDeadline(): number {
    return this.timerDeadline;
  }

  private writeTcfg(v: bigint): void {
    this.csr[CSR.TCFG] = v & 0xffff_ffff_ffffn;
    const ticks = Number(v & 0xffff_ffff_fffcn);
    if ((v & 1n) !== 0n) {
      this.timerDeadline = this.host.now() + ticks;
      this.timerPeriod = (v & 2n) !== 0n ? ticks : 0;
    } else {
      this.timerDeadline = Infinity;
      this.timerPeriod = 0;
    }
    this.irqDirty = true;
  }

  /** TVAL: ticks left until the timer fires (0 once a one-shot timer has fired or when it is off). */
  private readTval(): bigint {
    if (this.timerDeadline === Infinity) return 0n;
    return BigInt(Math.max(0, Math.ceil(this.timerDeadline - this.host.now())));
  }

  /** The stable counter (rdtime): host ticks plus CNTC. */
  private counter(): bigint {
    return BigInt.asUintN(64, BigInt(Math.floor(this.host.now())) + this.csr[CSR.CNTC]!);
  }

  powerOff(): void {
    this.powered = false;
  }

  /**
   * The interpreter: runs up to `limit` instructions (exception and interrupt entries count as one);
   * returns how many. Leaves early when stopReason is set.
   */
  private execute(limit: number): number {
    const x = this.xs, xu = this.x, x32 = this.x32, xi = this.xi;
    const tlbXKey = this.tlbXKey, tlbXOff = this.tlbXOff, tlbXInfo = this.tlbXInfo;
    const tlbRKey = this.tlbRKey, tlbROff = this.tlbROff, tlbRInfo = this.tlbRInfo;
    const tlbWKey = this.tlbWKey, tlbWOff = this.tlbWOff, tlbWInfo = this.tlbWInfo;
    let count = 0;
    this.trapsInChunk = 0;
    while (count < limit && this.stopReason === undefined) {
      count++;
      if (this.irqDirty && (!this.stepping || this.interruptsInSteps)) {
        this.irqDirty = false;
        if (this.takeInterrupt()) { this.trapsInChunk++; continue; }
      }
      const lo = this.pcLo, hi = this.pcHi;
      const plv = this.mmu.plv;
      if ((lo & 3) !== 0) { this.addressError(true, this.pc); continue; }
      const t = (lo >>> 12) & TLB_MASK;
      const key = (hi * 1048576 + (lo >>> 12)) * 4 + plv;
      if (tlbXKey[t] !== key && !this.fillFetch(t, key, hi, lo)) continue;
      const raw = tlbXInfo[t]!.u32[(tlbXOff[t]! + (lo & 0xfff)) >>> 2]!;
      const h = Math.imul(raw, 0x9e3779b1) >>> (32 - DECODE_BITS);
      if (decodeKey[h] !== raw) {
        decode(raw, this.scratch);
        decodeKey[h] = raw;
        decodeWord[h] = this.scratch.word;
        decodeImm[h] = this.scratch.imm;
        decodeImmB[h] = BigInt(this.scratch.imm);
      }
      const word = decodeWord[h]!;
      const imm = decodeImm[h]!;
      const d = (word >>> 8) & 63, j = (word >>> 14) & 63, k = (word >>> 20) & 63;
      let nextLo = lo + 4, nextHi = hi;
      if (nextLo >= TWO32) { nextLo -= TWO32; nextHi = (nextHi + 1) | 0; }
      switch (word & 0xff) {
        case 2 /* AddW */: setW(x32, xi, d, (x32[j * 2]! + x32[k * 2]!) | 0); break;
        case 3 /* AddD */: x[d] = x[j]! + x[k]!; break;
        case 4 /* SubW */: setW(x32, xi, d, (x32[j * 2]! - x32[k * 2]!) | 0); break;
        case 5 /* SubD */: x[d] = x[j]! - x[k]!; break;
        case 6 /* Slt */: x[d] = x[j]! < x[k]! ? 1n : 0n; break;
        case 7 /* Sltu */: x[d] = xu[j]! < xu[k]! ? 1n : 0n; break;
        case 8 /* Nor */: x[d] = ~(x[j]! | x[k]!); break;
        case 9 /* And */: x[d] = x[j]! & x[k]!; break;
        case 10 /* Or */: x[d] = x[j]! | x[k]!; break;
        case 11 /* Xor */: x[d] = x[j]! ^ x[k]!; break;
        case 12 /* Orn */: x[d] = x[j]! | ~x[k]!; break;
        case 13 /* Andn */: x[d] = x[j]! & ~x[k]!; break;
        case 14 /* MaskEqz */: x[d] = x[k] === 0n ? 0n : x[j]!; break;
        case 15 /* MaskNez */: x[d] = x[k] !== 0n ? 0n : x[j]!; break;
        case 16 /* SllW */: setW(x32, xi, d, x32[j * 2]! << (x32[k * 2]! & 31)); break;
        case 17 /* SrlW */: setW(x32, xi, d, x32[j * 2]! >>> (x32[k * 2]! & 31)); break;
        case 18 /* SraW */: setW(x32, xi, d, xi[j * 2]! >> (x32[k * 2]! & 31)); break;
        case 19 /* SllD */: shiftLeft(x32, d, j, x32[k * 2]! & 63); break;
        case 20 /* SrlD */: shiftRight(x32, xi, d, j, x32[k * 2]! & 63, false); break;
        case 21 /* SraD */: shiftRight(x32, xi, d, j, x32[k * 2]! & 63, true); break;
        case 22 /* RotrW */: { const v = x32[j * 2]!, s = x32[k * 2]! & 31; setW(x32, xi, d, (v >>> s) | (v << (32 - s))); break; }
        case 23 /* RotrD */: rotateRight(x32, d, j, x32[k * 2]! & 63); break;
        case 24 /* MulW */: setW(x32, xi, d, Math.imul(x32[j * 2]!, x32[k * 2]!)); break;
        case 27 /* MulD */: x[d] = x[j]! * x[k]!; break;
        case 45 /* AddiW */: setW(x32, xi, d, (x32[j * 2]! + imm) | 0); break;
        case 46 /* AddiD */: x[d] = x[j]! + decodeImmB[h]!; break;
        case 51 /* Addu16iD */: x[d] = x[j]! + decodeImmB[h]!; break;
        case 48 /* Andi */: x[d] = x[j]! & decodeImmB[h]!; break;
        case 49 /* Ori */: x[d] = x[j]! | decodeImmB[h]!; break;
        case 50 /* Xori */: x[d] = x[j]! ^ decodeImmB[h]!; break;
        case 43 /* Slti */: x[d] = x[j]! < decodeImmB[h]! ? 1n : 0n; break;
        case 44 /* Sltui */: x[d] = ltu(x32, j, imm < 0 ? 0xffffffff : 0, imm >>> 0) ? 1n : 0n; break;
        case 52 /* Lu12iW */: setW(x32, xi, d, imm << 12); break;
        case 53 /* Lu32iD */: x32[d * 2 + 1] = imm; break;
        case 47 /* Lu52iD */: x32[d * 2] = x32[j * 2]!; x32[d * 2 + 1] = (x32[j * 2 + 1]! & 0xfffff) | (imm << 20); break;
        case 54 /* Pcaddi */: addToPc(x32, d, lo, hi, imm * 4); break;
        case 56 /* Pcaddu12i */: addToPc(x32, d, lo, hi, imm * 4096); break;
        case 57 /* Pcaddu18i */: addToPc(x32, d, lo, hi, imm * 262144); break;
        case 55 /* Pcalau12i */: addToPc(x32, d, lo - (lo & 0xfff), hi, imm * 4096); break;
        case 58 /* SlliW */: setW(x32, xi, d, x32[j * 2]! << imm); break;
        case 60 /* SrliW */: setW(x32, xi, d, x32[j * 2]! >>> imm); break;
        case 62 /* SraiW */: setW(x32, xi, d, xi[j * 2]! >> imm); break;
        case 64 /* RotriW */: { const v = x32[j * 2]!; setW(x32, xi, d, (v >>> imm) | (v << (32 - imm))); break; }
        case 59 /* SlliD */: shiftLeft(x32, d, j, imm); break;
        case 61 /* SrliD */: shiftRight(x32, xi, d, j, imm, false); break;
        case 63 /* SraiD */: shiftRight(x32, xi, d, j, imm, true); break;
        case 65 /* RotriD */: rotateRight(x32, d, j, imm); break;
        case 72 /* BstrpickD */: bitFieldExtract(x32, xi, d, j, imm >> 8, imm & 0xff); break;
        case 71 /* BstrinsD */: if (d !== 0) bitFieldInsert(x32, d, j, imm >> 8, imm & 0xff); break;
        case 70 /* BstrpickW */: {
          const msb = imm >> 8, lsb = imm & 0xff;
          const width = msb - lsb + 1;
          const v = width === 32 ? x32[j * 2]! : (x32[j * 2]! >>> lsb) & ((1 << width) - 1);
          setW(x32, xi, d, v | 0);
          break;
        }
        case 69 /* BstrinsW */: {
          const msb = imm >> 8, lsb = imm & 0xff;
          const width = msb - lsb + 1;
          const field = width === 32 ? 0xffffffff : ((1 << width) - 1) << lsb;
          if (d !== 0) setW(x32, xi, d, ((x32[d * 2]! & ~field) | ((x32[j * 2]! << lsb) & field)) | 0);
          break;
        }
        case 107 /* Beqz */: if (x[j] === 0n) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 108 /* Bnez */: if (x[j] !== 0n) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 114 /* Beq */: if (x[j] === x[d]) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 115 /* Bne */: if (x[j] !== x[d]) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 116 /* Blt */: if (x[j]! < x[d]!) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 117 /* Bge */: if (x[j]! >= x[d]!) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 118 /* Bltu */: if (xu[j]! < xu[d]!) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 119 /* Bgeu */: if (xu[j]! >= xu[d]!) { this.jumpRelative(lo, hi, imm); continue; } break;
        case 112 /* B */: this.jumpRelative(lo, hi, imm); continue;
        case 113 /* Bl */: x32[2] = nextLo; xi[3] = nextHi; this.jumpRelative(lo, hi, imm); continue;
        case 111 /* Jirl */: {
          let tlo = x32[j * 2]! + imm, thi = xi[j * 2 + 1]!;
          if (tlo >= TWO32) { tlo -= TWO32; thi = (thi + 1) | 0; } else if (tlo < 0) { tlo += TWO32; thi = (thi - 1) | 0; }
          x32[d * 2] = nextLo; xi[d * 2 + 1] = nextHi;
          this.pcLo = tlo; this.pcHi = thi;
          continue;
        }
        case 73 /* LdB */: case 74 /* LdH */: case 75 /* LdW */: case 76 /* LdD */: case 77 /* LdBu */: case 78 /* LdHu */: case 79 /* LdWu */:
        case 84 /* LdxB */: case 85 /* LdxH */: case 86 /* LdxW */: case 87 /* LdxD */: case 88 /* LdxBu */: case 89 /* LdxHu */: case 90 /* LdxWu */: {
          const op = word & 0xff;
          const indexed = op >= 84 /* LdxB */;
          let alo = x32[j * 2]! + (indexed ? x32[k * 2]! : imm);
          let ahi = xi[j * 2 + 1]! + (indexed ? xi[k * 2 + 1]! : 0); // a negative imm borrows below
          if (alo >= TWO32) { alo -= TWO32; ahi++; } else if (alo < 0) { alo += TWO32; ahi--; }
          ahi |= 0;
          const kind = indexed ? op - 84 /* LdxB */ : op - 73 /* LdB */;
          const tt = (alo >>> 12) & TLB_MASK;
          if (tlbRKey[tt] === (ahi * 1048576 + (alo >>> 12)) * 4 + plv) {
            const info = tlbRInfo[tt]!;
            const o = tlbROff[tt]! + (alo & 0xfff);
            if (kind === 3) { if ((o & 7) === 0) { x[d] = info.i64[o >>> 3]!; break; } }
            else if (kind === 2) { if ((o & 3) === 0) { setW(x32, xi, d, info.u32[o >>> 2]! | 0); break; } }
            else if (kind === 6) { if ((o & 3) === 0) { x32[d * 2] = info.u32[o >>> 2]!; x32[d * 2 + 1] = 0; break; } }
            else if (kind === 4) { x32[d * 2] = info.u8[o]!; x32[d * 2 + 1] = 0; break; }
            else if (kind === 0) { setW(x32, xi, d, (info.u8[o]! << 24) >> 24); break; }
            else if (kind === 5) { if ((o & 1) === 0) { x32[d * 2] = info.u16[o >>> 1]!; x32[d * 2 + 1] = 0; break; } }
            else if ((o & 1) === 0) { setW(x32, xi, d, (info.u16[o >>> 1]! << 16) >> 16); break; }
          }
          this.pcLo = lo; this.pcHi = hi; this.inst = raw;
          if (!this.loadSlow(kind, d, ahi, alo)) continue;
          break;
        }
        case 80 /* StB */: case 81 /* StH */: case 82 /* StW */: case 83 /* StD */: case 91 /* StxB */: case 92 /* StxH */: case 93 /* StxW */: case 94 /* StxD */: {
          const op = word & 0xff;
          const indexed = op >= 91 /* StxB */;
          let alo = x32[j * 2]! + (indexed ? x32[k * 2]! : imm);
          let ahi = xi[j * 2 + 1]! + (indexed ? xi[k * 2 + 1]! : 0); // a negative imm borrows below
          if (alo >= TWO32) { alo -= TWO32; ahi++; } else if (alo < 0) { alo += TWO32; ahi--; }
          ahi |= 0;
          const size = indexed ? op - 91 /* StxB */ : op - 80 /* StB */; // log2
          const tt = (alo >>> 12) & TLB_MASK;
          if (tlbWKey[tt] === (ahi * 1048576 + (alo >>> 12)) * 4 + plv) {
            const info = tlbWInfo[tt]!;
            const o = tlbWOff[tt]! + (alo & 0xfff);
            if (size === 3) { if ((o & 7) === 0) { info.i64[o >>> 3] = x[d]!; break; } }
            else if (size === 2) { if ((o & 3) === 0) { info.u32[o >>> 2] = x32[d * 2]!; break; } }
            else if (size === 0) { info.u8[o] = x32[d * 2]!; break; }
            else if ((o & 1) === 0) { info.u16[o >>> 1] = x32[d * 2]!; break; }
          }
          this.pcLo = lo; this.pcHi = hi; this.inst = raw;
          if (!this.storeSlow(size, d, ahi, alo)) continue;
          break;
        }
        case 95 /* Nop */: break;
        default: {
          this.pcLo = lo; this.pcHi = hi; this.inst = raw;
          if (!this.executeSlow(word, imm, decodeImmB[h]!, d, j, k)) continue;
        }
      }
      this.pcLo = nextLo;
      this.pcHi = nextHi;
    }
    this.retiredCount += count - this.trapsInChunk;
    return count;
  }

  private jumpRelative(lo: number, hi: number, offset: number): void {
    let tlo = lo + offset;
    let thi = hi;
    if (tlo >= TWO32) { tlo -= TWO32; thi = (thi + 1) | 0; } else if (tlo < 0) { tlo += TWO32; thi = (thi - 1) | 0; }
    this.pcLo = tlo;
    this.pcHi = thi;
  }

  // ------------------------------------------------------------------------------------------------
  // Translation and the software TLBs

  private ramInfo(ram: Ram): RamInfo {
    let info = this.ramInfos.get(ram);
    if (info === undefined) {
      info = { ram, u8: ram.u8, u16: ram.u16, u32: ram.u32, i64: new BigInt64Array(ram.buffer) };
      this.ramInfos.set(ram, info);
    }
    return info;
  }

  private pageInfo: RamInfo | undefined;

  /** Page-aligned RAM offset of the physical page holding `pa` (its block in pageInfo), or -1. */
  private ramPageOffset(pa: number): number {
    const r = this.host.memory.find(pa);
    if (r === undefined || r.kind !== 'ram') return -1;
    const pagePa = pa - (pa % 4096);
    if (pagePa < r.base || pagePa + 4096 > r.base + r.size) return -1;
    const offset = pagePa - r.base + r.ramOffset;
    if (offset % 4096 !== 0) return -1;
    this.pageInfo = this.ramInfo(r.ram);
    return offset;
  }

  /** Recomputes the translation context from CRMD, DMW0-3, ASID and STLBPS and drops the software TLBs. */
  refreshMmu(): void {
    const crmd = Number(this.csr[CSR.CRMD]! & 0x3ffn);
    const m = this.mmu;
    m.plv = crmd & CRMD_PLV;
    m.direct = (crmd & CRMD_DA) !== 0 && (crmd & CRMD_PG) === 0;
    for (let w = 0; w < 4; w++) {
      const v = this.csr[CSR.DMW0 + w]!;
      m.dmwPlv[w] = Number(v & 0xfn);
      m.dmwVseg[w] = Number(v >> 60n);
    }
    m.asid = Number(this.csr[CSR.ASID]! & 0x3ffn);
    m.stlbps = Number(this.csr[CSR.STLBPS]! & 0x3fn);
    this.dropTlb();
  }

  private dropTlb(): void {
    const n = this.tlbFillCount;
    if (n > TLB_FILL_LOG) {
      this.tlbXKey.fill(NaN);
      this.tlbRKey.fill(NaN);
      this.tlbWKey.fill(NaN);
    } else {
      for (let i = 0; i < n; i++) {
        const t = this.tlbFilled[i]!;
        this.tlbXKey[t] = this.tlbRKey[t] = this.tlbWKey[t] = NaN;
      }
    }
    this.tlbFillCount = 0;
  }

  private noteTlbFill(t: number): void {
    if (this.tlbFillCount < TLB_FILL_LOG) this.tlbFilled[this.tlbFillCount] = t;
    this.tlbFillCount++;
  }

  /** Translates pc for a fetch and caches its RAM page; takes the exception and returns false on failure. */
  private fillFetch(t: number, key: number, hi: number, lo: number): boolean {
    const pa = translate(this.mmu, hi, lo, Access.Fetch);
    if (pa < 0) {
      this.inst = 0;
      this.translationFault(pa, Access.Fetch, vaOf(hi, lo));
      return false;
    }
    const offset = this.ramPageOffset(pa);
    if (offset < 0) {
      this.addressError(true, vaOf(hi, lo));
      return false;
    }
    this.tlbXKey[t] = key;
    this.tlbXOff[t] = offset;
    this.tlbXInfo[t] = this.pageInfo;
    this.noteTlbFill(t);
    return true;
  }

  /** Caches a RAM page for data accesses; returns its RAM offset (block in pageInfo) or -1 (not RAM). */
  private fillDataTlb(hi: number, lo: number, pa: number, store: boolean): number {
    const offset = this.ramPageOffset(pa);
    if (offset < 0 || this.watchpoints.length > 0) return offset;
    const t = (lo >>> 12) & TLB_MASK;
    const key = (hi * 1048576 + (lo >>> 12)) * 4 + this.mmu.plv;
    if (store) {
      this.tlbWKey[t] = key; this.tlbWOff[t] = offset; this.tlbWInfo[t] = this.pageInfo;
    } else {
      this.tlbRKey[t] = key; this.tlbROff[t] = offset; this.tlbRInfo[t] = this.pageInfo;
    }
    this.noteTlbFill(t);
    return offset;
  }

  /** Translates a data access of `size` bytes; returns the physical address or -1 after taking the fault. */
  translateData(va: bigint, access: Access.Load | Access.Store): number {
    const hi = Number(BigInt.asIntN(32, va >> 32n)), lo = Number(va & 0xffffffffn);
    const pa = translate(this.mmu, hi, lo, access);
    if (pa >= 0) return pa;
    this.translationFault(pa, access, va);
    return -1;
  }

  private watch(va: bigint, size: number, store: boolean): boolean {
    for (const wp of this.watchpoints) {
      if (va < wp.va + BigInt(wp.length) && wp.va < va + BigInt(size)) {
        if (wp.kind === 'access' || (wp.kind === 'write') === store) {
          this.stopReason = watchpointStop({ kind: wp.kind, address: va });
          return true;
        }
      }
    }
    return false;
  }

  /** Reads `size` bytes at a virtual address (any alignment); undefined after a fault or watchpoint stop. */
  readVirtual(va: bigint, size: 1 | 2 | 4 | 8, fillTlb: boolean): bigint | undefined {
    if (this.watchpoints.length > 0 && this.watch(va, size, false)) return undefined;
    if ((va & 0xfffn) + BigInt(size) > 4096n || (va & BigInt(size - 1)) !== 0n) {
      let v = 0n;
      for (let i = 0; i < size; i++) {
        const b = this.readVirtual((va + BigInt(i)) & MASK64, 1, false);
        if (b === undefined) return undefined;
        v |= b << BigInt(8 * i);
      }
      return v;
    }
    const pa = this.translateData(va, Access.Load);
    if (pa < 0) return undefined;
    const v = this.host.memory.read(pa, size);
    if (v === undefined) {
      this.addressError(false, va);
      return undefined;
    }
    if (fillTlb) this.fillDataTlb(Number(BigInt.asIntN(32, va >> 32n)), Number(va & 0xffffffffn), pa, false);
    return v;
  }

  /** Writes at a virtual address (any alignment); false after a fault or watchpoint stop. */
  writeVirtual(va: bigint, size: 1 | 2 | 4 | 8, value: bigint, fillTlb: boolean): boolean {
    if (this.watchpoints.length > 0 && this.watch(va, size, true)) return false;
    if ((va & 0xfffn) + BigInt(size) > 4096n || (va & BigInt(size - 1)) !== 0n) {
      // Translate every byte first so that a fault leaves memory untouched.
      for (let i = 0; i < size; i++) if (this.translateData((va + BigInt(i)) & MASK64, Access.Store) < 0) return false;
      for (let i = 0; i < size; i++) {
        if (!this.writeVirtual((va + BigInt(i)) & MASK64, 1, (value >> BigInt(8 * i)) & 0xffn, false)) return false;
      }
      return true;
    }
    const pa = this.translateData(va, Access.Store);
    if (pa < 0) return false;
    if (!this.host.memory.write(pa, size, BigInt.asUintN(size * 8, value))) {
      this.addressError(false, va);
      return false;
    }
    if (fillTlb) this.fillDataTlb(Number(BigInt.asIntN(32, va >> 32n)), Number(va & 0xffffffffn), pa, true);
    return true;
  }

  private loadSlow(kind: number, d: number, hi: number, lo: number): boolean {
    const size = (kind === 3 ? 8 : kind === 2 || kind === 6 ? 4 : kind === 1 || kind === 5 ? 2 : 1) as 1 | 2 | 4 | 8;
    const v = this.readVirtual(vaOf(hi, lo), size, true);
    if (v === undefined) return false;
    if (d === 0 || d === 32) return true;
    switch (kind) {
      case 0: this.x[d] = BigInt.asUintN(64, BigInt.asIntN(8, v)); break;
      case 1: this.x[d] = BigInt.asUintN(64, BigInt.asIntN(16, v)); break;
      case 2: this.x[d] = BigInt.asUintN(64, BigInt.asIntN(32, v)); break;
      default: this.x[d] = v;
    }
    return true;
  }

  private storeSlow(sizeLog2: number, s: number, hi: number, lo: number): boolean {
    const size = (1 << sizeLog2) as 1 | 2 | 4 | 8;
    return this.writeVirtual(vaOf(hi, lo), size, BigInt.asUintN(size * 8, this.reg(s)), true);
  }

  // ------------------------------------------------------------------------------------------------
  // Exceptions

  /** A translation fault as its exception (TLB refill for a missing entry). */
  private translationFault(fault: number, access: Access, va: bigint): void {
    if (fault === Fault.BadAddress) { this.addressError(access === Access.Fetch, va); return; }
    if (fault === Fault.NoMatch) { this.enterException(TLBR, access === Access.Fetch ? 1 : 0, 0, va); return; }
    const ecode = fault === Fault.Invalid ? (access === Access.Load ? Ecode.PIL : access === Access.Store ? Ecode.PIS : Ecode.PIF)
      : fault === Fault.Dirty ? Ecode.PME : fault === Fault.ReadInhibit ? Ecode.PNR
        : fault === Fault.ExecuteInhibit ? Ecode.PNX : Ecode.PPI;
    // The faulting VA's page pair goes to TLBEHI for the handler's tlbsrch.
    this.csr[CSR.TLBEHI] = va & 0xffff_ffff_ffff_e000n;
    this.enterException(ecode, access === Access.Fetch ? 1 : 0, 0, va);
  }

  /** ADE: ADEF (fetch, subcode 0) or ADEM (data, subcode 1). */
  private addressError(fetch: boolean, va: bigint): void {
    this.enterException(Ecode.ADE, fetch ? 1 : 0, fetch ? 0 : 1, va);
  }

  /** Takes a synchronous exception at the current pc (`fetch` 1 when it came from instruction fetch). */
  exception(ecode: number, badv?: bigint): void {
    this.enterException(ecode, 0, 0, badv);
  }

  /**
   * Exception and interrupt entry (vol. 1, 6.2): PRMD (or TLBRPRMD) saves PLV/IE, CRMD goes to PLV0
   * with interrupts off, ERA (TLBRERA) keeps pc; a TLB refill also switches to direct addressing and
   * enters at TLBRENTRY. `detail` is the fetch flag for synchronous ones and the interrupt number for
   * interrupts.
   */
  private enterException(ecode: number, fetchOrIrq: number, subcode: number, badv: bigint | undefined): void {
    const crmd = Number(this.csr[CSR.CRMD]!);
    const pc = this.pc;
    const interrupt = ecode === Ecode.INT;
    if (!interrupt) this.trapsInChunk++;
    // (Each branch reads its entry CSR itself: V8 20's TurboFan fails on a phi of two BigUint64Array
    // loads that feeds 64-bit arithmetic.)
    if ((ecode === TLBR ? this.csr[CSR.TLBRENTRY] === 0n : this.csr[CSR.EENTRY] === 0n) && !interrupt) {
      this.error = { pc, cause: ecodeName(ecode), address: badv };
      this.stopReason = guestErrorStop(this.error);
      return;
    }
    const fetch = !interrupt && fetchOrIrq === 1;
    if (!interrupt && !fetch) this.csr[CSR.BADI] = BigInt(this.inst >>> 0);
    if (ecode === TLBR) {
      this.csr[CSR.TLBRPRMD] = (this.csr[CSR.TLBRPRMD]! & ~7n) | BigInt(crmd & 7);
      this.csr[CSR.TLBRERA] = (pc & ~3n) | TLBRERA_ISTLBR;
      this.csr[CSR.TLBRBADV] = badv!;
      this.csr[CSR.TLBREHI] = (this.csr[CSR.TLBREHI]! & 0x3fn) | (badv! & 0xffff_ffff_e000n);
      this.csr[CSR.CRMD] = BigInt((crmd & ~(CRMD_PLV | CRMD_IE | CRMD_PG)) | CRMD_DA);
      this.pc = this.csr[CSR.TLBRENTRY]!;
    } else {
      // LA464 (as QEMU models it) also records pc in BADV for these.
      if (ecode === Ecode.SYS || ecode === Ecode.BRK || ecode === Ecode.INE || ecode === Ecode.IPE || ecode === Ecode.FPD
        || ecode === Ecode.FPE) this.csr[CSR.BADV] = pc;
      else if (badv !== undefined) this.csr[CSR.BADV] = badv;
      this.csr[CSR.ESTAT] = (this.csr[CSR.ESTAT]! & ~(0x7fffn << 16n)) | (BigInt(ecode) << 16n) | (BigInt(subcode) << 22n);
      this.csr[CSR.PRMD] = (this.csr[CSR.PRMD]! & ~7n) | BigInt(crmd & 7);
      this.csr[CSR.ERA] = pc;
      this.csr[CSR.CRMD] = BigInt(crmd & ~(CRMD_PLV | CRMD_IE));
      const vs = Number((this.csr[CSR.ECFG]! >> 16n) & 7n);
      const vector = interrupt ? 64 + fetchOrIrq : ecode;
      this.pc = this.csr[CSR.EENTRY]! + BigInt(vs === 0 ? 0 : vector * (4 << vs));
    }
    this.refreshMmu();
  }

  // ------------------------------------------------------------------------------------------------
  // The rarer instructions: returns false when pc was set (exception, jump, stop).

  private executeSlow(word: number, imm: number, immB: bigint, d: number, j: number, k: number): boolean {
    const xu = this.x, x = this.xs;
    const op = word & 0xff;
    switch (op) {
      case 25 /* MulhW */: xu[d] = BigInt.asUintN(64, (BigInt.asIntN(32, x[j]!) * BigInt.asIntN(32, x[k]!)) >> 32n); return true;
      case 26 /* MulhWu */: xu[d] = BigInt.asUintN(64, BigInt.asIntN(32, (BigInt.asUintN(32, xu[j]!) * BigInt.asUintN(32, xu[k]!)) >> 32n)); return true;
      case 28 /* MulhD */: xu[d] = BigInt.asUintN(64, (x[j]! * x[k]!) >> 64n); return true;
      case 29 /* MulhDu */: xu[d] = (xu[j]! * xu[k]!) >> 64n; return true;
      case 30 /* MulwDW */: x[d] = BigInt.asIntN(32, x[j]!) * BigInt.asIntN(32, x[k]!); return true;
      case 31 /* MulwDWu */: xu[d] = BigInt.asUintN(32, xu[j]!) * BigInt.asUintN(32, xu[k]!); return true;
      case 32 /* DivW */: case 33 /* ModW */: case 34 /* DivWu */: case 35 /* ModWu */: case 36 /* DivD */: case 37 /* ModD */: case 38 /* DivDu */: case 39 /* ModDu */:
        xu[d] = divide(op, xu[j]!, xu[k]!);
        return true;
      case 40 /* AlslW */: setW(this.x32, this.xi, d, ((this.x32[j * 2]! << imm) + this.x32[k * 2]!) | 0); return true;
      case 41 /* AlslWu */: xu[d] = BigInt.asUintN(32, (xu[j]! << SHIFT[imm]!) + xu[k]!); return true;
      case 42 /* AlslD */: x[d] = (x[j]! << SHIFT[imm]!) + x[k]!; return true;
      case 67 /* BytepickW */: {
        const sa = imm * 8;
        const v = sa === 0 ? this.x32[k * 2]! : ((this.x32[k * 2]! << sa) | (this.x32[j * 2]! >>> (32 - sa)));
        setW(this.x32, this.xi, d, v | 0);
        return true;
      }
      case 68 /* BytepickD */: {
        const sa = imm * 8;
        xu[d] = sa === 0 ? xu[k]! : BigInt.asUintN(64, (xu[k]! << SHIFT[sa]!) | (xu[j]! >> SHIFT[64 - sa]!));
        return true;
      }
      case 66 /* Bit2R */: xu[d] = bitOperation(imm, xu[j]!); return true;
      case 101 /* Crc */: xu[d] = BigInt.asUintN(64, BigInt.asIntN(32, crc(imm, xu[j]!, xu[k]!))); return true;
      case 96 /* LlW */: case 98 /* LlD */: {
        const va = BigInt.asUintN(64, xu[j]! + immB);
        const size = op === 98 /* LlD */ ? 8 : 4;
        if ((va & BigInt(size - 1)) !== 0n) { this.exception(Ecode.ALE, va); return false; }
        const v = this.readVirtual(va, size, true);
        if (v === undefined) return false;
        if (d !== 32) xu[d] = size === 4 ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : v;
        this.llbit = true;
        return true;
      }
      case 97 /* ScW */: case 99 /* ScD */: {
        const va = BigInt.asUintN(64, xu[j]! + immB);
        const size = op === 99 /* ScD */ ? 8 : 4;
        if ((va & BigInt(size - 1)) !== 0n) { this.exception(Ecode.ALE, va); return false; }
        let ok = 0n;
        if (this.llbit) {
          if (!this.writeVirtual(va, size, BigInt.asUintN(size * 8, this.reg(d)), true)) return false;
          ok = 1n;
        }
        this.llbit = false;
        if (d !== 0) xu[d] = ok;
        return true;
      }
      case 100 /* Am */: return this.atomic(imm, d, j, k);
      case 102 /* Break */: this.exception(Ecode.BRK); return false;
      case 103 /* Syscall */: this.exception(Ecode.SYS); return false;
      case 104 /* Hvcl */: {
        // The guest kernel's hvcl leaves LVZ guest mode for the hypervisor (hvisor's HVC trap);
        // from PLV3 it is a privileged instruction.
        if (this.mmu.plv !== 0) { this.exception(Ecode.IPE); return false; }
        xu[4] = BigInt.asUintN(64, this.host.hypercall(xu[4]!, [xu[5]!, xu[6]!]));
        this.irqDirty = true; // a hypercall may start or stop zones, inject interrupts
        return true;
      }
      case 105 /* Rdtime */: {
        const c = this.counter();
        if (imm === 2) xu[d] = c;
        else xu[d] = BigInt.asUintN(64, BigInt.asIntN(32, imm === 0 ? c : c >> 32n));
        if (j !== 0) xu[j] = this.csr[CSR.TID]!;
        return true;
      }
      case 106 /* Cpucfg */: {
        const n = Number(xu[j]! & 0xffffffffn);
        xu[d] = BigInt(n < this.cpucfg.length ? this.cpucfg[n]! : 0);
        return true;
      }
      case 109 /* Bceqz */: case 110 /* Bcnez */: {
        if (!this.fpEnabled()) return false;
        const taken = (this.fcc[j]! === 0) === (op === 109 /* Bceqz */);
        if (taken) { this.jumpRelative(this.pcLo, this.pcHi, imm); return false; }
        return true;
      }
      case 134 /* FldS */: case 135 /* FldD */: case 136 /* FstS */: case 137 /* FstD */: case 138 /* FldxS */: case 139 /* FldxD */: case 140 /* FstxS */: case 141 /* FstxD */:
        return this.fpMemory(op, d, j, k, immB);
      case 143 /* Lsx */: {
        if ((this.csr[CSR.EUEN]! & 2n) === 0n) { this.exception(Ecode.SXD); return false; }
        const r = executeLsx(this, imm);
        if (r === LsxResult.Illegal) { this.exception(Ecode.INE); return false; }
        return r === LsxResult.Ok;
      }
      case 142 /* Fp */: {
        if (!this.fpEnabled()) return false;
        const r = executeFp(this, imm);
        if (r === FpResult.Illegal) { this.exception(Ecode.INE); return false; }
        if (r === FpResult.Exception) { this.exception(Ecode.FPE); return false; }
        return true;
      }
      default:
        break;
    }
    // Privileged instructions: PLV0 only.
    if (op >= 120 /* Csr */ && op <= 133 /* Idle */) {
      if (this.mmu.plv !== 0) { this.exception(Ecode.IPE); return false; }
      return this.executePrivileged(op, imm, d, j, k);
    }
    this.exception(Ecode.INE);
    return false;
  }

  private fpEnabled(): boolean {
    if ((this.csr[CSR.EUEN]! & BigInt(EUEN_FPE)) !== 0n) return true;
    this.exception(Ecode.FPD);
    return false;
  }

  private fpMemory(op: number, fd: number, j: number, k: number, immB: bigint): boolean {
    if (!this.fpEnabled()) return false;
    const indexed = op >= 138 /* FldxS */;
    const va = BigInt.asUintN(64, this.x[j]! + (indexed ? this.x[k]! : immB));
    const kind = indexed ? op - 138 /* FldxS */ : op - 134 /* FldS */; // 0 lds, 1 ldd, 2 sts, 3 std
    const size = kind & 1 ? 8 : 4;
    if (kind < 2) {
      const v = this.readVirtual(va, size, true);
      if (v === undefined) return false;
      this.fb[fd] = size === 8 ? v : 0xffffffff00000000n | v;
      return true;
    }
    return this.writeVirtual(va, size, size === 8 ? this.fb[fd]! : this.fb[fd]! & 0xffffffffn, true);
  }

  /** am{swap,add,and,or,xor,max,min}[_db].{w,d} and the unsigned max/min: minor = the 5-bit field (+32). */
  private atomic(minor: number, d: number, j: number, k: number): boolean {
    // Minors 0..17 are the plain forms, 18..35 the _db forms (same operations, with a barrier).
    const m = minor >= 18 ? minor - 18 : minor;
    const isD = (m & 1) === 1;
    const opKind = m >> 1; // 0 swap 1 add 2 and 3 or 4 xor 5 max 6 min 7 maxu 8 minu
    const size = isD ? 8 : 4;
    const va = this.x[j]!;
    if ((va & BigInt(size - 1)) !== 0n) { this.exception(Ecode.ALE, va); return false; }
    const old = this.readVirtual(va, size, false);
    if (old === undefined) return false;
    const bits = size * 8;
    const a = old, b = BigInt.asUintN(bits, this.x[k]!);
    let r: bigint;
    switch (opKind) {
      case 0: r = b; break;
      case 1: r = a + b; break;
      case 2: r = a & b; break;
      case 3: r = a | b; break;
      case 4: r = a ^ b; break;
      case 5: r = BigInt.asIntN(bits, a) >= BigInt.asIntN(bits, b) ? a : b; break;
      case 6: r = BigInt.asIntN(bits, a) <= BigInt.asIntN(bits, b) ? a : b; break;
      case 7: r = a >= b ? a : b; break;
      default: r = a <= b ? a : b; break;
    }
    if (!this.writeVirtual(va, size, BigInt.asUintN(bits, r), true)) return false;
    if (d !== 32) this.x[d] = size === 4 ? BigInt.asUintN(64, BigInt.asIntN(32, old)) : old;
    return true;
  }

  private executePrivileged(op: number, imm: number, d: number, j: number, k: number): boolean {
    switch (op) {
      case 120 /* Csr */: {
        const num = imm;
        const old = this.readCsr(num);
        if (j === 0) { // csrrd
          this.setReg(d, old);
          return true;
        }
        const value = j === 1 ? this.reg(d) : (old & ~this.reg(j)) | (this.reg(d) & this.reg(j));
        this.writeCsr(num, value);
        this.setReg(d, old);
        this.afterCsrWrite(num);
        return true;
      }
      case 121 /* Iocsr */: {
        const size = (1 << (imm & 3)) as 1 | 2 | 4 | 8;
        const address = Number(this.x[j]! & 0xffffffffn);
        if (imm < 4) {
          const v = this.iocsr.read(address, size) ?? 0n;
          this.setReg(d, size === 8 ? v : BigInt.asUintN(size * 8, v));
        } else {
          this.iocsr.write(address, size, BigInt.asUintN(size * 8, this.reg(d)));
          this.irqDirty = true;
        }
        return true;
      }
      case 122 /* Tlbsrch */: {
        const ehi = this.inRefill() ? this.csr[CSR.TLBREHI]! : this.csr[CSR.TLBEHI]!;
        const i = this.tlb.search(va48Of(Number(BigInt.asIntN(32, ehi >> 32n)), Number(ehi & 0xffffffffn)), this.mmu.asid, this.mmu.stlbps);
        const idx = this.csr[CSR.TLBIDX]!;
        this.csr[CSR.TLBIDX] = i < 0 ? idx | (1n << 31n) : (idx & ~0x8000_ffffn) | BigInt(i);
        return true;
      }
      case 123 /* Tlbrd */: {
        const i = Number(this.csr[CSR.TLBIDX]! & 0xffffn);
        const idx = this.csr[CSR.TLBIDX]! & ~(0xbf00_0000n);
        if (i >= TLB_SIZE || this.tlb.exists[i] === 0) {
          this.csr[CSR.TLBIDX] = idx | (1n << 31n);
          this.csr[CSR.ASID] &= ~0x3ffn;
          this.csr[CSR.TLBEHI] = 0n;
          this.csr[CSR.TLBELO0] = 0n;
          this.csr[CSR.TLBELO1] = 0n;
        } else {
          this.csr[CSR.TLBIDX] = idx | (BigInt(this.tlb.pageShift(i, this.mmu.stlbps)) << 24n);
          this.csr[CSR.TLBEHI] = BigInt(this.tlb.vppn[i]!) << 13n;
          this.csr[CSR.TLBELO0] = this.tlb.lo[i * 2]!;
          this.csr[CSR.TLBELO1] = this.tlb.lo[i * 2 + 1]!;
          this.csr[CSR.ASID] = (this.csr[CSR.ASID]! & ~0x3ffn) | BigInt(this.tlb.asid[i]!);
        }
        this.refreshMmu();
        return true;
      }
      case 124 /* Tlbwr */: case 125 /* Tlbfill */: {
        const refill = this.inRefill();
        const ehi = refill ? this.csr[CSR.TLBREHI]! : this.csr[CSR.TLBEHI]!;
        const ps = Number(refill ? ehi & 0x3fn : (this.csr[CSR.TLBIDX]! >> 24n) & 0x3fn);
        const vppn = Number((ehi >> 13n) & 0x7_ffff_ffffn);
        const lo0 = refill ? this.csr[CSR.TLBRELO0]! : this.csr[CSR.TLBELO0]!;
        const lo1 = refill ? this.csr[CSR.TLBRELO1]! : this.csr[CSR.TLBELO1]!;
        let i: number;
        if (op === 125 /* Tlbfill */) {
          i = this.tlb.fillIndex(vppn * 8192, ps, this.mmu.stlbps);
        } else {
          i = Number(this.csr[CSR.TLBIDX]! & 0xffffn);
          if (i >= TLB_SIZE) return true;
          if ((this.csr[CSR.TLBIDX]! & (1n << 31n)) !== 0n) {
            this.tlb.exists[i] = 0;
            this.dropTlb();
            return true;
          }
        }
        this.tlb.write(i, vppn, ps, this.mmu.asid, lo0 & TLBELO_MASK, lo1 & TLBELO_MASK);
        this.dropTlb();
        return true;
      }
      case 126 /* Tlbclr */: case 127 /* Tlbflush */:
        this.tlb.clear(Number(this.csr[CSR.TLBIDX]! & 0xffffn), this.mmu.asid, op === 127 /* Tlbflush */);
        this.dropTlb();
        return true;
      case 128 /* Invtlb */: {
        const ok = this.tlb.invalidate(imm, Number(this.x[j]! & 0x3ffn), va48Of(this.xi[k * 2 + 1]!, this.x32[k * 2]!), this.mmu.stlbps);
        if (!ok) { this.exception(Ecode.INE); return false; }
        this.dropTlb();
        return true;
      }
      case 129 /* Cacop */: return true; // caches are coherent and invisible here
      case 130 /* Lddir */: {
        const base = this.x[j]!;
        if ((base & (1n << 6n)) !== 0n) { // a huge-page entry: passed on unchanged
          this.setReg(d, base);
          return true;
        }
        const level = imm;
        const [dirBase, dirWidth] = this.directoryField(level);
        if (dirWidth < 0) { this.exception(Ecode.INE); return false; }
        const badv = this.csr[CSR.TLBRBADV]!;
        const index = (badv >> BigInt(dirBase)) & ONES[dirWidth]!;
        const shift = BigInt(this.pteShift());
        const pa = Number(((base & PA_MASK) & ~0xfffn) | (index << shift));
        const v = this.host.memory.read(pa, 8);
        this.setReg(d, (v ?? 0n) & PA_MASK);
        return true;
      }
      case 131 /* Ldpte */: {
        const base = this.x[j]!;
        const odd = imm & 1;
        const pwcl = this.csr[CSR.PWCL]!;
        const ptBase = Number(pwcl & 0x1fn), ptWidth = Number((pwcl >> 5n) & 0x1fn);
        let entry: bigint;
        let ps: number;
        if ((base & (1n << 6n)) !== 0n) {
          // Huge page: the directory entry is the mapping; its global bit (12) moves to G (6).
          let v = (base & PA_MASK) ^ (1n << 6n);
          v = (v & ~(1n << 6n)) | (((v >> 12n) & 1n) << 6n);
          ps = ptBase + ptWidth - 1;
          entry = odd ? v + (1n << BigInt(ps)) : v;
        } else {
          const badv = this.csr[CSR.TLBRBADV]!;
          const index = ((badv >> BigInt(ptBase)) & ONES[ptWidth]!) & ~1n;
          const pa = Number(((base & PA_MASK) & ~0xfffn) | ((index + BigInt(odd)) << BigInt(this.pteShift())));
          entry = (this.host.memory.read(pa, 8) ?? 0n) & PA_MASK;
          ps = ptBase;
        }
        this.csr[odd ? CSR.TLBRELO1 : CSR.TLBRELO0] = entry;
        this.csr[CSR.TLBREHI] = (this.csr[CSR.TLBREHI]! & ~0x3fn) | BigInt(ps);
        return true;
      }
      case 132 /* Ertn */: {
        let crmd = Number(this.csr[CSR.CRMD]!);
        if (this.inRefill()) {
          this.csr[CSR.TLBRERA] &= ~TLBRERA_ISTLBR;
          const prmd = Number(this.csr[CSR.TLBRPRMD]!);
          crmd = (crmd & ~(CRMD_PLV | CRMD_IE | CRMD_DA)) | CRMD_PG | (prmd & 7);
          this.pc = this.csr[CSR.TLBRERA]! & ~3n;
        } else {
          const prmd = Number(this.csr[CSR.PRMD]!);
          crmd = (crmd & ~(CRMD_PLV | CRMD_IE)) | (prmd & (CRMD_PLV | PRMD_PIE));
          this.pc = this.csr[CSR.ERA]!;
        }
        this.csr[CSR.CRMD] = BigInt(crmd);
        const llb = this.csr[CSR.LLBCTL]!;
        if ((llb & BigInt(LLBCTL_KLO)) !== 0n) this.csr[CSR.LLBCTL] = llb & ~BigInt(LLBCTL_KLO);
        else this.llbit = false;
        this.refreshMmu();
        this.irqDirty = true;
        return false;
      }
      case 133 /* Idle */: {
        this.pc = this.pc + 4n;
        if (!this.wakeable()) this.stopReason = Stops.wait;
        this.irqDirty = true;
        return false;
      }
      default:
        void d; void k;
        this.exception(Ecode.INE);
        return false;
    }
  }

  private inRefill(): boolean {
    return (this.csr[CSR.TLBRERA]! & TLBRERA_ISTLBR) !== 0n;
  }

  /** PWCL/PWCH directory base and width for lddir's level (1-4); width -1 for a reserved level. */
  private directoryField(level: number): [number, number] {
    const pwcl = Number(this.csr[CSR.PWCL]!), pwch = Number(this.csr[CSR.PWCH]!);
    switch (level) {
      case 1: return [(pwcl >>> 10) & 31, (pwcl >>> 15) & 31];
      case 2: return [(pwcl >>> 20) & 31, (pwcl >>> 25) & 31];
      case 3: return [pwch & 63, (pwch >>> 6) & 63];
      case 4: return [(pwch >>> 12) & 63, (pwch >>> 18) & 63];
      default: return [0, -1];
    }
  }

  /** log2 of the page-table entry size from PWCL.PTEWidth (0: 64-bit entries). */
  private pteShift(): number {
    return 3 + Number((this.csr[CSR.PWCL]! >> 30n) & 3n);
  }

  readCsr(num: number): bigint {
    switch (num) {
      case CSR.ESTAT: this.pollTimer(); return this.csr[CSR.ESTAT]! | BigInt(this.lineLevels);
      case CSR.TVAL: return this.readTval();
      case CSR.PGD: {
        const badv = this.inRefill() ? this.csr[CSR.TLBRBADV]! : this.csr[CSR.BADV]!;
        return (badv >> 63n) !== 0n ? this.csr[CSR.PGDH]! : this.csr[CSR.PGDL]!;
      }
      case CSR.LLBCTL: return (this.csr[CSR.LLBCTL]! & BigInt(LLBCTL_KLO)) | (this.llbit ? 1n : 0n);
      case CSR.TICLR: return 0n;
      default:
        if (num < this.csr.length) return this.csr[num]!;
        return 0n;
    }
  }

  /** Writes a CSR with `v` (an unsigned 64-bit value). */
  writeCsr(num: number, v: bigint): void {
    switch (num) {
      case CSR.CRMD: this.csr[CSR.CRMD] = v & 0x3ffn; return;
      case CSR.ESTAT: this.csr[CSR.ESTAT] = (this.csr[CSR.ESTAT]! & ~3n) | (v & 3n); return;
      case CSR.ASID: this.csr[CSR.ASID] = (this.csr[CSR.ASID]! & ~0x3ffn) | (v & 0x3ffn); return;
      case CSR.TCFG: this.writeTcfg(v); return;
      case CSR.TICLR: if ((v & 1n) !== 0n) this.csr[CSR.ESTAT] &= ~(1n << 11n); return;
      case CSR.LLBCTL:
        if ((v & BigInt(LLBCTL_WCLLB)) !== 0n) this.llbit = false;
        this.csr[CSR.LLBCTL] = v & BigInt(LLBCTL_KLO);
        return;
      default: {
        const mask = CSR_WRITE_MASK.get(num);
        if (mask !== undefined) this.csr[num] = v & mask;
      }
    }
  }

  /** What a CSR write changes beyond storage: translation, pending interrupts. */
  private afterCsrWrite(num: number): void {
    if (num === CSR.CRMD || num === CSR.ASID || num === CSR.STLBPS || (num >= CSR.DMW0 && num <= CSR.DMW3)) this.refreshMmu();
    this.irqDirty = true;
  }

  // ------------------------------------------------------------------------------------------------
  // Debugger view

  readRegister(regno: number): Uint8Array | undefined {
    let v: bigint;
    let width = 8;
    if (regno >= 0 && regno < 32) v = this.reg(regno);
    else if (regno === LA_ORIG_A0) v = 0n;
    else if (regno === LA_PC) v = this.pc;
    else if (regno === LA_BADV) v = this.csr[CSR.BADV]!;
    else if (regno >= LA_F0 && regno < LA_F0 + 32) v = this.fb[regno - LA_F0]!;
    else if (regno >= LA_FCC0 && regno < LA_FCC0 + 8) { v = BigInt(this.fcc[regno - LA_FCC0]!); width = 1; }
    else if (regno === LA_FCSR) { v = BigInt(this.fcsr); width = 4; }
    else return undefined;
    const out = new Uint8Array(width);
    for (let i = 0; i < width; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
    return out;
  }

  writeRegister(regno: number, value: Uint8Array): boolean {
    let v = 0n;
    for (let i = value.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(value[i]!);
    if (regno >= 0 && regno < 32) { this.setReg(regno, v); return true; }
    if (regno === LA_ORIG_A0) return true;
    if (regno === LA_PC) { this.pc = v; return true; }
    if (regno === LA_BADV) { this.csr[CSR.BADV] = v; return true; }
    if (regno >= LA_F0 && regno < LA_F0 + 32) { this.fb[regno - LA_F0] = v; return true; }
    if (regno >= LA_FCC0 && regno < LA_FCC0 + 8) { this.fcc[regno - LA_FCC0] = Number(v & 1n); return true; }
    if (regno === LA_FCSR) { this.fcsr = Number(v & 0x1f1f031fn); return true; }
    return false;
  }

  debugTranslate(va: bigint, access: 'r' | 'w' | 'x'): number | undefined {
    const v = BigInt.asUintN(64, va);
    const a = access === 'r' ? Access.Load : access === 'w' ? Access.Store : Access.Fetch;
    const pa = translate(this.mmu, Number(BigInt.asIntN(32, v >> 32n)), Number(v & 0xffffffffn), a);
    return pa < 0 ? undefined : pa;
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
    this.dropTlb(); // data TLB entries bypass the watch check
  }

  /** Code is fetched from RAM on every instruction: nothing is cached to drop. */
  invalidateCode(): void {}

  /** A fence requested for this core by another one: drops the software TLBs. */
  flushTranslations(): void {
    this.dropTlb();
  }

  describe(): string {
    const mode = `PLV${this.mmu.plv}`;
    const state = !this.powered ? 'off' : this.error ? `stopped: ${this.error.cause} at ${hex(this.error.pc)}` : 'on';
    return `${mode}, ${state}`;
  }
}

function vaOf(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Writes a 32-bit result sign-extended to 64 bits. */
function setW(x32: Uint32Array, xi: Int32Array, d: number, v: number): void {
  x32[d * 2] = v;
  xi[d * 2 + 1] = v >> 31;
}

/** rd = pc-relative value: (hi:lo) + offset, with offset a safe integer. */
function addToPc(x32: Uint32Array, d: number, lo: number, hi: number, offset: number): void {
  const total = lo + offset;
  const carry = Math.floor(total / TWO32);
  x32[d * 2] = total - carry * TWO32;
  x32[d * 2 + 1] = (hi + carry) | 0;
}

function shiftLeft(x32: Uint32Array, d: number, s: number, sh: number): void {
  const lo = x32[s * 2]!, hi = x32[s * 2 + 1]!;
  if (sh === 0) { x32[d * 2] = lo; x32[d * 2 + 1] = hi; }
  else if (sh < 32) { x32[d * 2 + 1] = (hi << sh) | (lo >>> (32 - sh)); x32[d * 2] = lo << sh; }
  else { x32[d * 2 + 1] = lo << (sh - 32); x32[d * 2] = 0; }
}

function shiftRight(x32: Uint32Array, xi: Int32Array, d: number, s: number, sh: number, arith: boolean): void {
  const lo = x32[s * 2]!, hi = xi[s * 2 + 1]!;
  if (sh === 0) { x32[d * 2] = lo; x32[d * 2 + 1] = hi; }
  else if (sh < 32) { x32[d * 2] = (lo >>> sh) | (hi << (32 - sh)); x32[d * 2 + 1] = arith ? hi >> sh : hi >>> sh; }
  else { x32[d * 2] = arith ? hi >> (sh - 32) : hi >>> (sh - 32); x32[d * 2 + 1] = arith ? hi >> 31 : 0; }
}

/** rd = rj[msb:lsb], zero-extended (bstrpick.d), on 32-bit halves. */
function bitFieldExtract(x32: Uint32Array, xi: Int32Array, d: number, s: number, msb: number, lsb: number): void {
  shiftRight(x32, xi, d, s, lsb, false);
  const width = msb - lsb + 1;
  if (width >= 64) return;
  if (width > 32) {
    x32[d * 2 + 1] = x32[d * 2 + 1]! & ((1 << (width - 32)) - 1);
  } else {
    if (width < 32) x32[d * 2] = x32[d * 2]! & ((1 << width) - 1);
    x32[d * 2 + 1] = 0;
  }
}

/** rd[msb:lsb] = rj[msb-lsb:0] (bstrins.d), on 32-bit halves. */
function bitFieldInsert(x32: Uint32Array, d: number, s: number, msb: number, lsb: number): void {
  const width = msb - lsb + 1;
  // The field mask as two halves: `width` ones shifted left by lsb.
  const onesLo = width >= 32 ? 0xffffffff : (2 ** width - 1);
  const onesHi = width >= 64 ? 0xffffffff : width > 32 ? 2 ** (width - 32) - 1 : 0;
  let mLo: number, mHi: number, vLo: number, vHi: number;
  const lo = x32[s * 2]!, hi = x32[s * 2 + 1]!;
  if (lsb === 0) { mLo = onesLo; mHi = onesHi; vLo = lo; vHi = hi; }
  else if (lsb < 32) {
    mLo = onesLo << lsb; mHi = (onesHi << lsb) | (onesLo >>> (32 - lsb));
    vLo = lo << lsb; vHi = (hi << lsb) | (lo >>> (32 - lsb));
  } else {
    mLo = 0; mHi = onesLo << (lsb - 32);
    vLo = 0; vHi = lo << (lsb - 32);
  }
  x32[d * 2] = (x32[d * 2]! & ~mLo) | (vLo & mLo);
  x32[d * 2 + 1] = (x32[d * 2 + 1]! & ~mHi) | (vHi & mHi);
}

function rotateRight(x32: Uint32Array, d: number, s: number, sh: number): void {
  const lo = x32[s * 2]!, hi = x32[s * 2 + 1]!;
  if (sh === 0) { x32[d * 2] = lo; x32[d * 2 + 1] = hi; return; }
  const [a, b] = sh >= 32 ? [hi, lo] : [lo, hi]; // (low, high) after rotating by 32
  const r = sh & 31;
  if (r === 0) { x32[d * 2] = a; x32[d * 2 + 1] = b; return; }
  x32[d * 2] = (a >>> r) | (b << (32 - r));
  x32[d * 2 + 1] = (b >>> r) | (a << (32 - r));
}

/** Unsigned 64-bit x[a] < (bHi:bLo), on 32-bit halves. */
function ltu(x32: Uint32Array, a: number, bHi: number, bLo: number): boolean {
  const aHi = x32[a * 2 + 1]!;
  return aHi < bHi || (aHi === bHi && x32[a * 2]! < bLo);
}

/**
 * div/mod: the result of a division by zero is unspecified by the manual; this core gives what the
 * LA464 model in QEMU does (dividend / 1, remainder 0), and MIN / -1 = MIN.
 */
function divide(op: number, a: bigint, b: bigint): bigint {
  const word = op <= 35 /* ModWu */;
  const unsigned = op === 34 /* DivWu */ || op === 35 /* ModWu */ || op === 38 /* DivDu */ || op === 39 /* ModDu */;
  const mod = op === 33 /* ModW */ || op === 35 /* ModWu */ || op === 37 /* ModD */ || op === 39 /* ModDu */;
  const bits = word ? 32 : 64;
  let n = unsigned ? BigInt.asUintN(bits, a) : BigInt.asIntN(bits, a);
  let m = unsigned ? BigInt.asUintN(bits, b) : BigInt.asIntN(bits, b);
  if (m === 0n || (!unsigned && m === -1n && n === -(1n << BigInt(bits - 1)))) m = 1n;
  const r = mod ? n % m : n / m;
  n = BigInt.asIntN(bits, r);
  return BigInt.asUintN(64, n);
}

function reverseBits(v: bigint, bits: number): bigint {
  let r = 0n;
  for (let i = 0; i < bits; i++) r = (r << 1n) | ((v >> BigInt(i)) & 1n);
  return r;
}

function countLeading(v: bigint, bits: number, ones: boolean): bigint {
  let n = 0;
  for (let i = bits - 1; i >= 0 && (((v >> BigInt(i)) & 1n) === 1n) === ones; i--) n++;
  return BigInt(n);
}

function countTrailing(v: bigint, bits: number, ones: boolean): bigint {
  let n = 0;
  for (let i = 0; i < bits && (((v >> BigInt(i)) & 1n) === 1n) === ones; i++) n++;
  return BigInt(n);
}

function mapBytes(v: bigint, n: number, f: (b: bigint) => bigint): bigint {
  let r = 0n;
  for (let i = 0; i < n; i++) r |= f((v >> BigInt(8 * i)) & 0xffn) << BigInt(8 * i);
  return r;
}

/** The one-register bit operations by minor opcode (vol. 1, 2.2.3). */
function bitOperation(minor: number, v: bigint): bigint {
  const w = BigInt.asUintN(32, v);
  const sx = (r: bigint): bigint => BigInt.asUintN(64, BigInt.asIntN(32, r));
  switch (minor) {
    case 0x04: return countLeading(w, 32, true);
    case 0x05: return countLeading(w, 32, false);
    case 0x06: return countTrailing(w, 32, true);
    case 0x07: return countTrailing(w, 32, false);
    case 0x08: return countLeading(v, 64, true);
    case 0x09: return countLeading(v, 64, false);
    case 0x0a: return countTrailing(v, 64, true);
    case 0x0b: return countTrailing(v, 64, false);
    case 0x0c: return sx(((w & 0x00ff00ffn) << 8n) | ((w >> 8n) & 0x00ff00ffn)); // revb.2h
    case 0x0d: return ((v & 0x00ff00ff00ff00ffn) << 8n) & ONES[64]! | ((v >> 8n) & 0x00ff00ff00ff00ffn); // revb.4h
    case 0x0e: { // revb.2w
      const swap = (x: bigint): bigint => ((x & 0xffn) << 24n) | ((x & 0xff00n) << 8n) | ((x >> 8n) & 0xff00n) | ((x >> 24n) & 0xffn);
      return swap(v & 0xffffffffn) | (swap((v >> 32n) & 0xffffffffn) << 32n);
    }
    case 0x0f: { // revb.d
      let r = 0n;
      for (let i = 0; i < 8; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
      return r;
    }
    case 0x10: return ((v & 0x0000ffff0000ffffn) << 16n) & ONES[64]! | ((v >> 16n) & 0x0000ffff0000ffffn); // revh.2w
    case 0x11: { // revh.d
      let r = 0n;
      for (let i = 0; i < 4; i++) r = (r << 16n) | ((v >> BigInt(16 * i)) & 0xffffn);
      return r;
    }
    case 0x12: return sx(mapBytes(w, 4, (b) => reverseBits(b, 8))); // bitrev.4b
    case 0x13: return mapBytes(v, 8, (b) => reverseBits(b, 8)); // bitrev.8b
    case 0x14: return sx(reverseBits(w, 32));
    case 0x15: return reverseBits(v, 64);
    case 0x16: return BigInt.asUintN(64, BigInt.asIntN(16, v)); // ext.w.h
    case 0x17: return BigInt.asUintN(64, BigInt.asIntN(8, v)); // ext.w.b
    default: return 0n;
  }
}

/** crc.w.{b,h,w,d}.w (IEEE 802.3, reflected) and crcc (Castagnoli): minor = size log2 | castagnoli << 2. */
function crc(minor: number, data: bigint, acc: bigint): bigint {
  const poly = minor & 4 ? 0x82f63b78 : 0xedb88320;
  const bytes = 1 << (minor & 3);
  let c = Number(acc & 0xffffffffn);
  for (let i = 0; i < bytes; i++) {
    c ^= Number((data >> BigInt(8 * i)) & 0xffn);
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
  }
  return BigInt(c >>> 0);
}

