/**
 * Advanced SIMD floating point, vector and scalar: three-same arithmetic (FADD ... FDIV, FMLA/FMLS,
 * FMULX, FABD, min/max, compares), pairwise and across-lanes forms, two-register misc (FABS, FNEG,
 * FSQRT, FRINT*, FCVT* to integer, SCVTF/UCVTF, compares with zero, FCVTL/FCVTN/FCVTXN), by-element
 * FMUL/FMLA/FMLS, and the fixed-point conversions of the shift-immediate group. Each lane goes
 * through FpUnit's lane operations, so rounding, NaNs and FPSR flags are those of the scalar forms.
 */
import { FpCompare, FpOp, recipEstimate, rsqrtEstimate, vword, type FpUnit } from './fp-unit.js';
import { Rounding } from './fp-round.js';
import { Reg } from './registers.js';

const TMP = 2 * Reg.VTmp; // word index of the scratch vector

export class SimdFp {
  private readonly u64: BigUint64Array;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;

  constructor(private readonly fp: FpUnit, private readonly core: { readonly r: BigUint64Array; readonly fpcr: number }) {
    this.u64 = core.r;
    this.u32 = new Uint32Array(core.r.buffer);
    this.u16 = new Uint16Array(core.r.buffer);
  }

  /** Copies the scratch vector to Vd (upper half zeroed when q = 0). */
  private commitTmp(d: number, q: number): void {
    const w = vword(d) >> 1;
    this.u64[w] = this.u64[Reg.VTmp]!;
    this.u64[w + 1] = q ? this.u64[Reg.VTmp + 1]! : 0n;
  }

  private clearTmp(): void {
    this.u64[Reg.VTmp] = 0n;
    this.u64[Reg.VTmp + 1] = 0n;
  }

  /** Lanes of a vector form: sz 0 single (2 or 4 lanes), 1 double (2 lanes, Q must be set). */
  private static lanes(sz: number, q: number): number {
    return sz ? 2 : q ? 4 : 2;
  }

  /** Word step between lanes. */
  private static step(sz: number): number {
    return sz ? 2 : 1;
  }

  /**
   * Three same, opcode 0x18..0x1f with U and a (size bit 1); `scalar` computes lane 0 only and
   * zeroes the rest of Vd. Returns false for unallocated encodings.
   */
  threeSame(op: number, u: number, a: number, sz: number, q: number, d: number, n: number, m: number, scalar: boolean): boolean {
    const key = (u << 5) | (a << 4) | (op & 7);
    const pairwise = !scalar && u === 1 && ((op === 0x18) || (op === 0x1a && !a) || (op === 0x1e));
    let binary: FpOp | undefined;
    let compare: FpCompare | undefined;
    let fused = 0; // 1 FMLA, 2 FMLS
    switch (key) {
      case 0x00: binary = FpOp.MaxNum; break; // FMAXNM
      case 0x10: binary = FpOp.MinNum; break; // FMINNM
      case 0x01: fused = 1; break; // FMLA
      case 0x11: fused = 2; break; // FMLS
      case 0x02: binary = FpOp.Add; break;
      case 0x12: binary = FpOp.Sub; break;
      case 0x03: binary = FpOp.MulX; break;
      case 0x04: compare = FpCompare.Eq; break; // FCMEQ
      case 0x06: binary = FpOp.Max; break;
      case 0x16: binary = FpOp.Min; break;
      case 0x20: binary = FpOp.MaxNum; break; // FMAXNMP
      case 0x30: binary = FpOp.MinNum; break; // FMINNMP
      case 0x22: binary = FpOp.Add; break; // FADDP
      case 0x32: binary = FpOp.AbsDiff; break; // FABD
      case 0x23: binary = FpOp.Mul; break;
      case 0x24: compare = FpCompare.Ge; break; // FCMGE
      case 0x34: compare = FpCompare.Gt; break; // FCMGT
      case 0x25: compare = FpCompare.AbsGe; break; // FACGE
      case 0x35: compare = FpCompare.AbsGt; break; // FACGT
      case 0x26: binary = FpOp.Max; break; // FMAXP
      case 0x36: binary = FpOp.Min; break; // FMINP
      case 0x27: binary = FpOp.Div; break;
      case 0x07: case 0x17: break; // FRECPS, FRSQRTS
      default: return false;
    }
    const step = key === 0x07 || key === 0x17;
    if (scalar && (fused !== 0 || key === 0x00 || key === 0x10 || key === 0x02 || key === 0x12 || key === 0x06 || key === 0x16 || key === 0x23 || key === 0x27)) return false;
    if (!scalar && sz && !q) return false;
    const count = scalar ? 1 : SimdFp.lanes(sz, q);
    const stride = SimdFp.step(sz);
    const nw = vword(n), mw = vword(m);
    const fp = this.fp;
    this.clearTmp();
    for (let i = 0; i < count; i++) {
      let aw: number, bw: number;
      if (pairwise) {
        const half = count / 2;
        const src = i < half ? nw : mw;
        const j = 2 * (i < half ? i : i - half);
        aw = src + j * stride;
        bw = aw + stride;
      } else {
        aw = nw + i * stride;
        bw = mw + i * stride;
      }
      const dw = TMP + i * stride;
      if (step) fp.laneStep(key === 0x17, sz, dw, aw, bw);
      else if (compare !== undefined) fp.laneCompare(compare, sz, dw, aw, bw, false);
      else if (fused !== 0) {
        // Accumulator first: copy Vd's lane into the scratch lane, then Vd' = Vd + (±Vn) × Vm.
        this.copyLane(sz, dw, vword(d) + i * stride);
        fp.laneFused(false, fused === 2, sz, dw, aw, bw, dw);
      } else fp.laneArith(binary!, sz, dw, aw, bw);
    }
    this.commitTmp(d, scalar ? 0 : q);
    return true;
  }

