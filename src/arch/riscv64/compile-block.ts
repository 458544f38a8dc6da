/**
 * The riscv64 block compiler: a run of predecoded instructions inside one 4 KiB guest page becomes one
 * JavaScript function. Guest registers live in int32 locals (a low and a high half each) for the whole
 * block, so the hot path has no BigInt and no register-file traffic; they are written back at every
 * exit. Conditional branches that are not taken go on (superblock); a final branch back to the block's
 * start loops inside the function. Loads and stores inline the software TLB's RAM fast path; anything
 * that path cannot make (a TLB miss, MMIO, an access crossing a page, a store to a page holding code) ends the
 * block before the access ("bails") and the interpreter makes it, faults included. Everything else the
 * blocks do not compile (CSRs, traps, fences, FP, AMOs, division) ends the block before it too. So a
 * block never traps: it only runs ordinary instructions, and retired counts stay exact.
 *
 * A compiled function is called as fn(m, xi, pageHi, pageLo, room): `m` is the core (see BlockHost),
 * `xi` its register file as int32 halves, pageHi:pageLo the virtual address of the page as int32 halves
 * (a physical page may be mapped at several), `room` the instructions it may run (at least its count).
 * It returns how many it ran and leaves the next pc in m.exit (and m.jump); it sets m.bail when it left
 * before an access. Nothing it passes or returns is a heap number: a call allocates nothing.
 */
import { Op } from './ops.js';
import { mulHigh, mulHigh64, mulhu32 } from './mul-high.js';

