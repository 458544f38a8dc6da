import type { AccessSize } from '../../machine/mmio-device.js';
import { PciFunction } from './pci-function.js';

/**
 * The host bridge's own function at 00:00.0 (QEMU's gpex-root, 1b36:0008, class 0600): no BARs, no
 * interrupts. hvisor gives it to every zone that lists it (pci_config.rs: is_host_bridge), so each
 * zone's Linux finds the bridge it expects at the root of its bus.
 */
export class PciHostBridgeFunction extends PciFunction {
  readonly name = 'gpex-root';

  constructor() {
    super({ vendorId: 0x1b36, deviceId: 0x0008, classCode: 0x060000, subsystemVendorId: 0x1af4, subsystemId: 0x1100 }, []);
    this.config.markPowerOnState();
  }

  protected readBar(_bar: number, _offset: number, size: AccessSize): number {
    return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
  }
  protected writeBar(): void {}
  protected resetDevice(): void {}
}
