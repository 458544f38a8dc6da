/**
 * ARM PrimeCell PL031 RTC (arm,pl031): a seconds counter that starts at the host's wall-clock time
 * (as QEMU's -rtc base=utc), a load register to set it, a match register whose equality raises the
 * interrupt, and the PrimeCell IDs the AMBA bus checks. Time runs from `wallClockNs`, so reads are
 * always current; the match interrupt is evaluated on every access and on `poll()` (the zone may
 * call it from its timer loop, `nextDeadlineNs` tells it when).
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';

const ID_BYTES = [0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;

export interface Pl031Options {
  readonly irq: IrqLine;
  /** Host wall clock, ns since the Unix epoch. */
  readonly wallClockNs: () => bigint;
}

export class Pl031 implements MmioDevice {
  readonly name = 'pl031';
  readonly accessRule = WORD_ACCESS;
  /** Seconds to add to the host clock's seconds (changed by writes to LR). */
  private offset = 0;
  private match = 0;
  private imsc = 0;
  private ris = 0;
  private lastSeen = 0;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: Pl031Options) {
    this.irqOut = new LevelIrq(options.irq);
    this.lastSeen = this.now();
  }

  private hostSeconds(): number {
    return Number(this.options.wallClockNs() / 1_000_000_000n);
  }

  private now(): number {
    return (this.hostSeconds() + this.offset) >>> 0;
  }

  reset(): void {
    this.offset = this.match = this.imsc = this.ris = 0;
    this.lastSeen = this.now();
    this.update();
  }

  /** Raises the match interrupt if the counter passed MR since the last check. */
  poll(): void {
    const t = this.now();
    // The counter moved from lastSeen to t (mod 2^32): did it reach MR on the way?
    if (t !== this.lastSeen && ((this.match - this.lastSeen - 1) >>> 0) < ((t - this.lastSeen) >>> 0)) this.ris = 1;
    this.lastSeen = t;
    this.update();
  }

  /** When the match interrupt would next fire, in host ns, or undefined when masked. */
  nextDeadlineNs(): bigint | undefined {
    if (!this.imsc) return undefined;
    const delta = (this.match - this.now()) >>> 0;
    return (BigInt(this.hostSeconds()) + BigInt(delta)) * 1_000_000_000n;
  }

  read(offset: number, size: AccessSize): number {
    this.poll();
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    switch (offset) {
      case 0x00:
        return this.now();
      case 0x04:
        return this.match;
      case 0x08:
        return this.now(); // LR reads back the current count (as QEMU does)
      case 0x0c:
        return 1; // always started
      case 0x10:
        return this.imsc;
      case 0x14:
        return this.ris;
      case 0x18:
        return this.ris & this.imsc;
    }
    if (offset >= 0xfe0 && offset < 0x1000) return ID_BYTES[(offset - 0xfe0) >> 2]!;
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.poll();
    switch (offset) {
      case 0x04:
        this.match = value >>> 0;
        if (this.match === this.now()) this.ris = 1; // a match set to "now" fires at once, as in QEMU
        break;
      case 0x08:
        this.offset = ((value >>> 0) - this.hostSeconds()) | 0;
        this.lastSeen = this.now();
        break;
      case 0x10:
        this.imsc = value & 1;
        break;
      case 0x1c:
        this.ris &= ~value & 1;
        break;
    }
    this.update();
  }

  private update(): void {
    const lvl = (this.ris & this.imsc) !== 0;
    this.irqOut.set(lvl);
  }
}
