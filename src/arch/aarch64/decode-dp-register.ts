/**
 * Data processing (register): logical and add/sub (shifted, extended), ADC/SBC, conditional
 * compare/select, 1- and 2-source (divide, variable shifts, CRC32, bit reversal, CLZ), 3-source multiply.
 */
import {
  big, bits, body, condition, setW, setWS, setX, setXS, W, WS, X, XS,
  type Emitted, type Site,
} from './emit.js';

export function translateDpRegister(insn: number, _site: Site): Emitted | undefined {
  const op1 = (insn >>> 28) & 1;
  const op2 = bits(insn, 24, 21);
  if (!op1) {
    if (!(op2 & 8)) return logicalShifted(insn);
    return op2 & 1 ? addSubExtended(insn) : addSubShifted(insn);
  }
  if (op2 & 8) return threeSource(insn);
  switch (op2) {
    case 0: return bits(insn, 15, 10) === 0 ? addSubCarry(insn) : undefined;
    case 2: return conditionalCompare(insn);
    case 4: return conditionalSelect(insn);
    case 6: return (insn >>> 30) & 1 ? oneSource(insn) : twoSource(insn);
    default: return undefined;
  }
}

/** Operand 2 of a shifted-register form as a 64-bit BigInt expression (with statements to run first). */
function shifted64(m: number, type: number, amount: number): { pre: string; e: string } {
  const x = X(m);
  if (amount === 0) return { pre: '', e: x };
  switch (type) {
    case 0: return { pre: '', e: `(${x}<<${amount}n)` };
    case 1: return { pre: '', e: `(${x}>>${amount}n)` };
    case 2: return { pre: `s[4]=${x};`, e: `(si[4]>>${amount}n)` };
    default: return { pre: '', e: `((${x}>>${amount}n)|(${x}<<${64 - amount}n))` };
  }
}

function shifted32(m: number, type: number, amount: number): string {
  const x = W(m);
  if (amount === 0) return x;
  switch (type) {
    case 0: return `(${x}<<${amount})`;
    case 1: return `(${x}>>>${amount})`;
    case 2: return `(${x}>>${amount})`;
    default: return `((${x}>>>${amount})|(${x}<<${32 - amount}))`;
  }
}

function logicalShifted(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const opc = bits(insn, 30, 29);
  const type = bits(insn, 23, 22);
  const invert = (insn >>> 21) & 1;
  const m = bits(insn, 20, 16);
  const amount = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (!sf && amount >= 32) return undefined;
  const op = ['&', '|', '^', '&'][opc]!;
  if (sf) {
    const o = shifted64(m, type, amount);
    if (opc === 1 && n === 31 && !invert && o.pre === '') return body(setX(d, o.e)); // MOV
    const e2 = invert ? `(~${o.e})` : o.e;
    const e = `${X(n)}${op}${e2}`;
    if (opc === 3) return body(`${o.pre}s[2]=${e};m.logicFlags64();${setX(d, 's[2]')}`);
    return body(o.pre + setX(d, e));
  }
  const o = shifted32(m, type, amount);
  const e = `(${W(n)}${op}${invert ? `(~${o})` : o})`;
  if (opc === 3) return body(`{const t=m.logicFlags32(${e});${setW(d, 't')}}`);
  return body(setW(d, e));
}

function addSubShifted(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const sub = (insn >>> 30) & 1;
  const setFlags = (insn >>> 29) & 1;
  const type = bits(insn, 23, 22);
  const m = bits(insn, 20, 16);
  const amount = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (type === 3 || (!sf && amount >= 32)) return undefined;
  if (sf) {
    const o = shifted64(m, type, amount);
    if (!setFlags) return body(o.pre + setX(d, `${X(n)}${sub ? '-' : '+'}${o.e}`));
    return body(`${o.pre}s[1]=${sub ? `~${o.e}` : o.e};s[0]=${X(n)};m.addc64(${sub});${setX(d, 's[2]')}`);
  }
  const o = shifted32(m, type, amount);
  if (!setFlags) return body(setW(d, `${W(n)}${sub ? '-' : '+'}${o}`));
  return body(`{const t=m.addc32(${W(n)},${sub ? `(~${o})>>>0` : `${o}>>>0`},${sub});${setW(d, 't')}}`);
}

