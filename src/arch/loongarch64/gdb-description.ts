import type { GdbArchDescription, GdbRegister } from '../../../gdbstub/arch-description.js';

/**
 * gdb's LoongArch register numbers (gdb/features/loongarch/base64.xml and fpu.xml): r0..r31,
 * orig_a0, pc, badv; then f0..f31, fcc0..fcc7, fcsr. gdb 16 also refuses a description without the
 * LSX, LASX and LBT features; this core has none of them (CPUCFG says so), so their registers are
 * described and always read as unavailable.
 */
export const LA_ORIG_A0 = 32;
export const LA_PC = 33;
export const LA_BADV = 34;
export const LA_F0 = 35;
export const LA_FCC0 = 67;
export const LA_FCSR = 75;
export const LA_VR0 = 76;
export const LA_XR0 = 108;
export const LA_SCR0 = 140;
export const LA_EFLAGS = 144;
export const LA_FTOP = 145;

const ABI = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'r16',
  'r17', 'r18', 'r19', 'r20', 'r21', 'r22', 'r23', 'r24', 'r25', 'r26', 'r27', 'r28', 'r29', 'r30', 'r31'];

const baseRegs: GdbRegister[] = [
  ...ABI.map((name, i): GdbRegister => ({ regno: i, name, bits: 64, type: i === 1 ? 'code_ptr' : i === 3 ? 'data_ptr' : 'uint64', group: 'general' })),
  { regno: LA_ORIG_A0, name: 'orig_a0', bits: 64, type: 'uint64', group: 'general' },
  { regno: LA_PC, name: 'pc', bits: 64, type: 'code_ptr', group: 'general' },
  { regno: LA_BADV, name: 'badv', bits: 64, type: 'code_ptr', group: 'general' },
];

const fpuRegs: GdbRegister[] = [
  ...Array.from({ length: 32 }, (_, i): GdbRegister => ({ regno: LA_F0 + i, name: `f${i}`, bits: 64, type: 'fputype', group: 'float' })),
  ...Array.from({ length: 8 }, (_, i): GdbRegister => ({ regno: LA_FCC0 + i, name: `fcc${i}`, bits: 8, type: 'uint8', group: 'float' })),
  { regno: LA_FCSR, name: 'fcsr', bits: 32, type: 'uint32', group: 'float' },
];

const lsxRegs: GdbRegister[] = Array.from({ length: 32 }, (_, i): GdbRegister => ({ regno: LA_VR0 + i, name: `vr${i}`, bits: 128, type: 'uint128', group: 'lsx' }));
const lasxRegs: GdbRegister[] = Array.from({ length: 32 }, (_, i): GdbRegister => ({ regno: LA_XR0 + i, name: `xr${i}`, bits: 256, type: 'lasxv', group: 'lasx' }));
const lbtRegs: GdbRegister[] = [
  ...Array.from({ length: 4 }, (_, i): GdbRegister => ({ regno: LA_SCR0 + i, name: `scr${i}`, bits: 64, type: 'uint64', group: 'lbt' })),
  { regno: LA_EFLAGS, name: 'eflags', bits: 32, type: 'uint32', group: 'lbt' },
  { regno: LA_FTOP, name: 'ftop', bits: 32, type: 'uint32', group: 'lbt' },
];

const FPU_TYPES = '<union id="fputype"><field name="f" type="ieee_single"/><field name="d" type="ieee_double"/></union>';

export const loongarch64GdbDescription: GdbArchDescription = {
  architecture: 'loongarch64',
  features: [
    { name: 'org.gnu.gdb.loongarch.base', file: 'loongarch-base64.xml', registers: baseRegs },
    { name: 'org.gnu.gdb.loongarch.fpu', file: 'loongarch-fpu.xml', registers: fpuRegs, typesXml: FPU_TYPES },
    { name: 'org.gnu.gdb.loongarch.lsx', file: 'loongarch-lsx.xml', registers: lsxRegs },
    { name: 'org.gnu.gdb.loongarch.lasx', file: 'loongarch-lasx.xml', registers: lasxRegs, typesXml: '<vector id="lasxv" type="uint128" count="2"/>' },
    { name: 'org.gnu.gdb.loongarch.lbt', file: 'loongarch-lbt.xml', registers: lbtRegs },
  ],
  gPacketRegisters: LA_BADV + 1,
  expedite: [3, LA_PC],
};
