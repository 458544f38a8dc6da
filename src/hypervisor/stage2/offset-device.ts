import { accepts, accessMasks, type AccessMasks, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';

/**
 * A window onto part of a device: offsets are shifted by `skip` (an io region starting mid-device).
 * It applies the device's access rule itself, at the device's own offsets (`skip` need not keep
 * their alignment), and declares none of its own.
 */
export class OffsetDevice implements MmioDevice {
  readonly name: string;
  private readonly access: AccessMasks;
  constructor(
    readonly inner: MmioDevice,
    readonly skip: number,
  ) {
    this.name = inner.name;
    this.access = accessMasks(inner.accessRule);
  }
  read(offset: number, size: AccessSize): number {
    return accepts(this.access, offset + this.skip, size) ? this.inner.read(offset + this.skip, size) : 0;
  }
  write(offset: number, size: AccessSize, value: number): void {
    if (accepts(this.access, offset + this.skip, size)) this.inner.write(offset + this.skip, size, value);
  }
  reset(): void {
    this.inner.reset();
  }
  peek(offset: number, size: AccessSize): number | undefined {
    if (this.inner.peek === undefined) return undefined;
    return accepts(this.access, offset + this.skip, size) ? this.inner.peek(offset + this.skip, size) : 0;
  }
}
