/**
 * The aarch64 register view gdb-multiarch expects: org.gnu.gdb.aarch64.core (x0..x30, sp, pc, cpsr),
 * org.gnu.gdb.aarch64.fpu (v0..v31, fpsr, fpcr) and, as an extra feature in gdb's "system" group,
 * every EL1/EL0 system register the core implements (its own table: ID, cache-type, timer and debug
 * registers read as the guest's `mrs` reads them; ID-space encodings under their architectural names).
 * `g` carries the core registers like QEMU (34 registers); the rest are fetched with `p`.
 */
import type { GdbArchDescription, GdbRegister } from '../../../gdbstub/arch-description.js';
import { Reg } from './registers.js';
import { sysreg } from './system-register-hook.js';
import { buildSystemRegisters } from './system-registers.js';

/** What the register view needs from the core. */
export interface GdbRegisterCore {
  readonly r: BigUint64Array;
  fpsr: number;
  fpcr: number;
  pstate(): number;
  setPstate(p: number): void;
  readSystemRegister(encoding: number): bigint | undefined;
  writeSystemRegister(encoding: number, value: bigint): boolean;
  bankedSp(el: number): bigint;
}

const SP_EL1 = -1;
/** The registers gdb had before the full table (their regnums stay put), then the rest of the table. */
const FIRST_SYSTEM_REGISTERS: readonly [string, number][] = [
  ['SCTLR_EL1', sysreg(3, 0, 1, 0, 0)],
  ['TTBR0_EL1', sysreg(3, 0, 2, 0, 0)],
  ['TTBR1_EL1', sysreg(3, 0, 2, 0, 1)],
  ['TCR_EL1', sysreg(3, 0, 2, 0, 2)],
  ['MAIR_EL1', sysreg(3, 0, 10, 2, 0)],
  ['VBAR_EL1', sysreg(3, 0, 12, 0, 0)],
  ['ESR_EL1', sysreg(3, 0, 5, 2, 0)],
  ['FAR_EL1', sysreg(3, 0, 6, 0, 0)],
  ['ELR_EL1', sysreg(3, 0, 4, 0, 1)],
  ['SPSR_EL1', sysreg(3, 0, 4, 0, 0)],
  ['SP_EL0', sysreg(3, 0, 4, 1, 0)],
  ['SP_EL1', SP_EL1],
  ['TPIDR_EL1', sysreg(3, 0, 13, 0, 4)],
  ['TPIDR_EL0', sysreg(3, 3, 13, 0, 2)],
  ['CONTEXTIDR_EL1', sysreg(3, 0, 13, 0, 1)],
  ['PAR_EL1', sysreg(3, 0, 7, 4, 0)],
  ['CPACR_EL1', sysreg(3, 0, 1, 0, 2)],
  ['MIDR_EL1', sysreg(3, 0, 0, 0, 0)],
  ['MPIDR_EL1', sysreg(3, 0, 0, 0, 5)],
  ['CNTKCTL_EL1', sysreg(3, 0, 14, 1, 0)],
  ['CNTV_CTL_EL0', sysreg(3, 3, 14, 3, 1)],
  ['CNTV_CVAL_EL0', sysreg(3, 3, 14, 3, 2)],
  ['CNTP_CTL_EL0', sysreg(3, 3, 14, 2, 1)],
  ['CNTP_CVAL_EL0', sysreg(3, 3, 14, 2, 2)],
];

