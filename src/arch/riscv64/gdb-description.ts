import type { GdbArchDescription, GdbRegister } from '../../../gdbstub/arch-description.js';
import { CSR } from './csr.js';

/** gdb 13's riscv register numbers: x0..x31, pc, f0..f31, then CSR n at 65 + n, priv at 65 + 4096. */
export const RV_PC = 32;
export const RV_F0 = 33;
export const RV_CSR0 = 65;
export const RV_PRIV = 65 + 4096;

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];
const FABI = ['ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11'];

const cpuRegs: GdbRegister[] = [
  ...ABI.map((name, i): GdbRegister => ({
    regno: i, name, bits: 64, type: i === 1 ? 'code_ptr' : i === 2 || i === 8 ? 'data_ptr' : 'int',
  })),
  { regno: RV_PC, name: 'pc', bits: 64, type: 'code_ptr' },
];

const fpuRegs: GdbRegister[] = [
  ...FABI.map((name, i): GdbRegister => ({ regno: RV_F0 + i, name, bits: 64, type: 'riscv_double' })),
  { regno: RV_CSR0 + CSR.fflags, name: 'fflags', bits: 32, type: 'int' },
  { regno: RV_CSR0 + CSR.frm, name: 'frm', bits: 32, type: 'int' },
  { regno: RV_CSR0 + CSR.fcsr, name: 'fcsr', bits: 32, type: 'int' },
];

/** The supervisor CSRs a guest kernel sees (no machine or hypervisor CSRs: they do not exist for it). */
export const GDB_CSRS: ReadonlyArray<readonly [string, number]> = [
  ['sstatus', CSR.sstatus], ['sie', CSR.sie], ['stvec', CSR.stvec], ['scounteren', CSR.scounteren],
  ['senvcfg', CSR.senvcfg], ['sscratch', CSR.sscratch], ['sepc', CSR.sepc], ['scause', CSR.scause],
  ['stval', CSR.stval], ['sip', CSR.sip], ['stimecmp', CSR.stimecmp], ['satp', CSR.satp],
  ['cycle', CSR.cycle], ['time', CSR.time], ['instret', CSR.instret],
];

const csrRegs: GdbRegister[] = GDB_CSRS.map(([name, n]) => ({ regno: RV_CSR0 + n, name, bits: 64, type: 'int', group: 'system' }));

const FPU_TYPES =
  '<union id="riscv_double"><field name="float" type="ieee_single"/><field name="double" type="ieee_double"/></union>';

export const riscv64GdbDescription: GdbArchDescription = {
  architecture: 'riscv:rv64',
  features: [
    { name: 'org.gnu.gdb.riscv.cpu', file: 'riscv-64bit-cpu.xml', registers: cpuRegs },
    { name: 'org.gnu.gdb.riscv.fpu', file: 'riscv-64bit-fpu.xml', registers: fpuRegs, typesXml: FPU_TYPES },
    { name: 'org.gnu.gdb.riscv.virtual', file: 'riscv-64bit-virtual.xml', registers: [{ regno: RV_PRIV, name: 'priv', bits: 64, type: 'int', group: 'general' }] },
    { name: 'org.gnu.gdb.riscv.csr', file: 'riscv-64bit-csr.xml', registers: csrRegs },
  ],
  gPacketRegisters: 33,
  expedite: [2, RV_PC],
};
