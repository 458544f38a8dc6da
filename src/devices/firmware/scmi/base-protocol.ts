import type { MessageBuffer } from './message-buffer.js';
import { ScmiProtocolId, ScmiStatus, scmiVersion } from './message.js';
import { ok } from './platform.js';
import type { ScmiProtocol } from './protocol.js';

/** Base protocol messages past the common three (DEN0056 4.2). */
const enum BaseMessage {
  DiscoverVendor = 3,
  DiscoverSubVendor = 4,
  DiscoverImplementationVersion = 5,
  DiscoverListProtocols = 6,
  DiscoverAgent = 7,
  NotifyErrors = 8,
}

/** Who the platform says it is (BASE_DISCOVER_*). */
export interface ScmiIdentity {
  readonly vendor: string;
  readonly subVendor: string;
  readonly implementationVersion: number;
}

/** DISCOVER_AGENT's id for "the agent asking". */
const CALLER = 0xffff_ffff;
/** Agent 0 is the platform itself; the one agent here, the OS, is 1. */
const AGENTS = ['platform', 'OSPM'];

/**
 * The base protocol (0x10, version 2.0): who implements the platform, which other protocols it
 * offers, the agents. Only the OS agent exists; error notifications are accepted and never sent.
 */
export class ScmiBaseProtocol implements ScmiProtocol {
  readonly id = ScmiProtocolId.Base;
  readonly version = scmiVersion(2, 0);

  constructor(
    private readonly identity: ScmiIdentity,
    /** The other protocols' ids, as DISCOVER_LIST_PROTOCOLS lists them. */
    private readonly protocols: readonly number[],
  ) {}

  attributes(): number {
    return (this.protocols.length & 0xff) | ((AGENTS.length - 1) << 8);
  }

  implements(messageId: number): boolean {
    return messageId >= BaseMessage.DiscoverVendor && messageId <= BaseMessage.NotifyErrors;
  }

  reset(): void {}

  handle(messageId: number, request: MessageBuffer, out: MessageBuffer): ScmiStatus {
    switch (messageId) {
      case BaseMessage.DiscoverVendor:
        return ok(out.putName(this.identity.vendor));
      case BaseMessage.DiscoverSubVendor:
        return ok(out.putName(this.identity.subVendor));
      case BaseMessage.DiscoverImplementationVersion:
        return ok(out.putU32(this.identity.implementationVersion));
      case BaseMessage.DiscoverListProtocols: {
        const skip = request.u32();
        if (skip === undefined) return ScmiStatus.ProtocolError;
        if (skip > this.protocols.length) return ScmiStatus.InvalidParameters;
        // As many ids as the channel holds after the count word; the agent asks again for the rest.
        const room = (out.capacity - out.length - 4) & ~3;
        const ids = this.protocols.slice(skip, skip + room);
        return ok(out.putU32(ids.length) && out.putBytes(ids));
      }
      case BaseMessage.DiscoverAgent: {
        const asked = request.u32();
        if (asked === undefined) return ScmiStatus.ProtocolError;
        const agent = asked === CALLER ? 1 : asked;
        const name = AGENTS[agent];
        if (name === undefined) return ScmiStatus.NotFound;
        return ok(out.putU32(agent) && out.putName(name));
      }
      case BaseMessage.NotifyErrors:
        return request.u32() === undefined ? ScmiStatus.ProtocolError : ScmiStatus.Success;
      default:
        return ScmiStatus.NotSupported;
    }
  }
}
