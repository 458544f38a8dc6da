/**
 * Advanced SIMD lane arithmetic over the V registers (slots Reg.V0.. of the register file). Lanes of
 * 8/16/32 bits use number views, 64-bit lanes BigInt; every result is built in a 16-byte temporary
 * and then written back (so Vd may alias a source), clearing the upper half for 64-bit forms.
 */
import { Reg } from './registers.js';
import { FPSR_QC } from './fp-round.js';

const BASE8 = Reg.V0 * 8;

/** Three-same integer opcodes done lane by lane in BigInt (halving, saturating, shifts by register, ABD/ABA, MLA/MLS). */
const WIDE_THREE_SAME = [0x00, 0x01, 0x02, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x0f, 0x12, 0x16].reduce((mask, op) => mask | (1 << op), 0);

/** Where saturation is recorded (FPSR.QC). */
/** PMUL: the polynomial (carry-less) product of two bytes, truncated to 8 bits. */
function carrylessMultiply(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) r ^= a << i;
  return r & 0xff;
}

export interface SaturationStatus {
  fpsr: number;
}

export class SimdUnit {
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly i8: Int8Array;
  private readonly i16: Int16Array;
  private readonly i32: Int32Array;
  private readonly u64: BigUint64Array;
  private readonly i64: BigInt64Array;
  private readonly t = new ArrayBuffer(16);
  private readonly t8 = new Uint8Array(this.t);
  private readonly t16 = new Uint16Array(this.t);
  private readonly t32 = new Uint32Array(this.t);
  private readonly t64 = new BigUint64Array(this.t);

  constructor(regs: BigUint64Array, private readonly status: SaturationStatus = { fpsr: 0 }) {
    const b = regs.buffer;
    this.u8 = new Uint8Array(b);
    this.u16 = new Uint16Array(b);
    this.u32 = new Uint32Array(b);
    this.i8 = new Int8Array(b);
    this.i16 = new Int16Array(b);
    this.i32 = new Int32Array(b);
    this.u64 = regs;
    this.i64 = new BigInt64Array(b);
  }

  // --- lane access ------------------------------------------------------------------------------

  /** Unsigned lane of a 8/16/32-bit element. */
  get(n: number, i: number, esize: number): number {
    switch (esize) {
      case 8: return this.u8[BASE8 + 16 * n + i]!;
      case 16: return this.u16[(BASE8 >> 1) + 8 * n + i]!;
      default: return this.u32[(BASE8 >> 2) + 4 * n + i]!;
    }
  }

  getSigned(n: number, i: number, esize: number): number {
    switch (esize) {
      case 8: return this.i8[BASE8 + 16 * n + i]!;
      case 16: return this.i16[(BASE8 >> 1) + 8 * n + i]!;
      default: return this.i32[(BASE8 >> 2) + 4 * n + i]!;
    }
  }

  get64(n: number, i: number): bigint {
    return this.u64[Reg.V0 + 2 * n + i]!;
  }

  getS64(n: number, i: number): bigint {
    return this.i64[Reg.V0 + 2 * n + i]!;
  }

  /** Lane as BigInt whatever its size (slow path helpers). */
  lane(n: number, i: number, esize: number): bigint {
    return esize === 64 ? this.get64(n, i) : BigInt(this.get(n, i, esize));
  }

  private put(i: number, esize: number, v: number): void {
    switch (esize) {
      case 8: this.t8[i] = v; break;
      case 16: this.t16[i] = v; break;
      default: this.t32[i] = v;
    }
  }

  private put64(i: number, v: bigint): void {
    this.t64[i] = v;
  }

  private putLane(i: number, esize: number, v: bigint): void {
    if (esize === 64) this.t64[i] = v;
    else this.put(i, esize, Number(BigInt.asUintN(esize, v)));
  }

  private clearTemp(): void {
    this.t64[0] = 0n;
    this.t64[1] = 0n;
  }

  /** Writes the temporary to Vd: 128 bits, or 64 with the upper half zeroed. */
  private commit(d: number, q: number): void {
    this.u64[Reg.V0 + 2 * d] = this.t64[0]!;
    this.u64[Reg.V0 + 2 * d + 1] = q ? this.t64[1]! : 0n;
  }

  private lanes(q: number, esize: number): number {
    return (q ? 128 : 64) / esize;
  }

  // --- three same --------------------------------------------------------------------------------

