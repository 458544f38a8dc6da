import { describe, expect, it } from 'vitest';
import { Pl061 } from '../../src/devices/platform/pl061.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

describe('PL061 GPIO', () => {
  it('turns a power-button press on pin 3 into an edge interrupt as gpio-keys configures it', () => {
    const irq = new TestIrq();
    const gpio = new Pl061({ irq });
    // gpio-pl061 irq_set_type(EDGE_BOTH) then unmask for pin 3.
    gpio.write(0x404, 4, gpio.read(0x404, 4) & ~8);
    gpio.write(0x408, 4, gpio.read(0x408, 4) | 8);
    gpio.write(0x410, 4, 8);
    expect(irq.level).toBe(false);
    gpio.setInput(3, true);
    expect(irq.level).toBe(true);
    expect(gpio.read(0x418, 4)).toBe(8);
    expect(gpio.read(8 << 2, 4)).toBe(8); // DATA masked to pin 3
    expect(gpio.read(4 << 2, 4)).toBe(0); // masked to pin 2
    gpio.write(0x41c, 4, 8);
    expect(irq.level).toBe(false);
    gpio.setInput(3, false); // release: the other edge
    expect(irq.level).toBe(true);
  });

  it('drives outputs through the address mask and reports them', () => {
    const outs: string[] = [];
    const gpio = new Pl061({ irq: new TestIrq(), onOutput: (p, l) => outs.push(`${p}=${l ? 1 : 0}`) });
    gpio.write(0x400, 4, 0x03);
    gpio.write(0x3 << 2, 4, 0xff);
    gpio.write(0x1 << 2, 4, 0x00);
    expect(outs).toEqual(['0=1', '1=1', '0=0']);
    expect(gpio.read(0x3fc, 4)).toBe(0x02);
    expect(gpio.read(0x401, 1)).toBe(0);
  });

  it("matches QEMU virt's PL061 register for register", async () => {
    const B = 0x9030000;
    const seq = [
      ...[0x3fc, 0x400, 0x404, 0x408, 0x40c, 0x410, 0x414, 0x418, 0x420, 0xfe0, 0xfe4, 0xfe8, 0xfec].map((o) => r(B + o)),
      w(B + 0x400, 0xf0), w(B + 0x3fc, 0xff), r(B + 0x3fc), r(B + 0x400),
      w(B + 0x404, 1), w(B + 0x40c, 0), w(B + 0x410, 1), r(B + 0x414), r(B + 0x418), w(B + 0x41c, 0xff), r(B + 0x414),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '128M'], seq);
    expect(modelReplay(new Pl061({ irq: new TestIrq() }), B, seq)).toEqual(qemu);
  });
});
