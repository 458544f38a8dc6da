import type { MessageBuffer } from './message-buffer.js';
import { ScmiProtocolId, ScmiStatus, scmiVersion } from './message.js';
import { ok } from './platform.js';
import type { ScmiProtocol } from './protocol.js';

/** Clock protocol messages past the common three (DEN0056 4.6, version 2.0). */
const enum ClockMessage {
  Attributes = 3,
  DescribeRates = 4,
  RateSet = 5,
  RateGet = 6,
  ConfigSet = 7,
}

/** CLOCK_RATE_SET flags. */
const SET_ASYNC = 1 << 0;
const SET_ROUND_UP = 1 << 2;
const SET_ROUND_AUTO = 1 << 3;
/** CLOCK_ATTRIBUTES / CLOCK_CONFIG_SET: bit 0 = running. */
const ENABLED = 1;

/** A clock the firmware owns, as the SoC's firmware describes it to the OS. */
export interface ScmiClockSpec {
  readonly name: string;
  /** The rates it can run at, in Hz (a discrete list). */
  readonly rates: readonly number[];
  /** The rate the boot firmware leaves it at (one of `rates`). */
  readonly rate: number;
  /** Whether it runs at boot (default: yes). */
  readonly enabled?: boolean;
}

/**
 * The clock protocol (0x14, version 2.0): the SoC's firmware-owned clocks by index (the DT binding's
 * clock ids), their names and discrete rate lists, rate get/set (rounded to a listed rate as the
 * request's flags ask) and enable/disable. No asynchronous rate changes, no notifications.
 */
export class ScmiClockProtocol implements ScmiProtocol {
  readonly id = ScmiProtocolId.Clock;
  readonly version = scmiVersion(2, 0);
  private readonly rates: number[];
  private readonly enabled: boolean[];

  constructor(private readonly clocks: readonly ScmiClockSpec[]) {
    this.rates = clocks.map((c) => c.rate);
    this.enabled = clocks.map((c) => c.enabled ?? true);
  }

  reset(): void {
    this.clocks.forEach((c, i) => {
      this.rates[i] = c.rate;
      this.enabled[i] = c.enabled ?? true;
    });
  }

  /** Number of clocks in 15:0; no asynchronous requests (23:16 = 0). */
  attributes(): number {
    return this.clocks.length & 0xffff;
  }

  implements(messageId: number): boolean {
    return messageId >= ClockMessage.Attributes && messageId <= ClockMessage.ConfigSet;
  }

  /** A clock's current rate and state (tests, monitor). */
  state(id: number): { readonly rate: number; readonly enabled: boolean } | undefined {
    return id < this.clocks.length ? { rate: this.rates[id]!, enabled: this.enabled[id]! } : undefined;
  }

  handle(messageId: number, request: MessageBuffer, out: MessageBuffer): ScmiStatus {
    if (messageId === ClockMessage.RateSet) return this.rateSet(request);
    const id = request.u32();
    if (id === undefined) return ScmiStatus.ProtocolError;
    const clock = this.clocks[id];
    if (clock === undefined) return ScmiStatus.NotFound;
    switch (messageId) {
      case ClockMessage.Attributes:
        // Attributes, the short name, then the enable latency (0: not stated).
        return ok(out.putU32(this.enabled[id]! ? ENABLED : 0) && out.putName(clock.name) && out.putU32(0));
      case ClockMessage.DescribeRates: {
        const index = request.u32();
        if (index === undefined) return ScmiStatus.ProtocolError;
        if (index > clock.rates.length) return ScmiStatus.OutOfRange;
        // As many rates as fit after the flags word; the agent asks again from where it got to.
        const fit = Math.floor((out.capacity - out.length - 4) / 8);
        const count = Math.min(fit, clock.rates.length - index);
        const remaining = clock.rates.length - index - count;
        // Returned in 11:0, format 12 (0: a list), remaining in 31:16.
        let fitted = out.putU32((count & 0xfff) | (remaining << 16));
        for (let i = 0; i < count; i++) fitted &&= out.putU64(clock.rates[index + i]!);
        return ok(fitted);
      }
      case ClockMessage.RateGet:
        return ok(out.putU64(this.rates[id]!));
      case ClockMessage.ConfigSet: {
        const attributes = request.u32();
        if (attributes === undefined) return ScmiStatus.ProtocolError;
        if ((attributes & ~ENABLED) !== 0) return ScmiStatus.InvalidParameters;
        this.enabled[id] = (attributes & ENABLED) !== 0;
        return ScmiStatus.Success;
      }
      default:
        return ScmiStatus.NotSupported;
    }
  }

  /** CLOCK_RATE_SET: flags, clock id, rate (low word, high word). */
  private rateSet(request: MessageBuffer): ScmiStatus {
    const flags = request.u32();
    const id = request.u32();
    const low = request.u32();
    const high = request.u32();
    if (flags === undefined || id === undefined || low === undefined || high === undefined) return ScmiStatus.ProtocolError;
    const clock = this.clocks[id];
    if (clock === undefined) return ScmiStatus.NotFound;
    // The attributes offer no asynchronous requests.
    if ((flags & SET_ASYNC) !== 0) return ScmiStatus.NotSupported;
    const mode = (flags & SET_ROUND_AUTO) !== 0 ? 'nearest' : (flags & SET_ROUND_UP) !== 0 ? 'up' : 'down';
    this.rates[id] = listedRate(clock.rates, high * 2 ** 32 + low, mode);
    return ScmiStatus.Success;
  }
}

/** The listed rate a request lands on: at or below it (down), at or above it (up), or the closest; clamped to the list. */
function listedRate(rates: readonly number[], wanted: number, mode: 'down' | 'up' | 'nearest'): number {
  let below: number | undefined;
  let above: number | undefined;
  for (const r of rates) {
    if (r <= wanted && (below === undefined || r > below)) below = r;
    if (r >= wanted && (above === undefined || r < above)) above = r;
  }
  if (below === undefined) return above ?? wanted;
  if (above === undefined) return below;
  if (mode === 'down') return below;
  if (mode === 'up') return above;
  return wanted - below <= above - wanted ? below : above;
}