  threeSame(op: number, u: number, size: number, q: number, d: number, n: number, m: number, lanes = 0): boolean {
    const esize = 8 << size;
    const count = lanes || this.lanes(q, esize);
    if ((WIDE_THREE_SAME >>> op) & 1) return this.threeSameWide(op, u, esize, count, q, d, n, m);
    this.clearTemp();
    if (esize === 64) {
      for (let i = 0; i < count; i++) {
        const a = this.get64(n, i);
        const b = this.get64(m, i);
        const sa = this.getS64(n, i);
        const sb = this.getS64(m, i);
        let v: bigint;
        switch (op) {
          case 0x06: v = (u ? a > b : sa > sb) ? -1n : 0n; break;
          case 0x07: v = (u ? a >= b : sa >= sb) ? -1n : 0n; break;
          case 0x10: v = u ? a - b : a + b; break;
          case 0x11: v = u ? (a === b ? -1n : 0n) : (a & b) !== 0n ? -1n : 0n; break;
          case 0x17: if (u) return false; v = i < count / 2 ? this.get64(n, 2 * i) + this.get64(n, 2 * i + 1) : this.get64(m, 2 * (i - count / 2)) + this.get64(m, 2 * (i - count / 2) + 1); break;
          default: return false;
        }
        this.put64(i, BigInt.asUintN(64, v));
      }
      this.commit(d, q);
      return true;
    }
    const mask = esize === 32 ? 0xffffffff : (1 << esize) - 1;
    for (let i = 0; i < count; i++) {
      const a = this.get(n, i, esize);
      const b = this.get(m, i, esize);
      let v: number;
      switch (op) {
        case 0x06: v = (u ? a > b : this.getSigned(n, i, esize) > this.getSigned(m, i, esize)) ? mask : 0; break;
        case 0x07: v = (u ? a >= b : this.getSigned(n, i, esize) >= this.getSigned(m, i, esize)) ? mask : 0; break;
        case 0x0c: v = u ? Math.max(a, b) : Math.max(this.getSigned(n, i, esize), this.getSigned(m, i, esize)); break;
        case 0x0d: v = u ? Math.min(a, b) : Math.min(this.getSigned(n, i, esize), this.getSigned(m, i, esize)); break;
        case 0x10: v = u ? a - b : a + b; break;
        case 0x11: v = u ? (a === b ? mask : 0) : (a & b) !== 0 ? mask : 0; break;
        case 0x13:
          if (!u) v = esize === 32 ? Math.imul(a, b) : a * b;
          else if (esize === 8) v = carrylessMultiply(a, b); // PMUL
          else return false;
          break;
        case 0x14: case 0x15: case 0x17: {
          // Pairwise: lanes 0..count/2-1 from Vn's pairs, the rest from Vm's pairs.
          const half = count / 2;
          const src = i < half ? n : m;
          const j = 2 * (i < half ? i : i - half);
          const x = u || op === 0x17 ? this.get(src, j, esize) : this.getSigned(src, j, esize);
          const y = u || op === 0x17 ? this.get(src, j + 1, esize) : this.getSigned(src, j + 1, esize);
          if (op === 0x17) { if (u) return false; v = x + y; } else v = op === 0x14 ? Math.max(x, y) : Math.min(x, y);
          break;
        }
        default: return false;
      }
      this.put(i, esize, v);
    }
    this.commit(d, q);
    return true;
  }

  /** Saturates v to the lane's range, noting QC when it had to. */
  private saturate(v: bigint, esize: number, signed: boolean): bigint {
    const max = signed ? (1n << BigInt(esize - 1)) - 1n : (1n << BigInt(esize)) - 1n;
    const min = signed ? -(1n << BigInt(esize - 1)) : 0n;
    if (v > max || v < min) {
      this.status.fpsr |= FPSR_QC;
      return v > max ? max : min;
    }
    return v;
  }

  private laneValue(r: number, i: number, esize: number, signed: boolean): bigint {
    const v = this.lane(r, i, esize);
    return signed ? BigInt.asIntN(esize, v) : v;
  }