/** The core's side of a compiled block (fields the generated code reads by name). */
export interface BlockHost {
  readonly priv: number;
  readonly tlbRKey: Float64Array;
  readonly tlbROff: Uint32Array;
  readonly tlbRInfo: readonly (BlockRam | undefined)[];
  readonly tlbWKey: Float64Array;
  readonly tlbWOff: Uint32Array;
  readonly tlbWInfo: readonly (BlockRam | undefined)[];
  /** Set by a block that left before an access its fast path could not make: the interpreter makes it. */
  bail: boolean;
  /** Where a block left: the page offset of the next pc (it may lie outside the page), or JALR_EXIT. */
  exit: number;
  /** A jalr's target as [high, low] int32 halves, when exit is JALR_EXIT. */
  readonly jump: Int32Array;
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

/** Most instructions in one block: bounds compile time and the budget a block needs to be entered. */
export const MAX_BLOCK = 128;

const TLB_MASK = 1023;
/** The exit of a jalr (its target is in m.jump): no page offset a direct exit can have (they stay within ±1 MiB). */
export const JALR_EXIT = 0x40000000;

/** Whether an op is compiled (anything else ends a block before it). */
function compiles(op: number): boolean {
  return (op >= Op.Lui && op <= Op.Mulhu) || op === Op.Mulw || op === Op.Fence;
}

const L = (r: number): string => (r === 0 ? '0' : `l${r}`);
const H = (r: number): string => (r === 0 ? '0' : `h${r}`);

/**
 * Compiles the block starting at byte offset `start` of a page; `slot(off)` gives the decoded word and
 * immediate of the instruction at `off` (word 0: not decodable here, e.g. crossing the page).
 * Returns undefined when the first instruction does not compile.
 */
export function compileBlock(
  start: number, slot: (off: number) => { word: number; imm: number },
): CompiledBlock | undefined {
  const used = new Set<number>();
  const written = new Set<number>();
  const parts: string[] = [];
  /** The block's instruction count, filled in once the block is known. */
  const COUNT = '\u0001';
  let off = start;
  let count = 0;
  let loops = false;
  let ended = false;
  const use = (...rs: number[]): void => { for (const r of rs) if (r !== 0) used.add(r); };
  const def = (d: number): void => { used.add(d); if (d !== 32) written.add(d); };
  /** Leaves for page offset `o` (it may lie outside the page) after `n` instructions of this pass. */
  const exitTo = (o: number, n: number): string => `{e=${o};n=${n};break x;}`;
  /** Leaves before the instruction at `o` (the k-th) for the interpreter to run it: a TLB miss, MMIO, a code page. */
  const bail = (o: number, k: number): string => `{e=${o};n=${k};m.bail=true;break x;}`;

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
    /** rd = lo:hi; `hi` may use `a`, the new low half (computed first). */
    const set = (lo: string, hi: string): void => {
      if (d === 32) return;
      def(d);
      parts.push(`{const a=(${lo})|0,b=(${hi})|0;l${d}=a;h${d}=b;}`);
    };
    /** rd = a 32-bit result sign-extended. */
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
    /** pc + len into rd (jal, jalr). */
    const link = (): string => {
      if (d === 32) return '';
      def(d);
      return next >= 4096
        ? `{let a=(pl>>>0)+${next},b=ph;if(a>=4294967296){a-=4294967296;b=(b+1)|0;}l${d}=a|0;h${d}=b;}`
        : `l${d}=(pl+${next})|0;h${d}=ph;`;
    };
    /**
     * The data TLB's RAM fast path for the access at `a`:`b`; `fast` uses f (the RAM views) and o (the
     * offset in them). Each block remembers the last page it read and the last it wrote in locals: no TLB
     * entry changes and no page becomes code while a block runs, so a hit there needs no TLB lookup (and a
     * store no code-page check, made once when the page is remembered).
     */
    const access = (store: boolean, fast: string): string => {
      const [v, hh, f, base, key, off0, info] = store ? ['wv', 'wh', 'wf', 'wb', 'wk', 'wo', 'wi'] : ['rv', 'rh', 'rf', 'rb', 'rk', 'ro', 'ri'];
      return `{${address()}const p=a>>>12;let f=${f};` +
        `if(p!==${v}||b!==${hh}){const t=p&${TLB_MASK};if(${key}[t]!==(b*1048576+p)*2+pv)${bail(off, k)}` +
        `f=${info}[t];const q=${off0}[t];` + (store ? `if(f.code[q>>>12]!==0)${bail(off, k)}` : '') +
        `${v}=p;${hh}=b;${f}=f;${base}=q;}const o=${base}+(a&4095);${fast}${bail(off, k)}}`;
    };
    use(s1, s2);
    switch (op) {
      case Op.Lui: set(`${imm}`, `${ih}`); break;
      case Op.Auipc:
        if (d !== 32) {
          def(d);
          parts.push(`{let a=(pl>>>0)+${off + imm},b=ph;if(a>=4294967296){a-=4294967296;b=(b+1)|0;}else if(a<0){a+=4294967296;b=(b-1)|0;}l${d}=a|0;h${d}=b;}`);
        }
        break;
      case Op.Addi:
        if (imm === 0) set(a1, b1);
        else set(`${a1}+${imm}`, `${b1}+${ih}+((a>>>0)<(${a1}>>>0)?1:0)`);
        break;
      case Op.Add: set(`${a1}+${a2}`, `${b1}+${b2}+((a>>>0)<(${a1}>>>0)?1:0)`); break;
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
      case Op.Mulhu: case Op.Mulhsu: case Op.Mulh:
        set(`mulh(${a1},${b1},${a2},${b2},${op === Op.Mulhu ? 0 : op === Op.Mulhsu ? 1 : 2})`, 'mh[0]');
        break;
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
          // The back edge: round again while the budget holds a whole pass.
          loops = true;
          ended = true;
          parts.push(`if(${cond}){if((++it+1)*${COUNT}>room){e=${start};n=0;break x;}continue;}`);
          parts.push(exitTo(next, k + 1));
        } else {
          parts.push(`if(${cond})${exitTo(target, k + 1)}`);
        }
        break;
      }
      case Op.Jal: {
        const target = off + imm;
        parts.push(link());
        if (target === start) {
          loops = true;
          parts.push(`if((++it+1)*${COUNT}>room){e=${start};n=0;break x;}continue;`);
        } else {
          parts.push(exitTo(target, k + 1));
        }
        ended = true;
        break;
      }
      case Op.Jalr:
        // The target is computed before rd is written (rd may be rs1); the exit sets pc itself.
        parts.push(`{${address()}${link()}e=${JALR_EXIT};n=${k + 1};jt[0]=b;jt[1]=a-(a&1);break x;}`);
        ended = true;
        break;
      case Op.Ld: case Op.Lw: case Op.Lwu: case Op.Lh: case Op.Lhu: case Op.Lb: case Op.Lbu: {
        used.add(d);
        if (d !== 32) written.add(d);
        let fast: string;
        switch (op) {
          // Misaligned accesses inside the page are made byte by byte (Linux times misaligned copies at boot).
          case Op.Ld: fast = `if((o&7)===0){const w=f.i32,j=o>>>2;l${d}=w[j];h${d}=w[j+1];break;}` +
            `if((a&4095)<=4088){l${d}=le32(f.u8,o);h${d}=le32(f.u8,o+4);break;}`; break;
          case Op.Lw: fast = `if((o&3)===0){const v=f.i32[o>>>2];l${d}=v;h${d}=v>>31;break;}` +
            `if((a&4095)<=4092){const v=le32(f.u8,o);l${d}=v;h${d}=v>>31;break;}`; break;
          case Op.Lwu: fast = `if((o&3)===0){l${d}=f.i32[o>>>2];h${d}=0;break;}if((a&4095)<=4092){l${d}=le32(f.u8,o);h${d}=0;break;}`; break;
          case Op.Lh: fast = `if((o&1)===0){const v=(f.u16[o>>>1]<<16)>>16;l${d}=v;h${d}=v>>31;break;}` +
            `if((a&4095)<=4094){const u=f.u8,v=((u[o]|u[o+1]<<8)<<16)>>16;l${d}=v;h${d}=v>>31;break;}`; break;
          case Op.Lhu: fast = `if((o&1)===0){l${d}=f.u16[o>>>1];h${d}=0;break;}if((a&4095)<=4094){const u=f.u8;l${d}=u[o]|u[o+1]<<8;h${d}=0;break;}`; break;
          case Op.Lb: fast = `{const v=(f.u8[o]<<24)>>24;l${d}=v;h${d}=v>>31;break;}`; break;
          default: fast = `l${d}=f.u8[o];h${d}=0;break;`;
        }
        parts.push(`do${access(false, fast)}while(false);`);
        break;
      }
      case Op.Sd: case Op.Sw: case Op.Sh: case Op.Sb: {
        let fast: string;
        switch (op) {
          case Op.Sd: fast = `if((o&7)===0){const w=f.i32,j=o>>>2;w[j]=${a2};w[j+1]=${b2};break;}` +
            `if((a&4095)<=4088){st32(f.u8,o,${a2});st32(f.u8,o+4,${b2});break;}`; break;
          case Op.Sw: fast = `if((o&3)===0){f.i32[o>>>2]=${a2};break;}if((a&4095)<=4092){st32(f.u8,o,${a2});break;}`; break;
          case Op.Sh: fast = `if((o&1)===0){f.u16[o>>>1]=${a2};break;}if((a&4095)<=4094){const u=f.u8;u[o]=${a2};u[o+1]=${a2}>>>8;break;}`; break;
          default: fast = `f.u8[o]=${a2};break;`;
        }
        parts.push(`do${access(true, fast)}while(false);`);
        break;
      }
      default:
        throw new Error(`compileBlock: op ${op} is not compiled`);
    }
    off = next;
    if (ended) break;
  }
  if (count === 0) return undefined;
  if (!ended) parts.push(`e=${off};n=${count};`);

  const regs = [...used].filter((r) => r !== 0).sort((p, q) => p - q);
  const flush = [...written].sort((p, q) => p - q).map((r) => `xi[${2 * r}]=l${r};xi[${2 * r + 1}]=h${r};`).join('');
  const head =
    'const pv=m.priv,rk=m.tlbRKey,ro=m.tlbROff,ri=m.tlbRInfo,wk=m.tlbWKey,wo=m.tlbWOff,wi=m.tlbWInfo;' +
    'const jt=m.jump;let e=0,n=0,rv=-1,rh=0,rf=null,rb=0,wv=-1,wh=0,wf=null,wb=0;' +
    regs.map((r) => `let l${r}=xi[${2 * r}],h${r}=xi[${2 * r + 1}];`).join('');
  const body = parts.join('\n');
  const source = (loops
    ? `${head}let it=0;\nx:for(;;){\n${body}\n}\n${flush}m.exit=e;return it*${COUNT}+n;`
    : `${head}\nx:{\n${body}\n}\n${flush}m.exit=e;return n;`)
    .split(COUNT).join(String(count));
  let fn = functions.get(source);
  if (fn === undefined) {
    if (functions.size >= MAX_FUNCTIONS) functions.clear();
    const factory = new Function('mulhu', 'mulh', 'mh', 'le32', 'st32', `return function block(m,xi,ph,pl,room){\n${source}\n};`) as
      (mulhu: typeof mulhu32, mulh: typeof mulHigh64, mh: Int32Array, l: typeof le32, s: typeof st32) => BlockFunction;
    functions.set(source, (fn = factory(mulhu32, mulHigh64, mulHigh, le32, st32)));
  }
  return { fn, count, loops, source };
}

/**
 * Block functions by source, shared by every hart (and every page holding the same code at the same
 * offset): a block depends only on its code, so the harts of a zone running one kernel, or a page
 * recompiled after a write elsewhere in it, reuse one function and V8 optimises it once. Bounded: a
 * guest rewriting its code forever only refills it.
 */
const functions = new Map<string, BlockFunction>();
const MAX_FUNCTIONS = 8192;

/** The little-endian int32 at byte offset `o` (any alignment). */
function le32(u8: Uint8Array, o: number): number {
  return u8[o]! | (u8[o + 1]! << 8) | (u8[o + 2]! << 16) | (u8[o + 3]! << 24);
}

/** Stores int32 `v` little-endian at byte offset `o` (any alignment). */
function st32(u8: Uint8Array, o: number, v: number): void {
  u8[o] = v;
  u8[o + 1] = v >>> 8;
  u8[o + 2] = v >>> 16;
  u8[o + 3] = v >>> 24;
}
