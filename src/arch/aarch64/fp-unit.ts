/**
 * Scalar floating point (single and double) over the V registers: arithmetic, compare, select,
 * conversions and FMOV. JS doubles give correctly rounded results for round-to-nearest (single
 * precision through Math.fround); directed FPCR rounding modes apply to the FRINT and FCVT*
 * families only, FMADD is computed unfused, and FPSR records IOC and DZC (not IXC/UFC/OFC).
 */
import { Reg } from './registers.js';

const FPSR_IOC = 1;
const FPSR_DZC = 2;

/** What the unit needs from the core: the flags and FPCR/FPSR. */
export interface FpCore {
  n: number;
  z: number;
  c: number;
  v: number;
  fpcr: number;
  fpsr: number;
  readonly r: BigUint64Array;
}

export class FpUnit {
  private readonly f64: Float64Array;
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array;

  constructor(private readonly core: FpCore) {
    const b = core.r.buffer;
    this.f64 = new Float64Array(b);
    this.f32 = new Float32Array(b);
    this.u32 = new Uint32Array(b);
  }

  /** Value of Sn/Dn (type 0 = single, 1 = double). */
  read(type: number, n: number): number {
    return type ? this.f64[Reg.V0 + 2 * n]! : this.f32[2 * (Reg.V0 + 2 * n)]!;
  }

  /** Writes Sd/Dd and zeroes the rest of Vd; a NaN result is the default NaN (positive, quiet). */
  write(type: number, d: number, v: number): void {
    const r = this.core.r;
    if (Number.isNaN(v)) {
      if (type) r[Reg.V0 + 2 * d] = 0x7ff8000000000000n;
      else r[Reg.V0 + 2 * d] = 0x7fc00000n;
    } else if (type) {
      this.f64[Reg.V0 + 2 * d] = v;
    } else {
      this.f32[2 * (Reg.V0 + 2 * d)] = v;
      this.u32[2 * (Reg.V0 + 2 * d) + 1] = 0;
    }
    r[Reg.V0 + 2 * d + 1] = 0n;
  }

  private round(type: number, v: number): number {
    return type ? v : Math.fround(v);
  }

  private invalid(): void {
    this.core.fpsr |= FPSR_IOC;
  }

  /** Raw bits of Sn/Dn. */
  private bits(type: number, n: number): bigint {
    const raw = this.core.r[Reg.V0 + 2 * n]!;
    return type ? raw : raw & 0xffffffffn;
  }

  private isSignaling(type: number, n: number): boolean {
    const b = this.bits(type, n);
    return type ? ((b >> 51n) & 1n) === 0n : ((b >> 22n) & 1n) === 0n;
  }

  /** ARM NaN propagation: the first signalling NaN operand, else the first quiet one, made quiet. */
  private propagateNaN(type: number, d: number, operands: readonly number[]): void {
    const nans = operands.filter((o) => Number.isNaN(this.read(type, o)));
    const pick = nans.find((o) => this.isSignaling(type, o)) ?? nans[0]!;
    if (this.isSignaling(type, pick)) this.invalid();
    const quiet = this.bits(type, pick) | (type ? 1n << 51n : 1n << 22n);
    this.core.r[Reg.V0 + 2 * d] = quiet;
    this.core.r[Reg.V0 + 2 * d + 1] = 0n;
  }