  /** {S,U}HADD, {S,U}QADD, {S,U}RHADD, {S,U}HSUB, {S,U}QSUB, {S,U}SHL, {S,U}RSHL, {S,U}ABD, {S,U}ABA, MLA/MLS. */
  private threeSameWide(op: number, u: number, esize: number, count: number, q: number, d: number, n: number, m: number): boolean {
    const signed = u === 0;
    // Halving, absolute-difference and multiply-accumulate forms have no 64-bit lanes; doubling multiplies only 16/32.
    if (esize === 64 && op !== 0x01 && op !== 0x05 && op !== 0x08 && op !== 0x09 && op !== 0x0a && op !== 0x0b) return false;
    if (op === 0x16 && (esize === 8 || esize === 64)) return false;
    this.clearTemp();
    for (let i = 0; i < count; i++) {
      const a = this.laneValue(n, i, esize, signed);
      const b = this.laneValue(m, i, esize, signed);
      let v: bigint;
      switch (op) {
        case 0x00: v = (a + b) >> 1n; break;
        case 0x01: v = this.saturate(a + b, esize, signed); break;
        case 0x02: v = (a + b + 1n) >> 1n; break;
        case 0x04: v = (a - b) >> 1n; break;
        case 0x05: v = this.saturate(a - b, esize, signed); break;
        case 0x08: case 0x09: case 0x0a: case 0x0b: {
          // Shift by the signed low byte of Vm's lane: left when positive (saturating for QSHL/QRSHL),
          // right (rounding for RSHL/QRSHL) when negative.
          const shift = Number(BigInt.asIntN(8, this.lane(m, i, esize) & 0xffn));
          const saturating = op === 0x09 || op === 0x0b;
          if (shift >= 0) {
            if (saturating) v = this.saturate(a === 0n ? 0n : a << BigInt(Math.min(shift, esize + 1)), esize, signed);
            else v = shift >= esize ? 0n : a << BigInt(shift);
          } else {
            const right = BigInt(Math.min(-shift, esize + 1));
            v = op === 0x0a || op === 0x0b ? (a + (1n << (right - 1n))) >> right : a >> right;
          }
          break;
        }
        case 0x16: { // SQDMULH / SQRDMULH
          const product = 2n * BigInt.asIntN(esize, this.lane(n, i, esize)) * BigInt.asIntN(esize, this.lane(m, i, esize));
          v = this.saturate((product + (u ? 1n << BigInt(esize - 1) : 0n)) >> BigInt(esize), esize, true);
          break;
        }
        case 0x0e: v = a > b ? a - b : b - a; break;
        case 0x0f: v = this.lane(d, i, esize) + (a > b ? a - b : b - a); break;
        default: v = u ? this.lane(d, i, esize) - a * b : this.lane(d, i, esize) + a * b; // MLA / MLS
      }
      this.putLane(i, esize, v);
    }
    this.commit(d, q);
    return true;
  }

  /**
   * LD2-LD4 (multiple structures): the `selem` × (8 or 16) bytes loaded into the structure scratch
   * are de-interleaved, element e of structure member r going to lane e of V(t + r).
   */
  deinterleave(t: number, selem: number, esize: number, q: number): void {
    const count = this.lanes(q, esize);
    const bytes = esize >> 3;
    const src = Reg.StructTmp * 8;
    for (let r = 0; r < selem; r++) {
      const v = (t + r) % 32;
      const dst = BASE8 + 16 * v;
      for (let e = 0; e < count; e++) {
        const from = src + (e * selem + r) * bytes;
        for (let b = 0; b < bytes; b++) this.u8[dst + e * bytes + b] = this.u8[from + b]!;
      }
      if (!q) this.u64[Reg.V0 + 2 * v + 1] = 0n;
    }
  }

  /** ST2-ST4: interleaves lanes of V(t)..V(t + selem - 1) into the structure scratch. */
  interleave(t: number, selem: number, esize: number, q: number): void {
    const count = this.lanes(q, esize);
    const bytes = esize >> 3;
    const dst = Reg.StructTmp * 8;
    for (let r = 0; r < selem; r++) {
      const src = BASE8 + 16 * ((t + r) % 32);
      for (let e = 0; e < count; e++) {
        const to = dst + (e * selem + r) * bytes;
        for (let b = 0; b < bytes; b++) this.u8[to + b] = this.u8[src + e * bytes + b]!;
      }
    }
  }