/** Architectural names of the ID space (op0=3, op1=0, CRn=0, CRm=1..7) by "crm,op2". */
const ID_NAMES: Readonly<Record<string, string>> = {
  '1,0': 'ID_PFR0_EL1', '1,1': 'ID_PFR1_EL1', '1,2': 'ID_DFR0_EL1', '1,3': 'ID_AFR0_EL1', '1,4': 'ID_MMFR0_EL1',
  '1,5': 'ID_MMFR1_EL1', '1,6': 'ID_MMFR2_EL1', '1,7': 'ID_MMFR3_EL1', '2,0': 'ID_ISAR0_EL1', '2,1': 'ID_ISAR1_EL1',
  '2,2': 'ID_ISAR2_EL1', '2,3': 'ID_ISAR3_EL1', '2,4': 'ID_ISAR4_EL1', '2,5': 'ID_ISAR5_EL1', '2,6': 'ID_MMFR4_EL1',
  '2,7': 'ID_ISAR6_EL1', '3,0': 'MVFR0_EL1', '3,1': 'MVFR1_EL1', '3,2': 'MVFR2_EL1', '3,4': 'ID_PFR2_EL1', '3,5': 'ID_DFR1_EL1',
  '3,6': 'ID_MMFR5_EL1', '4,0': 'ID_AA64PFR0_EL1', '4,1': 'ID_AA64PFR1_EL1', '4,2': 'ID_AA64PFR2_EL1', '4,4': 'ID_AA64ZFR0_EL1',
  '4,5': 'ID_AA64SMFR0_EL1', '5,0': 'ID_AA64DFR0_EL1', '5,1': 'ID_AA64DFR1_EL1', '5,4': 'ID_AA64AFR0_EL1', '5,5': 'ID_AA64AFR1_EL1',
  '6,0': 'ID_AA64ISAR0_EL1', '6,1': 'ID_AA64ISAR1_EL1', '6,2': 'ID_AA64ISAR2_EL1', '7,0': 'ID_AA64MMFR0_EL1',
  '7,1': 'ID_AA64MMFR1_EL1', '7,2': 'ID_AA64MMFR2_EL1', '7,3': 'ID_AA64MMFR3_EL1', '7,4': 'ID_AA64MMFR4_EL1',
};

/** PSTATE and FP views gdb already has as cpsr, fpsr, fpcr; listing them twice would only confuse. */
const DUPLICATES = new Set(['NZCV', 'DAIF', 'FPCR', 'FPSR', 'SPSel']);

function systemRegisterList(): [string, number][] {
  const list: [string, number][] = [...FIRST_SYSTEM_REGISTERS];
  const seen = new Set(list.map(([, e]) => e));
  const table = [...buildSystemRegisters()].sort(([a], [b]) => a - b);
  for (const [encoding, spec] of table) {
    if (seen.has(encoding) || DUPLICATES.has(spec.name)) continue;
    const id = /^ID_(\d)_(\d)$/.exec(spec.name);
    const name = id === null ? spec.name : (ID_NAMES[`${id[1]},${id[2]}`] ?? `S3_0_C0_C${id[1]}_${id[2]}`);
    list.push([name, encoding]);
  }
  return list;
}

const SYSTEM_REGISTERS = systemRegisterList();

export const GDB_PC = 32;
export const GDB_SP = 31;
export const GDB_CPSR = 33;
export const GDB_V0 = 34;
export const GDB_FPSR = 66;
export const GDB_FPCR = 67;
export const GDB_SYSREGS = 68;

const FPU_TYPES = `<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v2u" type="uint64" count="2"/>
<vector id="v2i" type="int64" count="2"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v4u" type="uint32" count="4"/>
<vector id="v4i" type="int32" count="4"/>
<vector id="v8u" type="uint16" count="8"/>
<vector id="v8i" type="int16" count="8"/>
<vector id="v16u" type="uint8" count="16"/>
<vector id="v16i" type="int8" count="16"/>
<vector id="v1u" type="uint128" count="1"/>
<vector id="v1i" type="int128" count="1"/>
<union id="vnd"><field name="f" type="v2d"/><field name="u" type="v2u"/><field name="s" type="v2i"/></union>
<union id="vns"><field name="f" type="v4f"/><field name="u" type="v4u"/><field name="s" type="v4i"/></union>
<union id="vnh"><field name="u" type="v8u"/><field name="s" type="v8i"/></union>
<union id="vnb"><field name="u" type="v16u"/><field name="s" type="v16i"/></union>
<union id="vnq"><field name="u" type="v1u"/><field name="s" type="v1i"/></union>
<union id="aarch64v"><field name="d" type="vnd"/><field name="s" type="vns"/><field name="h" type="vnh"/><field name="b" type="vnb"/><field name="q" type="vnq"/></union>`;

