import { describe, expect, it } from 'vitest';
import { Ls7aPchPic } from '../../src/devices/irqchip/ls7a-pch-pic.js';
import { InterruptNotOwnedError } from '../../src/devices/irqchip/ownership.js';
import { modelReplay, qemuReplay, r, w } from './qtest.js';

const MASK = 0x20, EDGE = 0x60, CLR = 0x80, ROUTE = 0x100, HTVEC = 0x200, STATUS = 0x3a0, POL = 0x3e0;

function make(owned: number[] = Array.from({ length: 64 }, (_, i) => i)) {
  const vectors = new Map<number, boolean>();
  const pic = new Ls7aPchPic({ ownedInputs: owned, vectorOutput: (v, l) => vectors.set(v, l) });
  return { pic, vectors };
}

/** pch_pic_reset in irq-loongson-pch-pic: vector = base + i, route to INT0, level high, all masked. */
function linuxReset(pic: Ls7aPchPic, vecBase: number) {
  for (let i = 0; i < 64; i++) {
    pic.write(HTVEC + i, 1, vecBase + i);
    pic.write(ROUTE + i, 1, 1);
  }
  for (const half of [0, 4]) {
    pic.write(MASK + half, 4, 0xffffffff);
    pic.write(EDGE + half, 4, 0);
    pic.write(POL + half, 4, 0);
  }
}

const unmask = (pic: Ls7aPchPic, i: number) => pic.write(MASK + (i >= 32 ? 4 : 0), 4, pic.read(MASK + (i >= 32 ? 4 : 0), 4) & ~(1 << (i & 31)));

describe('LS7A PCH-PIC (per-zone)', () => {
  it('delivers an unmasked level input on its HT vector and follows the line', () => {
    const { pic, vectors } = make();
    linuxReset(pic, 64);
    const uart = pic.inputLine(2);
    uart.set(true);
    expect(vectors.get(66)).toBeUndefined(); // masked
    unmask(pic, 2);
    expect(vectors.get(66)).toBe(true);
    expect(pic.read(STATUS, 4)).toBe(1 << 2);
    uart.set(false);
    expect(vectors.get(66)).toBe(false);
  });

  it('edge inputs latch until CLEAR; active-low polarity; inputs sharing a vector OR together', () => {
    const { pic, vectors } = make();
    linuxReset(pic, 64);
    pic.write(EDGE + 4, 4, 1 << (40 - 32));
    unmask(pic, 40);
    pic.inputLine(40).pulse();
    expect(vectors.get(104)).toBe(true);
    pic.write(CLR + 4, 4, 1 << (40 - 32));
    expect(vectors.get(104)).toBe(false);

    pic.write(POL, 4, 1 << 5); // input 5 active low: idle line is an interrupt
    unmask(pic, 5);
    expect(vectors.get(69)).toBe(true);
    pic.inputLine(5).set(true);
    expect(vectors.get(69)).toBe(false);

    pic.write(HTVEC + 6, 1, 200);
    pic.write(HTVEC + 7, 1, 200);
    unmask(pic, 6);
    unmask(pic, 7);
    pic.inputLine(6).set(true);
    pic.inputLine(7).set(true);
    pic.inputLine(6).set(false);
    expect(vectors.get(200)).toBe(true);
    pic.inputLine(7).set(false);
    expect(vectors.get(200)).toBe(false);
  });

  it('inputs outside the zone stay masked and silent', () => {
    const { pic, vectors } = make([3]);
    expect(() => pic.inputLine(4)).toThrow(InterruptNotOwnedError);
    pic.write(MASK, 4, 0);
    expect(pic.read(MASK, 4) >>> 0).toBe(0xfffffff7);
    pic.write(POL, 4, 0xffffffff); // would make idle foreign inputs active
    expect(pic.read(POL, 4)).toBe(1 << 3);
    pic.inputLine(3).set(true); // inactive under active-low: now nothing may be asserted
    expect([...vectors.values()].some((l) => l)).toBe(false);
    expect(pic.read(ROUTE + 4, 1)).toBe(0);
  });

  it("matches QEMU loongarch virt's PCH-PIC registers (zone owning all 64 inputs)", async () => {
    const B = 0x10000000;
    const seq = [
      ...[0x0, 0x4, 0x20, 0x24, 0x40, 0x60, 0x80, 0xc0, 0xe0, 0x100, 0x104, 0x200, 0x204, 0x3a0, 0x3e0].map((o) => r(B + o)),
      w(B + 0x20, 0), r(B + 0x20), w(B + 0x205, 0x33, 1), r(B + 0x204), r(B + 0x205, 1), w(B + 0x100, 0xffffffff), r(B + 0x100),
      w(B + 0x60, 0xffffffff), r(B + 0x60), w(B + 0x3e0, 0xffff), r(B + 0x3e0), r(B + 0x3a0),
    ];
    const qemu = await qemuReplay('qemu-system-loongarch64', ['-M', 'virt', '-m', '1G'], seq);
    expect(modelReplay(make().pic, B, seq)).toEqual(qemu);
  });
});
