import type { GdbArchDescription, GdbRegister } from '../../gdbstub/arch-description.js';

/**
 * A riscv64 register table for the test zone, numbered like QEMU's stub (x0..x31 0-31, pc 32,
 * f0..f31 33-64, priv 65, CSR n at 66 + n) so the same gdb script sees the same numbers on both.
 */
const X_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
const F_NAMES = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];
/** The S-mode CSRs a zone vCPU shows (number → name). */
export const CSRS: ReadonlyArray<readonly [number, string]> = [
  [0x100, 'sstatus'], [0x104, 'sie'], [0x105, 'stvec'], [0x106, 'scounteren'], [0x140, 'sscratch'],
  [0x141, 'sepc'], [0x142, 'scause'], [0x143, 'stval'], [0x144, 'sip'], [0x180, 'satp'],
];

export const PC = 32;
export const PRIV = 65;
export const CSR_BASE = 66;
export const FFLAGS = CSR_BASE + 1;
export const FRM = CSR_BASE + 2;
export const FCSR = CSR_BASE + 3;

const reg = (regno: number, name: string, bits = 64, type?: string, group?: string): GdbRegister => ({ regno, name, bits, type, group });

export const RISCV64_DESCRIPTION: GdbArchDescription = {
  architecture: 'riscv:rv64',
  gPacketRegisters: 33,
  expedite: [2, PC],
  features: [
    {
      name: 'org.gnu.gdb.riscv.cpu',
      file: 'riscv-64bit-cpu.xml',
      registers: [
        ...X_NAMES.map((n, i) => reg(i, n, 64, i === 1 ? 'code_ptr' : i === 2 || i === 8 ? 'data_ptr' : 'int')),
        reg(PC, 'pc', 64, 'code_ptr'),
      ],
    },
    {
      name: 'org.gnu.gdb.riscv.fpu',
      file: 'riscv-64bit-fpu.xml',
      typesXml: '<union id="riscv_double"><field name="float" type="ieee_single"/><field name="double" type="ieee_double"/></union>',
      registers: [
        ...F_NAMES.map((n, i) => reg(33 + i, n, 64, 'riscv_double')),
        reg(FFLAGS, 'fflags', 32, 'int', 'float'),
        reg(FRM, 'frm', 32, 'int', 'float'),
        reg(FCSR, 'fcsr', 32, 'int', 'float'),
      ],
    },
    { name: 'org.gnu.gdb.riscv.virtual', file: 'riscv-64bit-virtual.xml', registers: [reg(PRIV, 'priv', 64)] },
    {
      name: 'org.gnu.gdb.riscv.csr',
      file: 'riscv-csr.xml',
      registers: CSRS.map(([n, name]) => reg(CSR_BASE + n, name, 64, 'int', 'system')),
    },
  ],
};
