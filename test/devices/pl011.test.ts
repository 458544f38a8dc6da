import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { Pl011 } from '../../src/devices/uart/pl011.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

const BASE = 0x9000000;
function make() {
  const backend = new BufferedCharBackend();
  const irq = new TestIrq();
  const uart = new Pl011({ backend, irq });
  return { backend, irq, uart };
}

describe('PL011', () => {
  it('identifies itself as the AMBA bus expects (PeriphID 0x00141011, PrimeCellID 0xb105f00d)', () => {
    const { uart } = make();
    const id = (base: number) => [0, 4, 8, 12].reduce((acc, k) => acc | ((uart.read(base + k, 4) & 0xff) << (8 * (k / 4))), 0) >>> 0;
    expect(id(0xfe0)).toBe(0x00141011);
    expect(id(0xff0)).toBe(0xb105f00d);
  });

  it('transmits what the console writes and raises TX until ICR clears it', () => {
    const { uart, backend, irq } = make();
    uart.write(0x2c, 4, 0x70); // LCR_H: 8 bits, FIFO on
    uart.write(0x30, 4, 0x301); // CR: UARTEN | TXE | RXE
    uart.write(0x38, 4, 1 << 5); // IMSC: TXIM
    expect(irq.level).toBe(false);
    for (const c of 'hi\n') uart.write(0x00, 4, c.charCodeAt(0));
    expect(backend.outputText).toBe('hi\n');
    expect(irq.level).toBe(true);
    expect(uart.read(0x40, 4)).toBe(1 << 5); // MIS
    uart.write(0x44, 4, 1 << 5); // ICR
    expect(irq.level).toBe(false);
    expect(uart.read(0x18, 4) & 0x80).toBe(0x80); // TXFE: never busy
  });

  it('receives host input into the FIFO, interrupts while enabled and drains to RXFE', () => {
    const { uart, backend, irq } = make();
    uart.write(0x2c, 4, 0x70);
    uart.write(0x38, 4, (1 << 4) | (1 << 6)); // RXIM | RTIM
    backend.push('abc');
    expect(irq.level).toBe(true);
    expect(uart.read(0x18, 4) & 0x10).toBe(0); // RXFE clear
    let s = '';
    while ((uart.read(0x18, 4) & 0x10) === 0) s += String.fromCharCode(uart.read(0, 4) & 0xff);
    expect(s).toBe('abc');
    expect(irq.level).toBe(false);
  });

  it('holds back input beyond its 16-byte FIFO until the guest reads (no loss)', () => {
    const { uart, backend } = make();
    uart.write(0x2c, 4, 0x70);
    const text = 'abcdefghijklmnopqrstuvwxyz';
    backend.push(text);
    expect(uart.read(0x18, 4) & 0x40).toBe(0x40); // RXFF
    let s = '';
    while ((uart.read(0x18, 4) & 0x10) === 0) s += String.fromCharCode(uart.read(0, 4) & 0xff);
    expect(s).toBe(text);
  });

  it('with the FIFO disabled holds one character', () => {
    const { uart, backend } = make();
    backend.push('xy');
    expect(uart.read(0x18, 4) & 0x50).toBe(0x40); // RXFF, not RXFE
    expect(uart.read(0, 4)).toBe(0x78);
    expect(uart.read(0, 4)).toBe(0x79);
    expect(uart.read(0x18, 4) & 0x10).toBe(0x10);
  });

  it('loops transmitted bytes back when CR.LBE is set', () => {
    const { uart, backend } = make();
    uart.write(0x2c, 4, 0x70);
    uart.write(0x30, 4, 0x381);
    uart.write(0, 4, 0x5a);
    expect(backend.output.length).toBe(0);
    expect(uart.read(0, 4)).toBe(0x5a);
  });

  it('ignores misaligned and out-of-range accesses and reads them as zero', () => {
    const uart = guestView(make().uart); // the guest's accesses, through the address space
    expect(uart.read(0x19, 4)).toBe(0);
    expect(uart.read(0x800, 4)).toBe(0);
    uart.write(0x25, 2, 0xffff);
    uart.write(0x900, 4, 0xffffffff);
    expect(uart.read(0x24, 4)).toBe(0);
    expect(uart.peek(0x18, 4)).toBe(0x90);
    expect(uart.peek(0, 4)).toBeUndefined();
  });

  it('matches QEMU virt\'s PL011 register for register (reset values, masks, ID, interrupt status)', async () => {
    const seq = [
      r(BASE + 0x18), r(BASE + 0x24), r(BASE + 0x28), r(BASE + 0x2c), r(BASE + 0x30), r(BASE + 0x34),
      r(BASE + 0x38), r(BASE + 0x3c), r(BASE + 0x40), r(BASE + 0x48),
      ...[0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map((o) => r(BASE + o)),
      w(BASE + 0x24, 0x1a), w(BASE + 0x28, 0x3), r(BASE + 0x24), r(BASE + 0x28),
      w(BASE + 0x2c, 0x70), r(BASE + 0x2c), w(BASE + 0x30, 0x301), r(BASE + 0x30),
      w(BASE + 0x38, 0x7f0), r(BASE + 0x38), w(BASE + 0x00, 0x41), r(BASE + 0x3c), r(BASE + 0x40), r(BASE + 0x18),
      w(BASE + 0x44, 0x7ff), r(BASE + 0x3c), r(BASE + 0x40), r(BASE + 0x18),
      r(BASE + 0x18, 1), r(BASE + 0x30, 2),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '128M'], seq);
    const ours = modelReplay(make().uart, BASE, seq);
    expect(ours).toEqual(qemu);
  });
});
