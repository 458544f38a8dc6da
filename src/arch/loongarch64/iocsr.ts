/**
 * The IOCSR address space (Reference Manual vol. 1, 4.2.2 iocsrrd/iocsrwr): per-core and chip
 * registers such as the IPI block, EIOINTC and the identification registers. The core reaches it
 * only through this interface; a board provides it.
 */
export interface IocsrSpace {
  /** undefined for an address nothing answers (the access then reads 0 and is ignored, as on the LA464). */
  read(address: number, size: 1 | 2 | 4 | 8): bigint | undefined;
  write(address: number, size: 1 | 2 | 4 | 8, value: bigint): boolean;
}

/** Identification registers every Loongson 3 has at these IOCSR addresses. */
export const IOCSR_FEATURES = 0x8;
export const IOCSR_VENDOR = 0x10;
export const IOCSR_CPUNAME = 0x20;
/** FEATURES bits: MSI, EXTIOI (EIOINTC), CSRIPI (IPIs through IOCSR). */
export const FEATURE_MSI = 1n << 2n;
export const FEATURE_EXTIOI = 1n << 3n;
export const FEATURE_CSRIPI = 1n << 4n;

const ascii = (s: string): bigint => {
  let v = 0n;
  for (let i = s.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(s.charCodeAt(i));
  return v;
};

/** Only the identification registers: a core with no interrupt controllers behind IOCSR. */
export class IdentificationIocsr implements IocsrSpace {
  constructor(private readonly features = FEATURE_MSI | FEATURE_EXTIOI | FEATURE_CSRIPI) {}

  read(address: number, size: 1 | 2 | 4 | 8): bigint | undefined {
    const base = address & ~7;
    let v: bigint;
    if (base === IOCSR_FEATURES) v = this.features;
    else if (base === IOCSR_VENDOR) v = ascii('Loongson');
    else if (base === IOCSR_CPUNAME) v = ascii('3A5000');
    else return undefined;
    return BigInt.asUintN(size * 8, v >> BigInt((address & 7) * 8));
  }

  write(): boolean {
    return false;
  }
}