  private copyLane(sz: number, dw: number, sw: number): void {
    this.u32[dw] = this.u32[sw]!;
    if (sz) this.u32[dw + 1] = this.u32[sw + 1]!;
  }

  /**
   * Two-register misc FP ops (opcode 0x0c..0x1f with U and a); `scalar` works on lane 0. Returns
   * false when unallocated (or not a floating-point op).
   */
  twoMisc(op: number, u: number, a: number, sz: number, q: number, d: number, n: number, scalar: boolean): boolean {
    if (op === 0x16 || op === 0x17) return this.convertLength(op, u, a, sz, q, d, n, scalar);
    if (!scalar && sz && !q) return false;
    const count = scalar ? 1 : SimdFp.lanes(sz, q);
    const step = SimdFp.step(sz);
    const nw = vword(n);
    const fp = this.fp;
    const key = (u << 6) | (a << 5) | op;
    const width = sz ? 64 : 32;
    let lane: ((dw: number, aw: number) => void) | undefined;
    const frint = (mode: number, exact: boolean) => (dw: number, aw: number) => fp.laneRoundIntegral(sz, dw, aw, mode, exact);
    const toInt = (mode: number, signed: boolean) => (dw: number, aw: number) => {
      const v = fp.laneToInteger(sz, aw, mode, signed, width, 0);
      if (sz) this.u64[dw >> 1] = v;
      else this.u32[dw] = Number(v);
    };
    const fromInt = (signed: boolean) => (dw: number, aw: number) => {
      const raw = sz ? this.u64[aw >> 1]! : BigInt(this.u32[aw]!);
      fp.laneFromInteger(sz, dw, signed ? BigInt.asIntN(width, raw) : raw, 0);
    };
    const cmpZero = (kind: FpCompare) => (dw: number, aw: number) => fp.laneCompare(kind, sz, dw, aw, aw, true);
    const current = () => (this.core.fpcr >>> 22) & 3;
    switch (key) {
      case 0x2c: lane = cmpZero(FpCompare.Gt); break;
      case 0x2d: lane = cmpZero(FpCompare.Eq); break;
      case 0x2e: lane = cmpZero(FpCompare.Lt); break;
      case 0x6c: lane = cmpZero(FpCompare.Ge); break;
      case 0x6d: lane = cmpZero(FpCompare.Le); break;
      case 0x2f: if (scalar) return false; lane = (dw, aw) => fp.laneSign(sz, dw, aw, false); break; // FABS
      case 0x6f: if (scalar) return false; lane = (dw, aw) => fp.laneSign(sz, dw, aw, true); break; // FNEG
      case 0x7f: if (scalar) return false; lane = (dw, aw) => fp.laneSqrt(sz, dw, aw); break; // FSQRT
      case 0x18: if (scalar) return false; lane = frint(Rounding.Nearest, false); break;
      case 0x38: if (scalar) return false; lane = frint(Rounding.PlusInf, false); break;
      case 0x19: if (scalar) return false; lane = frint(Rounding.MinusInf, false); break;
      case 0x39: if (scalar) return false; lane = frint(Rounding.Zero, false); break;
      case 0x58: if (scalar) return false; lane = frint(Rounding.TiesAway, false); break;
      case 0x59: if (scalar) return false; lane = (dw, aw) => fp.laneRoundIntegral(sz, dw, aw, current(), true); break; // FRINTX
      case 0x79: if (scalar) return false; lane = (dw, aw) => fp.laneRoundIntegral(sz, dw, aw, current(), false); break; // FRINTI
      case 0x1a: lane = toInt(Rounding.Nearest, true); break;
      case 0x3a: lane = toInt(Rounding.PlusInf, true); break;
      case 0x1b: lane = toInt(Rounding.MinusInf, true); break;
      case 0x3b: lane = toInt(Rounding.Zero, true); break;
      case 0x1c: lane = toInt(Rounding.TiesAway, true); break;
      case 0x5a: lane = toInt(Rounding.Nearest, false); break;
      case 0x7a: lane = toInt(Rounding.PlusInf, false); break;
      case 0x5b: lane = toInt(Rounding.MinusInf, false); break;
      case 0x7b: lane = toInt(Rounding.Zero, false); break;
      case 0x5c: lane = toInt(Rounding.TiesAway, false); break;
      case 0x3d: lane = (dw, aw) => fp.laneEstimate(false, sz, dw, aw); break; // FRECPE
      case 0x7d: lane = (dw, aw) => fp.laneEstimate(true, sz, dw, aw); break; // FRSQRTE
      case 0x3f: if (!scalar) return false; lane = (dw, aw) => fp.laneRecipExponent(sz, dw, aw); break; // FRECPX
      case 0x3c: case 0x7c: { // URECPE, URSQRTE (32-bit lanes only)
        if (sz || scalar) return false;
        const rsqrt = u === 1;
        lane = (dw, aw) => {
          const x = this.u32[aw]!;
          if (rsqrt ? x >>> 30 === 0 : x >>> 31 === 0) this.u32[dw] = 0xffffffff;
          else this.u32[dw] = ((rsqrt ? rsqrtEstimate(x >>> 23) : recipEstimate(x >>> 23)) << 23) >>> 0;
        };
        break;
      }
      case 0x1d: lane = fromInt(true); break; // SCVTF
      case 0x5d: lane = fromInt(false); break; // UCVTF
      default: return false;
    }
    this.clearTmp();
    for (let i = 0; i < count; i++) lane(TMP + i * step, nw + i * step);
    this.commitTmp(d, scalar ? 0 : q);
    return true;
  }