function coreRegisters(): GdbRegister[] {
  const regs: GdbRegister[] = [];
  for (let i = 0; i < 31; i++) regs.push({ regno: i, name: `x${i}`, bits: 64 });
  regs.push({ regno: GDB_SP, name: 'sp', bits: 64, type: 'data_ptr' });
  regs.push({ regno: GDB_PC, name: 'pc', bits: 64, type: 'code_ptr' });
  regs.push({ regno: GDB_CPSR, name: 'cpsr', bits: 32, type: 'int' });
  return regs;
}

function fpuRegisters(): GdbRegister[] {
  const regs: GdbRegister[] = [];
  for (let i = 0; i < 32; i++) regs.push({ regno: GDB_V0 + i, name: `v${i}`, bits: 128, type: 'aarch64v', group: 'vector' });
  regs.push({ regno: GDB_FPSR, name: 'fpsr', bits: 32, type: 'int', group: 'float' });
  regs.push({ regno: GDB_FPCR, name: 'fpcr', bits: 32, type: 'int', group: 'float' });
  return regs;
}

export const AARCH64_GDB: GdbArchDescription = {
  architecture: 'aarch64',
  features: [
    { name: 'org.gnu.gdb.aarch64.core', file: 'aarch64-core.xml', registers: coreRegisters() },
    { name: 'org.gnu.gdb.aarch64.fpu', file: 'aarch64-fpu.xml', registers: fpuRegisters(), typesXml: FPU_TYPES },
    {
      name: 'org.hvisor.gdb.aarch64.sysregs',
      file: 'aarch64-sysregs.xml',
      registers: SYSTEM_REGISTERS.map(([name], i) => ({ regno: GDB_SYSREGS + i, name, bits: 64, type: 'uint64', group: 'system' })),
    },
  ],
  gPacketRegisters: 34,
  expedite: [GDB_SP, GDB_PC],
};

function le(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

function fromLe(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

export function readGdbRegister(c: GdbRegisterCore, regno: number): Uint8Array | undefined {
  if (regno >= 0 && regno <= GDB_PC) return le(c.r[regno]!, 8); // x0..x30, sp (slot 31), pc (slot 32)
  if (regno === GDB_CPSR) return le(BigInt(c.pstate()), 4);
  if (regno >= GDB_V0 && regno < GDB_V0 + 32) {
    const s = Reg.V0 + 2 * (regno - GDB_V0);
    return le(c.r[s]! | (c.r[s + 1]! << 64n), 16);
  }
  if (regno === GDB_FPSR) return le(BigInt(c.fpsr >>> 0), 4);
  if (regno === GDB_FPCR) return le(BigInt(c.fpcr >>> 0), 4);
  const sys = SYSTEM_REGISTERS[regno - GDB_SYSREGS];
  if (!sys) return undefined;
  if (sys[1] === SP_EL1) return le(c.bankedSp(1), 8);
  if (sys[0] === 'SP_EL0') return le(c.bankedSp(0), 8);
  const v = c.readSystemRegister(sys[1]);
  return v === undefined ? undefined : le(v, 8);
}

export function writeGdbRegister(c: GdbRegisterCore, regno: number, value: Uint8Array): boolean {
  const v = fromLe(value);
  if (regno >= 0 && regno <= GDB_PC && value.length === 8) {
    c.r[regno] = v;
    return true;
  }
  if (regno === GDB_CPSR && value.length === 4) {
    c.setPstate(Number(v));
    return true;
  }
  if (regno >= GDB_V0 && regno < GDB_V0 + 32 && value.length === 16) {
    const s = Reg.V0 + 2 * (regno - GDB_V0);
    c.r[s] = v;
    c.r[s + 1] = v >> 64n;
    return true;
  }
  if (regno === GDB_FPSR && value.length === 4) {
    c.fpsr = Number(v);
    return true;
  }
  if (regno === GDB_FPCR && value.length === 4) {
    c.fpcr = Number(v);
    return true;
  }
  const sys = SYSTEM_REGISTERS[regno - GDB_SYSREGS];
  if (!sys || sys[1] === SP_EL1 || value.length !== 8) return false;
  return c.writeSystemRegister(sys[1], v);
}
