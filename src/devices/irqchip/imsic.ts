/**
 * RISC-V AIA IMSIC (riscv,imsics) supervisor-level interrupt files of one zone, one per vCPU:
 * the MMIO doorbell page per file (seteipnum_le at 0x000, seteipnum_be at 0x004; reads are zero)
 * where MSIs land, and the file's CSR-side state that the core reaches through its indirect CSRs
 * (siselect/sireg: eidelivery 0x70, eithreshold 0x72, eip0..63 at 0x80.., eie0..63 at 0xc0..;
 * RV64 uses the even-numbered ones, 64 identities each) and stopei (`topei` / `claimTopei`).
 * Page i of the window is vCPU i's file. Lower identities have higher priority.
 */
import { type IrqLine, levelIrqs, type LevelIrq } from '../../machine/irq-line.js';
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import type { Bdf } from '../../machine/bdf.js';
import type { MsiController, MsiDoorbell } from '../pci/msi.js';
import { InterruptControllerConfigError } from './ownership.js';

export const IMSIC_PAGE = 0x1000;

export const enum ImsicSelect {
  EiDelivery = 0x70,
  EiThreshold = 0x72,
  Eip0 = 0x80,
  Eie0 = 0xc0,
}

export interface ImsicOptions {
  readonly vcpus: number;
  /** Implemented identities are 1..numIds-1 (QEMU virt: riscv,num-ids = 255 → 256). */
  readonly numIds: number;
  /** One supervisor external interrupt output per vCPU. */
  readonly hartOutputs: readonly IrqLine[];
  /** Guest-physical base of the window, for MSIs arriving through `signal`. */
  readonly base?: number;
}

export class Imsic implements MmioDevice, MsiController, MsiDoorbell {
  readonly name = 'imsic';
  readonly accessRule = WORD_ACCESS;
  private readonly vcpus: number;
  private readonly numIds: number;
  private readonly pending: Uint8Array;
  private readonly enabled: Uint8Array;
  private readonly delivery: Uint8Array;
  private readonly threshold: Uint16Array;
  private readonly outputs: LevelIrq[];

