import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { BareMachine } from '../bare-machine.js';
import { Riscv64Cpu } from './riscv64-cpu.js';
import type { InterruptFile } from './interrupt-file.js';

/** QEMU's sifive_test finisher: 0x5555 = pass, 0x3333 | code << 16 = fail, 0x7777 = reset. */
class TestFinisher implements MmioDevice {
  readonly name = 'sifive-test';
  status: number | undefined;
  read(): number {
    return 0;
  }
  write(_offset: number, _size: AccessSize, value: number): void {
    this.status = value >>> 0;
  }
  reset(): void {
    this.status = undefined;
  }
}

/**
 * A one-hart bare machine laid out like QEMU virt for bare-metal programs (benches, tests):
 * RAM at 0x8000_0000, an output-only ns16550a at 0x1000_0000 and sifive_test at 0x10_0000
 * (the shared BareMachine: instruction-driven time, 10 instructions per tick of 10 MHz).
 */
export class BareRiscv64Machine extends BareMachine<Riscv64Cpu> {
  readonly finisher = new TestFinisher();

  /** `interruptFile`: the hart's IMSIC S file for AIA programs (map its doorbell into `memory` too). */
  constructor(ramSize = 64 << 20, ramBase = 0x8000_0000, interruptFile?: InterruptFile) {
    super(
      { ramBase, ramSize, uartBase: 0x1000_0000, uartSize: 0x100, timerFrequency: 10_000_000, slice: 1 << 24 },
      (host) => new Riscv64Cpu(host, 0, 0, undefined, interruptFile),
    );
    this.memory.mapMmio(0x10_0000, 0x1000, this.finisher);
  }

  protected finished(): boolean {
    return this.finisher.status !== undefined;
  }

  /** SBI send_ipi to itself: the supervisor software interrupt. */
  protected override firmwareIpi(): void {
    this.cpu.setInterrupt(1, true);
  }
}
