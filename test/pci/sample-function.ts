/** A test-only PCI function with every BAR kind, MSI and MSI-X, and a scratch register file. */
import type { AccessSize } from '../../src/machine/mmio-device.js';
import { addPciExpressEndpoint, addPowerManagement } from '../../src/devices/pci/capabilities.js';
import { PciFunction } from '../../src/devices/pci/pci-function.js';

export class SampleFunction extends PciFunction {
  readonly name = 'sample';
  readonly regs = new Uint32Array(1024);
  constructor(deviceId = 0x1234, multiFunction = false) {
    super(
      { vendorId: 0x1b36, deviceId, classCode: 0xff0000, revision: 2, interruptPin: 1, multiFunction },
      [{ kind: 'mem32', size: 0x4000 }, { kind: 'io', size: 32 }, { kind: 'mem64', size: 0x10_0000, prefetchable: true }],
    );
    addPowerManagement(this.config);
    addPciExpressEndpoint(this.config);
    this.messages.addMsi(4);
    this.messages.addMsix({ vectors: 3, bar: 0, tableOffset: 0x2000, pbaOffset: 0x3000 });
    this.config.markPowerOnState();
  }
  level(on: boolean): void {
    this.setIntx(on);
  }
  dmaPoke(addr: number, data: Uint8Array): boolean {
    return this.dmaWrite(addr, data);
  }
  fire(vector: number): boolean {
    return this.signal(vector);
  }
  protected readBar(bar: number, offset: number, size: AccessSize): number {
    const v = this.regs[((bar * 0x400 + offset) >>> 2) & 1023]!;
    return size === 4 ? v : (v >>> (8 * (offset & 3))) & (size === 2 ? 0xffff : 0xff);
  }
  protected writeBar(bar: number, offset: number, _size: AccessSize, value: number): void {
    this.regs[((bar * 0x400 + offset) >>> 2) & 1023] = value;
  }
  protected resetDevice(): void {
    this.regs.fill(0);
  }
}
