import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { ImxUart } from '../../src/devices/uart/imx-uart.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { qemuReplay, r, TestIrq } from './qtest.js';

const URXD = 0x00, UTXD = 0x40, UCR1 = 0x80, UCR2 = 0x84, UCR3 = 0x88, UCR4 = 0x8c, UFCR = 0x90, USR1 = 0x94, USR2 = 0x98;
const UBRC = 0xac, UTS = 0xb4;

function make() {
  const backend = new BufferedCharBackend();
  const irq = new TestIrq();
  return { backend, irq, uart: new ImxUart({ backend, irq }) };
}

/** imx_uart_startup + imx_uart_set_termios, reduced to the register writes that matter. */
function linuxStartup(uart: ImxUart) {
  uart.write(UFCR, 4, (2 << 10) | (5 << 7) | 1); // TXTL 2, RFDIV /1, RXTL 1
  uart.write(UCR2, 4, uart.read(UCR2, 4) & ~1); // soft reset
  let spins = 0;
  while (!(uart.read(UCR2, 4) & 1) && ++spins < 100);
  expect(spins).toBe(0);
  uart.write(UCR1, 4, 1 | (1 << 9)); // UARTEN | RRDYEN
  uart.write(UCR2, 4, 1 | 2 | 4 | 8 | (1 << 5) | (1 << 14)); // SRST RXEN TXEN ATEN WS IRTS
  uart.write(UCR4, 4, uart.read(UCR4, 4) | 2); // OREN
}

describe('i.MX UART', () => {
  it('prints through UTXD from reset (firmware-enabled), with UTS.TXEMPTY and USR2.TXDC set as the console waits for them', () => {
    const { uart, backend } = make();
    for (const c of 'ok') {
      while (uart.read(UTS, 4) & (1 << 4));
      uart.write(UTXD, 4, c.charCodeAt(0));
    }
    expect(backend.outputText).toBe('ok');
    expect(uart.read(UTS, 4) & (1 << 6)).toBe(1 << 6);
    expect(uart.read(USR2, 4) & (1 << 3)).toBe(1 << 3);
  });

  it('receives: RRDY interrupt at the RX threshold, URXD carries CHARRDY, AGTIM covers data below it', () => {
    const { uart, irq, backend } = make();
    linuxStartup(uart);
    expect(irq.level).toBe(false);
    backend.push('hi');
    expect(irq.level).toBe(true);
    expect(uart.read(USR1, 4) & (1 << 9)).toBe(1 << 9);
    expect(uart.read(URXD, 4)).toBe(0x8000 | 0x68);
    expect(uart.read(URXD, 4)).toBe(0x8000 | 0x69);
    expect(uart.read(USR2, 4) & 1).toBe(0);
    expect(irq.level).toBe(false);
    uart.write(UFCR, 4, (uart.read(UFCR, 4) & ~0x3f) | 8); // RXTL 8
    backend.push('abc');
    expect(uart.read(USR1, 4) & ((1 << 9) | (1 << 8))).toBe(1 << 8); // ageing, not RRDY
    expect(irq.level).toBe(true); // ATEN
    while (uart.read(USR2, 4) & 1) uart.read(URXD, 4);
    expect(irq.level).toBe(false);
  });

  it('TRDYEN interrupts while TX wants data; the driver stops it by clearing TRDYEN', () => {
    const { uart, irq } = make();
    linuxStartup(uart);
    uart.write(UCR1, 4, uart.read(UCR1, 4) | (1 << 13));
    expect(irq.level).toBe(true);
    uart.write(UCR1, 4, uart.read(UCR1, 4) & ~(1 << 13));
    expect(irq.level).toBe(false);
  });

  it('overruns set USR2.ORE (write 1 to clear) and loopback feeds TX into RX', () => {
    const { uart, backend } = make();
    backend.push(new Uint8Array(40).fill(0x41));
    expect(uart.read(UTS, 4) & (1 << 3)).toBe(1 << 3); // RXFULL; the rest waits in the backend
    expect(uart.read(USR2, 4) & 2).toBe(0);
    uart.write(UTS, 4, 1 << 12);
    for (let i = 0; i < 40; i++) uart.write(UTXD, 4, 0x42);
    expect(uart.read(USR2, 4) & 2).toBe(2);
    uart.write(USR2, 4, 2);
    expect(uart.read(USR2, 4) & 2).toBe(0);
  });

  it('ignores byte and misaligned accesses', () => {
    const { uart: model, backend } = make();
    const uart = guestView(model); // the guest's accesses, through the address space
    uart.write(UTXD, 1, 0x41);
    uart.write(UTXD + 1, 2, 0x41);
    expect(backend.output.length).toBe(0);
    expect(uart.read(UCR1 + 2, 2)).toBe(0);
    expect(uart.read(0x400, 4)).toBe(0);
  });

  it("agrees with QEMU's i.MX UART (mcimx6ul-evk UART1) on the reset values QEMU follows the manual for", async () => {
    const B = 0x02020000;
    const regs = [UCR3, USR2, UBRC, UTS];
    const qemu = await qemuReplay('qemu-system-arm', ['-M', 'mcimx6ul-evk', '-m', '128M'], regs.map((o) => r(B + o)));
    const { uart } = make();
    expect(regs.map((o) => uart.read(o, 4))).toEqual(qemu);
  });
});
