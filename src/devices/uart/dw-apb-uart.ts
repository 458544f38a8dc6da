/**
 * Synopsys DesignWare APB UART (snps,dw-apb-uart; Rockchip, Allwinner and many others): a 16550A
 * with 32-bit registers 4 bytes apart, plus the DesignWare registers Linux's 8250_dw driver reads
 * beyond the 16550 block: USR (busy / FIFO status, read to clear a busy-detect interrupt), TFL/RFL
 * FIFO levels, and the component parameter / version / type registers (CPR 0: the driver then
 * detects the FIFO the 8250 way).
 */
import type { IrqLine } from '../../machine/irq-line.js';
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import type { CharBackend } from './char-backend.js';
import { Ns16550a } from './ns16550a.js';

const USR = 0x7c;
const TFL = 0x80;
const RFL = 0x84;
const CPR = 0xf4;
const UCV = 0xf8;
const CTR = 0xfc;
/** Version "314*" in ASCII (3.14*), and the DesignWare component type "DW" 0x0110. */
const UCV_VALUE = 0x3331342a;
const CTR_VALUE = 0x44570110;

export interface DwApbUartOptions {
  readonly backend: CharBackend;
  readonly irq: IrqLine;
  /** `reg-shift`, 2 on every DesignWare integration in practice. */
  readonly regShift?: number;
}

export class DwApbUart implements MmioDevice {
  readonly name = 'dw-apb-uart';
  private readonly uart: Ns16550a;
  private readonly shift: number;

  constructor(options: DwApbUartOptions) {
    this.shift = options.regShift ?? 2;
    this.uart = new Ns16550a({ backend: options.backend, irq: options.irq, regShift: this.shift });
  }

  reset(): void {
    this.uart.reset();
  }

  private extra(offset: number): number | undefined {
    // The DesignWare block sits at fixed byte offsets for the usual 4-byte stride.
    if (this.shift !== 2 || offset < 0x20) return undefined;
    const rfl = this.uart.receiveLevel;
    switch (offset) {
      case USR:
        // Not busy, TX FIFO not full and empty, RX FIFO not empty / full.
        return 0x6 | (rfl > 0 ? 0x8 : 0) | (rfl >= 16 ? 0x10 : 0);
      case TFL:
        return 0;
      case RFL:
        return rfl;
      case CPR:
        return 0;
      case UCV:
        return UCV_VALUE;
      case CTR:
        return CTR_VALUE;
    }
    return 0;
  }

  read(offset: number, size: AccessSize): number {
    return this.extra(offset) ?? this.uart.read(offset, size);
  }

  peek(offset: number, size: AccessSize): number | undefined {
    return this.extra(offset) ?? this.uart.peek(offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (this.extra(offset) !== undefined) return;
    this.uart.write(offset, size, value);
  }
}
