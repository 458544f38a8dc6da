import type { MessageBuffer } from './message-buffer.js';
import { ScmiProtocolId, ScmiStatus, scmiVersion } from './message.js';
import { ok } from './platform.js';
import type { ScmiProtocol } from './protocol.js';

/** Reset protocol messages past the common three (DEN0056 4.8, version 1.0). */
const enum ResetMessage {
  DomainAttributes = 3,
  Reset = 4,
}

/** RESET flags: an autonomous pulse, or an explicit assert (1) / de-assert (0); asynchronous completion. */
const AUTONOMOUS = 1 << 0;
const EXPLICIT_ASSERT = 1 << 1;
const ASYNC = 1 << 2;
/** Latency word meaning "not stated". */
const LATENCY_UNKNOWN = 0xffff_ffff;

/**
 * The reset protocol (0x16, version 1.0): the SoC's firmware-owned reset lines by index, each
 * asserted, de-asserted or pulsed at once. No asynchronous resets, no notifications.
 */
export class ScmiResetProtocol implements ScmiProtocol {
  readonly id = ScmiProtocolId.Reset;
  readonly version = scmiVersion(1, 0);
  private readonly asserted: boolean[];

  constructor(private readonly domains: readonly string[]) {
    this.asserted = domains.map(() => false);
  }

  reset(): void {
    this.asserted.fill(false);
  }

  attributes(): number {
    return this.domains.length & 0xffff;
  }

  implements(messageId: number): boolean {
    return messageId === ResetMessage.DomainAttributes || messageId === ResetMessage.Reset;
  }

  /** Whether a domain's reset is held (tests, monitor). */
  isAsserted(id: number): boolean | undefined {
    return this.asserted[id];
  }

  handle(messageId: number, request: MessageBuffer, out: MessageBuffer): ScmiStatus {
    const id = request.u32();
    if (id === undefined) return ScmiStatus.ProtocolError;
    const name = this.domains[id];
    if (name === undefined) return ScmiStatus.NotFound;
    if (messageId === ResetMessage.DomainAttributes) return ok(out.putU32(0) && out.putU32(LATENCY_UNKNOWN) && out.putName(name));
    const flags = request.u32();
    const state = request.u32();
    if (flags === undefined || state === undefined) return ScmiStatus.ProtocolError;
    if ((flags & ASYNC) !== 0) return ScmiStatus.NotSupported;
    // Reset state 0 is the architectural full reset, the one kind offered.
    if (state !== 0) return ScmiStatus.InvalidParameters;
    this.asserted[id] = (flags & AUTONOMOUS) === 0 && (flags & EXPLICIT_ASSERT) !== 0;
    return ScmiStatus.Success;
  }
}
