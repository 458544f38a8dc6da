/**
 * ARM PrimeCell PL061 GPIO (arm,pl061), as Linux's gpio-pl061 drives it and as QEMU virt wires it:
 * pin 3 is the power button that gpio-keys turns into KEY_POWER. DATA is address-masked (bits
 * [9:2] of the offset select which pins a read sees or a write changes), DIR, the edge/level
 * interrupt configuration IS/IBE/IEV, IE, RIS/MIS/IC, AFSEL, and the PrimeCell IDs. The host drives
 * input pins with `setInput` (e.g. pressing the power button).
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import { NATURAL_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';

const ID_BYTES = [0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;

export interface Pl061Options {
  readonly irq: IrqLine;
  /** Called when the guest changes an output pin. */
  readonly onOutput?: (pin: number, level: boolean) => void;
}

export class Pl061 implements MmioDevice {
  readonly name = 'pl061';
  readonly accessRule = NATURAL_ACCESS;
  private data = 0;
  private inputs = 0;
  private dir = 0;
  private is = 0;
  private ibe = 0;
  private iev = 0;
  private ie = 0;
  private ris = 0;
  private afsel = 0;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: Pl061Options) {
    this.irqOut = new LevelIrq(options.irq);
  }

  reset(): void {
    this.data = this.dir = this.is = this.ibe = this.iev = this.ie = this.ris = this.afsel = 0;
    this.update();
  }

  /** Pin levels as the guest sees them: outputs from DATA, inputs from the host. */
  private get pins(): number {
    return ((this.data & this.dir) | (this.inputs & ~this.dir)) & 0xff;
  }

  /** Host side: drive input pin `pin` (0..7). */
  setInput(pin: number, level: boolean): void {
    if (pin < 0 || pin > 7) return;
    const bit = 1 << pin;
    const before = this.pins;
    this.inputs = level ? this.inputs | bit : this.inputs & ~bit;
    this.detect(before);
  }

  /** Latches edge interrupts for pins that changed and level interrupts for pins at their level. */
  private detect(before: number): void {
    const now = this.pins;
    const changed = before ^ now;
    for (let b = 0; b < 8; b++) {
      const bit = 1 << b;
      if (this.is & bit) continue; // level: evaluated in update()
      if (!(changed & bit)) continue;
      const rising = (now & bit) !== 0;
      if (this.ibe & bit || (this.iev & bit ? rising : !rising)) this.ris |= bit;
    }
    this.update();
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    if (offset < 0x400) return this.pins & ((offset >> 2) & 0xff);
    if (size !== 4) {
      if (offset >= 0xfe0 && offset < 0x1000 && (offset & 3) === 0) return ID_BYTES[(offset - 0xfe0) >> 2]!;
      return 0;
    }
    switch (offset) {
      case 0x400:
        return this.dir;
      case 0x404:
        return this.is;
      case 0x408:
        return this.ibe;
      case 0x40c:
        return this.iev;
      case 0x410:
        return this.ie;
      case 0x414:
        return this.rawStatus();
      case 0x418:
        return this.rawStatus() & this.ie;
      case 0x420:
        return this.afsel;
    }
    if (offset >= 0xfe0 && offset < 0x1000) return ID_BYTES[(offset - 0xfe0) >> 2]!;
    return 0;
  }

  private rawStatus(): number {
    // Level-sensitive pins report their current level match; edge pins their latch.
    const pins = this.pins;
    const level = this.is & ((pins & this.iev) | (~pins & ~this.iev)) & 0xff;
    return (this.ris & ~this.is) | level;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const before = this.pins;
    if (offset < 0x400) {
      const mask = (offset >> 2) & 0xff;
      this.data = (this.data & ~mask) | (value & mask);
      const after = this.pins;
      const changed = (before ^ after) & this.dir;
      for (let b = 0; b < 8; b++) if (changed & (1 << b)) this.options.onOutput?.(b, (after & (1 << b)) !== 0);
      this.detect(before);
      return;
    }
    if (size !== 4) return;
    const v = value & 0xff;
    switch (offset) {
      case 0x400:
        this.dir = v;
        break;
      case 0x404:
        this.is = v;
        break;
      case 0x408:
        this.ibe = v;
        break;
      case 0x40c:
        this.iev = v;
        break;
      case 0x410:
        this.ie = v;
        break;
      case 0x41c:
        this.ris &= ~v;
        break;
      case 0x420:
        this.afsel = v;
        break;
      default:
        return;
    }
    this.detect(before);
  }

  private update(): void {
    const lvl = (this.rawStatus() & this.ie) !== 0;
    this.irqOut.set(lvl);
  }
}
