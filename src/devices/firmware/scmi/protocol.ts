import type { MessageBuffer } from './message-buffer.js';
import type { ScmiStatus } from './message.js';

/**
 * One SCMI protocol the platform implements. The platform answers the three messages every
 * protocol has (version, attributes, message attributes) from these fields and hands every other
 * message to `handle`.
 */
export interface ScmiProtocol {
  readonly id: number;
  /** PROTOCOL_VERSION's answer (major << 16 | minor). */
  readonly version: number;
  /** PROTOCOL_ATTRIBUTES' answer word. */
  attributes(): number;
  /** Whether a protocol-specific message id is implemented (PROTOCOL_MESSAGE_ATTRIBUTES). */
  implements(messageId: number): boolean;
  /**
   * A protocol-specific message: reads the request's parameters, appends the return values that
   * follow the status word, and returns the status (on failure, what was appended is discarded).
   */
  handle(messageId: number, request: MessageBuffer, response: MessageBuffer): ScmiStatus;
  /** Back to the state the platform boots with. */
  reset(): void;
}
