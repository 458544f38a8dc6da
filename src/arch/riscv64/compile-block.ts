/**
 * The riscv64 block compiler: a run of predecoded instructions inside one 4 KiB guest page becomes one
 * JavaScript function. Guest registers live in int32 locals (a low and a high half each) for the whole
 * block, so the hot path has no BigInt and no register-file traffic; they are written back at every
 * exit. Conditional branches that are not taken go on (superblock); a final branch back to the block's
 * start loops inside the function. Loads and stores inline the software TLB's RAM fast path and fall
 * back to the core's slow path (faults, MMIO, code pages) with the registers written back and pc set,
 * so every exception is precise. Anything else (CSRs, traps, fences, FP, AMOs, division) ends the block
 * before it: the interpreter runs it.
 *
 * A compiled function is called as fn(m, xi, pageHi, pageLo, room): `m` is the core (see BlockHost),
 * `xi` its register file as int32 halves, pageHi:pageLo the virtual address of the page (a physical
 * page may be mapped at several), `room` the instructions it may run. It returns how many it ran
 * (a trapping one included, as the interpreter counts) with pc set; it sets m.leave when the
 * interpreter must look up pc afresh (a trap or stop, or its own page's code changed).
 */
import { Op } from './ops.js';

/** The core's side of a compiled block (fields the generated code reads by name). */
export interface BlockHost {
  priv: number;
  leave: boolean;
  readonly codeGen: number;
  readonly tlbRKey: Float64Array;
  readonly tlbROff: Uint32Array;
  readonly tlbRInfo: readonly (BlockRam | undefined)[];
  readonly tlbWKey: Float64Array;
  readonly tlbWOff: Uint32Array;
  readonly tlbWInfo: readonly (BlockRam | undefined)[];
  setPc(hi: number, lo: number): void;
  loadSlow(op: number, d: number, lo: number, hi: number): boolean;
  storeSlow(op: number, s2: number, lo: number, hi: number): boolean;
}

/** The views of a RAM block the fast paths use. */
export interface BlockRam {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** Non-zero for pages holding decoded code: stores there take the slow path. */
  readonly code: Uint8Array;
}

export type BlockFunction = (m: BlockHost, xi: Int32Array, pageHi: number, pageLo: number, room: number) => number;

export interface CompiledBlock {
  readonly fn: BlockFunction;
  /** Instructions in one pass through the block (the most it runs without looping). */
  readonly count: number;
  readonly loops: boolean;
  readonly source: string;
}

/** The page whose code a block was compiled from: the block leaves when a store makes it stale. */
export interface BlockPage {
  gen: number;
}

/** Most instructions in one block: bounds compile time and the budget a block needs to be entered. */
export const MAX_BLOCK = 128;

const TLB_MASK = 1023;

/** Whether an op is compiled (anything else ends a block before it). */
function compiles(op: number): boolean {
  return (op >= Op.Lui && op <= Op.Sraw) || op === Op.Mul || op === Op.Mulw || op === Op.Fence;
}

const L = (r: number): string => (r === 0 ? '0' : `l${r}`);
const H = (r: number): string => (r === 0 ? '0' : `h${r}`);

/**
 * Compiles the block starting at byte offset `start` of a page; `slot(off)` gives the decoded word and
 * immediate of the instruction at `off` (word 0: not decodable here, e.g. crossing the page).
 * Returns undefined when the first instruction does not compile.
 */
