/**
 * SiFive test finisher (sifive,test0 / sifive,test1, and the regmap behind QEMU virt's
 * syscon-poweroff / syscon-reboot nodes): a 32-bit write to offset 0 whose low half says what to do
 * (0x5555 pass = power off, 0x3333 fail with exit code in the high half, 0x7777 reset).
 * Reads return zero.
 */
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';

export const enum FinisherCommand {
  Fail = 0x3333,
  Pass = 0x5555,
  Reset = 0x7777,
}

export interface SifiveTestOptions {
  /** System power-off; `code` 0 = pass, otherwise the guest's failure code. */
  readonly powerOff: (code: number) => void;
  readonly reset: () => void;
}

export class SifiveTest implements MmioDevice {
  readonly name = 'sifive-test';
  readonly accessRule = WORD_ACCESS;
  constructor(private readonly options: SifiveTestOptions) {}

  reset(): void {}

  read(): number {
    return 0;
  }

  peek(): number {
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    // Linux's syscon-poweroff uses regmap 32-bit writes; narrower (accessRule) or misplaced writes do nothing.
    if (offset !== 0) return;
    switch (value & 0xffff) {
      case FinisherCommand.Pass:
        this.options.powerOff(0);
        return;
      case FinisherCommand.Fail:
        this.options.powerOff((value >>> 16) || 1);
        return;
      case FinisherCommand.Reset:
        this.options.reset();
        return;
    }
  }
}
