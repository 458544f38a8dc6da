/**
 * Loads and stores: literal, register (unsigned offset, unscaled, pre/post-index, unprivileged,
 * register offset), pairs, exclusives, load-acquire/store-release, LSE atomics (CAS, SWP, LDADD..),
 * and the scalar SIMD&FP forms. The data address goes to s[3]; the core's ld/st helpers read it.
 */
import { big, bits, body, signExtend, type Emitted, type Site } from './emit.js';
import { loadSlot, Reg, storeSlot } from './registers.js';

/** Register-file slot of V register n (low 64 bits; the high half is the next slot). */
const vslot = (n: number): number => Reg.V0 + 2 * n;

export function translateLoadStore(insn: number, site: Site): Emitted | undefined {
  if ((insn & 0x3f000000) === 0x08000000) return exclusiveOrdered(insn, site);
  if ((insn & 0x3b000000) === 0x18000000) return literal(insn, site);
  if ((insn & 0x3a000000) === 0x28000000) return pair(insn, site);
  if ((insn & 0x3b000000) === 0x39000000) return single(insn, site, 'unsigned');
  if ((insn & 0x3b200000) === 0x38000000) {
    const kind = bits(insn, 11, 10);
    return single(insn, site, (['unscaled', 'post', 'unprivileged', 'pre'] as const)[kind]!);
  }
  if ((insn & 0x3b200c00) === 0x38200800) return single(insn, site, 'register');
  if ((insn & 0x3f200c00) === 0x38200000) return atomic(insn, site);
  return undefined;
}

/** The access of `bytes` bytes between s[3] and slot `t` (a GPR or a V register slot). */
function access(load: boolean, bytes: number, signed: boolean, to32: boolean, t: number, vector: boolean, k: number): string {
  if (vector) {
    if (!load) {
      if (bytes === 16) return `m.st64(${t},${k});s[3]=s[3]+8n;m.st64(${t + 1},${k});`;
      return `m.st${bytes * 8}(${t},${k});`;
    }
    if (bytes === 16) return `m.ld64(${Reg.Tmp0},${k});s[3]=s[3]+8n;m.ld64(${t + 1},${k});r[${t}]=r[${Reg.Tmp0}];`;
    return `m.ld${bytes * 8}(${t},${k});r[${t + 1}]=0n;`;
  }
  if (!load) return `m.st${bytes * 8}(${storeSlot(t)},${k});`;
  const d = loadSlot(t);
  if (!signed) return `m.ld${bytes * 8}(${d},${k});`;
  if (bytes === 4) return `m.lds32(${d},${k});`;
  return `m.lds${bytes * 8}(${d},${k},${to32 ? 1 : 0});`;
}

interface Shape { bytes: number; load: boolean; signed: boolean; to32: boolean; vector: boolean; prefetch: boolean }

/** size/opc/V of the single-register forms → what is accessed. */
function shape(insn: number): Shape | undefined {
  const size = bits(insn, 31, 30);
  const vector = ((insn >>> 26) & 1) === 1;
  const opc = bits(insn, 23, 22);
  if (vector) {
    if (opc & 2) return size === 0 ? { bytes: 16, load: (opc & 1) === 1, signed: false, to32: false, vector, prefetch: false } : undefined;
    return { bytes: 1 << size, load: (opc & 1) === 1, signed: false, to32: false, vector, prefetch: false };
  }
  if (opc === 0) return { bytes: 1 << size, load: false, signed: false, to32: false, vector, prefetch: false };
  if (opc === 1) return { bytes: 1 << size, load: true, signed: false, to32: false, vector, prefetch: false };
  if (size === 3) return opc === 2 ? { bytes: 8, load: true, signed: false, to32: false, vector, prefetch: true } : undefined;
  if (size === 2 && opc === 3) return undefined;
  return { bytes: 1 << size, load: true, signed: true, to32: opc === 3, vector, prefetch: false };
}

function single(insn: number, site: Site, form: 'unsigned' | 'unscaled' | 'post' | 'pre' | 'unprivileged' | 'register'): Emitted | undefined {
  const sh = shape(insn);
  if (!sh) return undefined;
  const n = bits(insn, 9, 5);
  const t = insn & 31;
  const k = site.k;
  let addr: string;
  let writeback = '';
  if (form === 'unsigned') {
    const off = bits(insn, 21, 10) * sh.bytes;
    addr = off ? `s[3]=r[${n}]+${off}n;` : `s[3]=r[${n}];`;
  } else if (form === 'register') {
    const m = bits(insn, 20, 16);
    const option = bits(insn, 15, 13);
    const amount = (insn >>> 12) & 1 ? Math.log2(sh.bytes) : 0;
    const xm = m === 31 ? '0n' : `r[${m}]`;
    let off: string;
    let pre = '';
    switch (option) {
      case 2: off = `(${xm}&0xffffffffn)`; break;
      case 3: off = xm; break;
      case 6: pre = `s[4]=${xm}<<32n;`; off = '(si[4]>>32n)'; break;
      case 7: off = xm; break;
      default: return undefined;
    }
    addr = `${pre}s[3]=r[${n}]+${amount ? `(${off}<<${amount}n)` : off};`;
  } else {
    const imm = signExtend(bits(insn, 20, 12), 9);
    if (form === 'post') {
      addr = `s[3]=r[${n}];`;
    } else {
      addr = imm ? `s[3]=r[${n}]+${big(BigInt(imm))};` : `s[3]=r[${n}];`;
    }
    if (form === 'pre' || form === 'post') writeback = `r[${n}]=r[${n}]+${big(BigInt(imm))};`;
  }
  if (sh.prefetch) return body('');
  if (form === 'unprivileged' && sh.vector) return undefined;
  const t2 = sh.vector ? vslot(t) : t;
  let acc = access(sh.load, sh.bytes, sh.signed, sh.to32, t2, sh.vector, k);
  if (form === 'unprivileged') acc = `m.unprivileged(true);${acc}m.unprivileged(false);`;
  return body(addr + acc + writeback);
}