export function compileBlock(
  page: BlockPage, start: number, slot: (off: number) => { word: number; imm: number },
): CompiledBlock | undefined {
  const used = new Set<number>();
  const written = new Set<number>();
  const parts: string[] = [];
  /** Written-back registers, filled in once the block is known (every exit writes all it wrote). */
  const FLUSH = '\u0001';
  /** Instructions before this pass of a loop: `it*count+` in a loop, nothing otherwise. */
  const DONE = '\u0002';
  /** The block's instruction count. */
  const COUNT = '\u0003';
  let off = start;
  let count = 0;
  let loops = false;
  let ended = false;
  const use = (...rs: number[]): void => { for (const r of rs) if (r !== 0) used.add(r); };
  const def = (d: number): void => { used.add(d); if (d !== 32) written.add(d); };
  /** Leaves with pc = page base + o (o may lie outside the page) after `n` instructions of this pass. */
  const exitTo = (o: number, n: number): string => `${FLUSH}m.setPc(ph,pl+${o});return ${DONE}${n};`;
  /** A loop's back edge: goes round again while the budget holds a whole pass. */
  const backEdge = `if((++it+1)*${COUNT}>room){${FLUSH}m.setPc(ph,pl+${start});return it*${COUNT};}continue;`;

  while (count < MAX_BLOCK && off < 4096) {
    const { word, imm } = slot(off);
    const op = word & 0xff;
    if (word === 0 || !compiles(op)) break;
    const d = (word >>> 8) & 63;
    const s1 = (word >>> 14) & 63;
    const s2 = (word >>> 20) & 63;
    const len = 4 - ((word >>> 25) & 2);
    const next = off + len;
    const k = count;
    count++;
    const a1 = L(s1), b1 = H(s1), a2 = L(s2), b2 = H(s2);
    const ih = imm >> 31;
    const set = (lo: string, hi: string): void => {
      if (d === 32) return;
      def(d);
      parts.push(`{const a=(${lo})|0,b=(${hi})|0;l${d}=a;h${d}=b;}`);
    };
    // Lo/hi of a sign-extended 32-bit result in `a`.
    const setW = (lo: string): void => {
      if (d === 32) return;
      def(d);
      parts.push(`{const a=(${lo})|0;l${d}=a;h${d}=a>>31;}`);
    };
    /** The effective address s1 + imm as an unsigned low half `a` (a number < 2^32) and int32 high half `b`. */
    const address = (): string => {
      let c = `let a=(${a1}>>>0)+${imm},b=${b1};`;
      if (imm > 0) c += 'if(a>=4294967296){a-=4294967296;b=(b+1)|0;}';
      else if (imm < 0) c += 'if(a<0){a+=4294967296;b=(b-1)|0;}';
      return c;
    };
    const cmpLt = (signed: boolean): string =>
      signed
        ? `(${b1}<${b2}||(${b1}===${b2}&&(${a1}>>>0)<(${a2}>>>0)))`
        : `((${b1}>>>0)<(${b2}>>>0)||(${b1}===${b2}&&(${a1}>>>0)<(${a2}>>>0)))`;
    use(s1, s2);
    switch (op) {
      case Op.Lui: set(`${imm}`, `${ih}`); break;
      case Op.Auipc:
        if (d !== 32) {
          def(d);
          parts.push(`{let a=pl+${off + imm},b=ph;if(a>=4294967296){a-=4294967296;b=(b+1)|0;}else if(a<0){a+=4294967296;b=(b-1)|0;}l${d}=a|0;h${d}=b;}`);
        }
        break;
      case Op.Addi:
        if (imm === 0) set(a1, b1);
        else set(`${a1}+${imm}`, `${b1}+${ih}+(((${a1}+${imm})>>>0)<(${a1}>>>0)?1:0)`);
        break;
      case Op.Add: set(`${a1}+${a2}`, `${b1}+${b2}+(((${a1}+${a2})>>>0)<(${a1}>>>0)?1:0)`); break;
      case Op.Sub: set(`${a1}-${a2}`, `${b1}-${b2}-((${a1}>>>0)<(${a2}>>>0)?1:0)`); break;
      case Op.Xor: set(`${a1}^${a2}`, `${b1}^${b2}`); break;
      case Op.Or: set(`${a1}|${a2}`, `${b1}|${b2}`); break;
      case Op.And: set(`${a1}&${a2}`, `${b1}&${b2}`); break;
      case Op.Xori: set(`${a1}^${imm}`, `${b1}^${ih}`); break;
      case Op.Ori: set(`${a1}|${imm}`, `${b1}|${ih}`); break;
      case Op.Andi: set(`${a1}&${imm}`, `${b1}&${ih}`); break;
      case Op.Slti: set(`(${b1}<${ih}||(${b1}===${ih}&&(${a1}>>>0)<${imm >>> 0}))?1:0`, '0'); break;
      case Op.Sltiu: set(`((${b1}>>>0)<${ih >>> 0}||(${b1}===${ih}&&(${a1}>>>0)<${imm >>> 0}))?1:0`, '0'); break;
      case Op.Slt: set(`${cmpLt(true)}?1:0`, '0'); break;
      case Op.Sltu: set(`${cmpLt(false)}?1:0`, '0'); break;
      case Op.Slli:
        if (imm === 0) set(a1, b1);
        else if (imm < 32) set(`${a1}<<${imm}`, `(${b1}<<${imm})|(${a1}>>>${32 - imm})`);
        else set('0', `${a1}<<${imm - 32}`);
        break;
      case Op.Srli:
        if (imm === 0) set(a1, b1);
        else if (imm < 32) set(`(${a1}>>>${imm})|(${b1}<<${32 - imm})`, `${b1}>>>${imm}`);
        else set(`${b1}>>>${imm - 32}`, '0');
        break;
      case Op.Srai:
        if (imm === 0) set(a1, b1);
        else if (imm < 32) set(`(${a1}>>>${imm})|(${b1}<<${32 - imm})`, `${b1}>>${imm}`);
        else set(`${b1}>>${imm - 32}`, `${b1}>>31`);
        break;
      case Op.Sll: case Op.Srl: case Op.Sra:
        if (d === 32) break;
        def(d);
        parts.push(`{const s=${a2}&63;let a,b;if(s===0){a=${a1};b=${b1};}else if(s<32){` + (
          op === Op.Sll ? `a=${a1}<<s;b=(${b1}<<s)|(${a1}>>>(32-s));}else{a=0;b=${a1}<<(s-32);}`
            : op === Op.Srl ? `a=(${a1}>>>s)|(${b1}<<(32-s));b=${b1}>>>s;}else{a=${b1}>>>(s-32);b=0;}`
              : `a=(${a1}>>>s)|(${b1}<<(32-s));b=${b1}>>s;}else{a=${b1}>>(s-32);b=${b1}>>31;}`
        ) + `l${d}=a|0;h${d}=b|0;}`);
        break;
      case Op.Addiw: setW(`${a1}+${imm}`); break;
      case Op.Slliw: setW(`${a1}<<${imm}`); break;
      case Op.Srliw: setW(`${a1}>>>${imm}`); break;
      case Op.Sraiw: setW(`${a1}>>${imm}`); break;
      case Op.Addw: setW(`${a1}+${a2}`); break;
      case Op.Subw: setW(`${a1}-${a2}`); break;
      case Op.Sllw: setW(`${a1}<<(${a2}&31)`); break;
      case Op.Srlw: setW(`${a1}>>>(${a2}&31)`); break;
      case Op.Sraw: setW(`${a1}>>(${a2}&31)`); break;
      case Op.Mulw: setW(`Math.imul(${a1},${a2})`); break;
      case Op.Mul:
        set(`Math.imul(${a1},${a2})`, `mulhu(${a1},${a2})+Math.imul(${a1},${b2})+Math.imul(${b1},${a2})`);
        break;
      case Op.Fence: break;
      case Op.Beq: case Op.Bne: case Op.Blt: case Op.Bge: case Op.Bltu: case Op.Bgeu: {
        const eq = `(${a1}===${a2}&&${b1}===${b2})`;
        const cond = op === Op.Beq ? eq : op === Op.Bne ? `!${eq}` : op === Op.Blt ? cmpLt(true) : op === Op.Bge ? `!${cmpLt(true)}`
          : op === Op.Bltu ? cmpLt(false) : `!${cmpLt(false)}`;
        const target = off + imm;
        if (target === start) {
          loops = true;
          ended = true;
          parts.push(`if(${cond}){${backEdge}}`);
          parts.push(exitTo(next, k + 1));
        } else {
          parts.push(`if(${cond}){${exitTo(target, k + 1)}}`);
        }
        break;
      }
      case Op.Jal: {
        const target = off + imm;
        if (d !== 32) {
          def(d);
          parts.push(next >= 4096
            ? `{let a=pl+${next},b=ph;if(a>=4294967296){a-=4294967296;b=(b+1)|0;}l${d}=a|0;h${d}=b;}`
            : `l${d}=(pl+${next})|0;h${d}=ph;`);
        }
        if (target === start) {
          loops = true;
          parts.push(backEdge);
        } else {
          parts.push(exitTo(target, k + 1));
        }
        ended = true;
        break;
      }
      case Op.Jalr: {
        let c = `{${address()}`;
        if (d !== 32) {
          def(d);
          c += next >= 4096
            ? `{let a=pl+${next},b=ph;if(a>=4294967296){a-=4294967296;b=(b+1)|0;}l${d}=a|0;h${d}=b;}`
            : `l${d}=(pl+${next})|0;h${d}=ph;`;
        }
        c += `${FLUSH}m.setPc(b,a-(a&1));return ${DONE}${k + 1};}`;
        parts.push(c);
        ended = true;
        break;
      }
      case Op.Ld: case Op.Lw: case Op.Lwu: case Op.Lh: case Op.Lhu: case Op.Lb: case Op.Lbu: {
        used.add(d);
        if (d !== 32) written.add(d);
        let fast: string;
        switch (op) {
          case Op.Ld: fast = `if((o&7)===0){const w=f.i32,j=o>>>2;l${d}=w[j];h${d}=w[j+1];break r;}`; break;
          case Op.Lw: fast = `if((o&3)===0){const v=f.i32[o>>>2];l${d}=v;h${d}=v>>31;break r;}`; break;
          case Op.Lwu: fast = `if((o&3)===0){l${d}=f.i32[o>>>2];h${d}=0;break r;}`; break;
          case Op.Lh: fast = `if((o&1)===0){const v=(f.u16[o>>>1]<<16)>>16;l${d}=v;h${d}=v>>31;break r;}`; break;
          case Op.Lhu: fast = `if((o&1)===0){l${d}=f.u16[o>>>1];h${d}=0;break r;}`; break;
          case Op.Lb: fast = `{const v=(f.u8[o]<<24)>>24;l${d}=v;h${d}=v>>31;break r;}`; break;
          default: fast = `l${d}=f.u8[o];h${d}=0;break r;`;
        }
        parts.push(`r:{${address()}const t=(a>>>12)&${TLB_MASK};` +
          `if(rk[t]===(b*1048576+(a>>>12))*2+pv){const f=ri[t],o=ro[t]+(a&4095);${fast}}` +
          `${FLUSH}m.setPc(ph,pl+${off});if(!m.loadSlow(${op},${d},a,b)){m.leave=true;return ${DONE}${k + 1};}` +
          `l${d}=xi[${2 * d}];h${d}=xi[${2 * d + 1}];}`);
        break;
      }
      case Op.Sd: case Op.Sw: case Op.Sh: case Op.Sb: {
        let fast: string;
        switch (op) {
          case Op.Sd: fast = `if((o&7)===0){const w=f.i32,j=o>>>2;w[j]=${a2};w[j+1]=${b2};break s;}`; break;
          case Op.Sw: fast = `if((o&3)===0){f.i32[o>>>2]=${a2};break s;}`; break;
          case Op.Sh: fast = `if((o&1)===0){f.u16[o>>>1]=${a2};break s;}`; break;
          default: fast = `f.u8[o]=${a2};break s;`;
        }
        parts.push(`s:{${address()}const t=(a>>>12)&${TLB_MASK};` +
          `if(wk[t]===(b*1048576+(a>>>12))*2+pv){const f=wi[t],o=wo[t]+(a&4095);if(f.code[o>>>12]===0){${fast}}}` +
          `${FLUSH}m.setPc(ph,pl+${off});if(!m.storeSlow(${op},${s2},a,b)){m.leave=true;return ${DONE}${k + 1};}` +
          `if(pg.gen!==m.codeGen){m.setPc(ph,pl+${next});m.leave=true;return ${DONE}${k + 1};}}`);
        break;
      }
      default:
        throw new Error(`compileBlock: op ${op} is not compiled`);
    }
    off = next;
    if (ended) break;
  }
  if (count === 0) return undefined;
  if (!ended) parts.push(exitTo(off, count));

  const regs = [...used].filter((r) => r !== 0).sort((p, q) => p - q);
  const flush = [...written].sort((p, q) => p - q).map((r) => `xi[${2 * r}]=l${r};xi[${2 * r + 1}]=h${r};`).join('');
  const head =
    'const pv=m.priv,rk=m.tlbRKey,ro=m.tlbROff,ri=m.tlbRInfo,wk=m.tlbWKey,wo=m.tlbWOff,wi=m.tlbWInfo;' +
    regs.map((r) => `let l${r}=xi[${2 * r}],h${r}=xi[${2 * r + 1}];`).join('');
  let body = parts.join('\n');
  if (loops) body = `let it=0;for(;;){\n${body}\n}`;
  const source = (head + '\n' + body)
    .split(FLUSH).join(flush)
    .split(DONE).join(loops ? `it*${count}+` : '')
    .split(COUNT).join(String(count));
  const factory = new Function('pg', 'mulhu', `return function block(m,xi,ph,pl,room){\n${source}\n};`) as
    (pg: BlockPage, mulhu: (a: number, b: number) => number) => BlockFunction;
  return { fn: factory(page, mulhu), count, loops, source };
}

/** The high 32 bits of the unsigned 64-bit product of two 32-bit values, as int32. */
function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0;
  const mid1 = a1 * b0 + (lo >>> 16);
  const mid2 = a0 * b1 + (mid1 & 0xffff);
  return (a1 * b1 + Math.floor(mid1 / 65536) + Math.floor(mid2 / 65536)) | 0;
}
