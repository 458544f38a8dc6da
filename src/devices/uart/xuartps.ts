/**
 * Cadence / Xilinx PS UART (cdns,uart-r1p12, cdns,uart-r1p8, xlnx,xuartps, xlnx,zynqmp-uart), as
 * Linux's xilinx_uartps driver drives it: CR (enable/disable/reset bits), MR, the interrupt
 * enable/disable/mask registers, ISR (write-1-to-clear, but FIFO conditions re-assert while they
 * hold, as in QEMU's model), baud generator and divider, RX trigger and timeout, SR, the shared
 * TX/RX FIFO register (64 deep) and the TX trigger. Transmission is instantaneous: the TX FIFO is
 * always empty.
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import { WORD_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import type { CharBackend } from './char-backend.js';
import { UartReceiver } from './uart-receiver.js';

const enum Reg {
  CR = 0x00,
  MR = 0x04,
  IER = 0x08,
  IDR = 0x0c,
  IMR = 0x10,
  ISR = 0x14,
  BAUDGEN = 0x18,
  RXTOUT = 0x1c,
  RXWM = 0x20,
  MODEMCR = 0x24,
  MODEMSR = 0x28,
  SR = 0x2c,
  FIFO = 0x30,
  BAUDDIV = 0x34,
  FLOWDEL = 0x38,
  TXWM = 0x44,
}

export const enum XuartpsInt {
  RXTRIG = 1 << 0,
  RXEMPTY = 1 << 1,
  RXFULL = 1 << 2,
  TXEMPTY = 1 << 3,
  TXFULL = 1 << 4,
  RXOVR = 1 << 5,
  TOUT = 1 << 8,
  TTRIG = 1 << 10,
  TNFUL = 1 << 11,
  All = 0x3fff,
}

const CR_RXRST = 1 << 0;
const CR_TXRST = 1 << 1;
const CR_RXEN = 1 << 2;
const CR_RXDIS = 1 << 3;
const CR_TXEN = 1 << 4;
const CR_TXDIS = 1 << 5;
const MR_LOOPBACK = 2 << 8;
const MR_MODE_MASK = 3 << 8;
/** SR bits that are mirrored into ISR while they hold. */
const SR_TO_ISR = XuartpsInt.RXTRIG | XuartpsInt.RXEMPTY | XuartpsInt.RXFULL | XuartpsInt.TXEMPTY | XuartpsInt.TXFULL | XuartpsInt.TTRIG | XuartpsInt.TNFUL;
const FIFO_DEPTH = 64;

export interface XuartpsOptions {
  readonly backend: CharBackend;
  readonly irq: IrqLine;
}

export class Xuartps implements MmioDevice {
  readonly name = 'xuartps';
  readonly accessRule = WORD_ACCESS;
  private readonly rx: UartReceiver;
  private cr = 0x128;
  private mr = 0;
  private imr = 0;
  private isr = 0;
  private baudgen = 0x28b;
  private rxtout = 0;
  private rxwm = 0x20;
  private modemcr = 0;
  private bauddiv = 0xf;
  private flowdel = 0;
  private txwm = 0x20;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: XuartpsOptions) {
    this.irqOut = new LevelIrq(options.irq);
    this.rx = new UartReceiver(FIFO_DEPTH, options.backend, {
      depth: () => FIFO_DEPTH,
      blocked: () => !this.rxEnabled || (this.mr & MR_MODE_MASK) === MR_LOOPBACK,
      overrun: () => (this.isr |= XuartpsInt.RXOVR),
      // Below the trigger level the receiver times out after RXTOUT character times; time is not
      // modelled, so the timeout event is immediate when a timeout is programmed.
      received: () => {
        if (this.rxtout !== 0 && this.rx.length < this.rxwm) this.isr |= XuartpsInt.TOUT;
      },
      update: () => this.update(),
    });
    this.update();
  }

  reset(): void {
    this.rx.clear();
    this.cr = 0x128;
    this.mr = this.imr = this.isr = this.rxtout = this.modemcr = this.flowdel = 0;
    this.baudgen = 0x28b;
    this.rxwm = 0x20;
    this.bauddiv = 0xf;
    this.txwm = 0x20;
    this.update();
    this.rx.pull();
  }

  private get sr(): number {
    let v = XuartpsInt.TXEMPTY;
    if (this.rx.length === 0) v |= XuartpsInt.RXEMPTY;
    if (this.rx.length >= FIFO_DEPTH) v |= XuartpsInt.RXFULL;
    if (this.rxwm > 0 && this.rx.length >= this.rxwm) v |= XuartpsInt.RXTRIG;
    return v;
  }

  private get rxEnabled(): boolean {
    return (this.cr & (CR_RXEN | CR_RXDIS)) === CR_RXEN;
  }

  read(offset: number, size: AccessSize): number {
    if (size === 4 && offset === Reg.FIFO) return this.rx.pop();
    return this.peek(offset, size) ?? 0;
  }

  peek(offset: number, size: AccessSize): number | undefined {
    switch (offset) {
      case Reg.CR:
        return this.cr;
      case Reg.MR:
        return this.mr;
      case Reg.IMR:
        return this.imr;
      case Reg.ISR:
        return this.isr;
      case Reg.BAUDGEN:
        return this.baudgen;
      case Reg.RXTOUT:
        return this.rxtout;
      case Reg.RXWM:
        return this.rxwm;
      case Reg.MODEMCR:
        return this.modemcr;
      case Reg.MODEMSR:
        return 0;
      case Reg.SR:
        return this.sr;
      case Reg.FIFO:
        return undefined;
      case Reg.BAUDDIV:
        return this.bauddiv;
      case Reg.FLOWDEL:
        return this.flowdel;
      case Reg.TXWM:
        return this.txwm;
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = value >>> 0;
    switch (offset) {
      case Reg.CR:
        // The reset bits self-clear; a reset flushes that direction's FIFO.
        if (v & CR_RXRST) this.rx.clear();
        this.cr = v & 0x1ff & ~(CR_RXRST | CR_TXRST);
        this.rx.pull();
        break;
      case Reg.MR:
        this.mr = v & 0x3ff;
        break;
      case Reg.IER:
        this.imr = (this.imr | v) & XuartpsInt.All;
        break;
      case Reg.IDR:
        this.imr &= ~v;
        break;
      case Reg.ISR:
        this.isr &= ~v;
        break;
      case Reg.BAUDGEN:
        this.baudgen = v & 0xffff;
        break;
      case Reg.RXTOUT:
        this.rxtout = v & 0xff;
        break;
      case Reg.RXWM:
        this.rxwm = v & 0x3f;
        break;
      case Reg.MODEMCR:
        this.modemcr = v & 0x23;
        break;
      case Reg.FIFO:
        if ((this.cr & (CR_TXEN | CR_TXDIS)) === CR_TXDIS) break;
        if ((this.mr & MR_MODE_MASK) === MR_LOOPBACK) this.rx.push(v & 0xff);
        else this.options.backend.write(v & 0xff);
        break;
      case Reg.BAUDDIV:
        this.bauddiv = v & 0xff;
        break;
      case Reg.FLOWDEL:
        this.flowdel = v & 0x3f;
        break;
      case Reg.TXWM:
        this.txwm = v & 0x3f;
        break;
    }
    this.update();
  }

  private update(): void {
    this.isr |= this.sr & SR_TO_ISR;
    const lvl = (this.isr & this.imr) !== 0;
    this.irqOut.set(lvl);
  }
}
