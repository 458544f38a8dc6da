/**
 * One vCPU's IOCSR space on a Loongson 3 zone: the identification registers, MISC_FUNC, the IPI
 * block, the zone's EIOINTC, and ANY_SEND (0x1158: a 32-bit write, with a byte mask, into another
 * core's IOCSR space: Linux sets EIOINTC routes and enables through it).
 */
import { IdentificationIocsr, type IocsrSpace } from '../../arch/loongarch64/iocsr.js';
import type { LoongsonEiointc } from './loongson-eiointc.js';
import type { LoongsonIpi } from './loongson-ipi.js';

const MISC_FUNC = 0x420;
const ANY_SEND = 0x1158;

export class LoongsonIocsr implements IocsrSpace {
  private readonly ident = new IdentificationIocsr();
  private misc = 0n;

  constructor(
    private readonly vcpu: number,
    private readonly ipi: LoongsonIpi,
    private readonly eiointc: LoongsonEiointc,
    /** The IOCSR space of the vCPU a physical core number names (for ANY_SEND). */
    private readonly spaceOfCore: (core: number) => IocsrSpace | undefined,
  ) {}

  read(address: number, size: 1 | 2 | 4 | 8): bigint | undefined {
    if (address === MISC_FUNC) return this.misc;
    return this.ident.read(address, size) ?? this.ipi.read(this.vcpu, address, size) ?? this.eiointc.read(this.vcpu, address, size);
  }

  write(address: number, size: 1 | 2 | 4 | 8, value: bigint): boolean {
    if (address === MISC_FUNC) {
      this.misc = value;
      return true;
    }
    if (address === ANY_SEND) {
      const target = this.spaceOfCore(Number((value >> 16n) & 0x3ffn));
      if (target === undefined) return true;
      const at = Number(value & 0xffffn);
      const mask = Number((value >> 27n) & 0xfn);
      let data = (value >> 32n) & 0xffffffffn;
      if (mask !== 0) {
        const old = target.read(at, 4) ?? 0n;
        let keep = 0n;
        for (let b = 0; b < 4; b++) if (mask & (1 << b)) keep |= 0xffn << BigInt(8 * b);
        data = (data & ~keep) | (old & keep);
      }
      return target.write(at, 4, data);
    }
    return this.ipi.write(this.vcpu, address, size, value) || this.eiointc.write(this.vcpu, address, size, value);
  }
}
