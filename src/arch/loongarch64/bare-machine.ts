import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { BareMachine } from '../bare-machine.js';
import { Loongarch64Cpu } from './loongarch64-cpu.js';

/** QEMU loongarch virt's ACPI GED sleep-control register: 0x34 (SLP_EN | SLP_TYP S5) powers off. */
class SleepControl implements MmioDevice {
  readonly name = 'ged-sleep-control';
  value: number | undefined;
  read(): number {
    return 0;
  }
  write(_offset: number, _size: AccessSize, value: number): void {
    this.value = value & 0xff;
  }
  reset(): void {
    this.value = undefined;
  }
}

/**
 * A one-core bare machine laid out like QEMU 7.2's loongarch64 virt for bare-metal programs (tests,
 * benches): RAM at 0, an output-only ns16550a at 0x1fe0_01e0 and the GED sleep control at
 * 0x100e_001c (the shared BareMachine: instruction-driven time, 10 instructions per tick of the
 * 100 MHz constant timer).
 */
export class BareLoongarch64Machine extends BareMachine<Loongarch64Cpu> {
  readonly sleep = new SleepControl();

  constructor(ramSize = 256 << 20) {
    super(
      { ramBase: 0, ramSize, uartBase: 0x1fe0_01e0, uartSize: 0x8, timerFrequency: 100_000_000, slice: 1 << 22 },
      (host) => new Loongarch64Cpu(host, 0),
    );
    this.memory.mapMmio(0x100e_001c, 0x4, this.sleep);
  }

  protected finished(): boolean {
    return this.sleep.value !== undefined;
  }
}
