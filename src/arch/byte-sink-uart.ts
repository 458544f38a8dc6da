import type { AccessSize, MmioDevice } from '../machine/mmio-device.js';

/**
 * ns16550a-compatible output only, for the bare test/bench machines (src/arch may not import
 * src/devices): THR writes are collected, LSR always says "transmitter empty".
 */
export class ByteSinkUart implements MmioDevice {
  readonly name = 'ns16550a-sink';
  readonly bytes: number[] = [];
  read(offset: number): number {
    return offset === 5 ? 0x60 : 0;
  }
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset === 0) this.bytes.push(value & 0xff);
  }
  reset(): void {
    this.bytes.length = 0;
  }
}
