import type { MmioDevice } from '../../../machine/mmio-device.js';
import { unpackHeader } from './message.js';
import type { ScmiPlatform } from './platform.js';

/**
 * The shared-memory channel layout (DEN0056 5.1.2): the agent writes length, header and payload,
 * clears "free" and rings the doorbell; the platform overwrites payload and length with its
 * response (status first), keeps the header (token included) and sets "free" again.
 */
export const enum ChannelField {
  Status = 0x04,
  Flags = 0x10,
  Length = 0x14,
  Header = 0x18,
  Payload = 0x1c,
}

/** Channel status: bit 0 free (owned by the agent), bit 1 error (the last message was not delivered). */
export const CHANNEL_FREE = 1 << 0;
export const CHANNEL_ERROR = 1 << 1;
/** Message type 0: a command (delayed responses and notifications go the other way). */
const COMMAND = 0;

/** Payload bytes a channel of `size` bytes carries. */
export function channelCapacity(size: number): number {
  return Math.max(0, size - ChannelField.Payload);
}

/** What a doorbell found: a message answered, none posted, or one that could not be read. */
export type ChannelOutcome = 'answered' | 'idle' | 'malformed';

/**
 * Serves the message the agent posted in `memory` (any MmioDevice holding the area): 'idle' when
 * there was none (the channel was still free). A malformed one (length outside the channel, not a
 * command) is answered with the error bit and no response, which the agent reports as a
 * communication error.
 */
export function serveChannel(memory: MmioDevice, size: number, platform: ScmiPlatform): ChannelOutcome {
  const status = memory.read(ChannelField.Status, 4);
  if ((status & CHANNEL_FREE) !== 0) return 'idle';
  const length = memory.read(ChannelField.Length, 4);
  const header = unpackHeader(memory.read(ChannelField.Header, 4));
  const payload = length - 4;
  const capacity = Math.min(channelCapacity(size), platform.request.capacity);
  if (length < 4 || payload > capacity || header.type !== COMMAND) {
    memory.write(ChannelField.Status, 4, CHANNEL_FREE | CHANNEL_ERROR);
    return 'malformed';
  }
  const request = platform.request;
  for (let i = 0; i < payload; i++) request.bytes[i] = memory.read(ChannelField.Payload + i, 1);
  request.rewind(payload);
  platform.execute(header);
  const response = platform.response;
  const out = Math.min(response.length, capacity);
  for (let i = 0; i < out; i++) memory.write(ChannelField.Payload + i, 1, response.bytes[i]!);
  memory.write(ChannelField.Length, 4, 4 + out);
  memory.write(ChannelField.Status, 4, CHANNEL_FREE);
  return 'answered';
}
