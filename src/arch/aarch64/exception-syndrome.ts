/** Exception classes (ESR_ELx.EC) we raise, and a decoder for fault reports. */
export const enum Ec {
  Unknown = 0x00,
  Wfx = 0x01,
  FpAccess = 0x07,
  IllegalState = 0x0e,
  Svc64 = 0x15,
  Hvc64 = 0x16,
  Smc64 = 0x17,
  SysRegTrap = 0x18,
  InstrAbortLower = 0x20,
  InstrAbortSame = 0x21,
  PcAlignment = 0x22,
  DataAbortLower = 0x24,
  DataAbortSame = 0x25,
  SpAlignment = 0x26,
  Brk = 0x3c,
}

/** Vector offsets inside a VBAR table. */
export const enum VectorKind {
  Sync = 0,
  Irq = 0x80,
  Fiq = 0x100,
  SError = 0x180,
}

const EC_NAMES: Record<number, string> = {
  0x00: 'undefined instruction',
  0x01: 'WFI/WFE trap',
  0x07: 'FP/SIMD access trap',
  0x0e: 'illegal execution state',
  0x15: 'SVC',
  0x16: 'HVC',
  0x17: 'SMC',
  0x18: 'MSR/MRS trap',
  0x20: 'instruction abort from EL0',
  0x21: 'instruction abort',
  0x22: 'PC alignment fault',
  0x24: 'data abort from EL0',
  0x25: 'data abort',
  0x26: 'SP alignment fault',
  0x3c: 'BRK',
};

export function describeFaultStatus(fsc: number): string {
  const level = fsc & 3;
  switch (fsc & 0x3c) {
    case 0x00: return `address size fault, level ${level}`;
    case 0x04: return `translation fault, level ${level}`;
    case 0x08: return `access flag fault, level ${level}`;
    case 0x0c: return `permission fault, level ${level}`;
    case 0x10: return 'synchronous external abort (unmapped guest-physical address)';
    case 0x14: return `external abort on table walk, level ${level}`;
    default: return fsc === 0x21 ? 'alignment fault' : `fault status 0x${fsc.toString(16)}`;
  }
}

/** "ESR 0x96000045: data abort, translation fault, level 1, write" */
export function describeEsr(esr: number): string {
  const ec = esr >>> 26;
  const iss = esr & 0x1ffffff;
  let text = `ESR 0x${(esr >>> 0).toString(16)}: ${EC_NAMES[ec] ?? `EC 0x${ec.toString(16)}`}`;
  if (ec >= 0x20 && ec <= 0x25 && ec !== 0x22 && ec !== 0x23) {
    text += `, ${describeFaultStatus(iss & 0x3f)}`;
    if (ec >= 0x24) text += (iss >> 6) & 1 ? ', write' : ', read';
  } else if (ec === 0x15 || ec === 0x16 || ec === 0x17 || ec === 0x3c) {
    text += ` #0x${(iss & 0xffff).toString(16)}`;
  }
  return text;
}
