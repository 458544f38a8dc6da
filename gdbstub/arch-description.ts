/** One register as gdb sees it: its number (p/P and g order), name, width and feature. */
export interface GdbRegister {
  readonly regno: number;
  readonly name: string;
  readonly bits: number;
  readonly type?: string;
  readonly group?: string;
}

/** One target-description feature file, e.g. org.gnu.gdb.riscv.cpu. */
export interface GdbFeature {
  readonly name: string;
  /** File name served through qXfer:features:read, e.g. "riscv-64bit-cpu.xml". */
  readonly file: string;
  readonly registers: readonly GdbRegister[];
  /** Extra XML (vector/union/flags types) placed before the registers. */
  readonly typesXml?: string;
}

/**
 * What an arch hands the stub: the architecture name for target.xml, the features and how many
 * registers (by regno, from 0) a `g` packet carries. The stub knows nothing else about the arch.
 */
export interface GdbArchDescription {
  readonly architecture: string;
  readonly features: readonly GdbFeature[];
  readonly gPacketRegisters: number;
  /** Registers expedited in stop replies (pc, sp). */
  readonly expedite: readonly number[];
}
