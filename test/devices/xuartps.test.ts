import { describe, expect, it } from 'vitest';
import { Xuartps } from '../../src/devices/uart/xuartps.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

const CR = 0x00, MR = 0x04, IER = 0x08, IDR = 0x0c, IMR = 0x10, ISR = 0x14, RXTOUT = 0x1c, RXWM = 0x20, SR = 0x2c, FIFO = 0x30;
const TXEMPTY = 1 << 3, RXTRIG = 1 << 0, TOUT = 1 << 8, RXEMPTY = 1 << 1;

function make() {
  const backend = new BufferedCharBackend();
  const irq = new TestIrq();
  return { backend, irq, uart: new Xuartps({ backend, irq }) };
}

/** cdns_uart_startup: reset both FIFOs, enable RX/TX, RX trigger 1, timeout 10, RX interrupts. */
function linuxStartup(uart: Xuartps) {
  uart.write(CR, 4, 0x3 | 0x14);
  uart.write(MR, 4, 0x20); // 8N1
  uart.write(RXWM, 4, 1);
  uart.write(RXTOUT, 4, 10);
  uart.write(ISR, 4, uart.read(ISR, 4));
  uart.write(IER, 4, RXTRIG | TOUT | (1 << 5) | (1 << 6) | (1 << 7));
}

describe('Xilinx / Cadence PS UART', () => {
  it('drops output while TX is disabled at reset, transmits once enabled', () => {
    const { uart, backend } = make();
    uart.write(FIFO, 4, 0x41);
    expect(backend.output.length).toBe(0);
    uart.write(CR, 4, 0x14);
    uart.write(FIFO, 4, 0x42);
    expect(backend.outputText).toBe('B');
  });

  it('RX trigger raises the interrupt; the ISR drains the FIFO until SR.RXEMPTY and clears ISR by writing it back', () => {
    const { uart, irq, backend } = make();
    linuxStartup(uart);
    expect(irq.level).toBe(false);
    backend.push('xy');
    expect(irq.level).toBe(true);
    const isr = uart.read(ISR, 4) & uart.read(IMR, 4);
    expect(isr & RXTRIG).toBe(RXTRIG);
    uart.write(ISR, 4, isr);
    let s = '';
    while (!(uart.read(SR, 4) & RXEMPTY)) s += String.fromCharCode(uart.read(FIFO, 4));
    expect(s).toBe('xy');
    uart.write(ISR, 4, uart.read(ISR, 4));
    expect(irq.level).toBe(false);
  });

  it('TX empty interrupt while enabled (start_tx), removed through IDR (stop_tx)', () => {
    const { uart, irq } = make();
    linuxStartup(uart);
    uart.write(IER, 4, TXEMPTY);
    expect(irq.level).toBe(true);
    uart.write(IDR, 4, TXEMPTY);
    expect(irq.level).toBe(false);
  });

  it('local loopback (MR mode 2) and malformed accesses', () => {
    const { uart, backend } = make();
    uart.write(CR, 4, 0x14);
    uart.write(MR, 4, 2 << 8);
    uart.write(FIFO, 4, 0x5a);
    expect(backend.output.length).toBe(0);
    expect(uart.read(FIFO, 4)).toBe(0x5a);
    uart.write(FIFO, 1, 0x41);
    uart.write(FIFO + 2, 2, 0x41);
    expect(uart.read(SR + 1, 4)).toBe(0);
    expect(uart.read(0x1000, 4)).toBe(0);
  });

  it("matches QEMU xlnx-zcu102's UART0 register for register", async () => {
    const B = 0xff000000;
    const seq = [
      r(B + CR), r(B + MR), r(B + IMR), r(B + ISR), r(B + 0x18), r(B + RXTOUT), r(B + RXWM), r(B + 0x24), r(B + 0x28), r(B + SR),
      r(B + 0x34), r(B + 0x38), r(B + 0x44),
      w(B + IER, 0x1fff), r(B + IMR), w(B + IDR, 1), r(B + IMR), w(B + ISR, 0xffffffff), r(B + ISR),
      w(B + CR, 0x14), r(B + CR), w(B + CR, 0x17), r(B + CR), w(B + RXWM, 0x3f), r(B + RXWM), r(B + SR), r(B + ISR),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'xlnx-zcu102', '-m', '1G'], seq);
    expect(modelReplay(make().uart, B, seq)).toEqual(qemu);
  });
});
