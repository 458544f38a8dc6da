/**
 * SCMI message framing (Arm DEN0056, "System Control and Management Interface"): the 32-bit message
 * header, the protocol ids and the status codes every response starts with. All fields are
 * little-endian; a message is the header, then the payload words.
 */

/** Header fields: message id 7:0, type 9:8 (0 = command), protocol id 17:10, token 27:18. */
export interface ScmiHeader {
  readonly messageId: number;
  readonly type: number;
  readonly protocolId: number;
  readonly token: number;
}

export function unpackHeader(word: number): ScmiHeader {
  return { messageId: word & 0xff, type: (word >>> 8) & 3, protocolId: (word >>> 10) & 0xff, token: (word >>> 18) & 0x3ff };
}

export function packHeader(h: ScmiHeader): number {
  return ((h.messageId & 0xff) | ((h.type & 3) << 8) | ((h.protocolId & 0xff) << 10) | ((h.token & 0x3ff) << 18)) >>> 0;
}

export const enum ScmiProtocolId {
  Base = 0x10,
  PowerDomain = 0x11,
  System = 0x12,
  Performance = 0x13,
  Clock = 0x14,
  Sensor = 0x15,
  Reset = 0x16,
}

/** Status codes (signed 32-bit, the first response word). */
export const enum ScmiStatus {
  Success = 0,
  NotSupported = -1,
  InvalidParameters = -2,
  Denied = -3,
  NotFound = -4,
  OutOfRange = -5,
  Busy = -6,
  CommsError = -7,
  GenericError = -8,
  HardwareError = -9,
  ProtocolError = -10,
}

/** Messages every protocol answers. */
export const enum ScmiCommonMessage {
  ProtocolVersion = 0,
  ProtocolAttributes = 1,
  ProtocolMessageAttributes = 2,
}

/** A version word: major in bits 31:16, minor in 15:0. */
export const scmiVersion = (major: number, minor: number) => ((major << 16) | minor) >>> 0;

/** Short names (vendor, clock and domain names) are 16 bytes, NUL-terminated within them. */
export const SHORT_NAME_BYTES = 16;
