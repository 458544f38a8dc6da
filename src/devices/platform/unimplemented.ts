import type { MmioDevice } from '../../machine/mmio-device.js';

/**
 * A device the DTB describes and nothing here models, where the board says its unmodelled SoC
 * blocks are present but idle (QEMU's unimplemented-device): registers read as zero and ignore
 * writes, so a root zone that owns whole buses (hvisor's imx8mp) probes their drivers to a clean
 * failure or timeout instead of an external abort.
 */
export class UnimplementedDevice implements MmioDevice {
  readonly name: string;

  constructor(path: string) {
    this.name = `unimplemented ${path}`;
  }

  read(): number {
    return 0;
  }

  write(): void {}

  reset(): void {}

  peek(): number {
    return 0;
  }
}