  /** FMUL FDIV FADD FSUB FMAX FMIN FMAXNM FMINNM FNMUL (opcode 0..8). */
  dp2(op: number, type: number, d: number, n: number, m: number): void {
    const a = this.read(type, n);
    const b = this.read(type, m);
    if (Number.isNaN(a) || Number.isNaN(b)) {
      const quietNumber = (op === 6 || op === 7) && Number.isNaN(a) !== Number.isNaN(b) && !this.isSignaling(type, Number.isNaN(a) ? n : m);
      if (!quietNumber) return this.propagateNaN(type, d, [n, m]);
    }
    let v: number;
    switch (op) {
      case 0: v = a * b; break;
      case 1:
        if (b === 0 && !Number.isNaN(a) && a !== 0 && Number.isFinite(a)) this.core.fpsr |= FPSR_DZC;
        v = a / b;
        break;
      case 2: v = a + b; break;
      case 3: v = a - b; break;
      case 4: v = Math.max(a, b); break;
      case 5: v = Math.min(a, b); break;
      case 6: v = Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b); break;
      case 7: v = Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.min(a, b); break;
      default: v = -(a * b);
    }
    if (Number.isNaN(v) && !Number.isNaN(a) && !Number.isNaN(b)) this.invalid();
    this.write(type, d, this.round(type, v));
  }

  /** FMADD FMSUB FNMADD FNMSUB (o1:o0). */
  dp3(kind: number, type: number, d: number, n: number, m: number, a: number): void {
    if ([a, n, m].some((o) => Number.isNaN(this.read(type, o)))) return this.propagateNaN(type, d, [a, n, m]);
    const x = this.read(type, n);
    const y = this.read(type, m);
    const acc = this.read(type, a);
    let v: number;
    switch (kind) {
      case 0: v = acc + x * y; break;
      case 1: v = acc - x * y; break;
      case 2: v = -acc - x * y; break;
      default: v = -acc + x * y;
    }
    this.write(type, d, this.round(type, v));
  }

  /** FMOV FABS FNEG FSQRT, FCVT to another precision, FRINT* (opcode bits 20:15). */
  dp1(op: number, type: number, d: number, n: number): boolean {
    const a = this.read(type, n);
    if (Number.isNaN(a) && op >= 3 && op !== 4 && op !== 5) {
      this.propagateNaN(type, d, [n]);
      return true;
    }
    switch (op) {
      case 0: this.copyRaw(type, d, n); return true;
      case 1: this.write(type, d, Math.abs(a)); return true;
      case 2: this.write(type, d, -a); return true;
      case 3:
        if (a < 0) this.invalid();
        this.write(type, d, this.round(type, Math.sqrt(a)));
        return true;
      case 4: this.write(0, d, Math.fround(a)); return true;
      case 5: this.write(1, d, a); return true;
      default:
        if (op >= 8 && op <= 15 && op !== 13) {
          this.write(type, d, this.roundToIntegral(a, op - 8));
          return true;
        }
        return false;
    }
  }

  private copyRaw(type: number, d: number, n: number): void {
    const r = this.core.r;
    if (type) r[Reg.V0 + 2 * d] = r[Reg.V0 + 2 * n]!;
    else {
      this.u32[2 * (Reg.V0 + 2 * d)] = this.u32[2 * (Reg.V0 + 2 * n)]!;
      this.u32[2 * (Reg.V0 + 2 * d) + 1] = 0;
    }
    r[Reg.V0 + 2 * d + 1] = 0n;
  }

  /** FRINT rmode: 0 N, 1 P, 2 M, 3 Z, 4 A, 6 X (current), 7 I (current). */
  private roundToIntegral(a: number, rmode: number): number {
    if (!Number.isFinite(a)) return a;
    const mode = rmode >= 6 ? [0, 1, 2, 3][(this.core.fpcr >>> 22) & 3]! : rmode;
    let v: number;
    switch (mode) {
      case 0: {
        const f = Math.floor(a);
        const diff = a - f;
        v = diff > 0.5 ? f + 1 : diff < 0.5 ? f : f % 2 === 0 ? f : f + 1;
        break;
      }
      case 1: v = Math.ceil(a); break;
      case 2: v = Math.floor(a); break;
      case 3: v = Math.trunc(a); break;
      default: v = a < 0 ? -Math.round(-a) : Math.round(a);
    }
    return v === 0 ? (a < 0 || Object.is(a, -0) ? -0 : 0) : v;
  }

  /** FCMP/FCMPE (with #0.0 when zero is set). */
  compare(type: number, n: number, m: number, zero: boolean, signalAll: boolean): void {
    const a = this.read(type, n);
    const b = zero ? 0 : this.read(type, m);
    const c = this.core;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (signalAll) this.invalid();
      c.n = 0; c.z = 0; c.c = 1; c.v = 1;
    } else if (a === b) {
      c.n = 0; c.z = 1; c.c = 1; c.v = 0;
    } else if (a < b) {
      c.n = 1; c.z = 0; c.c = 0; c.v = 0;
    } else {
      c.n = 0; c.z = 0; c.c = 1; c.v = 0;
    }
  }

  select(type: number, d: number, n: number, m: number, cond: boolean): void {
    this.copyRaw(type, d, cond ? n : m);
  }

  /** FMOV (immediate): VFPExpandImm of imm8. */
  moveImmediate(type: number, d: number, imm8: number): void {
    const sign = imm8 >> 7 ? -1 : 1;
    const cd = (imm8 >> 4) & 3;
    const e = (imm8 >> 6) & 1 ? cd - 3 : cd + 1;
    const mant = 1 + (imm8 & 15) / 16;
    this.write(type, d, sign * mant * 2 ** e);
  }

  /** SCVTF/UCVTF from a general register value. */
  fromInteger(type: number, d: number, value: bigint, signed: boolean, bits: number): void {
    const x = signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
    this.write(type, d, this.round(type, Number(x)));
  }

  /** FCVT{N,P,M,Z,A}{S,U}: rounding 0 N, 1 P, 2 M, 3 Z, 4 A; saturating, NaN → 0. */
  toInteger(type: number, n: number, rmode: number, signed: boolean, bits: number): bigint {
    const a = this.read(type, n);
    if (Number.isNaN(a)) {
      this.invalid();
      return 0n;
    }
    const r = this.roundToIntegral(a, rmode);
    const max = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
    const min = signed ? -(2n ** BigInt(bits - 1)) : 0n;
    let v: bigint;
    if (!Number.isFinite(r)) v = r > 0 ? max : min;
    else v = BigInt(r);
    if (v > max || v < min) {
      this.invalid();
      v = v > max ? max : min;
    }
    return BigInt.asUintN(64, v);
  }
}
