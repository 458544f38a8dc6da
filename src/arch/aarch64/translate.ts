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
import { big, undefinedInsn, type Emitted, type Site } from './emit.js';
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
 * The compiled form of a block: runs its instructions and leaves the next pc in r[Reg.Pc]. A positive
 * result is how many times the whole block ran: a block ending in a branch to its own start loops
 * inside its function, at most `m.loopLimit` times, publishing the finished iterations in
 * `m.loopIter`. A block goes on past its conditional branches (superblock); one taken there leaves
 * early and returns minus the number of instructions retired.
 */
export type BlockFunction = (
  m: unknown, r: BigUint64Array, r32: Uint32Array, s: BigUint64Array, s32: Uint32Array, si: BigInt64Array,
) => number;

export interface CompiledBlock {
  readonly fn: BlockFunction;
  readonly count: number;
  readonly source: string;
  readonly loops: boolean;
  /** Conditional branches inside the block that may leave it early. */
  readonly exits: number;
}

/** Stands for the block's final instruction count inside a loop body's early exits. */
const COUNT = '\u0000';

/**
 * Compiles the block starting at `pc`; `fetch(i)` returns the i-th instruction word and at most
 * `limit` instructions are taken (1 for single steps, up to the page end otherwise). A conditional
 * branch that does not target the block's start becomes an early exit and translation continues
 * with the next instruction: fewer, longer blocks mean fewer dispatches and fewer compilations.
 */
export function compileBlock(pc: bigint, fetch: (i: number) => number, limit: number): CompiledBlock {
  const parts: string[] = [];
  let count = 0;
  let last: Emitted | undefined;
  let exits = 0;
  while (count < limit) {
    const e = translateInstruction(fetch(count), { pc: pc + BigInt(4 * count), k: count });
    count++;
    if (!e.ends) {
      parts.push(e.code);
      continue;
    }
    const d = e.direct;
    if (d !== undefined && d.cond !== 'true' && d.target !== pc && count < limit) {
      parts.push(`if(${d.cond}){r[${Reg.Pc}]=${big(d.target)};return -(it*${COUNT}+${count});}`);
      exits++;
      continue;
    }
    last = e;
    break;
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
    source = withPageLocals(source.split(COUNT).join(String(count)));
  } else {
    if (last?.ends) parts.push(last.code);
    else parts.push(`r[${Reg.Pc}]=0x${(pc + BigInt(4 * count)).toString(16)}n;`);
    parts.push('return 1;');
    // Early exits outside a loop have no iteration count.
    source = parts.join('\n').split(`it*${COUNT}+`).join('');
  }
  return { fn: functionOf(source), count, source, loops, exits };
}

/**
 * A loop's 64- and 32-bit loads and stores remember, in locals, the last RAM page each reached through
 * the core's TLB (m.rt / m.wt): while the loop stays on that page it skips the helper call and the TLB
 * lookup. Sound within one call: nothing a loop body can do changes a TLB entry (TLBI, MSR, ERET and
 * exceptions end the block or leave the function), and a store's TLB entry has RAM only for pages
 * that hold no translated code, which cannot change before the function returns. Loops using
 * unprivileged accesses (another TLB) are left as they are.
 */
function withPageLocals(source: string): string {
  if (source.includes('m.unprivileged(')) return source;
  let used = false;
  const out = source.replace(/m\.(ld|st)(64|32)\((\d+),(\d+)\);/g, (_all, op: string, bits: string, reg: string, k: string) => {
    used = true;
    const load = op === 'ld';
    const p = load ? 'rp' : 'wp';
    const h = load ? 'rh' : 'wh';
    const u = load ? 'ru' : 'wu';
    const b = load ? 'rb' : 'wb';
    const view = bits === '64' ? 'u64' : 'u32';
    const shift = bits === '64' ? 3 : 2;
    const align = bits === '64' ? 7 : 3;
    const cell = `${u}.${view}[(${b}+(lo&4095))>>>${shift}]`;
    const fast = load
      ? bits === '64' ? `r[${reg}]=${cell};` : `r32[${2 * Number(reg)}]=${cell};r32[${2 * Number(reg) + 1}]=0;`
      : bits === '64' ? `${cell}=r[${reg}];` : `${cell}=r32[${2 * Number(reg)}];`;
    return `{const lo=s32[6];if((lo>>>12)===${p}&&s32[7]===${h}&&(lo&${align})===0){${fast}}else{m.${op}${bits}(${reg},${k});` +
      `const t=m.${load ? 'rt' : 'wt'},i=(lo>>>12)&255;if(t.tagLo[i]===lo>>>12&&t.tagHi[i]===s32[7]&&t.ram[i]!==undefined){` +
      `${p}=lo>>>12;${h}=s32[7];${u}=t.ram[i];${b}=t.base[i];}}}`;
  });
  return used ? `let rp=-1,rh=0,ru=null,rb=0,wp=-1,wh=0,wu=null,wb=0;\n${out}` : source;
}

/**
 * Block functions by source text, shared by every core in this thread: the vCPUs of a zone run the
 * same kernel text, and a page rewritten with the same code (or a block recompiled after its page
 * was written) yields the same source. A Linux boot compiles about a third of its blocks more than
 * once; V8's parse and bytecode generation are most of a compilation's cost. Bounded: cleared when full.
 */
const functionsBySource = new Map<string, BlockFunction>();
const MAX_CACHED_FUNCTIONS = 1 << 16;

function functionOf(source: string): BlockFunction {
  let fn = functionsBySource.get(source);
  if (fn === undefined) {
    if (functionsBySource.size >= MAX_CACHED_FUNCTIONS) functionsBySource.clear();
    fn = new Function('m', 'r', 'r32', 's', 's32', 'si', source) as BlockFunction;
    functionsBySource.set(source, fn);
  }
  return fn;
}