  /**
   * The long and doubling by-element forms (by-element opcode 0x2/0x3/0x6/0x7/0xa/0xb/0xc/0xd:
   * {S,U}MLAL, SQDMLAL, {S,U}MLSL, SQDMLSL, {S,U}MULL, SQDMULL, SQDMULH, SQRDMULH): Vm's element is
   * replicated into the scratch vector, then the vector form runs against it.
   */
  byElementWide(op: number, u: number, size: number, q: number, d: number, n: number, m: number, index: number): boolean {
    const esize = 8 << size;
    const element = this.lane(m, index, esize);
    for (let i = 0; i < 128 / esize; i++) this.putLane(i, esize, element);
    this.u64[Reg.VTmp] = this.t64[0]!;
    this.u64[Reg.VTmp + 1] = this.t64[1]!;
    const scratch = (Reg.VTmp - Reg.V0) / 2; // the scratch vector as a (negative) register number
    switch (op) {
      case 0xc: case 0xd: return u === 0 && this.threeSame(0x16, op === 0xd ? 1 : 0, size, q, d, n, scratch);
      case 0x3: return u === 0 && this.threeDifferent(9, 0, size, q, d, n, scratch); // SQDMLAL
      case 0x7: return u === 0 && this.threeDifferent(11, 0, size, q, d, n, scratch); // SQDMLSL
      case 0xb: return u === 0 && this.threeDifferent(13, 0, size, q, d, n, scratch); // SQDMULL
      case 0x2: return this.threeDifferent(8, u, size, q, d, n, scratch); // {S,U}MLAL
      case 0x6: return this.threeDifferent(10, u, size, q, d, n, scratch); // {S,U}MLSL
      case 0xa: return this.threeDifferent(12, u, size, q, d, n, scratch); // {S,U}MULL
      default: return false;
    }
  }

  /** MUL / MLA / MLS (kind 0, 1, 2) by element on 16- or 32-bit lanes. */
  byElement(kind: number, size: number, q: number, d: number, n: number, m: number, index: number): void {
    const esize = 8 << size;
    const count = this.lanes(q, esize);
    const b = this.get(m, index, esize);
    this.clearTemp();
    for (let i = 0; i < count; i++) {
      const a = this.get(n, i, esize);
      const product = esize === 32 ? Math.imul(a, b) : a * b;
      const v = kind === 0 ? product : kind === 1 ? this.get(d, i, esize) + product : this.get(d, i, esize) - product;
      this.put(i, esize, v);
    }
    this.commit(d, q);
  }

  /** SQXTN/UQXTN/SQXTUN (op 0x14 U=0/1, 0x12 U=1), narrowing with saturation into the low or high half. */
  private saturatingNarrow(op: number, u: number, esize: number, q: number, d: number, n: number): boolean {
    if (esize === 64) return false;
    const half = 64 / esize;
    const base = q ? half : 0;
    const srcSigned = op === 0x14 ? u === 0 : true;
    const dstSigned = op === 0x14 ? u === 0 : false;
    this.clearTemp();
    for (let i = 0; i < base; i++) this.putLane(i, esize, this.lane(d, i, esize));
    for (let i = 0; i < half; i++) this.putLane(base + i, esize, this.saturate(this.laneValue(n, i, esize * 2, srcSigned), esize, dstSigned));
    this.commit(d, q);
    return true;
  }

  // --- two-register misc --------------------------------------------------------------------------

