import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';

/** A window onto part of a device: offsets are shifted by `skip` (an io region starting mid-device). */
export class OffsetDevice implements MmioDevice {
  readonly name: string;
  constructor(
    readonly inner: MmioDevice,
    readonly skip: number,
  ) {
    this.name = inner.name;
  }
  read(offset: number, size: AccessSize): number {
    return this.inner.read(offset + this.skip, size);
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.inner.write(offset + this.skip, size, value);
  }
  reset(): void {
    this.inner.reset();
  }
  peek(offset: number, size: AccessSize): number | undefined {
    return this.inner.peek?.(offset + this.skip, size);
  }
}
