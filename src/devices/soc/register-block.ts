import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';

/**
 * A SoC block of 32-bit registers that read back what was written, which is how most registers of
 * clock, power and pin controllers behave (mux selects, dividers, gates, pad settings), plus the
 * bits the hardware drives itself: `read` may change what a register reads as (a PLL's lock bit),
 * `write` what a write stores (a request bit that completes at once). i.MX blocks alias every
 * register at +4 / +8 / +0xC as SET / CLR / TOG (`setClearToggle`). Only aligned 32-bit accesses
 * decode; others read as zero and are ignored, as on the SoC's 32-bit peripheral bus.
 */
export interface RegisterBlockOptions {
  readonly name: string;
  /** Bytes of the window (a multiple of 4). */
  readonly size: number;
  /** Power-on values by offset (others reset to 0). */
  readonly resets?: ReadonlyMap<number, number>;
  /** i.MX SET/CLR/TOG aliases at +4/+8/+0xC of each 16-byte register slot. */
  readonly setClearToggle?: boolean;
  /** What a read returns, given what the register holds (default: what it holds). */
  readonly read?: (offset: number, held: number) => number;
  /** What a write leaves in the register (default: the value written). */
  readonly write?: (offset: number, value: number, held: number) => number;
  /**
   * The registers the model knows (default: all). An access to another one still reads back its
   * reset value and keeps what is written, and is reported once per register through `log`.
   */
  readonly known?: (offset: number) => boolean;
  readonly log?: (line: string) => void;
}

/** Registers reported as unknown per block, at most: each is named once, a guest sweeping the block cannot flood the log. */
const MAX_REPORTED = 64;

/** Registers kept per block: a DTB's window size is input, and no SoC block decodes more. */
const MAX_REGISTER_BYTES = 1 << 20;

export class RegisterBlock implements MmioDevice {
  readonly name: string;
  private readonly regs: Uint32Array;
  private readonly reported = new Set<number>();

  constructor(private readonly options: RegisterBlockOptions) {
    this.name = options.name;
    this.regs = new Uint32Array(Math.ceil(Math.min(options.size, MAX_REGISTER_BYTES) / 4));
    this.reset();
  }

  reset(): void {
    this.regs.fill(0);
    for (const [offset, value] of this.options.resets ?? []) if (offset >= 0 && offset >>> 2 < this.regs.length) this.regs[offset >>> 2] = value >>> 0;
  }

  /** The register at `offset` as the guest reads it. */
  read(offset: number, size: AccessSize): number {
    if (size === 4 && (offset & 3) === 0 && offset >>> 2 < this.regs.length) this.check(this.slot(offset), 'read');
    return this.value(offset, size);
  }

  peek(offset: number, size: AccessSize): number | undefined {
    const word = this.value(offset & ~3, 4);
    return size === 4 ? word : (word >>> (8 * (offset & 3))) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (size !== 4 || (offset & 3) !== 0 || offset >>> 2 >= this.regs.length) return;
    let at = offset;
    let next = value >>> 0;
    if (this.options.setClearToggle === true) {
      at = offset & ~0xf;
      const held = this.regs[at >>> 2]!;
      const alias = offset & 0xf;
      next = alias === 4 ? held | next : alias === 8 ? held & ~next : alias === 0xc ? held ^ next : next;
    }
    const held = this.regs[at >>> 2]!;
    this.check(at, 'write');
    this.regs[at >>> 2] = (this.options.write?.(at, next >>> 0, held) ?? next) >>> 0;
  }

  private slot(offset: number): number {
    return this.options.setClearToggle === true ? offset & ~0xf : offset;
  }

  private value(offset: number, size: AccessSize): number {
    if (size !== 4 || (offset & 3) !== 0 || offset >>> 2 >= this.regs.length) return 0;
    const at = this.slot(offset);
    const held = this.regs[at >>> 2]!;
    return (this.options.read?.(at, held) ?? held) >>> 0;
  }

  private check(offset: number, access: 'read' | 'write'): void {
    const { known, log } = this.options;
    if (known === undefined || known(offset) || this.reported.has(offset) || this.reported.size >= MAX_REPORTED) return;
    this.reported.add(offset);
    log?.(`${this.name}: ${access} of unmodelled register 0x${offset.toString(16)} (kept as a plain register)`);
  }

  /** What the register holds (tests, monitor). */
  held(offset: number): number {
    return this.regs[offset >>> 2]!;
  }
}