  /** A lane's word for FpUnit: half-precision lanes are staged through a scratch word. */
  private stageIn(type: number, n: number, i: number): number {
    if (type !== 3) return vword(n) + i * (type === 1 ? 2 : 1);
    this.u32[SCRATCH_WORD] = this.u16[2 * vword(n) + i]!;
    return SCRATCH_WORD;
  }

  /** FCVTL(2) (0x17), FCVTN(2) (0x16, U=0) and FCVTXN(2) (0x16, U=1; scalar too): between a lane size and its double. */
  private convertLength(op: number, u: number, a: number, sz: number, q: number, d: number, n: number, scalar: boolean): boolean {
    if (a) return false;
    const narrow = sz ? 0 : 3; // single or half
    const wide = sz ? 1 : 0;
    const lanes = sz ? 2 : 4; // narrow lanes per 64 bits
    const first = q ? lanes : 0;
    const fp = this.fp;
    this.clearTmp();
    if (op === 0x17) {
      // FCVTL: narrow lanes from the low (FCVTL2: high) half of Vn widen into Vd.
      if (u || scalar) return false;
      for (let i = 0; i < lanes; i++) fp.laneConvert(narrow, wide, TMP + i * (sz ? 2 : 1), this.stageIn(narrow, n, first + i));
      this.commitTmp(d, 1);
      return true;
    }
    if (u && !sz) return false; // FCVTXN: double to single only
    const mode = u ? Rounding.Odd : undefined;
    if (scalar) {
      if (!u) return false;
      fp.laneConvert(1, 0, TMP, vword(n), Rounding.Odd);
      this.commitTmp(d, 0);
      return true;
    }
    // FCVTN: wide lanes of Vn narrow into the low half (FCVTN2: the high half, the low half kept).
    if (q) this.u64[Reg.VTmp] = this.u64[vword(d) >> 1]!;
    for (let i = 0; i < lanes; i++) {
      const aw = vword(n) + i * (sz ? 2 : 1);
      if (narrow === 3) {
        fp.laneConvert(wide, 3, SCRATCH_WORD, aw, mode);
        this.u16[2 * TMP + first + i] = this.u32[SCRATCH_WORD]! & 0xffff;
      } else fp.laneConvert(wide, 0, TMP + first + i, aw, mode);
    }
    this.commitTmp(d, q);
    return true;
  }

