/**
 * Goldfish RTC (google,goldfish-rtc), as Linux's rtc-goldfish drives it on QEMU riscv virt:
 * nanoseconds since the epoch in TIME_LOW/TIME_HIGH (reading TIME_LOW latches TIME_HIGH), an alarm
 * armed by writing ALARM_HIGH then ALARM_LOW, IRQ_ENABLED, CLEAR_ALARM, ALARM_STATUS and
 * CLEAR_INTERRUPT. Time comes from the host clock plus the offset the guest sets. The alarm is
 * checked on every access and on `poll()`; `nextDeadlineNs` tells the zone when to poll.
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';

const enum Reg {
  TimeLow = 0x00,
  TimeHigh = 0x04,
  AlarmLow = 0x08,
  AlarmHigh = 0x0c,
  IrqEnabled = 0x10,
  ClearAlarm = 0x14,
  AlarmStatus = 0x18,
  ClearInterrupt = 0x1c,
}

const MASK64 = (1n << 64n) - 1n;

export interface GoldfishRtcOptions {
  readonly irq: IrqLine;
  readonly wallClockNs: () => bigint;
}

export class GoldfishRtc implements MmioDevice {
  readonly name = 'goldfish-rtc';
  readonly accessRule = WORD_ACCESS;
  private offsetNs = 0n;
  private latchedHigh = 0;
  private alarmNs = 0n;
  private alarmHighWritten = 0;
  private alarmArmed = false;
  private irqEnabled = 0;
  private irqPending = false;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: GoldfishRtcOptions) {
    this.irqOut = new LevelIrq(options.irq);
  }

  private now(): bigint {
    return (this.options.wallClockNs() + this.offsetNs) & MASK64;
  }

  reset(): void {
    this.offsetNs = this.alarmNs = 0n;
    this.latchedHigh = this.alarmHighWritten = this.irqEnabled = 0;
    this.alarmArmed = this.irqPending = false;
    this.update();
  }

  /** Fires the alarm if its time has come. */
  poll(): void {
    if (this.alarmArmed && this.now() >= this.alarmNs) {
      this.alarmArmed = false;
      this.irqPending = true;
    }
    this.update();
  }

  /** Host time (ns) at which the armed alarm fires, or undefined. */
  nextDeadlineNs(): bigint | undefined {
    return this.alarmArmed ? this.alarmNs - this.offsetNs : undefined;
  }

  read(offset: number, size: AccessSize): number {
    this.poll();
    if (size === 4 && offset === Reg.TimeLow) {
      const t = this.now();
      this.latchedHigh = Number(t >> 32n);
      return Number(t & 0xffffffffn);
    }
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    switch (offset) {
      case Reg.TimeLow:
        return Number(this.now() & 0xffffffffn);
      case Reg.TimeHigh:
        return this.latchedHigh;
      case Reg.AlarmLow:
        return Number(this.alarmNs & 0xffffffffn);
      case Reg.AlarmHigh:
        return Number(this.alarmNs >> 32n);
      case Reg.IrqEnabled:
        return this.irqEnabled;
      case Reg.AlarmStatus:
        return this.alarmArmed ? 1 : 0;
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = BigInt(value >>> 0);
    switch (offset) {
      case Reg.TimeLow:
      case Reg.TimeHigh: {
        // Each half takes effect at once (Linux writes TIME_HIGH, then TIME_LOW).
        const t = this.now();
        const wanted = offset === Reg.TimeLow ? (t & ~0xffffffffn) | v : (t & 0xffffffffn) | (v << 32n);
        this.offsetNs += wanted - t;
        break;
      }
      case Reg.AlarmHigh:
        this.alarmHighWritten = value >>> 0;
        break;
      case Reg.AlarmLow:
        this.alarmNs = (BigInt(this.alarmHighWritten) << 32n) | v;
        this.alarmArmed = true;
        break;
      case Reg.IrqEnabled:
        this.irqEnabled = value & 1;
        break;
      case Reg.ClearAlarm:
        this.alarmArmed = false;
        break;
      case Reg.ClearInterrupt:
        this.irqPending = false;
        break;
    }
    this.poll();
  }

  private update(): void {
    const lvl = this.irqPending && this.irqEnabled === 1;
    this.irqOut.set(lvl);
  }
}
