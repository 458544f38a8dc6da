/**
 * Loongson LS7A (7A1000 / 7A2000) PCH-PIC, the bridge's I/O interrupt controller
 * (loongson,pch-pic-1.0; QEMU's "loongarch,ls7a"), as a per-zone model of what Linux's
 * irq-loongson-pch-pic drives: 64 inputs with MASK (1 = masked, all masked at reset), EDGE,
 * POL (1 = active low / falling), CLEAR for latched edges, ROUTE_ENTRY and HTMSI_VEC bytes, the
 * ID registers and INT_STATUS. An unmasked pending input asserts the vector its HTMSI_VEC names on
 * `vectorOutput` (to the zone's EIOINTC); several inputs may share one vector. HTMSI_EN is stored
 * but delivery always goes by vector.
 *
 * Isolation: inputs the zone does not own read as masked and never pend or deliver.
 */
import type { IrqLine } from '../../machine/irq-line.js';
import { NATURAL_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import { InterruptControllerConfigError, InterruptNotOwnedError } from './ownership.js';

const INPUTS = 64;
const ID_LOW = 0x07000000;
/** (inputs - 1) << 16 | version 1. */
const ID_HIGH = ((INPUTS - 1) << 16) | 1;

export interface Ls7aPchPicOptions {
  readonly ownedInputs: Iterable<number>;
  /** Raise/lower HT vector `vector` (0..255) at the zone's extended I/O interrupt controller. */
  readonly vectorOutput: (vector: number, level: boolean) => void;
}

export class Ls7aPchPic implements MmioDevice {
  readonly name = 'ls7a-pch-pic';
  readonly accessRule = NATURAL_ACCESS;
  private readonly owned = new Uint8Array(INPUTS);
  private readonly ownedMask: Uint32Array = new Uint32Array(2);
  private readonly mask = new Uint32Array(2);
  private readonly htmsiEn = new Uint32Array(2);
  private readonly edge = new Uint32Array(2);
  private readonly pol = new Uint32Array(2);
  private readonly auto0 = new Uint32Array(2);
  private readonly auto1 = new Uint32Array(2);
  private readonly route = new Uint8Array(INPUTS);
  private readonly vector = new Uint8Array(INPUTS);
  private readonly input = new Uint8Array(INPUTS);
  /** Interrupt requests: latched edges, or level inputs at their active level. */
  private readonly irr = new Uint8Array(INPUTS);
  private readonly vectorLevel = new Uint8Array(256);
  private readonly vectorCount = new Uint8Array(256);

  constructor(private readonly options: Ls7aPchPicOptions) {
    for (const i of options.ownedInputs) {
      if (!Number.isInteger(i) || i < 0 || i >= INPUTS) throw new InterruptControllerConfigError('ls7a-pch-pic', `owned input ${i} outside 0..63`);
      this.owned[i] = 1;
      this.ownedMask[i >> 5]! |= 1 << (i & 31);
    }
    this.reset();
  }

  /** The wire from a device to input `n` (owned inputs only). */
  inputLine(n: number): IrqLine {
    if (n < 0 || n >= INPUTS || !this.owned[n]) throw new InterruptNotOwnedError('ls7a-pch-pic', n);
    return {
      set: (lvl) => this.setInput(n, lvl),
      pulse: () => {
        this.setInput(n, true);
        this.setInput(n, false);
      },
    };
  }

  reset(): void {
    this.mask.fill(0xffffffff);
    for (const a of [this.htmsiEn, this.edge, this.pol, this.auto0, this.auto1]) a.fill(0);
    this.route.fill(1);
    this.vector.fill(0);
    this.irr.fill(0);
    for (let i = 0; i < INPUTS; i++) this.refreshLevel(i);
    this.update();
  }

  private bit(arr: Uint32Array, i: number): number {
    return (arr[i >> 5]! >>> (i & 31)) & 1;
  }

  private active(i: number): number {
    return this.input[i]! ^ this.bit(this.pol, i);
  }

  private refreshLevel(i: number): void {
    if (!this.bit(this.edge, i)) this.irr[i] = this.owned[i]! & this.active(i);
  }

  private setInput(i: number, lvl: boolean): void {
    const before = this.active(i);
    this.input[i] = lvl ? 1 : 0;
    if (this.bit(this.edge, i)) {
      if (!before && this.active(i)) this.irr[i] = 1;
    } else {
      this.irr[i] = this.active(i);
    }
    this.update();
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (offset >= 0x100 && offset < 0x140) return this.bytes(this.route, offset - 0x100, size);
    if (offset >= 0x200 && offset < 0x240) return this.bytes(this.vector, offset - 0x200, size);
    if (size !== 4) return 0;
    const half = (offset >> 2) & 1;
    switch (offset & ~4) {
      case 0x00:
        return half ? ID_HIGH : ID_LOW;
      case 0x20:
        return (this.mask[half]! | ~this.ownedMask[half]!) >>> 0;
      case 0x40:
        return this.htmsiEn[half]!;
      case 0x60:
        return this.edge[half]!;
      case 0xc0:
        return this.auto0[half]!;
      case 0xe0:
        return this.auto1[half]!;
      case 0x3a0: {
        let v = 0;
        for (let b = 0; b < 32; b++) {
          const i = half * 32 + b;
          if (this.irr[i] && !this.bit(this.mask, i)) v |= 1 << b;
        }
        return v >>> 0;
      }
      case 0x3e0:
        return this.pol[half]!;
    }
    return 0;
  }

  private bytes(arr: Uint8Array, first: number, size: AccessSize): number {
    let v = 0;
    for (let k = 0; k < size; k++) if (this.owned[first + k]) v |= arr[first + k]! << (8 * k);
    return v >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if ((offset >= 0x100 && offset < 0x140) || (offset >= 0x200 && offset < 0x240)) {
      const arr = offset < 0x200 ? this.route : this.vector;
      const first = offset & 0x3f;
      for (let k = 0; k < size; k++) if (this.owned[first + k]) arr[first + k] = (value >>> (8 * k)) & 0xff;
      this.update();
      return;
    }
    if (size !== 4) return;
    const half = (offset >> 2) & 1;
    const v = (value & this.ownedMask[half]!) >>> 0;
    switch (offset & ~4) {
      case 0x20:
        this.mask[half] = (v | ~this.ownedMask[half]!) >>> 0;
        break;
      case 0x40:
        this.htmsiEn[half] = v;
        break;
      case 0x60:
        this.edge[half] = v;
        for (let b = 0; b < 32; b++) this.refreshLevel(half * 32 + b);
        break;
      case 0x80:
        // Clears latched edge requests.
        for (let b = 0; b < 32; b++) if ((v >>> b) & 1 && this.bit(this.edge, half * 32 + b)) this.irr[half * 32 + b] = 0;
        break;
      case 0xc0:
        this.auto0[half] = v;
        break;
      case 0xe0:
        this.auto1[half] = v;
        break;
      case 0x3e0:
        this.pol[half] = v;
        for (let b = 0; b < 32; b++) this.refreshLevel(half * 32 + b);
        break;
      default:
        return;
    }
    this.update();
  }

  private update(): void {
    const count = this.vectorCount;
    count.fill(0);
    for (let i = 0; i < INPUTS; i++) if (this.irr[i] && !this.bit(this.mask, i)) count[this.vector[i]!]!++;
    for (let v = 0; v < 256; v++) {
      const lvl = count[v]! > 0 ? 1 : 0;
      if (lvl !== this.vectorLevel[v]) {
        this.vectorLevel[v] = lvl;
        this.options.vectorOutput(v, lvl === 1);
      }
    }
  }
}