  /** By element: FMUL/FMULX/FMLA/FMLS Vd.T, Vn.T, Vm.Ts[index] (scalar: lane 0 only). */
  byElement(kind: number, sz: number, q: number, d: number, n: number, m: number, index: number, scalar: boolean): boolean {
    if (!scalar && sz && !q) return false;
    const count = scalar ? 1 : SimdFp.lanes(sz, q);
    const step = SimdFp.step(sz);
    const mw = vword(m) + index * step;
    const fp = this.fp;
    this.clearTmp();
    for (let i = 0; i < count; i++) {
      const dw = TMP + i * step;
      const aw = vword(n) + i * step;
      if (kind === 0 || kind === 3) fp.laneArith(kind === 0 ? FpOp.Mul : FpOp.MulX, sz, dw, aw, mw);
      else {
        this.copyLane(sz, dw, vword(d) + i * step);
        fp.laneFused(false, kind === 2, sz, dw, aw, mw, dw);
      }
    }
    this.commitTmp(d, scalar ? 0 : q);
    return true;
  }

  /** Across lanes (.4s only): FMAXNMV, FMINNMV, FMAXV, FMINV. */
  acrossLanes(op: number, a: number, sz: number, q: number, d: number, n: number): boolean {
    if (sz || !q) return false;
    if (op !== 0x0c && op !== 0x0f) return false;
    const kind = op === 0x0c ? (a ? FpOp.MinNum : FpOp.MaxNum) : a ? FpOp.Min : FpOp.Max;
    // Pairwise tree as the pseudocode reduces: (0 op 1) op (2 op 3).
    const nw = vword(n);
    const fp = this.fp;
    this.clearTmp();
    fp.laneArith(kind, 0, TMP, nw, nw + 1);
    fp.laneArith(kind, 0, TMP + 1, nw + 2, nw + 3);
    fp.laneArith(kind, 0, TMP, TMP, TMP + 1);
    this.u32[TMP + 1] = 0;
    this.commitTmp(d, 0);
    return true;
  }

  /** Scalar pairwise FADDP/FMAXP/FMINP/FMAXNMP/FMINNMP Vd, Vn.2S/2D (opcode 0x0c, 0x0d, 0x0f with a). */
  scalarPairwise(op: number, a: number, sz: number, d: number, n: number): boolean {
    let kind: FpOp;
    if (op === 0x0d && !a) kind = FpOp.Add;
    else if (op === 0x0c) kind = a ? FpOp.MinNum : FpOp.MaxNum;
    else if (op === 0x0f) kind = a ? FpOp.Min : FpOp.Max;
    else return false;
    const step = SimdFp.step(sz);
    this.clearTmp();
    this.fp.laneArith(kind, sz, TMP, vword(n), vword(n) + step);
    this.commitTmp(d, 0);
    return true;
  }

  /** SCVTF/UCVTF (op 0x1c) and FCVTZS/FCVTZU (op 0x1f) with fbits fraction bits; scalar: lane 0. */
  fixedPoint(op: number, u: number, immh: number, immb: number, q: number, d: number, n: number, scalar: boolean): boolean {
    const sz = immh & 8 ? 1 : immh & 4 ? 0 : -1;
    if (sz < 0 || (!scalar && sz && !q)) return false;
    const esize = sz ? 64 : 32;
    const fbits = 2 * esize - ((immh << 3) | immb);
    const count = scalar ? 1 : SimdFp.lanes(sz, q);
    const step = SimdFp.step(sz);
    const fp = this.fp;
    this.clearTmp();
    for (let i = 0; i < count; i++) {
      const aw = vword(n) + i * step, dw = TMP + i * step;
      if (op === 0x1c) {
        const raw = sz ? this.u64[aw >> 1]! : BigInt(this.u32[aw]!);
        fp.laneFromInteger(sz, dw, u ? raw : BigInt.asIntN(esize, raw), fbits);
      } else {
        const v = fp.laneToInteger(sz, aw, Rounding.Zero, u === 0, esize, fbits);
        if (sz) this.u64[dw >> 1] = v;
        else this.u32[dw] = Number(v);
      }
    }
    this.commitTmp(d, scalar ? 0 : q);
    return true;
  }
}

/** A word outside every vector register for staging half-precision lanes (Reg.Tmp1's low word). */
const SCRATCH_WORD = 2 * Reg.Tmp1;