  twoMisc(op: number, u: number, size: number, q: number, d: number, n: number): boolean {
    const esize = 8 << size;
    const count = this.lanes(q, esize);
    this.clearTemp();
    switch (op) {
      case 0x00: case 0x01: { // REV64 / REV32 (U=1) / REV16 (op 1)
        const container = op === 1 ? 16 : u ? 32 : 64;
        if (esize >= container) return false;
        const per = container / esize;
        for (let i = 0; i < count; i++) this.putLane(i, esize, this.lane(n, (i - (i % per)) + (per - 1 - (i % per)), esize));
        break;
      }
      case 0x04: // CLS / CLZ
        if (esize === 64) return false;
        for (let i = 0; i < count; i++) {
          const x = this.get(n, i, esize);
          const clz = Math.clz32(x) - (32 - esize);
          const s = this.getSigned(n, i, esize);
          this.put(i, esize, u ? clz : Math.clz32((s ^ (s >> 31)) >>> 0) - (32 - esize) - 1);
        }
        break;
      case 0x05:
        if (!u && size === 0) { // CNT
          for (let i = 0; i < count; i++) {
            let x = this.get(n, i, 8);
            let c = 0;
            while (x) { c += x & 1; x >>>= 1; }
            this.put(i, 8, c);
          }
        } else if (u && size === 0) { // NOT
          this.t64[0] = ~this.get64(n, 0);
          this.t64[1] = ~this.get64(n, 1);
        } else if (u && size === 1) { // RBIT
          for (let i = 0; i < count * 2; i++) {
            let x = this.get(n, i, 8);
            let r = 0;
            for (let k = 0; k < 8; k++) { r = (r << 1) | (x & 1); x >>>= 1; }
            this.put(i, 8, r);
          }
          if (!q) this.t64[1] = 0n;
        } else return false;
        break;
      case 0x08: case 0x09: case 0x0a: case 0x0b: { // CMGT/CMGE/CMEQ/CMLE/CMLT #0, ABS/NEG
        for (let i = 0; i < count; i++) {
          const s = esize === 64 ? this.getS64(n, i) : BigInt(this.getSigned(n, i, esize));
          let v: bigint;
          if (op === 0x08) v = (u ? s >= 0n : s > 0n) ? -1n : 0n;
          else if (op === 0x09) v = (u ? s <= 0n : s === 0n) ? -1n : 0n;
          else if (op === 0x0a) { if (u) return false; v = s < 0n ? -1n : 0n; }
          else v = u ? -s : s < 0n ? -s : s;
          this.putLane(i, esize, v);
        }
        break;
      }
      case 0x14: return this.saturatingNarrow(op, u, esize, q, d, n);
      case 0x07: // SQABS / SQNEG
        for (let i = 0; i < count; i++) {
          const s = this.laneValue(n, i, esize, true);
          this.putLane(i, esize, this.saturate(u ? -s : s < 0n ? -s : s, esize, true));
        }
        break;
      case 0x12: { // XTN / XTN2, SQXTUN / SQXTUN2
        if (u) return this.saturatingNarrow(op, u, esize, q, d, n);
        if (esize === 64) return false;
        const half = 64 / esize; // destination lanes per 64 bits
        const base = q ? half : 0;
        for (let i = 0; i < base; i++) this.put(i, esize, this.get(d, i, esize));
        for (let i = 0; i < half; i++) this.putLane(base + i, esize, this.lane(n, i, esize * 2));
        this.commit(d, q);
        return true;
      }
      case 0x02: case 0x06: { // SADDLP / UADDLP, SADALP / UADALP (accumulating)
        if (esize === 64) return false;
        const out = count / 2;
        for (let i = 0; i < out; i++) {
          const x = u ? this.lane(n, 2 * i, esize) : BigInt(this.getSigned(n, 2 * i, esize));
          const y = u ? this.lane(n, 2 * i + 1, esize) : BigInt(this.getSigned(n, 2 * i + 1, esize));
          this.putLane(i, esize * 2, op === 0x06 ? this.lane(d, i, esize * 2) + x + y : x + y);
        }
        break;
      }
      case 0x03: // SUQADD (signed Vd + unsigned Vn) / USQADD (unsigned Vd + signed Vn), saturating to Vd's kind
        if (esize === 64 && !q) return false;
        for (let i = 0; i < count; i++) {
          const acc = this.laneValue(d, i, esize, u === 0);
          const add = this.laneValue(n, i, esize, u === 1);
          this.putLane(i, esize, this.saturate(acc + add, esize, u === 0));
        }
        break;
      default: return false;
    }
    this.commit(d, q);
    return true;
  }

  /** Across lanes: ADDV, SMAXV/UMAXV, SMINV/UMINV, SADDLV/UADDLV into a scalar. */
  acrossLanes(op: number, u: number, size: number, q: number, d: number, n: number): boolean {
    const esize = 8 << size;
    if (esize === 64) return false;
    const count = this.lanes(q, esize);
    let acc = u ? this.get(n, 0, esize) : this.getSigned(n, 0, esize);
    for (let i = 1; i < count; i++) {
      const x = u ? this.get(n, i, esize) : this.getSigned(n, i, esize);
      switch (op) {
        case 0x1b: case 0x03: acc += x; break;
        case 0x0a: acc = Math.max(acc, x); break;
        case 0x1a: acc = Math.min(acc, x); break;
        default: return false;
      }
    }
    if (op === 0x1b && u) return false;
    this.clearTemp();
    const outSize = op === 0x03 ? esize * 2 : esize;
    this.putLane(0, outSize, BigInt(acc));
    this.commit(d, 0);
    this.u64[Reg.V0 + 2 * d] = this.t64[0]!;
    return true;
  }

  // --- copy, permute, table -----------------------------------------------------------------------

  /** DUP Vd.T, Rn (general) with the value of Xn. */
  dupGeneral(value: bigint, esize: number, q: number, d: number): void {
    const count = this.lanes(q, esize);
    this.clearTemp();
    for (let i = 0; i < count; i++) this.putLane(i, esize, value);
    this.commit(d, q);
  }

  dupElement(n: number, index: number, esize: number, q: number, d: number): void {
    this.dupGeneral(this.lane(n, index, esize), esize, q, d);
  }