  constructor(private readonly options: ImsicOptions) {
    const { vcpus, numIds } = options;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 4096) throw new InterruptControllerConfigError('imsic', `vcpus ${vcpus} out of range`);
    if (!Number.isInteger(numIds) || numIds < 64 || numIds > 2048 || numIds % 64 !== 0) {
      throw new InterruptControllerConfigError('imsic', `numIds ${numIds} must be a multiple of 64 in 64..2048`);
    }
    if (options.hartOutputs.length !== vcpus) throw new InterruptControllerConfigError('imsic', `${options.hartOutputs.length} outputs for ${vcpus} vCPUs`);
    this.vcpus = vcpus;
    this.numIds = numIds;
    this.pending = new Uint8Array(vcpus * numIds);
    this.enabled = new Uint8Array(vcpus * numIds);
    this.delivery = new Uint8Array(vcpus);
    this.threshold = new Uint16Array(vcpus);
    this.outputs = levelIrqs(options.hartOutputs);
  }

  reset(): void {
    this.pending.fill(0);
    this.enabled.fill(0);
    this.delivery.fill(0);
    this.threshold.fill(0);
    for (let h = 0; h < this.vcpus; h++) this.update(h);
  }

  /** An MSI to vCPU `hart`'s file: identity `id` becomes pending (0 and out-of-range ids are ignored). */
  setPending(hart: number, id: number): void {
    if (hart < 0 || hart >= this.vcpus || id < 1 || id >= this.numIds) return;
    this.pending[hart * this.numIds + id] = 1;
    this.update(hart);
  }

  read(): number {
    return 0;
  }

  peek(): number {
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const hart = Math.floor(offset / IMSIC_PAGE);
    const reg = offset % IMSIC_PAGE;
    if (reg === 0x000) this.setPending(hart, value >>> 0);
    else if (reg === 0x004) this.setPending(hart, ((value >>> 24) | ((value >>> 8) & 0xff00) | ((value << 8) & 0xff0000) | (value << 24)) >>> 0);
  }

  /**
   * A PCI function's MSI-X write that the zone's MSI router found at `offset` of this window (the
   * zone's stage-2 view): the same as the CPU's doorbell write, so it reaches only this zone's files.
   */
  message(_requester: Bdf, offset: number, data: number): void {
    this.write(offset, 4, data);
  }

  /** A PCI function's MSI write aimed at one of the zone's doorbell pages. */
  signal(_requester: Bdf, address: number, data: number): void {
    const base = this.options.base;
    if (base === undefined) return;
    const off = address - base;
    if (off >= 0 && off < this.vcpus * IMSIC_PAGE && off % IMSIC_PAGE === 0) this.setPending(off / IMSIC_PAGE, data >>> 0);
  }

  // --- the CSR side (siselect / sireg / stopei), for the riscv core ------------------------------

  /** sireg read with siselect = `select`, or undefined when the select names no register here. */
  readIndirect(hart: number, select: number): bigint | undefined {
    if (hart < 0 || hart >= this.vcpus) return undefined;
    if (select === ImsicSelect.EiDelivery) return BigInt(this.delivery[hart]!);
    if (select === ImsicSelect.EiThreshold) return BigInt(this.threshold[hart]!);
    const arr = this.array(select);
    if (arr === undefined) return undefined;
    if (select & 1) return undefined; // RV64: odd-numbered eip/eie do not exist
    const first = (select & 0x3f) * 32;
    let v = 0n;
    for (let b = 63; b >= 0; b--) {
      const id = first + b;
      v = (v << 1n) | (id < this.numIds && arr[hart * this.numIds + id] ? 1n : 0n);
    }
    return first === 0 ? v & ~1n : v; // identity 0 does not exist (bit 0 of eip0/eie0 only)
  }

  /** sireg write; false when the select names no register here. */
  writeIndirect(hart: number, select: number, value: bigint): boolean {
    if (hart < 0 || hart >= this.vcpus) return false;
    if (select === ImsicSelect.EiDelivery) {
      this.delivery[hart] = Number(value & 1n);
    } else if (select === ImsicSelect.EiThreshold) {
      this.threshold[hart] = Number(value & BigInt(this.numIds - 1));
    } else {
      const arr = this.array(select);
      if (arr === undefined || select & 1) return false;
      const first = (select & 0x3f) * 32;
      for (let b = 0; b < 64; b++) {
        const id = first + b;
        if (id === 0 || id >= this.numIds) continue;
        arr[hart * this.numIds + id] = Number((value >> BigInt(b)) & 1n);
      }
    }
    this.update(hart);
    return true;
  }

  private array(select: number): Uint8Array | undefined {
    if (select >= ImsicSelect.Eip0 && select < ImsicSelect.Eip0 + 64) return this.pending;
    if (select >= ImsicSelect.Eie0 && select < ImsicSelect.Eie0 + 64) return this.enabled;
    return undefined;
  }

  /** stopei read: (id << 16) | id of the best pending-and-enabled identity under the threshold, or 0. */
  topei(hart: number): number {
    if (hart < 0 || hart >= this.vcpus) return 0;
    const base = hart * this.numIds;
    const limit = this.threshold[hart] === 0 ? this.numIds : Math.min(this.threshold[hart]!, this.numIds);
    for (let id = 1; id < limit; id++) if (this.pending[base + id] && this.enabled[base + id]) return ((id << 16) | id) >>> 0;
    return 0;
  }

  /** stopei write (the claim that follows a read): clears the identity topei reported. */
  claimTopei(hart: number): number {
    const t = this.topei(hart);
    if (t !== 0) {
      this.pending[hart * this.numIds + (t & 0x7ff)] = 0;
      this.update(hart);
    }
    return t;
  }

  /** Each vCPU's file as text, for a debugger (`monitor irq`): delivery, threshold, pending and enabled identities. */
  describe(): string {
    const lines = ['imsic: one supervisor file per vCPU'];
    for (let h = 0; h < this.vcpus; h++) {
      const ids = (arr: Uint8Array) => {
        const out: number[] = [];
        for (let id = 1; id < this.numIds; id++) if (arr[h * this.numIds + id]) out.push(id);
        return out.join(',') || 'none';
      };
      lines.push(`  vcpu${h}: delivery ${this.delivery[h] ? 'on' : 'off'}, threshold ${this.threshold[h]}, pending ${ids(this.pending)}, enabled ${ids(this.enabled)}, output ${this.outputs[h]!.level ? 'raised' : 'low'}`);
    }
    return lines.join('\n') + '\n';
  }

  private update(hart: number): void {
    this.outputs[hart]!.set(this.delivery[hart] === 1 && this.topei(hart) !== 0);
  }
}
