import { MessageBuffer } from './message-buffer.js';
import { ScmiCommonMessage, ScmiStatus, type ScmiHeader } from './message.js';
import type { ScmiProtocol } from './protocol.js';

/**
 * The SCMI platform (the firmware side): routes a command to the protocol its header names and
 * builds the response payload, status word first. Transport-neutral: the shared-memory channel
 * hands it a header and the request payload and copies the response back.
 */
export class ScmiPlatform {
  private readonly byId = new Map<number, ScmiProtocol>();
  /** The request being read and the response being built (reused for every message). */
  readonly request: MessageBuffer;
  readonly response: MessageBuffer;

  constructor(
    protocols: readonly ScmiProtocol[],
    /** Largest payload the channel carries (its size less the header fields). */
    payloadCapacity: number,
  ) {
    for (const p of protocols) this.byId.set(p.id, p);
    this.request = new MessageBuffer(payloadCapacity);
    this.response = new MessageBuffer(payloadCapacity);
  }

  protocol(id: number): ScmiProtocol | undefined {
    return this.byId.get(id);
  }

  reset(): void {
    for (const p of this.byId.values()) p.reset();
  }

  /** Answers the command in `request` (its `length` bytes); the response is left in `response`. */
  execute(header: ScmiHeader): void {
    const out = this.response;
    out.clear();
    out.putU32(0); // the status, filled in below
    const status = this.dispatch(header);
    if (status !== ScmiStatus.Success) out.length = 4;
    out.setWord(0, status);
  }

  private dispatch(header: ScmiHeader): ScmiStatus {
    const protocol = this.byId.get(header.protocolId);
    if (protocol === undefined) return ScmiStatus.NotSupported;
    const out = this.response;
    switch (header.messageId) {
      case ScmiCommonMessage.ProtocolVersion:
        return ok(out.putU32(protocol.version));
      case ScmiCommonMessage.ProtocolAttributes:
        return ok(out.putU32(protocol.attributes()));
      case ScmiCommonMessage.ProtocolMessageAttributes: {
        const id = this.request.u32();
        if (id === undefined) return ScmiStatus.ProtocolError;
        const known = id <= ScmiCommonMessage.ProtocolMessageAttributes || protocol.implements(id);
        // No message here has attributes (no fast channels, no asynchronous variants).
        return known ? ok(out.putU32(0)) : ScmiStatus.NotFound;
      }
      default:
        return protocol.implements(header.messageId) ? protocol.handle(header.messageId, this.request, out) : ScmiStatus.NotSupported;
    }
  }
}

/** SUCCESS when the return values fit the channel, else a platform error (they never should). */
export function ok(fitted: boolean): ScmiStatus {
  return fitted ? ScmiStatus.Success : ScmiStatus.GenericError;
}