  /** INS Vd.T[i], value (the rest of Vd kept). */
  insert(d: number, index: number, esize: number, value: bigint): void {
    this.t64[0] = this.get64(d, 0);
    this.t64[1] = this.get64(d, 1);
    this.putLane(index, esize, value);
    this.commit(d, 1);
  }

  ext(d: number, n: number, m: number, index: number, q: number): void {
    const bytes = q ? 16 : 8;
    for (let i = 0; i < bytes; i++) {
      const k = index + i;
      this.t8[i] = k < bytes ? this.get(n, k, 8) : this.get(m, k - bytes, 8);
    }
    if (!q) this.t64[1] = 0n;
    this.commit(d, q);
  }

  /** TBL/TBX with `len` table registers starting at n (wrapping at 31). */
  table(d: number, n: number, len: number, m: number, q: number, extension: boolean): void {
    const bytes = q ? 16 : 8;
    for (let i = 0; i < bytes; i++) {
      const idx = this.get(m, i, 8);
      const reg = (n + (idx >> 4)) % 32;
      this.t8[i] = idx < 16 * len ? this.get(reg, idx & 15, 8) : extension ? this.get(d, i, 8) : 0;
    }
    if (!q) this.t64[1] = 0n;
    this.commit(d, q);
  }

  /** ZIP/UZP/TRN 1/2 (opcode 1..7 as encoded). */
  permute(op: number, size: number, q: number, d: number, n: number, m: number): boolean {
    const esize = 8 << size;
    const count = this.lanes(q, esize);
    const part = op >> 2;
    const half = count / 2;
    this.clearTemp();
    for (let i = 0; i < count; i++) {
      let v: bigint;
      switch (op & 3) {
        case 1: { const k = 2 * i + part; v = k < count ? this.lane(n, k, esize) : this.lane(m, k - count, esize); break; } // UZP
        case 2: { const pair = i >> 1; v = i & 1 ? this.lane(m, 2 * pair + part, esize) : this.lane(n, 2 * pair + part, esize); break; } // TRN
        case 3: { const k = (i >> 1) + part * half; v = i & 1 ? this.lane(m, k, esize) : this.lane(n, k, esize); break; } // ZIP
        default: return false;
      }
      this.putLane(i, esize, v);
    }
    this.commit(d, q);
    return true;
  }

  // --- shifts by immediate and immediates --------------------------------------------------------