/** Extended register operand (UXTB..SXTX) shifted left by 0..4, 64-bit. */
function extended64(m: number, option: number, shift: number): { pre: string; e: string } {
  const x = X(m);
  let pre = '';
  let e: string;
  switch (option) {
    case 0: e = `(${x}&0xffn)`; break;
    case 1: e = `(${x}&0xffffn)`; break;
    case 2: e = `(${x}&0xffffffffn)`; break;
    case 3: e = x; break;
    case 4: pre = `s[4]=${x}<<56n;`; e = '(si[4]>>56n)'; break;
    case 5: pre = `s[4]=${x}<<48n;`; e = '(si[4]>>48n)'; break;
    case 6: pre = `s[4]=${x}<<32n;`; e = '(si[4]>>32n)'; break;
    default: e = x;
  }
  return { pre, e: shift ? `(${e}<<${shift}n)` : e };
}

function extended32(m: number, option: number, shift: number): string {
  const x = W(m);
  let e: string;
  switch (option & 3) {
    case 0: e = option & 4 ? `((${x}<<24)>>24)` : `(${x}&0xff)`; break;
    case 1: e = option & 4 ? `((${x}<<16)>>16)` : `(${x}&0xffff)`; break;
    default: e = x;
  }
  return shift ? `(${e}<<${shift})` : e;
}

