/**
 * LSX, the 128-bit SIMD extension (LoongArch Reference Manual vol. 2), as far as Debian's loong64
 * userland executes it: Debian builds for LoongArch with LSX, so BusyBox's string routines and
 * auto-vectorised loops use it from the first instructions of _start. Vector register i is FPR i
 * (its low 64 bits, `fb`) with 64 more bits above (`vhi`). Instructions work on copies of their
 * operands in a small scratch buffer viewed as lanes of every width; encodings are matched against
 * their fixed bits (opcode tables from the manual, checked with llvm-mc's assembler).
 */

export interface LsxHost {
  readonly x: BigUint64Array;
  readonly fb: BigUint64Array;
  readonly vhi: BigUint64Array;
  readonly fcc: Uint8Array;
  readVirtual(va: bigint, size: 1 | 2 | 4 | 8, fillTlb: boolean): bigint | undefined;
  writeVirtual(va: bigint, size: 1 | 2 | 4 | 8, value: bigint, fillTlb: boolean): boolean;
}

export const enum LsxResult { Ok, Illegal, Fault }

// Four 16-byte slots: 0 = vj, 1 = vk, 2 = vd (result), 3 = va / the old vd.
const buf = new ArrayBuffer(64);
const u8 = new Uint8Array(buf);
const i8 = new Int8Array(buf);
const u16 = new Uint16Array(buf);
const i16 = new Int16Array(buf);
const u32 = new Uint32Array(buf);
const i32 = new Int32Array(buf);
const u64 = new BigUint64Array(buf);
const i64 = new BigInt64Array(buf);
const J = 0, K = 1, D = 2, A = 3;
const MASK64 = (1n << 64n) - 1n;

function load(h: LsxHost, reg: number, slot: number): void {
  u64[slot * 2] = h.fb[reg]!;
  u64[slot * 2 + 1] = h.vhi[reg]!;
}
function store(h: LsxHost, slot: number, reg: number): void {
  h.fb[reg] = u64[slot * 2]!;
  h.vhi[reg] = u64[slot * 2 + 1]!;
}

/** Lane arrays by size (0 = byte .. 3 = doubleword), signed and unsigned; lanes per slot = 16 >> size. */
const S: ReadonlyArray<Int8Array | Int16Array | Int32Array> = [i8, i16, i32];
const U: ReadonlyArray<Uint8Array | Uint16Array | Uint32Array> = [u8, u16, u32];

type Op3 = (a: number, b: number) => number;
/** vd[i] = f(vj[i], vk[i]) on lanes of `size` (signed or unsigned views); doublewords through BigInt. */
function lanes3(size: number, signed: boolean, f: Op3, fd?: (a: bigint, b: bigint) => bigint): void {
  if (size === 3) {
    const arr = signed ? i64 : u64;
    for (let i = 0; i < 2; i++) u64[D * 2 + i] = BigInt.asUintN(64, fd!(arr[J * 2 + i]!, arr[K * 2 + i]!));
    return;
  }
  const arr = signed ? S[size]! : U[size]!;
  const n = 16 >> size;
  const out = U[size]!;
  for (let i = 0; i < n; i++) out[D * n + i] = f(arr[J * n + i]!, arr[K * n + i]!);
}
/** vd[i] = f(vj[i], imm). */
function lanesI(size: number, signed: boolean, imm: number, f: Op3, fd: (a: bigint, b: bigint) => bigint): void {
  if (size === 3) {
    const arr = signed ? i64 : u64;
    for (let i = 0; i < 2; i++) u64[D * 2 + i] = BigInt.asUintN(64, fd(arr[J * 2 + i]!, BigInt(imm)));
    return;
  }
  const arr = signed ? S[size]! : U[size]!;
  const n = 16 >> size;
  const out = U[size]!;
  for (let i = 0; i < n; i++) out[D * n + i] = f(arr[J * n + i]!, imm);
}

