import { Cause } from './csr.js';

/** What LR/SC/AMO need from the hart. */
export interface AmoHart {
  readonly x: BigUint64Array;
  reservation: number;
  /** The value LR read: SC also requires memory to still hold it, as QEMU's cmpxchg-based SC does. */
  reservationValue: bigint;
  /** Data translation for an atomic; the fault is taken (and -1 returned) on failure. */
  translateData(va: bigint, store: boolean): number;
  checkWatch(va: bigint, size: number, store: boolean): boolean;
  readPhysical(gpa: number, size: 4 | 8): bigint | undefined;
  writePhysical(gpa: number, size: 4 | 8, value: bigint): boolean;
  exception(cause: number, tval: bigint): void;
}

const LR = 0x02, SC = 0x03;

/** LR/SC and the AMOs (W and D). Returns false when a trap was taken or a watchpoint stopped the hart. */
export function executeAmo(h: AmoHart, imm: number, d: number, s1: number, s2: number): boolean {
  const f5 = imm >>> 3;
  const size = (imm & 7) === 3 ? 8 : 4;
  const va = h.x[s1]!;
  const bits = BigInt(size * 8);
  if ((va & BigInt(size - 1)) !== 0n) {
    h.exception(f5 === LR ? Cause.LoadMisaligned : Cause.StoreMisaligned, va);
    return false;
  }
  if (h.checkWatch(va, size, f5 !== LR)) return false;
  const gpa = h.translateData(va, f5 !== LR);
  if (gpa < 0) return false;
  if (f5 === LR) {
    const v = h.readPhysical(gpa, size);
    if (v === undefined) { h.exception(Cause.LoadAccessFault, va); return false; }
    h.reservation = gpa;
    h.reservationValue = v;
    h.x[d] = size === 4 ? BigInt.asIntN(32, v) : v;
    return true;
  }
  if (f5 === SC) {
    // Other harts of the zone run interleaved with this one and do not clear our reservation, so SC
    // also compares memory with the value LR saw (a store by another hart in between fails the SC).
    const ok = h.reservation === gpa && h.readPhysical(gpa, size) === h.reservationValue;
    h.reservation = -1;
    if (ok && !h.writePhysical(gpa, size, BigInt.asUintN(size * 8, h.x[s2]!))) {
      h.exception(Cause.StoreAccessFault, va);
      return false;
    }
    h.x[d] = ok ? 0n : 1n;
    return true;
  }
  const old = h.readPhysical(gpa, size);
  if (old === undefined) { h.exception(Cause.StoreAccessFault, va); return false; }
  const src = BigInt.asUintN(size * 8, h.x[s2]!);
  const sOld = BigInt.asIntN(size * 8, old), sSrc = BigInt.asIntN(size * 8, src);
  let v: bigint;
  switch (f5) {
    case 0x01: v = src; break;
    case 0x00: v = old + src; break;
    case 0x04: v = old ^ src; break;
    case 0x0c: v = old & src; break;
    case 0x08: v = old | src; break;
    case 0x10: v = sOld < sSrc ? old : src; break;
    case 0x14: v = sOld > sSrc ? old : src; break;
    case 0x18: v = old < src ? old : src; break;
    default: v = old > src ? old : src; break;
  }
  if (!h.writePhysical(gpa, size, BigInt.asUintN(Number(bits), v))) { h.exception(Cause.StoreAccessFault, va); return false; }
  h.x[d] = size === 4 ? BigInt.asIntN(32, old) : old;
  return true;
}