function literal(insn: number, site: Site): Emitted | undefined {
  const opc = bits(insn, 31, 30);
  const vector = ((insn >>> 26) & 1) === 1;
  const t = insn & 31;
  const address = site.pc + BigInt(signExtend(bits(insn, 23, 5), 19) * 4);
  const addr = `s[3]=${big(address)};`;
  if (vector) {
    if (opc === 3) return undefined;
    return body(addr + access(true, 4 << opc, false, false, vslot(t), true, site.k));
  }
  if (opc === 3) return body(''); // PRFM (literal)
  if (opc === 2) return body(addr + access(true, 4, true, false, t, false, site.k));
  return body(addr + access(true, opc ? 8 : 4, false, false, t, false, site.k));
}

function pair(insn: number, site: Site): Emitted | undefined {
  const opc = bits(insn, 31, 30);
  const vector = ((insn >>> 26) & 1) === 1;
  const type = bits(insn, 24, 23);
  const load = ((insn >>> 22) & 1) === 1;
  const t2r = bits(insn, 14, 10);
  const n = bits(insn, 9, 5);
  const t1r = insn & 31;
  const k = site.k;
  let bytes: number;
  let signed = false;
  if (vector) {
    if (opc === 3) return undefined;
    bytes = 4 << opc;
  } else {
    if (opc === 3 || (opc === 1 && !load)) return undefined;
    bytes = opc === 2 ? 8 : 4;
    signed = opc === 1;
  }
  const imm = BigInt(signExtend(bits(insn, 21, 15), 7) * bytes);
  const base = type === 1 ? `s[3]=r[${n}];` : imm ? `s[3]=r[${n}]+${big(imm)};` : `s[3]=r[${n}];`;
  const writeback = type === 1 || type === 3 ? `r[${n}]=r[${n}]+${big(imm)};` : '';
  const step = `s[3]=s[3]+${bytes}n;`;
  let code: string;
  if (vector) {
    const a = vslot(t1r);
    const b = vslot(t2r);
    if (load && bytes < 16) {
      code = `${access(true, bytes, false, false, a, true, k)}${step}${access(true, bytes, false, false, b, true, k)}`;
    } else {
      code = `${access(load, bytes, false, false, a, true, k)}${bytes === 16 ? 's[3]=s[3]+8n;' : step}${access(load, bytes, false, false, b, true, k)}`;
    }
  } else if (!load) {
    code = `${access(false, bytes, false, false, t1r, false, k)}${step}${access(false, bytes, false, false, t2r, false, k)}`;
  } else if (t1r === n || t2r === n) {
    // Load into scratch first so a fault on the second word leaves the base register intact.
    code =
      `${access(true, bytes, signed, false, Reg.Tmp0, false, k)}${step}${access(true, bytes, signed, false, Reg.Tmp1, false, k)}` +
      `r[${loadSlot(t1r)}]=r[${Reg.Tmp0}];r[${loadSlot(t2r)}]=r[${Reg.Tmp1}];`;
  } else {
    code = `${access(true, bytes, signed, false, t1r, false, k)}${step}${access(true, bytes, signed, false, t2r, false, k)}`;
  }
  return body(base + code + writeback);
}

function exclusiveOrdered(insn: number, site: Site): Emitted | undefined {
  const size = bits(insn, 31, 30);
  const o2 = (insn >>> 23) & 1;
  const load = (insn >>> 22) & 1;
  const o1 = (insn >>> 21) & 1;
  const s = bits(insn, 20, 16);
  const t2 = bits(insn, 14, 10);
  const n = bits(insn, 9, 5);
  const t = insn & 31;
  const k = site.k;
  const bytes = 1 << size;
  const addr = `s[3]=r[${n}];`;
  if (!o2 && !o1) {
    if (load) return body(`${addr}m.ldxr(${loadSlot(t)},${bytes},${k});`);
    return body(`${addr}m.stxr(${loadSlot(s)},${storeSlot(t)},${bytes},${k});`);
  }
  if (!o2 && o1) {
    if (size < 2) return undefined; // CASP: not implemented
    if (load) return body(`${addr}m.ldxp(${loadSlot(t)},${loadSlot(t2)},${bytes},${k});`);
    return body(`${addr}m.stxp(${loadSlot(s)},${storeSlot(t)},${storeSlot(t2)},${bytes},${k});`);
  }
  if (o2 && !o1) return body(addr + access(load === 1, bytes, false, false, t, false, k));
  // CAS, CASA, CASL, CASAL
  if (t2 !== 31) return undefined;
  return body(`${addr}m.cas(${s},${storeSlot(t)},${bytes},${k});`);
}

function atomic(insn: number, site: Site): Emitted | undefined {
  if ((insn >>> 26) & 1) return undefined;
  const bytes = 1 << bits(insn, 31, 30);
  const s = bits(insn, 20, 16);
  const o3 = (insn >>> 15) & 1;
  const opc = bits(insn, 14, 12);
  const n = bits(insn, 9, 5);
  const t = insn & 31;
  let op: number;
  if (!o3) op = opc;
  else if (opc === 0) op = 8; // SWP
  else return undefined;
  return body(`s[3]=r[${n}];m.atomic(${op},${storeSlot(s)},${loadSlot(t)},${bytes},${site.k});`);
}
