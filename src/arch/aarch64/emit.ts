/**
 * Code-generation vocabulary shared by the per-class translators. Every A64 instruction becomes a
 * JavaScript statement over the register file: `r` (BigUint64Array), `r32` (its Uint32Array view),
 * `s`/`s32`/`si` (scratch as unsigned, 32-bit and signed views) and `m` (the core, for helpers).
 */

/** What one translated instruction contributes to its block. */
export interface Emitted {
  readonly code: string;
  /** The instruction transfers control (branch, exception, ERET, MSR that changes state): the block ends. */
  readonly ends: boolean;
  /** A direct branch: taken when `cond` holds (lets a block that branches to itself loop inside its function). */
  readonly direct?: { readonly target: bigint; readonly cond: string; readonly next: bigint };
}

/** Where the instruction sits: its address and its index inside the block (for precise faults). */
export interface Site {
  readonly pc: bigint;
  readonly k: number;
}

export type Translator = (insn: number, site: Site) => Emitted | undefined;

export const body = (code: string): Emitted => ({ code, ends: false });
export const terminal = (code: string): Emitted => ({ code, ends: true });

export const big = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}n`;

/** Xn where 31 is XZR. */
export const X = (n: number): string => (n === 31 ? '0n' : `r[${n}]`);
/** Xn where 31 is SP. */
export const XS = (n: number): string => `r[${n}]`;
/** Wn (uint32 number) where 31 is WZR. */
export const W = (n: number): string => (n === 31 ? '0' : `r32[${2 * n}]`);
/** Wn where 31 is WSP. */
export const WS = (n: number): string => `r32[${2 * n}]`;

/** Write a 64-bit BigInt expression to Xd (31 = XZR: dropped). */
export const setX = (d: number, e: string): string => (d === 31 ? '' : `r[${d}]=${e};`);
export const setXS = (d: number, e: string): string => `r[${d}]=${e};`;
/** Write a 32-bit number expression to Wd, zeroing the upper half. */
export const setW = (d: number, e: string): string => (d === 31 ? '' : `r32[${2 * d}]=${e};r32[${2 * d + 1}]=0;`);
export const setWS = (d: number, e: string): string => `r32[${2 * d}]=${e};r32[${2 * d + 1}]=0;`;

/** A condition code as a JS boolean expression over the flags m.n m.z m.c m.v (0/1 numbers). */
export function condition(cond: number): string {
  let e: string;
  switch (cond >> 1) {
    case 0: e = 'm.z===1'; break;
    case 1: e = 'm.c===1'; break;
    case 2: e = 'm.n===1'; break;
    case 3: e = 'm.v===1'; break;
    case 4: e = '(m.c===1&&m.z===0)'; break;
    case 5: e = 'm.n===m.v'; break;
    case 6: e = '(m.z===0&&m.n===m.v)'; break;
    default: return 'true';
  }
  return cond & 1 ? `!(${e})` : e;
}

export const bits = (v: number, hi: number, lo: number): number => (v >>> lo) & ((1 << (hi - lo + 1)) - 1) >>> 0;

export function signExtend(v: number, width: number): number {
  const sh = 32 - width;
  return (v << sh) >> sh;
}

/** 64-bit all-ones mask of `width` low bits as a BigInt. */
export const mask64 = (width: number): bigint => (width >= 64 ? 0xffffffffffffffffn : (1n << BigInt(width)) - 1n);
/** 32-bit mask of `width` low bits as a number. */
export const mask32 = (width: number): number => (width >= 32 ? 0xffffffff : (1 << width) - 1) >>> 0;

/** Raise UNDEFINED for this instruction (used when an encoding is reserved at translation time). */
export const undefinedInsn = (insn: number, site: Site): Emitted =>
  terminal(`m.undefinedInstruction(${site.k},${insn >>> 0});return 1;`);

/** ARM ARM DecodeBitMasks: the (wmask, tmask) pair of a logical immediate or bitfield. */
export function decodeBitMasks(
  n: number,
  imms: number,
  immr: number,
  immediate: boolean,
  dataSize: number,
): { wmask: bigint; tmask: bigint } | undefined {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return undefined;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return undefined;
  const levels = (1 << len) - 1;
  if (immediate && (imms & levels) === levels) return undefined;
  const s = imms & levels;
  const r = immr & levels;
  const diff = (s - r) & levels;
  const esize = 1 << len;
  if (esize > dataSize) return undefined;
  const d = diff;
  const welem = mask64(s + 1);
  const telem = mask64(d + 1);
  const rot = (v: bigint): bigint => {
    if (r === 0) return v;
    const m = mask64(esize);
    return ((v >> BigInt(r)) | (v << BigInt(esize - r))) & m;
  };
  const replicate = (v: bigint): bigint => {
    let out = 0n;
    for (let i = 0; i < dataSize; i += esize) out |= v << BigInt(i);
    return out & mask64(dataSize);
  };
  return { wmask: replicate(rot(welem)), tmask: replicate(telem) };
}
