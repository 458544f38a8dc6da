/**
 * Loongson inter-processor interrupts over IOCSR (per core: STATUS 0x1000, EN 0x1004, SET 0x1008,
 * CLEAR 0x100c, four 64-bit mailboxes from 0x1020), as a per-zone model of what Linux's LoongArch
 * SMP code uses: IPI_SEND (0x1040: action bit 0-4, target core 16-25) sets an action on the target,
 * MAIL_SEND (0x1048: 32-bit half of a mailbox, box 2-4, core 16-25, byte mask 27-30, data 32-63)
 * fills its mailbox. A core's IPI line (ESTAT.IS 12) is high while STATUS & EN is non-zero. An IPI to a
 * vCPU that is not running yet starts it at its mailbox 0, as the boot firmware's wait loop does.
 */

export const IPI_STATUS = 0x1000;
export const IPI_EN = 0x1004;
export const IPI_SET = 0x1008;
export const IPI_CLEAR = 0x100c;
export const IPI_MBUF = 0x1020;
export const IPI_SEND = 0x1040;
export const MAIL_SEND = 0x1048;
/** CPU line of the IPI (ESTAT.IS bit 12). */
export const IPI_LINE = 12;

export interface LoongsonIpiOptions {
  readonly vcpus: number;
  readonly output: (vcpu: number, level: boolean) => void;
  /** The vCPU a physical core number names, or undefined. */
  readonly vcpuOfCore: (core: number) => number | undefined;
  /** A powered-off vCPU was sent an IPI: start it at `entry` (its mailbox 0). */
  readonly startVcpu: (vcpu: number, entry: bigint) => void;
  readonly isRunning: (vcpu: number) => boolean;
}

export class LoongsonIpi {
  private readonly status: Uint32Array;
  private readonly en: Uint32Array;
  private readonly mbuf: Uint32Array[];
  private readonly level: Uint8Array;
  /** IPIs each vCPU received, for the monitor. */
  readonly received: Uint32Array;

  constructor(private readonly options: LoongsonIpiOptions) {
    this.status = new Uint32Array(options.vcpus);
    this.en = new Uint32Array(options.vcpus);
    this.mbuf = Array.from({ length: options.vcpus }, () => new Uint32Array(8));
    this.level = new Uint8Array(options.vcpus);
    this.received = new Uint32Array(options.vcpus);
  }

  reset(): void {
    this.status.fill(0);
    this.en.fill(0);
    for (const m of this.mbuf) m.fill(0);
    this.received.fill(0);
    for (let v = 0; v < this.level.length; v++) this.update(v);
  }

  private update(v: number): void {
    const l = (this.status[v]! & this.en[v]!) !== 0 ? 1 : 0;
    if (l === this.level[v]) return;
    this.level[v] = l;
    this.options.output(v, l === 1);
  }

  read(vcpu: number, address: number, size: number): bigint | undefined {
    if (address === IPI_STATUS) return BigInt(this.status[vcpu]!);
    if (address === IPI_EN) return BigInt(this.en[vcpu]!);
    if (address === IPI_SET || address === IPI_CLEAR) return 0n;
    if (address >= IPI_MBUF && address < IPI_MBUF + 0x20 && (address & 3) === 0) {
      const i = (address - IPI_MBUF) >> 2;
      const m = this.mbuf[vcpu]!;
      return size === 8 ? (BigInt(m[i + 1] ?? 0) << 32n) | BigInt(m[i]!) : BigInt(m[i]!);
    }
    return undefined;
  }

  write(vcpu: number, address: number, size: number, value: bigint): boolean {
    const lo = Number(value & 0xffffffffn);
    switch (address) {
      case IPI_EN:
        this.en[vcpu] = lo;
        this.update(vcpu);
        return true;
      case IPI_SET:
        this.status[vcpu]! |= lo;
        this.update(vcpu);
        return true;
      case IPI_CLEAR:
        this.status[vcpu]! &= ~lo;
        this.update(vcpu);
        return true;
      case IPI_SEND: {
        const target = this.options.vcpuOfCore((lo >>> 16) & 0x3ff);
        if (target === undefined) return true;
        this.received[target]!++;
        if (!this.options.isRunning(target)) {
          const m = this.mbuf[target]!;
          this.options.startVcpu(target, (BigInt(m[1]!) << 32n) | BigInt(m[0]!));
        }
        this.status[target]! |= 1 << (lo & 31);
        this.update(target);
        return true;
      }
      case MAIL_SEND: {
        const target = this.options.vcpuOfCore((lo >>> 16) & 0x3ff);
        if (target === undefined) return true;
        const box = (lo >>> 2) & 7;
        const mask = (lo >>> 27) & 0xf;
        const data = Number((value >> 32n) & 0xffffffffn);
        const m = this.mbuf[target]!;
        let keep = 0;
        for (let b = 0; b < 4; b++) if (mask & (1 << b)) keep |= 0xff << (8 * b);
        m[box] = ((m[box]! & keep) | (data & ~keep)) >>> 0;
        return true;
      }
    }
    if (address >= IPI_MBUF && address < IPI_MBUF + 0x20 && (address & 3) === 0) {
      const i = (address - IPI_MBUF) >> 2;
      const m = this.mbuf[vcpu]!;
      m[i] = lo;
      if (size === 8 && i + 1 < 8) m[i + 1] = Number((value >> 32n) & 0xffffffffn);
      return true;
    }
    return false;
  }
}