  shiftImmediate(op: number, u: number, immh: number, immb: number, q: number, d: number, n: number): boolean {
    const hsb = 31 - Math.clz32(immh);
    const esize = 8 << hsb;
    const immhb = (immh << 3) | immb;
    this.clearTemp();
    switch (op) {
      case 0x00: case 0x02: { // SSHR/USHR, SSRA/USRA
        const shift = 2 * esize - immhb;
        const count = this.lanes(q, esize);
        for (let i = 0; i < count; i++) {
          const x = u ? this.lane(n, i, esize) : BigInt.asIntN(esize, this.lane(n, i, esize));
          let v = x >> BigInt(shift);
          if (op === 0x02) v += this.lane(d, i, esize);
          this.putLane(i, esize, v);
        }
        break;
      }
      case 0x04: case 0x06: { // SRSHR/URSHR, SRSRA/URSRA: rounding shift right (and accumulate)
        const shift = BigInt(2 * esize - immhb);
        const count = this.lanes(q, esize);
        for (let i = 0; i < count; i++) {
          let v = (this.laneValue(n, i, esize, u === 0) + (1n << (shift - 1n))) >> shift;
          if (op === 0x06) v += this.lane(d, i, esize);
          this.putLane(i, esize, v);
        }
        break;
      }
      case 0x0c: case 0x0e: { // SQSHLU (U=1, 0x0c), SQSHL/UQSHL (0x0e): saturating shift left
        if (op === 0x0c && !u) return false;
        const shift = BigInt(immhb - esize);
        const count = this.lanes(q, esize);
        const srcSigned = op === 0x0c || u === 0;
        const dstSigned = op === 0x0e && u === 0;
        for (let i = 0; i < count; i++) this.putLane(i, esize, this.saturate(this.laneValue(n, i, esize, srcSigned) << shift, esize, dstSigned));
        break;
      }
      case 0x11: // RSHRN (U=0), SQRSHRUN (U=1)
        return u ? this.narrowShift(true, true, false, immh, immb, q, d, n) : this.narrowShift(true, false, false, immh, immb, q, d, n);
      case 0x12: case 0x13: // {S,U}QSHRN, {S,U}QRSHRN
        return this.narrowShift(op === 0x13, true, u === 0, immh, immb, q, d, n, u === 0);
      case 0x0a: { // SHL / SLI
        const shift = immhb - esize;
        const count = this.lanes(q, esize);
        const keep = u ? (1n << BigInt(shift)) - 1n : 0n;
        for (let i = 0; i < count; i++) {
          const v = (this.lane(n, i, esize) << BigInt(shift)) | (this.lane(d, i, esize) & keep);
          this.putLane(i, esize, v);
        }
        break;
      }
      case 0x08: { // SRI
        if (!u) return false;
        const shift = 2 * esize - immhb;
        const count = this.lanes(q, esize);
        const keepMask = ((1n << BigInt(esize)) - 1n) ^ (((1n << BigInt(esize)) - 1n) >> BigInt(shift));
        for (let i = 0; i < count; i++) this.putLane(i, esize, (this.lane(n, i, esize) >> BigInt(shift)) | (this.lane(d, i, esize) & keepMask));
        break;
      }
      case 0x10: { // SHRN / SHRN2 (U=0); SQSHRUN (U=1)
        if (u) return this.narrowShift(false, true, false, immh, immb, q, d, n);
        if (esize === 64) return false;
        const shift = 2 * esize - immhb;
        const lanes = 64 / esize;
        const base = q ? lanes : 0;
        for (let i = 0; i < base; i++) this.putLane(i, esize, this.lane(d, i, esize));
        for (let i = 0; i < lanes; i++) this.putLane(base + i, esize, this.lane(n, i, esize * 2) >> BigInt(shift));
        break;
      }
      case 0x14: { // SSHLL/USHLL (SXTL/UXTL), from the low or high half
        if (esize === 64) return false;
        const shift = immhb - esize;
        const lanes = 64 / esize;
        const from = q ? lanes : 0;
        for (let i = 0; i < lanes; i++) {
          const x = u ? this.lane(n, from + i, esize) : BigInt.asIntN(esize, this.lane(n, from + i, esize));
          this.putLane(i, esize * 2, x << BigInt(shift));
        }
        this.commit(d, 1);
        return true;
      }
      default: return false;
    }
    this.commit(d, q);
    return true;
  }

  /**
   * Shift right and narrow into the low (or, with Q, high) half of Vd: optionally rounding, and
   * saturating to a signed or unsigned lane (the source is signed unless `srcSigned` says otherwise).
   */
  private narrowShift(rounding: boolean, saturating: boolean, dstSigned: boolean, immh: number, immb: number, q: number, d: number, n: number, srcSigned = true): boolean {
    const esize = 8 << (31 - Math.clz32(immh));
    if (esize === 64) return false;
    const shift = BigInt(2 * esize - ((immh << 3) | immb));
    const lanes = 64 / esize;
    const base = q ? lanes : 0;
    this.clearTemp();
    for (let i = 0; i < base; i++) this.putLane(i, esize, this.lane(d, i, esize));
    for (let i = 0; i < lanes; i++) {
      const x = saturating ? this.laneValue(n, i, esize * 2, srcSigned) : this.lane(n, i, esize * 2);
      const v = (x + (rounding ? 1n << (shift - 1n) : 0n)) >> shift;
      this.putLane(base + i, esize, saturating ? this.saturate(v, esize, dstSigned) : v);
    }
    this.commit(d, q);
    return true;
  }

  /** Writes a 64-bit pattern (already expanded from the modified immediate) with MOVI/MVNI/ORR/BIC semantics. */
  immediate(kind: 'mov' | 'orr' | 'bic', pattern: bigint, q: number, d: number): void {
    let lo = pattern;
    let hi = q ? pattern : 0n;
    if (kind !== 'mov') {
      const dlo = this.get64(d, 0);
      const dhi = q ? this.get64(d, 1) : 0n;
      lo = kind === 'orr' ? dlo | pattern : dlo & ~pattern;
      hi = q ? (kind === 'orr' ? dhi | pattern : dhi & ~pattern) : 0n;
    }
    this.u64[Reg.V0 + 2 * d] = BigInt.asUintN(64, lo);
    this.u64[Reg.V0 + 2 * d + 1] = BigInt.asUintN(64, hi);
  }

