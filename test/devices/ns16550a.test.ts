import { describe, expect, it } from 'vitest';
import { Ns16550a } from '../../src/devices/uart/ns16550a.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

function make(regShift = 0) {
  const backend = new BufferedCharBackend();
  const irq = new TestIrq();
  const uart = new Ns16550a({ backend, irq, regShift });
  return { backend, irq, uart };
}

describe('NS16550A', () => {
  it('programs the divisor latch under DLAB without touching IER or transmitting', () => {
    const { uart, backend } = make();
    uart.write(3, 1, 0x83); // DLAB | 8N1
    uart.write(0, 1, 0x01);
    uart.write(1, 1, 0x00);
    expect(uart.read(0, 1)).toBe(1);
    uart.write(3, 1, 0x03);
    expect(uart.read(1, 1)).toBe(0);
    expect(backend.output.length).toBe(0);
  });

  it('THRE: enabling ETBEI interrupts at once, IIR read acknowledges it, each THR write re-arms it', () => {
    const { uart, irq, backend } = make();
    expect(uart.read(2, 1)).toBe(0x01);
    uart.write(1, 1, 0x02);
    expect(irq.level).toBe(true);
    expect(uart.read(2, 1) & 0x0f).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(uart.read(2, 1) & 0x0f).toBe(0x01);
    uart.write(0, 1, 0x6f);
    expect(irq.level).toBe(true);
    expect(backend.outputText).toBe('o');
    uart.write(1, 1, 0x00); // stop_tx
    expect(irq.level).toBe(false);
  });

  it('receives with FIFO trigger levels: timeout below the level, data-available at it, LSR.DR until drained', () => {
    const { uart, irq, backend } = make();
    uart.write(2, 1, 0x47 | 0x40); // FIFO on, clear both, trigger 4
    uart.write(1, 1, 0x01); // ERBFI
    backend.push('ab');
    expect(irq.level).toBe(true);
    expect(uart.read(2, 1)).toBe(0xcc); // FIFO bits + character timeout
    backend.push('cd');
    expect(uart.read(2, 1)).toBe(0xc4); // received data available
    let s = '';
    while (uart.read(5, 1) & 0x01) s += String.fromCharCode(uart.read(0, 1));
    expect(s).toBe('abcd');
    expect(irq.level).toBe(false);
  });

  it('line-status interrupt on overrun outranks received data and clears on LSR read', () => {
    const { uart, irq } = make();
    uart.write(4, 1, 0x10); // loopback
    uart.write(1, 1, 0x05); // ERBFI | ELSI
    uart.write(0, 1, 0x31); // FIFO off: one byte holds
    uart.write(0, 1, 0x32); // overrun
    expect(uart.read(2, 1)).toBe(0x06);
    expect(uart.read(5, 1) & 0x03).toBe(0x03);
    expect(uart.read(2, 1)).toBe(0x04); // FIFO off: trigger level is one byte
    expect(uart.read(0, 1)).toBe(0x31);
    expect(irq.level).toBe(false);
  });

  it('loopback maps MCR outputs onto MSR inputs as the 8250 probe expects (0x90 for RTS|OUT2)', () => {
    const { uart } = make();
    uart.write(4, 1, 0x1a);
    expect(uart.read(6, 1) & 0xf0).toBe(0x90);
    uart.write(4, 1, 0x1f);
    expect(uart.read(6, 1) & 0xf0).toBe(0xf0);
  });

  it('honours reg-shift 2 with 32-bit accesses and ignores accesses between registers', () => {
    const { uart, backend } = make(2);
    uart.write(7 << 2, 4, 0xa5);
    expect(uart.read(7 << 2, 4)).toBe(0xa5);
    expect(uart.read(7, 1)).toBe(0);
    uart.write(1, 1, 0x41);
    uart.write(0, 4, 0x41);
    expect(backend.outputText).toBe('A');
    expect(uart.read(0x100, 4)).toBe(0);
    expect(uart.read(5 << 2, 4)).toBe(0x60);
  });

  it("matches QEMU riscv virt's 16550A register for register", async () => {
    const B = 0x10000000;
    const seq = [
      r(B + 1, 1), r(B + 2, 1), r(B + 3, 1), r(B + 4, 1), r(B + 5, 1), r(B + 6, 1), r(B + 7, 1),
      w(B + 7, 0x5a, 1), r(B + 7, 1),
      w(B + 3, 0x83, 1), w(B + 0, 0x0c, 1), w(B + 1, 0x00, 1), r(B + 0, 1), r(B + 1, 1), w(B + 3, 0x03, 1), r(B + 3, 1),
      w(B + 2, 0x07, 1), r(B + 2, 1), w(B + 1, 0x0f, 1), r(B + 1, 1), r(B + 2, 1), r(B + 2, 1),
      w(B + 4, 0x1a, 1), r(B + 6, 1), w(B + 4, 0x0b, 1), r(B + 4, 1), r(B + 5, 1),
      w(B + 1, 0x00, 1), r(B + 2, 1), w(B + 2, 0x00, 1), r(B + 2, 1),
    ];
    const qemu = await qemuReplay('qemu-system-riscv64', ['-M', 'virt', '-m', '128M'], seq);
    expect(modelReplay(make().uart, B, seq)).toEqual(qemu);
  });
});
