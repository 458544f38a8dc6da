/**
 * Loongson LS7A RTC (loongson,ls7a-rtc), as Linux's rtc-ls2x drives it: the time-of-year (TOY)
 * counter as packed calendar fields (TOY_READ0: month, day, hour, minute, second, tenths;
 * TOY_READ1: years since 1900), set through TOY_WRITE0/1, the control register whose TOY and
 * oscillator enables gate it, the match registers, and the 32.768 kHz RTC counter. Time comes from
 * the host clock (UTC) plus the offset the guest sets.
 */
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';

const enum Reg {
  ToyTrim = 0x20,
  ToyWrite0 = 0x24,
  ToyWrite1 = 0x28,
  ToyRead0 = 0x2c,
  ToyRead1 = 0x30,
  ToyMatch0 = 0x34,
  RtcCtrl = 0x40,
  RtcTrim = 0x60,
  RtcWrite0 = 0x64,
  RtcRead0 = 0x68,
  RtcMatch0 = 0x6c,
}

const CTRL_EO = 1 << 8;
const CTRL_TOYEN = 1 << 11;
const CTRL_RTCEN = 1 << 13;
const RTC_HZ = 32768;

export interface Ls7aRtcOptions {
  readonly wallClockNs: () => bigint;
}

export class Ls7aRtc implements MmioDevice {
  readonly name = 'ls7a-rtc';
  readonly accessRule = WORD_ACCESS;
  private ctrl = 0;
  private toyTrim = 0;
  private rtcTrim = 0;
  /** Milliseconds added to the host clock for the TOY calendar. */
  private toyOffsetMs = 0;
  /** RTC counter value at host time rtcEpochMs. */
  private rtcBase = 0;
  private rtcEpochMs = 0;
  private readonly toyMatch = new Uint32Array(3);
  private readonly rtcMatch = new Uint32Array(3);

  constructor(private readonly options: Ls7aRtcOptions) {
    this.rtcEpochMs = this.hostMs();
  }

  private hostMs(): number {
    return Number(this.options.wallClockNs() / 1_000_000n);
  }

  reset(): void {
    this.ctrl = this.toyTrim = this.rtcTrim = this.toyOffsetMs = this.rtcBase = 0;
    this.rtcEpochMs = this.hostMs();
    this.toyMatch.fill(0);
    this.rtcMatch.fill(0);
  }

  private get toyOn(): boolean {
    return (this.ctrl & (CTRL_TOYEN | CTRL_EO)) === (CTRL_TOYEN | CTRL_EO);
  }

  private get rtcOn(): boolean {
    return (this.ctrl & (CTRL_RTCEN | CTRL_EO)) === (CTRL_RTCEN | CTRL_EO);
  }

  private setToy(wantedMs: number): void {
    if (Number.isFinite(wantedMs)) this.toyOffsetMs = wantedMs - this.hostMs();
  }

  private toyDate(): Date {
    return new Date(this.hostMs() + this.toyOffsetMs);
  }

  read(offset: number, size: AccessSize): number {
    return this.peek(offset, size);
  }

  peek(offset: number, size: AccessSize): number {
    switch (offset) {
      case Reg.ToyTrim:
        return this.toyTrim;
      case Reg.ToyRead0: {
        if (!this.toyOn) return 0;
        const d = this.toyDate();
        const tenths = Math.floor(d.getUTCMilliseconds() / 100);
        return (
          (((d.getUTCMonth() + 1) << 26) |
            (d.getUTCDate() << 21) |
            (d.getUTCHours() << 16) |
            (d.getUTCMinutes() << 10) |
            (d.getUTCSeconds() << 4) |
            tenths) >>>
          0
        );
      }
      case Reg.ToyRead1:
        return this.toyOn ? this.toyDate().getUTCFullYear() - 1900 : 0;
      case Reg.ToyMatch0:
      case Reg.ToyMatch0 + 4:
      case Reg.ToyMatch0 + 8:
        return this.toyMatch[(offset - Reg.ToyMatch0) >> 2]!;
      case Reg.RtcCtrl:
        return this.ctrl;
      case Reg.RtcTrim:
        return this.rtcTrim;
      case Reg.RtcRead0:
        return this.rtcOn ? (this.rtcBase + Math.floor(((this.hostMs() - this.rtcEpochMs) * RTC_HZ) / 1000)) >>> 0 : 0;
      case Reg.RtcMatch0:
      case Reg.RtcMatch0 + 4:
      case Reg.RtcMatch0 + 8:
        return this.rtcMatch[(offset - Reg.RtcMatch0) >> 2]!;
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = value >>> 0;
    switch (offset) {
      case Reg.ToyTrim:
        this.toyTrim = v;
        return;
      case Reg.ToyWrite0: {
        // Month, day, hour, minute, second, tenths; the year stays. Impossible dates are ignored.
        const month = (v >>> 26) & 0x3f;
        const day = (v >>> 21) & 0x1f;
        const hour = (v >>> 16) & 0x1f;
        const min = (v >>> 10) & 0x3f;
        const sec = (v >>> 4) & 0x3f;
        const tenths = v & 0xf;
        if (month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59 || tenths > 9) return;
        const d = this.toyDate();
        this.setToy(Date.UTC(d.getUTCFullYear(), month - 1, day, hour, min, sec, tenths * 100));
        return;
      }
      case Reg.ToyWrite1: {
        if (v > 8099) return; // past year 9999
        const wanted = this.toyDate();
        wanted.setUTCFullYear(1900 + v);
        this.setToy(wanted.getTime());
        return;
      }
      case Reg.ToyMatch0:
      case Reg.ToyMatch0 + 4:
      case Reg.ToyMatch0 + 8:
        this.toyMatch[(offset - Reg.ToyMatch0) >> 2] = v;
        return;
      case Reg.RtcCtrl:
        this.ctrl = v;
        return;
      case Reg.RtcTrim:
        this.rtcTrim = v;
        return;
      case Reg.RtcWrite0:
        this.rtcBase = v;
        this.rtcEpochMs = this.hostMs();
        return;
      case Reg.RtcMatch0:
      case Reg.RtcMatch0 + 4:
      case Reg.RtcMatch0 + 8:
        this.rtcMatch[(offset - Reg.RtcMatch0) >> 2] = v;
        return;
    }
  }
}
