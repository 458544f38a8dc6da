/**
 * NS16550A UART (ns16550a, ns16550, ns8250 and the 8250 family via of_serial / 8250_of), as Linux's
 * 8250 core drives it: RBR/THR/DLL, IER/DLM under LCR.DLAB, IIR with the architected interrupt
 * priorities (line status > received data / character timeout > THR empty > modem status),
 * FCR with 16-byte FIFOs and trigger levels, LCR, MCR (with loopback), LSR, MSR, SCR.
 * Registers sit 1 << regShift bytes apart (`reg-shift`); any access width `reg-io-width` allows
 * reaches the low byte. Transmission is instantaneous: THR is empty again right after a write,
 * so with IER.ETBEI set a THRE interrupt is pending until IIR is read or THR written.
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import type { CharBackend } from './char-backend.js';
import { UartReceiver } from './uart-receiver.js';

const enum Reg {
  RBR_THR_DLL = 0,
  IER_DLM = 1,
  IIR_FCR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6,
  SCR = 7,
}

export const enum Ier {
  RDI = 0x01,
  THRI = 0x02,
  RLSI = 0x04,
  MSI = 0x08,
}

export const enum Iir {
  NoInt = 0x01,
  MSI = 0x00,
  THRI = 0x02,
  RDI = 0x04,
  RLSI = 0x06,
  Timeout = 0x0c,
  FifoEnabled = 0xc0,
}

export const enum Lsr {
  DR = 0x01,
  OE = 0x02,
  BI = 0x10,
  THRE = 0x20,
  TEMT = 0x40,
}

const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const MCR_OUT2 = 0x08;
const FCR_ENABLE = 0x01;
const FIFO_DEPTH = 16;
const TRIGGER = [1, 4, 8, 14] as const;

export interface Ns16550aOptions {
  readonly backend: CharBackend;
  readonly irq: IrqLine;
  /** `reg-shift`: registers are 1 << regShift bytes apart (0 on QEMU virt, 2 on many SoCs). */
  readonly regShift?: number;
}

