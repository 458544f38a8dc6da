/**
 * NXP i.MX UART (fsl,imx21-uart, fsl,imx6q-uart, fsl,imx8mp-uart ...), as Linux's
 * drivers/tty/serial/imx.c and its earlycon drive it: URXD/UTXD, UCR1-4, UFCR thresholds,
 * USR1/USR2 status (write-1-to-clear bits), UESC/UTIM/UBIR/UBMR/UBRC/ONEMS, UTS (FIFO status,
 * loopback, soft reset) and UMCR, with 32-entry FIFOs and one combined interrupt.
 *
 * Reset values are the reference manual's, except that UCR1.UARTEN and UCR2.TXEN/RXEN are set as
 * the boot firmware leaves them (QEMU does the same), so an early console prints before the driver
 * runs. Transmission is instantaneous: TRDY, TXFE and TXDC always read as set.
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import { type AccessRule, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import type { CharBackend } from './char-backend.js';
import { UartReceiver } from './uart-receiver.js';

const enum Reg {
  URXD = 0x00,
  UTXD = 0x40,
  UCR1 = 0x80,
  UCR2 = 0x84,
  UCR3 = 0x88,
  UCR4 = 0x8c,
  UFCR = 0x90,
  USR1 = 0x94,
  USR2 = 0x98,
  UESC = 0x9c,
  UTIM = 0xa0,
  UBIR = 0xa4,
  UBMR = 0xa8,
  UBRC = 0xac,
  ONEMS = 0xb0,
  UTS = 0xb4,
  UMCR = 0xb8,
}

const URXD_CHARRDY = 1 << 15;
const UCR1_UARTEN = 1 << 0;
const UCR1_TXMPTYEN = 1 << 6;
const UCR1_RRDYEN = 1 << 9;
const UCR1_TRDYEN = 1 << 13;
const UCR2_SRST = 1 << 0;
const UCR2_RXEN = 1 << 1;
const UCR2_TXEN = 1 << 2;
const UCR2_ATEN = 1 << 3;
const UCR4_DREN = 1 << 0;
const UCR4_OREN = 1 << 1;
const UCR4_TCEN = 1 << 3;
const USR1_TRDY = 1 << 13;
const USR1_RRDY = 1 << 9;
const USR1_AGTIM = 1 << 8;
const USR1_RXDS = 1 << 6;
/** USR1 bits that are write-1-to-clear latches (PARITYERR, RTSD, ESCF, FRAMERR, DTRD, AIRINT, AWAKE). */
const USR1_W1C = 0x9cb0;
const USR2_RDR = 1 << 0;
const USR2_ORE = 1 << 1;
const USR2_TXDC = 1 << 3;
const USR2_DCDIN = 1 << 5;
const USR2_TXFE = 1 << 14;
/** USR2 write-1-to-clear latches (ADET, DTRF, IDLE, ACST, RIDELT, IRINT, WAKE, DCDDELT, RTSF, BRCD, ORE). */
const USR2_W1C = 0xbfd6;
const UTS_LOOP = 1 << 12;
const UTS_TXEMPTY = 1 << 6;
const UTS_RXEMPTY = 1 << 5;
const UTS_RXFULL = 1 << 3;
const FIFO_DEPTH = 32;

export interface ImxUartOptions {
  readonly backend: CharBackend;
  readonly irq: IrqLine;
}

/** The i.MX UART's registers decode 16- and 32-bit accesses at a register's start (drivers use both). */
const HALF_OR_WORD_ACCESS: AccessRule = Object.freeze({ sizes: Object.freeze([2, 4] as const), alignment: 'word' });

