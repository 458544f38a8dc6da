/**
 * ARM PrimeCell PL011 UART (arm,pl011 / arm,primecell), as Linux's amba-pl011 driver and its
 * earlycon drive it: transmit through DR, receive FIFO with RXFE/RXFF flags, baud divisors,
 * LCR_H/CR/IFLS, the interrupt mask/raw/masked/clear registers and the PrimeCell ID bytes the AMBA
 * bus reads to bind the driver. Transmission is instantaneous, so the TX FIFO is always empty and
 * the TX interrupt is raised by each write to DR (as QEMU does), cleared through ICR.
 */
import { type IrqLine, LevelIrq } from '../../machine/irq-line.js';
import { NATURAL_ACCESS, type AccessSize, type MmioDevice } from '../../machine/mmio-device.js';
import { lane } from '../access.js';
import type { CharBackend } from './char-backend.js';
import { UartReceiver } from './uart-receiver.js';

const enum Reg {
  DR = 0x000,
  RSR = 0x004,
  FR = 0x018,
  ILPR = 0x020,
  IBRD = 0x024,
  FBRD = 0x028,
  LCR_H = 0x02c,
  CR = 0x030,
  IFLS = 0x034,
  IMSC = 0x038,
  RIS = 0x03c,
  MIS = 0x040,
  ICR = 0x044,
  DMACR = 0x048,
  ID = 0xfe0,
}

export const enum Pl011Flag {
  CTS = 0x001,
  BUSY = 0x008,
  RXFE = 0x010,
  TXFF = 0x020,
  RXFF = 0x040,
  TXFE = 0x080,
}

export const enum Pl011Int {
  RX = 1 << 4,
  TX = 1 << 5,
  RT = 1 << 6,
  OE = 1 << 10,
  All = 0x7ff,
}

const LCR_FEN = 1 << 4;
const CR_LBE = 1 << 7;
const FIFO_DEPTH = 16;
/** PeriphID0-3 then PrimeCellID0-3: part 0x011, designer ARM (0x41), revision r1p5 as QEMU reports. */
const ID_BYTES = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;

export interface Pl011Options {
  readonly backend: CharBackend;
  /** The combined UARTINTR output. */
  readonly irq: IrqLine;
}

export class Pl011 implements MmioDevice {
  readonly name = 'pl011';
  readonly accessRule = NATURAL_ACCESS;
  private readonly rx: UartReceiver;
  private rsr = 0;
  private ilpr = 0;
  private ibrd = 0;
  private fbrd = 0;
  private lcr = 0;
  private cr = 0x300;
  private ifls = 0x12;
  private imsc = 0;
  private ris = 0;
  private dmacr = 0;
  private readonly irqOut: LevelIrq;

  constructor(private readonly options: Pl011Options) {
    this.irqOut = new LevelIrq(options.irq);
    this.rx = new UartReceiver(FIFO_DEPTH, options.backend, {
      depth: () => this.depth,
      blocked: () => (this.cr & CR_LBE) !== 0,
      overrun: () => (this.ris |= Pl011Int.OE),
      // Raised when data arrives (QEMU's trigger level of one character): Linux reads the FIFO only
      // from its interrupt handler, until RXFE.
      received: () => (this.ris |= Pl011Int.RX),
      taken: (entry) => {
        this.rsr = entry >> 8;
        if (this.rx.length === 0) this.ris &= ~(Pl011Int.RX | Pl011Int.RT);
      },
      update: () => this.update(),
    });
  }

  reset(): void {
    this.rx.clear();
    this.rsr = this.ilpr = this.ibrd = this.fbrd = this.lcr = 0;
    this.cr = 0x300;
    this.ifls = 0x12;
    this.imsc = this.ris = this.dmacr = 0;
    this.update();
    this.rx.pull();
  }

  private get depth(): number {
    return this.lcr & LCR_FEN ? FIFO_DEPTH : 1;
  }

  private get flags(): number {
    let f = Pl011Flag.TXFE;
    if (this.rx.length === 0) f |= Pl011Flag.RXFE;
    if (this.rx.length >= this.depth) f |= Pl011Flag.RXFF;
    return f;
  }

  read(offset: number, size: AccessSize): number {
    const reg = offset & ~3;
    if (reg === Reg.DR) return lane(this.rx.pop(), offset, size);
    const v = this.peekRegister(reg);
    return v === undefined ? 0 : lane(v, offset, size);
  }

  peek(offset: number, size: AccessSize): number | undefined {
    const reg = offset & ~3;
    if (reg === Reg.DR) return undefined;
    const v = this.peekRegister(reg);
    return lane(v ?? 0, offset, size);
  }

  private peekRegister(reg: number): number | undefined {
    switch (reg) {
      case Reg.RSR:
        return this.rsr;
      case Reg.FR:
        return this.flags;
      case Reg.ILPR:
        return this.ilpr;
      case Reg.IBRD:
        return this.ibrd;
      case Reg.FBRD:
        return this.fbrd;
      case Reg.LCR_H:
        return this.lcr;
      case Reg.CR:
        return this.cr;
      case Reg.IFLS:
        return this.ifls;
      case Reg.IMSC:
        return this.imsc;
      case Reg.RIS:
        return this.ris;
      case Reg.MIS:
        return this.ris & this.imsc;
      case Reg.DMACR:
        return this.dmacr;
    }
    if (reg >= Reg.ID && reg < Reg.ID + 32) return ID_BYTES[(reg - Reg.ID) >> 2]!;
    return undefined;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if ((offset & 3) !== 0) return; // a narrow write reaches a register only at its first byte
    switch (offset) {
      case Reg.DR: {
        const byte = value & 0xff;
        if (this.cr & CR_LBE) this.rx.push(byte);
        else this.options.backend.write(byte);
        this.ris |= Pl011Int.TX;
        this.update();
        return;
      }
      case Reg.RSR:
        this.rsr = 0;
        return;
      case Reg.ILPR:
        this.ilpr = value & 0xff;
        return;
      case Reg.IBRD:
        this.ibrd = value & 0xffff;
        return;
      case Reg.FBRD:
        this.fbrd = value & 0x3f;
        return;
      case Reg.LCR_H:
        // Turning the FIFOs on or off flushes them.
        if ((this.lcr ^ value) & LCR_FEN) this.rx.clear();
        this.lcr = value & 0xff;
        this.rx.pull();
        return;
      case Reg.CR:
        this.cr = value & 0xffff;
        return;
      case Reg.IFLS:
        this.ifls = value & 0x3f;
        return;
      case Reg.IMSC:
        this.imsc = value & Pl011Int.All;
        this.update();
        return;
      case Reg.ICR:
        this.ris &= ~value;
        this.update();
        return;
      case Reg.DMACR:
        this.dmacr = value & 0x7;
        return;
    }
  }

  private update(): void {
    const level = (this.ris & this.imsc) !== 0;
    this.irqOut.set(level);
  }
}
