/**
 * A64 decode by instruction class, then block compilation: the instructions of a guest block (up to
 * a branch, a state-changing system instruction or the end of the page) become one JavaScript
 * function over the register file, cached by the core per guest page.
 */
import { translateBranch } from './decode-branch.js';
import { translateDpImmediate } from './decode-dp-immediate.js';
import { translateDpRegister } from './decode-dp-register.js';
import { translateLoadStore } from './decode-load-store.js';
import { translateSimd, translateSimdLoadStore } from './decode-simd.js';
import { translateException, translateSystem } from './decode-system.js';
import { undefinedInsn, type Emitted, type Site } from './emit.js';
import { Reg } from './registers.js';

export function translateInstruction(insn: number, site: Site): Emitted {
  const op0 = (insn >>> 25) & 0xf;
  let e: Emitted | undefined;
  if ((op0 & 0xe) === 0x8) e = translateDpImmediate(insn, site);
  else if ((op0 & 0xe) === 0xa) {
    if ((insn & 0xff000000) >>> 0 === 0xd4000000) e = translateException(insn, site);
    else if ((insn & 0xffc00000) >>> 0 === 0xd5000000) e = translateSystem(insn, site);
    else e = translateBranch(insn, site);
  } else if ((op0 & 0x5) === 0x4) e = translateLoadStore(insn, site) ?? translateSimdLoadStore(insn, site);
  else if ((op0 & 0x7) === 0x5) e = translateDpRegister(insn, site);
  else if ((op0 & 0x7) === 0x7) e = translateSimd(insn, site);
  return e ?? undefinedInsn(insn, site);
}

/**
 * The compiled form of a block: runs its instructions and leaves the next pc in r[Reg.Pc]. Returns
 * how many times the block ran: a block ending in a branch to its own start loops inside its
 * function, at most `m.loopLimit` times, publishing the finished iterations in `m.loopIter`.
 */
export type BlockFunction = (
  m: unknown, r: BigUint64Array, r32: Uint32Array, s: BigUint64Array, s32: Uint32Array, si: BigInt64Array,
) => number;

export interface CompiledBlock {
  readonly fn: BlockFunction;
  readonly count: number;
  readonly source: string;
  readonly loops: boolean;
}

/**
 * Compiles the block starting at `pc`; `fetch(i)` returns the i-th instruction word and at most
 * `limit` instructions are taken (1 for single steps, up to the page end otherwise).
 */
export function compileBlock(pc: bigint, fetch: (i: number) => number, limit: number): CompiledBlock {
  const parts: string[] = [];
  let count = 0;
  let last: Emitted | undefined;
  while (count < limit) {
    last = translateInstruction(fetch(count), { pc: pc + BigInt(4 * count), k: count });
    count++;
    if (last.ends) break;
    parts.push(last.code);
  }
  let source: string;
  let loops = false;
  if (last?.ends && last.direct && last.direct.target === pc && limit > 1) {
    const d = last.direct;
    loops = true;
    source =
      `let it=0;const lim=m.loopLimit;for(;;){m.loopIter=it;\n${parts.join('\n')}\n` +
      `if(!(${d.cond})){r[${Reg.Pc}]=0x${d.next.toString(16)}n;return it+1;}` +
      `if(++it>=lim){r[${Reg.Pc}]=0x${pc.toString(16)}n;return it;}}`;
  } else {
    if (last?.ends) parts.push(last.code);
    else parts.push(`r[${Reg.Pc}]=0x${(pc + BigInt(4 * count)).toString(16)}n;`);
    parts.push('return 1;');
    source = parts.join('\n');
  }
  const fn = new Function('m', 'r', 'r32', 's', 's32', 'si', source) as BlockFunction;
  return { fn, count, source, loops };
}
