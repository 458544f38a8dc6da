import { NATURAL_ACCESS, type AccessSize, type MmioDevice } from '../../../machine/mmio-device.js';
import { CHANNEL_FREE, ChannelField } from './channel.js';

/**
 * An SCMI shared-memory area (`arm,scmi-shmem`): plain memory the agent and the platform both
 * write, laid out as channel.ts says. It resets with the channel free, as the firmware leaves it
 * before the OS's first message.
 */
export class ScmiSharedMemory implements MmioDevice {
  readonly name = 'scmi-shmem';
  readonly accessRule = NATURAL_ACCESS;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    // The area is small (hundreds of bytes); a DTB's larger window is input, so keep at most a page.
    this.bytes = new Uint8Array(Math.min(Math.max(size, ChannelField.Payload), 0x1000));
    this.view = new DataView(this.bytes.buffer);
    this.reset();
  }

  get size(): number {
    return this.bytes.length;
  }

  reset(): void {
    this.bytes.fill(0);
    this.view.setUint32(ChannelField.Status, CHANNEL_FREE, true);
  }

  read(offset: number, size: AccessSize): number {
    if (offset + size > this.bytes.length) return 0;
    return size === 4 ? this.view.getUint32(offset, true) : size === 2 ? this.view.getUint16(offset, true) : this.bytes[offset]!;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset + size > this.bytes.length) return;
    if (size === 4) this.view.setUint32(offset, value >>> 0, true);
    else if (size === 2) this.view.setUint16(offset, value & 0xffff, true);
    else this.bytes[offset] = value & 0xff;
  }

  peek(offset: number, size: AccessSize): number {
    return this.read(offset, size);
  }
}