const T = -1;
const cmpEq: Op3 = (a, b) => (a === b ? T : 0);
const cmpLt: Op3 = (a, b) => (a < b ? T : 0);
const cmpLe: Op3 = (a, b) => (a <= b ? T : 0);
const add: Op3 = (a, b) => a + b;
const sub: Op3 = (a, b) => a - b;
const min: Op3 = (a, b) => (a < b ? a : b);
const max: Op3 = (a, b) => (a > b ? a : b);
const dEq = (a: bigint, b: bigint) => (a === b ? MASK64 : 0n);
const dLt = (a: bigint, b: bigint) => (a < b ? MASK64 : 0n);
const dLe = (a: bigint, b: bigint) => (a <= b ? MASK64 : 0n);
const dAdd = (a: bigint, b: bigint) => a + b;
const dSub = (a: bigint, b: bigint) => a - b;
const dMin = (a: bigint, b: bigint) => (a < b ? a : b);
const dMax = (a: bigint, b: bigint) => (a > b ? a : b);

const popcount = (v: number): number => {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x &= x - 1) n++;
  return n;
};
const sext = (v: number, bits: number) => (v << (32 - bits)) >> (32 - bits);

function vldiValue(imm: number): { size: number; value: bigint } {
  if (((imm >> 12) & 1) === 0) {
    const size = (imm >> 10) & 3;
    const v = size === 0 ? imm & 0xff : sext(imm & 0x3ff, 10);
    return { size, value: BigInt.asUintN(8 << size, BigInt(v)) };
  }
  const data = imm & 0xff;
  const b7 = (data >> 7) & 1;
  const b6 = (data >> 6) & 1;
  switch ((imm >> 8) & 0xf) {
    case 0: return { size: 2, value: BigInt(data) };
    case 1: return { size: 2, value: BigInt(data << 8) };
    case 2: return { size: 2, value: BigInt(data << 16) };
    case 3: return { size: 2, value: BigInt(data) << 24n };
    case 4: return { size: 1, value: BigInt(data) };
    case 5: return { size: 1, value: BigInt(data << 8) };
    case 6: return { size: 2, value: BigInt((data << 8) | 0xff) };
    case 7: return { size: 2, value: BigInt((data << 16) | 0xffff) };
    case 8: return { size: 0, value: BigInt(data) };
    case 9: {
      let v = 0n;
      for (let i = 0; i < 8; i++) if ((data >> i) & 1) v |= 0xffn << BigInt(8 * i);
      return { size: 3, value: v };
    }
    case 10: case 11: {
      const w = (BigInt(b7) << 31n) | (BigInt(b6 ? 0x1f : 0x20) << 25n) | (BigInt(data & 0x3f) << 19n);
      return { size: (imm >> 8) & 1 ? 3 : 2, value: w };
    }
    case 12: return { size: 3, value: (BigInt(b7) << 63n) | (BigInt(b6 ? 0xff : 0x100) << 54n) | (BigInt(data & 0x3f) << 48n) };
    default: return { size: -1, value: 0n };
  }
}

function replicate(size: number, value: bigint): void {
  if (size === 3) {
    u64[D * 2] = value;
    u64[D * 2 + 1] = value;
    return;
  }
  const n = 16 >> size;
  const out = U[size]!;
  const v = Number(BigInt.asUintN(8 << size, value));
  for (let i = 0; i < n; i++) out[D * n + i] = v;
}

/** A lane of slot `slot` as a BigInt, signed or not. */
function lane(slot: number, size: number, i: number, signed: boolean): bigint {
  const n = 16 >> size;
  if (size === 3) return signed ? i64[slot * 2 + i]! : u64[slot * 2 + i]!;
  return BigInt((signed ? S[size]! : U[size]!)[slot * n + i]!);
}
function setLane(slot: number, size: number, i: number, v: bigint): void {
  const n = 16 >> size;
  if (size === 3) u64[slot * 2 + i] = BigInt.asUintN(64, v);
  else U[size]![slot * n + i] = Number(BigInt.asUintN(8 << size, v));
}

