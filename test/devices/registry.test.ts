import { describe, expect, it } from 'vitest';
import { createDevice, deviceRole, findDeviceFactory, registeredCompatibles } from '../../src/devices/registry.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { TestIrq } from './qtest.js';

describe('device registry', () => {
  it('binds the most specific compatible string it models', () => {
    expect(findDeviceFactory(['arm,pl011', 'arm,primecell'])?.model).toBe('pl011');
    expect(findDeviceFactory(['vendor,unknown'])).toBeUndefined();
  });

  it("builds a PL011 wired to the node's console and interrupt", () => {
    const backend = new BufferedCharBackend();
    const irq = new TestIrq();
    const uart = createDevice(
      { path: '/pl011@9000000', compatible: ['arm,pl011', 'arm,primecell'], windows: [{ base: 0x9000000, size: 0x1000 }], irqs: [irq] },
      { console: (p) => (p === '/pl011@9000000' ? backend : new BufferedCharBackend()) },
    )!;
    uart.write(0x38, 4, 1 << 5);
    uart.write(0, 4, 0x21);
    expect(backend.outputText).toBe('!');
    expect(irq.level).toBe(true);
  });

  it('classifies per-zone interrupt controllers, timers and model-less nodes', () => {
    expect(deviceRole(['arm,gic-v3'])).toBe('interrupt-controller');
    expect(deviceRole(['sifive,plic-1.0.0', 'riscv,plic0'])).toBe('interrupt-controller');
    expect(deviceRole(['arm,armv8-timer', 'arm,armv7-timer'])).toBe('timer');
    expect(deviceRole(['syscon-poweroff'])).toBe('no-model');
    expect(deviceRole(['arm,pl011', 'arm,primecell'])).toBe('device');
    expect(registeredCompatibles().get('arm,pl011')).toBe('pl011');
  });
});

describe('registry: 8250 family', () => {
  it('builds an NS16550A honouring reg-shift', () => {
    const backend = new BufferedCharBackend();
    const uart = createDevice(
      { path: '/soc/serial@0', compatible: ['ns16550a'], windows: [{ base: 0, size: 0x100 }], irqs: [], regShift: 2, regIoWidth: 4 },
      { console: () => backend },
    )!;
    expect(uart.name).toBe('ns16550a');
    uart.write(7 << 2, 4, 0x11);
    expect(uart.read(7 << 2, 4)).toBe(0x11);
    uart.write(0, 4, 0x4b);
    expect(backend.outputText).toBe('K');
  });
});

describe('registry: platform devices', () => {
  const node = (compatible: string[]) => ({ path: '/x', compatible, windows: [{ base: 0, size: 0x1000 }], irqs: [] });
  it('routes the finisher to the power services and RTCs to the host clock', () => {
    const events: string[] = [];
    const test = createDevice(node(['sifive,test1', 'sifive,test0', 'syscon']), { powerOff: (c) => events.push(`off ${c}`), reset: () => events.push('reset') })!;
    test.write(0, 4, 0x5555);
    test.write(0, 4, 0x7777);
    expect(events).toEqual(['off 0', 'reset']);
    const clock = { wallClockNs: () => 1234n * 1_000_000_000n };
    expect(createDevice(node(['arm,pl031', 'arm,primecell']), clock)!.read(0, 4)).toBe(1234);
    expect(createDevice(node(['google,goldfish-rtc']), clock)!.read(4, 4)).toBe(0);
  });
});

describe('registry: vendor UARTs as the Debian arm64 DTBs name them', () => {
  it('binds the i.MX8MP and ZynqMP UART compatibles', () => {
    expect(findDeviceFactory(['fsl,imx8mp-uart', 'fsl,imx6q-uart'])?.model).toBe('imx-uart');
    expect(findDeviceFactory(['cdns,uart-r1p12', 'xlnx,xuartps'])?.model).toBe('xuartps');
  });
});