export class ImxUart implements MmioDevice {
  readonly name = 'imx-uart';
  readonly accessRule = HALF_OR_WORD_ACCESS;
  private readonly rx: UartReceiver;
  private ucr1 = 0;
  private ucr2 = 0;
  private ucr3 = 0;
  private ucr4 = 0;
  private ufcr = 0;
  private usr1Latched = 0;
  private usr2Latched = 0;
  private uesc = 0;
  private utim = 0;
  private ubir = 0;
  private ubmr = 0;
  private onems = 0;
  private uts = 0;
  private umcr = 0;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: ImxUartOptions) {
    this.irqOut = new LevelIrq(options.irq);
    this.rx = new UartReceiver(FIFO_DEPTH, options.backend, {
      depth: () => FIFO_DEPTH,
      blocked: () => (this.uts & UTS_LOOP) !== 0 || !(this.ucr2 & UCR2_RXEN),
      overrun: () => (this.usr2Latched |= USR2_ORE),
      update: () => this.update(),
    });
    this.resetRegisters();
    // Input typed before the model existed: the receiver was blocked until the registers came out of reset.
    this.rx.pull();
  }

  private resetRegisters(): void {
    this.ucr1 = UCR1_UARTEN;
    this.ucr2 = UCR2_SRST | UCR2_RXEN | UCR2_TXEN;
    this.ucr3 = 0x0700;
    this.ucr4 = 0x8000;
    this.ufcr = 0x0801;
    this.uesc = 0x2b;
    this.utim = this.ubir = this.ubmr = this.onems = this.uts = this.umcr = 0;
    this.softReset();
  }

  /** What UCR2.SRST clears: FIFOs, status latches, UTS FIFO bits. */
  private softReset(): void {
    this.rx.clear();
    this.usr1Latched = this.usr2Latched = 0;
  }

  reset(): void {
    this.resetRegisters();
    this.update();
    this.rx.pull();
  }

  private get rxThreshold(): number {
    return Math.max(this.ufcr & 0x3f, 1);
  }

  private get usr1(): number {
    let v = USR1_TRDY | USR1_RXDS | this.usr1Latched;
    if (this.rx.length >= this.rxThreshold) v |= USR1_RRDY;
    // The ageing timer fires after idle time with data below the threshold; time is not modelled.
    if (this.rx.length > 0 && this.rx.length < this.rxThreshold) v |= USR1_AGTIM;
    return v;
  }

  private get usr2(): number {
    let v = USR2_TXFE | USR2_TXDC | USR2_DCDIN | this.usr2Latched;
    if (this.rx.length > 0) v |= USR2_RDR;
    return v;
  }

  read(offset: number, size: AccessSize): number {
    if (offset === Reg.URXD && (size === 4 || size === 2)) return this.popRx();
    return this.peek(offset, size) ?? 0;
  }

  peek(offset: number, size: AccessSize): number | undefined {
    switch (offset) {
      case Reg.URXD:
        return undefined;
      case Reg.UCR1:
        return this.ucr1;
      case Reg.UCR2:
        return this.ucr2;
      case Reg.UCR3:
        return this.ucr3;
      case Reg.UCR4:
        return this.ucr4;
      case Reg.UFCR:
        return this.ufcr;
      case Reg.USR1:
        return this.usr1;
      case Reg.USR2:
        return this.usr2;
      case Reg.UESC:
        return this.uesc;
      case Reg.UTIM:
        return this.utim;
      case Reg.UBIR:
        return this.ubir;
      case Reg.UBMR:
        return this.ubmr;
      case Reg.UBRC:
        return 4;
      case Reg.ONEMS:
        return this.onems;
      case Reg.UTS: {
        let v = this.uts | UTS_TXEMPTY;
        if (this.rx.length === 0) v |= UTS_RXEMPTY;
        if (this.rx.length >= FIFO_DEPTH) v |= UTS_RXFULL;
        return v;
      }
      case Reg.UMCR:
        return this.umcr;
    }
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const v = value & 0xffff;
    switch (offset) {
      case Reg.UTXD:
        if (this.uts & UTS_LOOP) this.rx.push(v & 0xff);
        else this.options.backend.write(v & 0xff);
        break;
      case Reg.UCR1:
        this.ucr1 = v;
        break;
      case Reg.UCR2:
        // SRST is active low and completes at once: it always reads back as 1.
        if (!(v & UCR2_SRST)) this.softReset();
        this.ucr2 = v | UCR2_SRST;
        this.rx.pull();
        break;
      case Reg.UCR3:
        this.ucr3 = v;
        break;
      case Reg.UCR4:
        this.ucr4 = v;
        break;
      case Reg.UFCR:
        this.ufcr = v;
        break;
      case Reg.USR1:
        this.usr1Latched &= ~(v & USR1_W1C);
        break;
      case Reg.USR2:
        this.usr2Latched &= ~(v & USR2_W1C);
        break;
      case Reg.UESC:
        this.uesc = v & 0xff;
        break;
      case Reg.UTIM:
        this.utim = v & 0xfff;
        break;
      case Reg.UBIR:
        this.ubir = v;
        break;
      case Reg.UBMR:
        this.ubmr = v;
        break;
      case Reg.ONEMS:
        this.onems = value & 0xffffff;
        break;
      case Reg.UTS: {
        const wasLoop = this.uts & UTS_LOOP;
        this.uts = v & 0x3e00; // LOOP, DBGEN, LOOPIR, RXDBG, FRCPERR; SOFTRST (bit 0) self-clears
        if (v & 1) this.softReset();
        if (wasLoop && !(this.uts & UTS_LOOP)) this.rx.pull();
        break;
      }
      case Reg.UMCR:
        this.umcr = v & 0xff;
        break;
    }
    this.update();
  }

  /** URXD: the oldest character with CHARRDY, 0 when the FIFO is empty. */
  private popRx(): number {
    return this.rx.length === 0 ? 0 : URXD_CHARRDY | this.rx.pop();
  }

  private update(): void {
    const usr1 = this.usr1;
    const usr2 = this.usr2;
    const lvl =
      (usr1 & USR1_RRDY && this.ucr1 & UCR1_RRDYEN) ||
      (usr1 & USR1_AGTIM && this.ucr2 & UCR2_ATEN) ||
      (usr1 & USR1_TRDY && this.ucr1 & UCR1_TRDYEN) ||
      (usr2 & USR2_TXFE && this.ucr1 & UCR1_TXMPTYEN) ||
      (usr2 & USR2_RDR && this.ucr4 & UCR4_DREN) ||
      (usr2 & USR2_ORE && this.ucr4 & UCR4_OREN) ||
      (usr2 & USR2_TXDC && this.ucr4 & UCR4_TCEN)
        ? true
        : false;
    this.irqOut.set(lvl);
  }
}