/** Executes one LSX instruction (EUEN.SXE already checked). */
export function executeLsx(h: LsxHost, w: number): LsxResult {
  const vd = w & 31, vj = (w >> 5) & 31, vk = (w >> 10) & 31;
  const x = h.x;
  const top10 = w >>> 22;
  // ---- memory ----
  if (top10 === 0xb0 || top10 === 0xb1) {
    const va = BigInt.asUintN(64, x[vj]! + BigInt(sext((w >> 10) & 0xfff, 12)));
    return top10 === 0xb0 ? vload(h, vd, va) : vstore(h, vd, va);
  }
  const top17 = w >>> 15;
  if (top17 === 0x7080 || top17 === 0x7088) {
    const va = BigInt.asUintN(64, x[vj]! + x[vk]!);
    return top17 === 0x7080 ? vload(h, vd, va) : vstore(h, vd, va);
  }
  const top8 = w >>> 24;
  if (top8 === 0x30) {
    // vldrepl.{b,h,w,d}: si12 / si11 << 1 / si10 << 2 / si9 << 3.
    const size = w & (1 << 23) ? 0 : w & (1 << 22) ? 1 : w & (1 << 21) ? 2 : w & (1 << 20) ? 3 : -1;
    if (size < 0) return LsxResult.Illegal;
    const bits = 12 - size;
    const off = sext((w >> 10) & ((1 << bits) - 1), bits) << size;
    const v = h.readVirtual(BigInt.asUintN(64, x[vj]! + BigInt(off)), (1 << size) as 1 | 2 | 4 | 8, true);
    if (v === undefined) return LsxResult.Fault;
    replicate(size, v);
    store(h, D, vd);
    return LsxResult.Ok;
  }
  if (top8 === 0x31) {
    // vstelm.{b,h,w,d} vd, rj, si8 << size, idx.
    const size = w & (1 << 23) ? 0 : w & (1 << 22) ? 1 : w & (1 << 21) ? 2 : w & (1 << 20) ? 3 : -1;
    if (size < 0) return LsxResult.Illegal;
    const idx = (w >> 18) & ((16 >> size) - 1);
    const off = sext((w >> 10) & 0xff, 8) << size;
    load(h, vd, D);
    return h.writeVirtual(BigInt.asUintN(64, x[vj]! + BigInt(off)), (1 << size) as 1 | 2 | 4 | 8, lane(D, size, idx, false), true) ? LsxResult.Ok : LsxResult.Fault;
  }
  // ---- four-register forms ----
  const top12 = w >>> 20;
  if (top12 === 0x0d1 || top12 === 0x0d5) {
    const va = (w >> 15) & 31;
    load(h, vj, J); load(h, vk, K); load(h, va, A);
    if (top12 === 0x0d1) {
      // vbitsel.v: bits of va choose vk (1) or vj (0).
      for (let i = 0; i < 2; i++) u64[D * 2 + i] = (u64[J * 2 + i]! & ~u64[A * 2 + i]!) | (u64[K * 2 + i]! & u64[A * 2 + i]!);
    } else {
      // vshuf.b: va's bytes index {vj, vk} (0-15 vk, 16-31 vj).
      for (let i = 0; i < 16; i++) {
        const s = u8[A * 16 + i]! & 0x1f;
        u8[D * 16 + i] = s < 16 ? u8[K * 16 + s]! : u8[J * 16 + s - 16]!;
      }
    }
    store(h, D, vd);
    return LsxResult.Ok;
  }
  if (w >>> 26 !== 0x1c) return LsxResult.Illegal;
  load(h, vj, J); load(h, vk, K); load(h, vd, A);
  const r = alu(h, w, vd, vj, vk);
  if (r === 'done') return LsxResult.Ok;
  if (r === 'illegal') return LsxResult.Illegal;
  store(h, D, vd);
  return LsxResult.Ok;
}

function vload(h: LsxHost, vd: number, va: bigint): LsxResult {
  const lo = h.readVirtual(va, 8, true);
  if (lo === undefined) return LsxResult.Fault;
  const hi = h.readVirtual((va + 8n) & MASK64, 8, true);
  if (hi === undefined) return LsxResult.Fault;
  h.fb[vd] = lo;
  h.vhi[vd] = hi;
  return LsxResult.Ok;
}
function vstore(h: LsxHost, vd: number, va: bigint): LsxResult {
  if (!h.writeVirtual(va, 8, h.fb[vd]!, true)) return LsxResult.Fault;
  return h.writeVirtual((va + 8n) & MASK64, 8, h.vhi[vd]!, true) ? LsxResult.Ok : LsxResult.Fault;
}