export class Ns16550a implements MmioDevice {
  readonly name = 'ns16550a';
  private readonly shift: number;
  private readonly rx: UartReceiver;
  private ier = 0;
  private lcr = 0;
  /** OUT2 set at reset, as QEMU's model does (it gates the interrupt on PC-style boards). */
  private mcr = MCR_OUT2;
  private lsrErrors = 0;
  private msrDelta = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fcr = 0;
  /** A THR-empty interrupt is owed (set when THR empties with ETBEI on; cleared by IIR read / THR write). */
  private thrIntPending = false;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: Ns16550aOptions) {
    this.irqOut = new LevelIrq(options.irq);
    this.shift = options.regShift ?? 0;
    this.rx = new UartReceiver(FIFO_DEPTH, options.backend, {
      depth: () => this.depth,
      blocked: () => (this.mcr & MCR_LOOP) !== 0,
      overrun: () => (this.lsrErrors |= Lsr.OE),
      update: () => this.update(),
    });
  }

  reset(): void {
    this.rx.clear();
    this.ier = this.lcr = this.lsrErrors = this.msrDelta = this.scr = 0;
    this.mcr = MCR_OUT2;
    this.dll = this.dlm = this.fcr = 0;
    this.thrIntPending = false;
    this.update();
    this.rx.pull();
  }

  /** Bytes waiting in the receive FIFO (DesignWare's USR/RFL registers report it). */
  get receiveLevel(): number {
    return this.rx.length;
  }

  /** The register index of an access, or -1 when it falls between registers or outside them. */
  private index(offset: number): number {
    if (offset & ((1 << this.shift) - 1)) return -1;
    const i = offset >> this.shift;
    return i < 8 ? i : -1;
  }

  private get fifoOn(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private get depth(): number {
    return this.fifoOn ? FIFO_DEPTH : 1;
  }

  private get trigger(): number {
    return this.fifoOn ? TRIGGER[this.fcr >> 6]! : 1;
  }

  private get lsr(): number {
    let v = Lsr.THRE | Lsr.TEMT | this.lsrErrors;
    if (this.rx.length > 0) v |= Lsr.DR;
    return v;
  }

  private get msr(): number {
    if (this.mcr & MCR_LOOP) {
      // Loopback: CTS <- RTS, DSR <- DTR, RI <- OUT1, DCD <- OUT2.
      const m = this.mcr;
      return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4) | this.msrDelta;
    }
    return 0xb0 | this.msrDelta; // DCD, DSR, CTS asserted: a terminal is attached
  }

  /** The highest-priority pending interrupt identification (bit 0 set = none). */
  private get iir(): number {
    const fifoBits = this.fifoOn ? Iir.FifoEnabled : 0;
    if (this.ier & Ier.RLSI && this.lsrErrors & (Lsr.OE | Lsr.BI)) return Iir.RLSI | fifoBits;
    if (this.ier & Ier.RDI && this.rx.length > 0) {
      // Below the trigger level the chip reports a character timeout after 4 character times;
      // time is not modelled, so the timeout is immediate.
      return (this.rx.length >= this.trigger ? Iir.RDI : Iir.Timeout) | fifoBits;
    }
    if (this.ier & Ier.THRI && this.thrIntPending) return Iir.THRI | fifoBits;
    if (this.ier & Ier.MSI && this.msrDelta & 0x0f) return Iir.MSI | fifoBits;
    return Iir.NoInt | fifoBits;
  }

  read(offset: number, size: AccessSize): number {
    const i = this.index(offset);
    switch (i) {
      case Reg.RBR_THR_DLL:
        return this.lcr & LCR_DLAB ? this.dll : this.rx.pop();
      case Reg.IIR_FCR: {
        const v = this.iir;
        // Reading IIR while it reports THRE acknowledges that interrupt.
        if ((v & 0x0f) === Iir.THRI) {
          this.thrIntPending = false;
          this.update();
        }
        return v;
      }
      case Reg.LSR: {
        const v = this.lsr;
        this.lsrErrors = 0;
        this.update();
        return v;
      }
      case Reg.MSR: {
        const v = this.msr;
        this.msrDelta = 0;
        this.update();
        return v;
      }
      default:
        return this.peek(offset, size) ?? 0;
    }
  }

  peek(offset: number, _size: AccessSize): number | undefined {
    switch (this.index(offset)) {
      case Reg.RBR_THR_DLL:
        return this.lcr & LCR_DLAB ? this.dll : undefined;
      case Reg.IER_DLM:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case Reg.IIR_FCR:
        return undefined;
      case Reg.LCR:
        return this.lcr;
      case Reg.MCR:
        return this.mcr;
      case Reg.LSR:
        return undefined;
      case Reg.MSR:
        return undefined;
      case Reg.SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    switch (this.index(offset)) {
      case Reg.RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) {
          this.dll = v;
          return;
        }
        if (this.mcr & MCR_LOOP) this.rx.push(v);
        else this.options.backend.write(v);
        // Sent at once: THR is empty again, which owes a THRE interrupt.
        this.thrIntPending = true;
        this.update();
        return;
      case Reg.IER_DLM:
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
          return;
        }
        // Enabling ETBEI while THR is empty raises THRE at once (Linux's start_tx relies on it).
        if (v & Ier.THRI && !(this.ier & Ier.THRI)) this.thrIntPending = true;
        this.ier = v & 0x0f;
        this.update();
        return;
      case Reg.IIR_FCR:
        if ((v ^ this.fcr) & FCR_ENABLE || v & 0x02) this.rx.clear();
        this.fcr = v & 0xc9;
        this.rx.pull();
        this.update();
        return;
      case Reg.LCR:
        this.lcr = v;
        return;
      case Reg.MCR: {
        const wasLoop = this.mcr & MCR_LOOP;
        this.mcr = v & 0x1f;
        if (wasLoop && !(this.mcr & MCR_LOOP)) this.rx.pull();
        this.update();
        return;
      }
      case Reg.SCR:
        this.scr = v;
        return;
    }
  }

  private update(): void {
    const level = (this.iir & Iir.NoInt) === 0;
    this.irqOut.set(level);
  }
}
