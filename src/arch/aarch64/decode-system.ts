/**
 * Exception generation (SVC/HVC/SMC/BRK/HLT) and system instructions: hints, barriers, PSTATE
 * writes, SYS (DC/IC/AT/TLBI) and MRS/MSR. Anything that can change translation, interrupt masking
 * or the privilege level ends the block so the run loop sees it.
 */
import { bits, body, terminal, undefinedInsn, type Emitted, type Site } from './emit.js';
import { Reg } from './registers.js';

const PC = `r[${Reg.Pc}]`;

export function translateException(insn: number, site: Site): Emitted | undefined {
  const opc = bits(insn, 23, 21);
  const imm = bits(insn, 20, 5);
  const ll = insn & 3;
  if (bits(insn, 4, 2) !== 0) return undefined;
  const k = site.k;
  if (opc === 0 && ll === 1) return terminal(`m.svc(${imm},${k});return 1;`);
  if (opc === 0 && ll === 2) return terminal(`m.hvc(${imm},${k});return 1;`);
  if (opc === 0 && ll === 3) return terminal(`m.smc(${imm},${k});return 1;`);
  if (opc === 1 && ll === 0) return terminal(`m.brk(${imm},${k});return 1;`);
  return undefined;
}

export function translateSystem(insn: number, site: Site): Emitted | undefined {
  const l = (insn >>> 21) & 1;
  const op0 = bits(insn, 20, 19);
  const op1 = bits(insn, 18, 16);
  const crn = bits(insn, 15, 12);
  const crm = bits(insn, 11, 8);
  const op2 = bits(insn, 7, 5);
  const t = insn & 31;
  const k = site.k;
  const next = `${PC}=0x${(site.pc + 4n).toString(16)}n;`;
  if (op0 === 0 && l === 0) {
    if (crn === 2 && t === 31) return hint((crm << 3) | op2, site, next);
    if (crn === 3 && t === 31) {
      if (op2 === 2) return body('m.clearExclusive();');
      if (op2 === 4 || op2 === 5 || op2 === 7) return body('');
      if (op2 === 6) return terminal(next); // ISB: end the block so later code sees new state
      return undefined;
    }
    if (crn === 4 && t === 31) return terminal(`m.msrImmediate(${op1},${op2},${crm},${k});${next}`);
    return undefined;
  }
  if (op0 === 1) {
    const encoding = (op1 << 11) | (crn << 7) | (crm << 3) | op2;
    if (l) return undefinedInsn(insn, site); // SYSL: nothing implemented
    return terminal(`m.sysInstruction(${encoding},${t},${k});${next}`);
  }
  if (op0 >= 2) {
    const encoding = (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
    if (l) return body(`m.mrs(${encoding},${t === 31 ? Reg.Discard : t},${k});`);
    return terminal(`m.msr(${encoding},${t === 31 ? Reg.Zero : t},${k});${next}`);
  }
  return undefined;
}

function hint(op: number, site: Site, next: string): Emitted {
  switch (op) {
    case 2: return terminal(`${next}m.wfe();`);
    case 3: return terminal(`${next}m.wfi(${site.k});`);
    default: return body(''); // NOP, YIELD, SEV(L), and hints of unimplemented features (PAC, BTI) are NOPs
  }
}