/** 0x70000000-0x73ffffff: register-to-register forms. 'store' = the result is in slot D. */
function alu(h: LsxHost, w: number, vd: number, vj: number, vk: number): 'store' | 'done' | 'illegal' {
  const op3 = w >>> 15; // 3R opcode
  const sz3 = op3 & 3;
  // 3R: opcode bits 31..15, size in bits 16..15.
  switch (op3 & ~3) {
    case 0xe000: lanes3(sz3, false, cmpEq, dEq); return 'store'; // vseq
    case 0xe004: lanes3(sz3, true, cmpLe, dLe); return 'store'; // vsle
    case 0xe008: lanes3(sz3, false, cmpLe, dLe); return 'store'; // vsle.u
    case 0xe00c: lanes3(sz3, true, cmpLt, dLt); return 'store'; // vslt
    case 0xe010: lanes3(sz3, false, cmpLt, dLt); return 'store'; // vslt.u
    case 0xe014: lanes3(sz3, false, add, dAdd); return 'store'; // vadd
    case 0xe018: lanes3(sz3, false, sub, dSub); return 'store'; // vsub
    case 0xe0e0: lanes3(sz3, true, max, dMax); return 'store'; // vmax
    case 0xe0e4: lanes3(sz3, true, min, dMin); return 'store'; // vmin
    case 0xe0e8: lanes3(sz3, false, max, dMax); return 'store'; // vmax.u
    case 0xe0ec: lanes3(sz3, false, min, dMin); return 'store'; // vmin.u
  }
  switch (op3) {
    case 0xe03e: // vaddwev.d.w
    case 0xe046: { // vaddwod.d.w
      const odd = op3 === 0xe046 ? 1 : 0;
      for (let i = 0; i < 2; i++) i64[D * 2 + i] = BigInt(i32[J * 4 + 2 * i + odd]!) + BigInt(i32[K * 4 + 2 * i + odd]!);
      return 'store';
    }
    case 0xe0ab: { // vhaddw.q.d: vj.d[1] + vk.d[0], signed 128-bit
      const s = BigInt.asUintN(128, i64[J * 2 + 1]! + i64[K * 2]!);
      u64[D * 2] = s & MASK64;
      u64[D * 2 + 1] = s >> 64n;
      return 'store';
    }
    case 0xe244: case 0xe245: case 0xe246: case 0xe247: { // vreplve.{b,h,w,d} vd, vj, rk
      const size = op3 & 3;
      replicate(size, lane(J, size, Number(h.x[vk]! & BigInt((16 >> size) - 1)), false));
      return 'store';
    }
    case 0xe24c: for (let i = 0; i < 2; i++) u64[D * 2 + i] = u64[J * 2 + i]! & u64[K * 2 + i]!; return 'store'; // vand.v
    case 0xe24d: for (let i = 0; i < 2; i++) u64[D * 2 + i] = u64[J * 2 + i]! | u64[K * 2 + i]!; return 'store'; // vor.v
    case 0xe24e: for (let i = 0; i < 2; i++) u64[D * 2 + i] = u64[J * 2 + i]! ^ u64[K * 2 + i]!; return 'store'; // vxor.v
    case 0xe24f: for (let i = 0; i < 2; i++) u64[D * 2 + i] = ~(u64[J * 2 + i]! | u64[K * 2 + i]!) & MASK64; return 'store'; // vnor.v
    case 0xe250: for (let i = 0; i < 2; i++) u64[D * 2 + i] = ~u64[J * 2 + i]! & u64[K * 2 + i]!; return 'store'; // vandn.v
    case 0xe251: for (let i = 0; i < 2; i++) u64[D * 2 + i] = (u64[J * 2 + i]! | ~u64[K * 2 + i]!) & MASK64; return 'store'; // vorn.v
  }
  if ((op3 & ~3) === 0xe22c) { // vpackev
    const size = op3 & 3, n = 16 >> size;
    for (let i = 0; i < n; i += 2) { setLane(D, size, i, lane(K, size, i, false)); setLane(D, size, i + 1, lane(J, size, i, false)); }
    return 'store';
  }
  if ((op3 & ~3) === 0xe234 || (op3 & ~3) === 0xe238) { // vilvl / vilvh
    const size = op3 & 3, n = 16 >> size, base = (op3 & ~3) === 0xe238 ? n / 2 : 0;
    for (let i = 0; i < n / 2; i++) { setLane(D, size, 2 * i, lane(K, size, base + i, false)); setLane(D, size, 2 * i + 1, lane(J, size, base + i, false)); }
    return 'store';
  }
  if ((op3 & ~3) === 0xe23c || (op3 & ~3) === 0xe240) { // vpickev / vpickod
    const size = op3 & 3, n = 16 >> size, odd = (op3 & ~3) === 0xe240 ? 1 : 0;
    for (let i = 0; i < n / 2; i++) { setLane(D, size, i, lane(K, size, 2 * i + odd, false)); setLane(D, size, i + n / 2, lane(J, size, 2 * i + odd, false)); }
    return 'store';
  }
  // 2R (opcode bits 31..10) and the set-condition forms.
  const op2 = w >>> 10;
  if ((op2 & ~3) === 0x1ca708) { // vpcnt
    const size = op2 & 3, n = 16 >> size;
    for (let i = 0; i < n; i++) {
      const v = lane(J, size, i, false);
      setLane(D, size, i, BigInt(popcount(Number(v & 0xffffffffn)) + popcount(Number(v >> 32n))));
    }
    return 'store';
  }
  if ((op2 & ~3) === 0x1ca704) { // vclz
    const size = op2 & 3, n = 16 >> size, bits = 8 << size;
    for (let i = 0; i < n; i++) {
      const v = lane(J, size, i, false);
      let c = 0;
      for (let b = bits - 1; b >= 0 && ((v >> BigInt(b)) & 1n) === 0n; b--) c++;
      setLane(D, size, i, BigInt(c));
    }
    return 'store';
  }
  if ((op2 & ~3) === 0x1ca70c) { // vneg
    const size = op2 & 3, n = 16 >> size;
    for (let i = 0; i < n; i++) setLane(D, size, i, -lane(J, size, i, true));
    return 'store';
  }
  if (op2 === 0x1ca718 || (op2 & ~3) === 0x1ca710 || op2 === 0x1ca714) { // vmsknz.b, vmskltz, vmskgez.b
    const size = (op2 & ~3) === 0x1ca710 ? op2 & 3 : 0, n = 16 >> size;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = lane(J, size, i, true);
      const bit = op2 === 0x1ca718 ? v !== 0n : op2 === 0x1ca714 ? v >= 0n : v < 0n;
      if (bit) m |= 1 << i;
    }
    u64[D * 2] = BigInt(m);
    u64[D * 2 + 1] = 0n;
    return 'store';
  }
  if ((op2 & ~7) === 0x1ca728 || (op2 & ~7) === 0x1ca720) { // vsetanyeqz/vsetallnez .{b,h,w,d}; vseteqz.v / vsetnez.v
    const cd = w & 7;
    let result: boolean;
    if ((op2 & ~7) === 0x1ca720) {
      if ((op2 & 7) !== 6 && (op2 & 7) !== 7) return 'illegal';
      const zero = u64[J * 2] === 0n && u64[J * 2 + 1] === 0n;
      result = (op2 & 7) === 6 ? zero : !zero;
    } else {
      const size = op2 & 3, n = 16 >> size, all = (op2 & 4) !== 0;
      let anyZero = false;
      for (let i = 0; i < n; i++) if (lane(J, size, i, false) === 0n) anyZero = true;
      result = all ? !anyZero : anyZero;
    }
    h.fcc[cd] = result ? 1 : 0;
    return 'done';
  }
  if ((op2 & ~7) === 0x1ca7b8) { // vexth.{h.b,w.h,d.w,q.d} (signed) and .{hu.bu,...} (unsigned)
    const size = op2 & 3, n = 16 >> size, signed = (op2 & 4) === 0;
    if (size === 3) {
      const v = signed ? i64[J * 2 + 1]! : u64[J * 2 + 1]!;
      u64[D * 2] = BigInt.asUintN(64, v);
      u64[D * 2 + 1] = signed && v < 0n ? MASK64 : 0n;
      return 'store';
    }
    for (let i = 0; i < n / 2; i++) setLane(D, size + 1, i, lane(J, size, n / 2 + i, signed));
    return 'store';
  }
  if ((op2 & ~3) === 0x1ca7c0) { // vreplgr2vr
    replicate(op2 & 3, h.x[vj]!);
    return 'store';
  }
  // 2RI forms.
  const op5 = w >>> 15; // ui5 / si5 immediates in bits 14..10
  const i5 = (w >> 10) & 31;
  switch (op5) {
    case 0xe500: case 0xe501: case 0xe502: case 0xe503: lanesI(op5 & 3, true, sext(i5, 5), cmpEq, dEq); return 'store'; // vseqi
    case 0xe504: case 0xe505: case 0xe506: case 0xe507: lanesI(op5 & 3, true, sext(i5, 5), cmpLe, dLe); return 'store'; // vslei
    case 0xe508: case 0xe509: case 0xe50a: case 0xe50b: lanesI(op5 & 3, false, i5, cmpLe, dLe); return 'store'; // vslei.u
    case 0xe50c: case 0xe50d: case 0xe50e: case 0xe50f: lanesI(op5 & 3, true, sext(i5, 5), cmpLt, dLt); return 'store'; // vslti
    case 0xe510: case 0xe511: case 0xe512: case 0xe513: lanesI(op5 & 3, false, i5, cmpLt, dLt); return 'store'; // vslti.u
    case 0xe514: case 0xe515: case 0xe516: case 0xe517: lanesI(op5 & 3, false, i5, add, dAdd); return 'store'; // vaddi.u
    case 0xe518: case 0xe519: case 0xe51a: case 0xe51b: lanesI(op5 & 3, false, i5, sub, dSub); return 'store'; // vsubi.u
    case 0xe51c: case 0xe51d: { // vbsll.v / vbsrl.v
      const sh = Math.min(i5, 16);
      u8.fill(0, D * 16, D * 16 + 16);
      if (op5 === 0xe51c) for (let i = sh; i < 16; i++) u8[D * 16 + i] = u8[J * 16 + i - sh]!;
      else for (let i = 0; i + sh < 16; i++) u8[D * 16 + i] = u8[J * 16 + i + sh]!;
      return 'store';
    }
    case 0xe534: case 0xe535: { // vfrstpi.b / .h: the index of the first negative lane of vj into vd's lane imm
      const size = op5 & 1, n = 16 >> size;
      let first = n;
      for (let i = 0; i < n; i++) if (lane(J, size, i, true) < 0n) { first = i; break; }
      u64[D * 2] = u64[A * 2]!; u64[D * 2 + 1] = u64[A * 2 + 1]!;
      setLane(D, size, i5 % n, BigInt(first));
      return 'store';
    }
  }
  // Shifts by an immediate: vslli/vsrli (0x732c/0x7330 << 16 groups), vsllwil.h.b etc.
  const op16 = w >>> 16;
  if (op16 === 0x732c || op16 === 0x732d || op16 === 0x7330 || op16 === 0x7331 || op16 === 0x7308) {
    // Size from the highest set bit of bits 18..13 (as the manual packs ui3..ui6).
    const f = (w >> 10) & 0x7f;
    const size = op16 & 1 ? 3 : f & 0x40 ? -1 : f & 0x20 ? 2 : f & 0x10 ? 1 : f & 0x8 ? 0 : -1;
    if (size < 0) return 'illegal';
    const sh = f & ((8 << size) - 1);
    const n = 16 >> size;
    if (op16 === 0x7308) { // vsllwil.{h.b,w.h,d.w}: widen the low half, shift left
      if (size === 3) return 'illegal';
      for (let i = 0; i < n / 2; i++) setLane(D, size + 1, i, lane(J, size, i, true) << BigInt(sh));
      return 'store';
    }
    const left = op16 === 0x732c || op16 === 0x732d;
    for (let i = 0; i < n; i++) {
      const v = lane(J, size, i, false);
      setLane(D, size, i, left ? v << BigInt(sh) : v >> BigInt(sh));
    }
    return 'store';
  }
  // vinsgr2vr (0x72eb), vpickve2gr (0x72ef), vpickve2gr.u (0x72f3), vreplvei (0x72f7): bits 15..10
  // are 10iiii (b), 110iii (h), 1110ii (w), 11110i (d).
  const kind = w >>> 16;
  if (kind === 0x72eb || kind === 0x72ef || kind === 0x72f3 || kind === 0x72f7) {
    const f6 = (w >> 10) & 0x3f;
    let size: number, idx: number;
    if ((f6 & 0x30) === 0x20) { size = 0; idx = f6 & 0xf; }
    else if ((f6 & 0x38) === 0x30) { size = 1; idx = f6 & 7; }
    else if ((f6 & 0x3c) === 0x38) { size = 2; idx = f6 & 3; }
    else if ((f6 & 0x3e) === 0x3c) { size = 3; idx = f6 & 1; }
    else return 'illegal';
    if (kind === 0x72eb) {
      u64[D * 2] = u64[A * 2]!;
      u64[D * 2 + 1] = u64[A * 2 + 1]!;
      setLane(D, size, idx, h.x[vj]!);
      return 'store';
    }
    if (kind === 0x72f7) {
      replicate(size, lane(J, size, idx, false));
      return 'store';
    }
    if (vd !== 0) h.x[vd] = BigInt.asUintN(64, lane(J, size, idx, kind === 0x72ef));
    return 'done';
  }
  // ui8 forms: vandi/vori/vxori/vnori.b, vshuf4i, vpermi.w, vldi.
  const op14 = w >>> 18;
  const i8v = (w >> 10) & 0xff;
  switch (op14) {
    case 0x1cf4: case 0x1cf5: case 0x1cf6: case 0x1cf7: {
      for (let i = 0; i < 16; i++) {
        const a = u8[J * 16 + i]!;
        u8[D * 16 + i] = op14 === 0x1cf4 ? a & i8v : op14 === 0x1cf5 ? a | i8v : op14 === 0x1cf6 ? a ^ i8v : ~(a | i8v);
      }
      return 'store';
    }
    case 0x1ce4: case 0x1ce5: case 0x1ce6: { // vshuf4i.b/h/w
      const size = op14 - 0x1ce4, n = 16 >> size;
      for (let i = 0; i < n; i++) setLane(D, size, i, lane(J, size, (i & ~3) + ((i8v >> (2 * (i & 3))) & 3), false));
      return 'store';
    }
    case 0x1ce7: { // vshuf4i.d
      u64[D * 2] = (i8v & 2 ? u64[J * 2 + (i8v & 1)] : u64[A * 2 + (i8v & 1)])!;
      u64[D * 2 + 1] = (i8v & 8 ? u64[J * 2 + ((i8v >> 2) & 1)] : u64[A * 2 + ((i8v >> 2) & 1)])!;
      return 'store';
    }
    case 0x1cf9: { // vpermi.w
      u32[D * 4] = u32[J * 4 + (i8v & 3)]!;
      u32[D * 4 + 1] = u32[J * 4 + ((i8v >> 2) & 3)]!;
      u32[D * 4 + 2] = u32[A * 4 + ((i8v >> 4) & 3)]!;
      u32[D * 4 + 3] = u32[A * 4 + ((i8v >> 6) & 3)]!;
      return 'store';
    }
  }
  if (w >>> 18 === 0x1cf8) { // vldi vd, i13
    const { size, value } = vldiValue((w >> 5) & 0x1fff);
    if (size < 0) return 'illegal';
    replicate(size, value);
    return 'store';
  }
  return 'illegal';
}

