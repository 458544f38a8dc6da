import { describe, expect, it } from 'vitest';
import { DwApbUart } from '../../src/devices/uart/dw-apb-uart.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { TestIrq } from './qtest.js';

describe('DesignWare APB UART', () => {
  it('answers 8250_dw probing (component type, USR) and the 8250 FIFO autodetection', () => {
    const backend = new BufferedCharBackend();
    const uart = new DwApbUart({ backend, irq: new TestIrq() });
    expect(uart.read(0xfc, 4)).toBe(0x44570110);
    expect(uart.read(0xf4, 4)).toBe(0); // no CPR: the driver autodetects
    expect(uart.read(0x7c, 4) & 1).toBe(0); // not busy
    uart.write(2 << 2, 4, 0x01); // FCR: FIFO on
    expect(uart.read(2 << 2, 4) & 0xc0).toBe(0xc0); // a 16550A
    uart.write(7 << 2, 4, 0x55);
    expect(uart.read(7 << 2, 4)).toBe(0x55);
    backend.push('r');
    expect(uart.read(0x84, 4)).toBe(1);
    expect(uart.read(0x7c, 4) & 0x8).toBe(0x8);
    expect(uart.read(0, 4)).toBe(0x72);
    uart.write(0, 4, 0x74);
    expect(backend.outputText).toBe('t');
    uart.write(0xfc, 4, 0); // read-only
    expect(uart.read(0xfc, 4)).toBe(0x44570110);
  });
});