function addSubExtended(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const sub = (insn >>> 30) & 1;
  const setFlags = (insn >>> 29) & 1;
  if (bits(insn, 23, 22) !== 0) return undefined;
  const m = bits(insn, 20, 16);
  const option = bits(insn, 15, 13);
  const shift = bits(insn, 12, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (shift > 4) return undefined;
  if (sf) {
    const o = extended64(m, option, shift);
    if (!setFlags) return body(o.pre + setXS(d, `${XS(n)}${sub ? '-' : '+'}${o.e}`));
    return body(`${o.pre}s[1]=${sub ? `~${o.e}` : o.e};s[0]=${XS(n)};m.addc64(${sub});${setX(d, 's[2]')}`);
  }
  const o = extended32(m, option, shift);
  if (!setFlags) return body(setWS(d, `${WS(n)}${sub ? '-' : '+'}${o}`));
  return body(`{const t=m.addc32(${WS(n)},${sub ? `(~${o})>>>0` : `${o}>>>0`},${sub});${setW(d, 't')}}`);
}

function addSubCarry(insn: number): Emitted {
  const sf = insn >>> 31;
  const sub = (insn >>> 30) & 1;
  const setFlags = (insn >>> 29) & 1;
  const m = bits(insn, 20, 16);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (sf) {
    const b = sub ? `~${X(m)}` : X(m);
    if (setFlags) return body(`s[0]=${X(n)};s[1]=${b};m.addc64(m.c);${setX(d, 's[2]')}`);
    return body(setX(d, `${X(n)}+(${b})+(m.c===1?1n:0n)`));
  }
  const b = sub ? `(~${W(m)})>>>0` : W(m);
  if (setFlags) return body(`{const t=m.addc32(${W(n)},${b},m.c);${setW(d, 't')}}`);
  return body(setW(d, `${W(n)}+(${b})+m.c`));
}

function conditionalCompare(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const sub = (insn >>> 30) & 1;
  if (!((insn >>> 29) & 1) || (insn >>> 10) & 1 || (insn >>> 4) & 1) return undefined;
  const immForm = (insn >>> 11) & 1;
  const mField = bits(insn, 20, 16);
  const cond = bits(insn, 15, 12);
  const n = bits(insn, 9, 5);
  const nzcv = insn & 15;
  let cmp: string;
  if (sf) {
    const b = immForm ? (sub ? big(~BigInt(mField)) : `${mField}n`) : sub ? `~${X(mField)}` : X(mField);
    cmp = `s[0]=${X(n)};s[1]=${b};m.addc64(${sub});`;
  } else {
    const b = immForm ? (sub ? `${~mField >>> 0}` : `${mField}`) : sub ? `(~${W(mField)})>>>0` : W(mField);
    cmp = `m.addc32(${W(n)},${b},${sub});`;
  }
  return body(`if(${condition(cond)}){${cmp}}else{m.setNzcv(${nzcv});}`);
}

function conditionalSelect(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const op = (insn >>> 30) & 1;
  if ((insn >>> 29) & 1 || (insn >>> 11) & 1) return undefined;
  const m = bits(insn, 20, 16);
  const cond = bits(insn, 15, 12);
  const o2 = (insn >>> 10) & 1;
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  const kind = (op << 1) | o2; // 0 CSEL, 1 CSINC, 2 CSINV, 3 CSNEG
  if (sf) {
    const alt = [X(m), `${X(m)}+1n`, `~${X(m)}`, `-${X(m)}`][kind]!;
    return body(setX(d, `(${condition(cond)})?${X(n)}:(${alt})`));
  }
  const alt = [W(m), `${W(m)}+1`, `~${W(m)}`, `-${W(m)}`][kind]!;
  return body(setW(d, `(${condition(cond)})?${W(n)}:(${alt})`));
}

function twoSource(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  if ((insn >>> 29) & 1) return undefined;
  const m = bits(insn, 20, 16);
  const opcode = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (sf) {
    switch (opcode) {
      case 2: return body(setX(d, `${X(m)}===0n?0n:${X(n)}/${X(m)}`));
      case 3: return body(setX(d, `${X(m)}===0n?0n:BigInt.asIntN(64,${X(n)})/BigInt.asIntN(64,${X(m)})`));
      case 8: return body(setX(d, `${X(n)}<<(${X(m)}&63n)`));
      case 9: return body(setX(d, `${X(n)}>>(${X(m)}&63n)`));
      case 10: return body(`s[4]=${X(n)};${setX(d, `si[4]>>(${X(m)}&63n)`)}`);
      case 11: return body(`s[5]=${X(m)}&63n;${setX(d, `(${X(n)}>>s[5])|(${X(n)}<<(64n-s[5]))`)}`);
      case 19: case 23: return body(setW(d, `m.crc32(${W(n)},${X(m)},8,${opcode === 23})`));
      default: return undefined;
    }
  }
  switch (opcode) {
    case 2: return body(setW(d, `${W(m)}===0?0:Math.floor(${W(n)}/${W(m)})`));
    case 3: return body(setW(d, `${W(m)}===0?0:Math.trunc((${W(n)}|0)/(${W(m)}|0))`));
    case 8: return body(setW(d, `${W(n)}<<(${W(m)}&31)`));
    case 9: return body(setW(d, `${W(n)}>>>(${W(m)}&31)`));
    case 10: return body(setW(d, `${W(n)}>>(${W(m)}&31)`));
    case 11: return body(`{const a=${W(m)}&31;${setW(d, `a===0?${W(n)}:(${W(n)}>>>a)|(${W(n)}<<(32-a))`)}}`);
    case 16: case 17: case 18: case 20: case 21: case 22:
      return body(setW(d, `m.crc32(${W(n)},${X(m)},${1 << (opcode & 3)},${opcode >= 20})`));
    default: return undefined;
  }
}

function oneSource(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  if ((insn >>> 29) & 1 || bits(insn, 20, 16) !== 0) return undefined;
  const opcode = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (opcode > 5 || (!sf && opcode === 3)) return undefined;
  const name = ['rbit', 'rev16', 'rev32', 'rev', 'clz', 'cls'][opcode]!;
  // 32-bit REV is opcode 2 (rev32 of a W register is a full byte reverse).
  if (sf) return body(`m.${name}64(${d === 31 ? 33 : d},${n === 31 ? 34 : n});`);
  const fn = opcode === 2 ? 'rev' : name;
  return body(setW(d, `m.${fn}32(${W(n)})`));
}

function threeSource(insn: number): Emitted | undefined {
  const sf = insn >>> 31;
  const op54 = bits(insn, 30, 29);
  const op31 = bits(insn, 23, 21);
  const o0 = (insn >>> 15) & 1;
  const m = bits(insn, 20, 16);
  const a = bits(insn, 14, 10);
  const n = bits(insn, 9, 5);
  const d = insn & 31;
  if (op54 !== 0) return undefined;
  if (op31 === 0) {
    if (sf) return body(setX(d, `${X(a)}${o0 ? '-' : '+'}${X(n)}*${X(m)}`));
    return body(setW(d, `${W(a)}${o0 ? '-' : '+'}Math.imul(${W(n)},${W(m)})`));
  }
  if (!sf) return undefined;
  switch (op31) {
    case 1: // SMADDL / SMSUBL
      return body(`s[4]=${X(n)}<<32n;s[5]=${X(m)}<<32n;${setX(d, `${X(a)}${o0 ? '-' : '+'}(si[4]>>32n)*(si[5]>>32n)`)}`);
    case 5: // UMADDL / UMSUBL
      return body(setX(d, `${X(a)}${o0 ? '-' : '+'}(${X(n)}&0xffffffffn)*(${X(m)}&0xffffffffn)`));
    case 2: // SMULH
      return o0 ? undefined : body(setX(d, `(BigInt.asIntN(64,${X(n)})*BigInt.asIntN(64,${X(m)}))>>64n`));
    case 6: // UMULH
      return o0 ? undefined : body(setX(d, `(${X(n)}*${X(m)})>>64n`));
    default: return undefined;
  }
}
