/** Data processing (immediate): ADR/ADRP, ADD/SUB(S), logical, move wide, bitfield, EXTR. */
import {
  big, bits, body, decodeBitMasks, mask32, mask64, setW, setWS, setX, setXS, signExtend, W, WS, X, XS,
  type Emitted, type Site,
} from './emit.js';

export function translateDpImmediate(insn: number, site: Site): Emitted | undefined {
  switch (bits(insn, 25, 23)) {
    case 0: case 1: return pcRelative(insn, site);
    case 2: return addSubImmediate(insn);
    case 4: return logicalImmediate(insn);
    case 5: return moveWide(insn);
    case 6: return bitfield(insn);
    case 7: return extract(insn);
    default: return undefined;
  }
}

function pcRelative(insn: number, site: Site): Emitted {
  const d = insn & 31;
  const imm = BigInt(signExtend((bits(insn, 23, 5) << 2) | bits(insn, 30, 29), 21));
  const page = insn >>> 31 === 1;
  const value = page ? (site.pc & ~0xfffn) + (imm << 12n) : site.pc + imm;
  return body(setX(d, big(value)));
}

function addSubImmediate(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const sub = (insn >>> 30) & 1;
  const setFlags = (insn >>> 29) & 1;
  const shift = (insn >>> 22) & 1;
  const imm = bits(insn, 21, 10) * (shift ? 4096 : 1);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (sf) {
    if (!setFlags) return body(setXS(d, `${XS(n)}${sub ? '-' : '+'}${imm}n`));
    const b = sub ? big(~BigInt(imm)) : `${imm}n`;
    return body(`s[0]=${XS(n)};s[1]=${b};m.addc64(${sub});${setX(d, 's[2]')}`);
  }
  if (!setFlags) return body(setWS(d, `${WS(n)}${sub ? '-' : '+'}${imm}`));
  const b = sub ? (~imm >>> 0) : imm;
  return body(`{const t=m.addc32(${WS(n)},${b},${sub});${setW(d, 't')}}`);
}

function logicalImmediate(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const opc = bits(insn, 30, 29);
  const nBit = (insn >>> 22) & 1;
  if (!sf && nBit) return undefined;
  const masks = decodeBitMasks(nBit, bits(insn, 15, 10), bits(insn, 21, 16), true, sf ? 64 : 32);
  if (!masks) return undefined;
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  const imm = masks.wmask;
  const op = ['&', '|', '^', '&'][opc]!;
  if (sf) {
    const e = `${X(n)}${op}${big(imm)}`;
    if (opc === 3) return body(`s[2]=${e};m.logicFlags64();${setX(d, 's[2]')}`);
    return body(setXS(d, e));
  }
  const e = `(${W(n)}${op}${Number(imm)})`;
  if (opc === 3) return body(`{const t=m.logicFlags32(${e});${setW(d, 't')}}`);
  return body(setWS(d, e));
}

function moveWide(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const opc = bits(insn, 30, 29);
  const hw = bits(insn, 22, 21);
  if (opc === 1 || (!sf && hw > 1)) return undefined;
  const imm16 = BigInt(bits(insn, 20, 5));
  const d = insn & 31;
  const shifted = imm16 << BigInt(hw * 16);
  if (sf) {
    if (opc === 0) return body(setX(d, big(~shifted)));
    if (opc === 2) return body(setX(d, big(shifted)));
    return body(setX(d, `(r[${d}]&${big(~(0xffffn << BigInt(hw * 16)))})|${big(shifted)}`));
  }
  const v = Number(shifted);
  if (opc === 0) return body(setW(d, `${~v >>> 0}`));
  if (opc === 2) return body(setW(d, `${v}`));
  return body(setW(d, `(r32[${2 * d}]&${~(0xffff << (hw * 16)) >>> 0})|${v}`));
}

function bitfield(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const opc = bits(insn, 30, 29);
  const nBit = (insn >>> 22) & 1;
  if (opc === 3 || nBit !== sf) return undefined;
  const R = bits(insn, 21, 16);
  const S = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  const size = sf ? 64 : 32;
  if (R >= size || S >= size) return undefined;
  return body(sf ? bitfield64(opc, R, S, n, d) : bitfield32(opc, R, S, n, d));
}

function bitfield64(opc: number, R: number, S: number, n: number, d: number): string {
  const x = X(n);
  if (opc === 2) {
    // UBFM: UBFX / LSR when S >= R, UBFIZ / LSL otherwise.
    if (S >= R) return setX(d, S === 63 ? `${x}>>${R}n` : `(${x}>>${R}n)&${big(mask64(S - R + 1))}`);
    return setX(d, `(${x}&${big(mask64(S + 1))})<<${64 - R}n`);
  }
  if (opc === 0) {
    // SBFM: sign-extend through the signed scratch view.
    if (S >= R) return `s[4]=${x}<<${63 - S}n;${setX(d, `si[4]>>${63 - S + R}n`)}`;
    return `s[4]=${x}<<${63 - S}n;${setX(d, `(si[4]>>${63 - S}n)<<${64 - R}n`)}`;
  }
  // BFM: BFXIL when S >= R, BFI otherwise.
  if (d === 31) return '';
  if (S >= R) {
    const w = mask64(S - R + 1);
    return setX(d, `(r[${d}]&${big(~w)})|((${x}>>${R}n)&${big(w)})`);
  }
  const lsb = 64 - R;
  const w = mask64(S + 1);
  return setX(d, `(r[${d}]&${big(~(w << BigInt(lsb)))})|((${x}&${big(w)})<<${lsb}n)`);
}

function bitfield32(opc: number, R: number, S: number, n: number, d: number): string {
  const x = W(n);
  if (opc === 2) {
    if (S >= R) return setW(d, `(${x}>>>${R})&${mask32(S - R + 1)}`);
    return setW(d, `(${x}&${mask32(S + 1)})<<${32 - R}`);
  }
  if (opc === 0) {
    if (S >= R) return setW(d, `(${x}<<${31 - S})>>${31 - S + R}`);
    return setW(d, `((${x}<<${31 - S})>>${31 - S})<<${32 - R}`);
  }
  if (d === 31) return '';
  if (S >= R) {
    const w = mask32(S - R + 1);
    return setW(d, `(r32[${2 * d}]&${~w >>> 0})|((${x}>>>${R})&${w})`);
  }
  const lsb = 32 - R;
  const w = mask32(S + 1);
  return setW(d, `(r32[${2 * d}]&${~(w << lsb) >>> 0})|((${x}&${w})<<${lsb})`);
}

function extract(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const nBit = (insn >>> 22) & 1;
  if (nBit !== sf || bits(insn, 30, 29) !== 0 || (insn >>> 21) & 1) return undefined;
  const m = bits(insn, 20, 16);
  const lsb = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (sf) {
    if (lsb === 0) return body(setX(d, X(m)));
    return body(setX(d, `(${X(n)}<<${64 - lsb}n)|(${X(m)}>>${lsb}n)`));
  }
  if (lsb >= 32) return undefined;
  if (lsb === 0) return body(setW(d, W(m)));
  return body(setW(d, `(${W(n)}<<${32 - lsb})|(${W(m)}>>>${lsb})`));
}
