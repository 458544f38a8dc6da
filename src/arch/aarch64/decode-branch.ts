/** Branches: B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET, ERET. Every one ends its block. */
import { big, bits, condition, signExtend, terminal, X, type Emitted, type Site } from './emit.js';
import { Reg } from './registers.js';

const PC = `r[${Reg.Pc}]`;

const direct = (code: string, target: bigint, cond: string, next: bigint): Emitted => ({ code, ends: true, direct: { target, cond, next } });

export function translateBranch(insn: number, site: Site): Emitted | undefined {
  const next = site.pc + 4n;
  if ((insn & 0x7c000000) === 0x14000000) {
    const target = site.pc + BigInt(signExtend(insn & 0x3ffffff, 26) * 4);
    if (insn >>> 31) return terminal(`r[30]=${big(next)};${PC}=${big(target)};`);
    return direct(`${PC}=${big(target)};`, target, 'true', next);
  }
  if ((insn & 0xff000010) === 0x54000000) {
    const target = site.pc + BigInt(signExtend(bits(insn, 23, 5), 19) * 4);
    const cond = condition(insn & 15);
    return direct(`${PC}=(${cond})?${big(target)}:${big(next)};`, target, cond, next);
  }
  if ((insn & 0x7e000000) === 0x34000000) {
    const t = insn & 31;
    const target = site.pc + BigInt(signExtend(bits(insn, 23, 5), 19) * 4);
    const isZero = t === 31 ? 'true' : insn >>> 31 ? `(r32[${2 * t}]|r32[${2 * t + 1}])===0` : `r32[${2 * t}]===0`;
    const nonZero = (insn >>> 24) & 1;
    const cond = `${nonZero ? '!' : ''}(${isZero})`;
    return direct(`${PC}=(${cond})?${big(target)}:${big(next)};`, target, cond, next);
  }
  if ((insn & 0x7e000000) === 0x36000000) {
    const t = insn & 31;
    const bit = ((insn >>> 31) << 5) | bits(insn, 23, 19);
    const target = site.pc + BigInt(signExtend(bits(insn, 18, 5), 14) * 4);
    const word = t === 31 ? '0' : `r32[${2 * t + (bit >> 5)}]`;
    const set = `((${word}>>>${bit & 31})&1)===1`;
    const onSet = (insn >>> 24) & 1;
    const cond = `${onSet ? '' : '!'}(${set})`;
    return direct(`${PC}=(${cond})?${big(target)}:${big(next)};`, target, cond, next);
  }
  if ((insn & 0xfe000000) >>> 0 === 0xd6000000) return branchRegister(insn, next);
  return undefined;
}

function branchRegister(insn: number, next: bigint): Emitted | undefined {
  const opc = bits(insn, 24, 21);
  const op2 = bits(insn, 20, 16);
  const op3 = bits(insn, 15, 10);
  const n = bits(insn, 9, 5);
  const op4 = insn & 31;
  if (op2 !== 31 || op3 !== 0) return undefined;
  switch (opc) {
    case 0: case 2: return op4 === 0 ? terminal(`${PC}=${X(n)};`) : undefined; // BR, RET
    case 1: return op4 === 0 ? terminal(`s[4]=${X(n)};r[30]=${big(next)};${PC}=s[4];`) : undefined; // BLR
    case 4: return n === 31 && op4 === 0 ? terminal('m.eret();') : undefined;
    default: return undefined;
  }
}