  /**
   * Three different: {S,U}ADDL/ADDW/SUBL/SUBW, ADDHN/SUBHN, {S,U}MULL/MLAL/MLSL (opcode bits 15:12);
   * Q selects the upper half of the narrow sources ("2" forms).
   */
  threeDifferent(op: number, u: number, size: number, q: number, d: number, n: number, m: number): boolean {
    const esize = 8 << size;
    if (esize === 64) return false;
    const wide = esize * 2;
    const lanes = 64 / esize;
    const part = q ? lanes : 0;
    const narrow = (r: number, i: number): bigint => {
      const v = this.lane(r, part + i, esize);
      return u ? v : BigInt.asIntN(esize, v);
    };
    const wideLane = (r: number, i: number): bigint => {
      const v = this.lane(r, i, wide);
      return u ? v : BigInt.asIntN(wide, v);
    };
    this.clearTemp();
    if (op === 4 || op === 6) {
      // ADDHN/SUBHN: high halves of wide sums into narrow lanes (low or upper half of Vd).
      if (u) return false;
      for (let i = 0; i < part; i++) this.putLane(i, esize, this.lane(d, i, esize));
      for (let i = 0; i < lanes; i++) {
        const a = this.lane(n, i, wide);
        const b = this.lane(m, i, wide);
        this.putLane(part + i, esize, (op === 4 ? a + b : a - b) >> BigInt(esize));
      }
      this.commit(d, q);
      return true;
    }
    for (let i = 0; i < lanes; i++) {
      let v: bigint;
      switch (op) {
        case 0: v = narrow(n, i) + narrow(m, i); break;
        case 1: v = wideLane(n, i) + narrow(m, i); break;
        case 2: v = narrow(n, i) - narrow(m, i); break;
        case 3: v = wideLane(n, i) - narrow(m, i); break;
        case 8: v = this.lane(d, i, wide) + narrow(n, i) * narrow(m, i); break;
        case 10: v = this.lane(d, i, wide) - narrow(n, i) * narrow(m, i); break;
        case 12: v = narrow(n, i) * narrow(m, i); break;
        case 5: { const x = narrow(n, i), y = narrow(m, i); v = this.lane(d, i, wide) + (x > y ? x - y : y - x); break; } // {S,U}ABAL
        case 7: { const x = narrow(n, i), y = narrow(m, i); v = x > y ? x - y : y - x; break; } // {S,U}ABDL
        case 9: case 11: case 13: { // SQDMLAL, SQDMLSL, SQDMULL: doubled product saturated, then accumulated with saturation
          if (u || esize === 8) return false;
          const product = this.saturate(2n * narrow(n, i) * narrow(m, i), wide, true);
          const acc = BigInt.asIntN(wide, this.lane(d, i, wide));
          v = op === 13 ? product : this.saturate(op === 9 ? acc + product : acc - product, wide, true);
          break;
        }
        case 14: { // PMULL (8-bit lanes only: the 64-bit form is the crypto extension)
          if (u || esize !== 8) return false;
          const x = Number(this.lane(n, part + i, 8)), y = Number(this.lane(m, part + i, 8));
          let r = 0;
          for (let b = 0; b < 8; b++) if ((y >> b) & 1) r ^= x << b;
          v = BigInt(r);
          break;
        }
        default: return false;
      }
      this.putLane(i, wide, v);
    }
    this.commit(d, 1);
    return true;
  }

  /** Scalar (D register) shifts by immediate: SSHR/USHR, SSRA/USRA, SHL, SLI, SRI on 64-bit lanes. */
  scalarShift(op: number, u: number, immh: number, immb: number, d: number, n: number): boolean {
    if (!(immh & 8)) return false;
    const ok = this.shiftImmediate(op, u, immh, immb, 1, d, n);
    if (ok) this.u64[Reg.V0 + 2 * d + 1] = 0n;
    return ok;
  }

  /** Scalar two-register misc on D: CMGT/CMGE/CMEQ/CMLE/CMLT #0, ABS, NEG. */
  scalarTwoMisc(op: number, u: number, size: number, d: number, n: number): boolean {
    if (size !== 3 || op < 8 || op > 11) return false;
    const ok = this.twoMisc(op, u, size, 1, d, n);
    if (ok) this.u64[Reg.V0 + 2 * d + 1] = 0n;
    return ok;
  }

  /** Scalar ADDP Dd, Vn.2D. */
  addPairScalar(d: number, n: number): void {
    this.u64[Reg.V0 + 2 * d] = this.get64(n, 0) + this.get64(n, 1);
    this.u64[Reg.V0 + 2 * d + 1] = 0n;
  }
}
