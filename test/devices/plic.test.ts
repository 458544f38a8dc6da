import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { Plic } from '../../src/devices/irqchip/plic.js';
import { InterruptNotOwnedError } from '../../src/devices/irqchip/ownership.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

const CTX = (c: number) => 0x200000 + 0x1000 * c;
const EN = (c: number, word = 0) => 0x2000 + 0x80 * c + 4 * word;

function make(owned: number[], vcpus = 2, numSources = 97) {
  const outs = Array.from({ length: vcpus * 2 }, () => new TestIrq());
  const plic = new Plic({ numSources, ownedSources: owned, vcpus, contextOutputs: outs });
  return { plic, outs };
}

/** What Linux's plic driver does for one S-mode context: priority 1 per source, enable, threshold 0. */
function linuxInit(plic: Plic, ctx: number, sources: number[]) {
  for (const s of sources) plic.write(4 * s, 4, 1);
  for (const s of sources) plic.write(EN(ctx, s >> 5), 4, plic.read(EN(ctx, s >> 5), 4) | (1 << (s & 31)));
  plic.write(CTX(ctx), 4, 0);
}

describe('PLIC (per-zone)', () => {
  it('claims the highest-priority pending source, lowest id on ties, and re-pends a level source still high on complete', () => {
    const { plic, outs } = make([10, 11, 12]);
    linuxInit(plic, 1, [10, 11, 12]);
    plic.write(4 * 12, 4, 3);
    plic.input(10).set(true);
    plic.input(11).set(true);
    expect(outs[1]!.level).toBe(true);
    expect(outs[0]!.level).toBe(false); // M context has nothing enabled
    expect(plic.read(0x1000, 4)).toBe((1 << 10) | (1 << 11));
    expect(plic.read(CTX(1) + 4, 4)).toBe(10);
    plic.input(12).set(true);
    expect(plic.read(CTX(1) + 4, 4)).toBe(12);
    expect(plic.read(CTX(1) + 4, 4)).toBe(11);
    expect(plic.read(CTX(1) + 4, 4)).toBe(0);
    expect(outs[1]!.level).toBe(false);
    plic.input(11).set(false);
    plic.write(CTX(1) + 4, 4, 11);
    plic.write(CTX(1) + 4, 4, 10); // 10 still asserted
    expect(outs[1]!.level).toBe(true);
    expect(plic.read(CTX(1) + 4, 4)).toBe(10);
  });

  it('breaks priority ties by the lowest source id whatever order they became pending in', () => {
    const { plic } = make([3, 40, 70]);
    linuxInit(plic, 1, [3, 40, 70]);
    plic.input(70).pulse();
    plic.input(40).pulse();
    plic.input(3).pulse();
    expect([1, 2, 3, 4].map(() => plic.read(CTX(1) + 4, 4))).toEqual([3, 40, 70, 0]);
  });

  it('threshold masks priorities at or below it', () => {
    const { plic, outs } = make([5]);
    linuxInit(plic, 3, [5]);
    plic.write(4 * 5, 4, 2);
    plic.write(CTX(3), 4, 2);
    plic.input(5).pulse();
    expect(outs[3]!.level).toBe(false);
    expect(plic.read(CTX(3) + 4, 4)).toBe(0);
    plic.write(CTX(3), 4, 1);
    expect(outs[3]!.level).toBe(true);
    expect(plic.read(CTX(3) + 4, 4)).toBe(5);
  });

  it('an edge (pulse) stays pending until claimed, and is not lost while another is in service', () => {
    const { plic, outs } = make([7]);
    linuxInit(plic, 1, [7]);
    plic.input(7).pulse();
    expect(plic.read(CTX(1) + 4, 4)).toBe(7);
    plic.input(7).pulse(); // in service: the gateway holds it back
    expect(outs[1]!.level).toBe(false);
    plic.write(CTX(1) + 4, 4, 7);
    expect(outs[1]!.level).toBe(false);
  });

  it('never shows, enables or delivers a source the zone does not own', () => {
    const { plic, outs } = make([10]);
    expect(() => plic.input(11)).toThrow(InterruptNotOwnedError);
    expect(() => plic.input(0)).toThrow(InterruptNotOwnedError);
    plic.write(4 * 11, 4, 7);
    expect(plic.read(4 * 11, 4)).toBe(0);
    plic.write(EN(1), 4, 0xffffffff);
    expect(plic.read(EN(1), 4)).toBe(1 << 10);
    plic.write(CTX(1) + 4, 4, 11); // completing a foreign source does nothing
    expect(outs.every((o) => !o.level)).toBe(true);
  });

  it('ignores malformed accesses: byte/halfword, misaligned, past the last context', () => {
    const plic = guestView(make([10]).plic); // the guest's accesses, through the address space
    plic.write(40, 1, 7);
    plic.write(41, 4, 7);
    expect(plic.read(40, 4)).toBe(0);
    expect(plic.read(40, 2)).toBe(0);
    expect(plic.read(CTX(4), 4)).toBe(0);
    plic.write(CTX(9) + 4, 4, 10);
    expect(plic.read(0x3fffffc, 4)).toBe(0);
    expect(plic.peek(CTX(1) + 4, 4)).toBeUndefined();
  });

  it("matches QEMU riscv virt's PLIC registers when the zone owns every source", async () => {
    const all = Array.from({ length: 95 }, (_, i) => i + 1);
    const B = 0xc000000;
    const seq = [
      r(B + 4), r(B + 40), r(B + 4 * 95), r(B + 0x1000), r(B + 0x1008), r(B + EN(0)), r(B + EN(1, 2)), r(B + CTX(1)),
      w(B + 40, 0xffffffff), r(B + 40), w(B + 44, 3), r(B + 44), w(B + 0, 5), r(B + 0),
      w(B + EN(1), 0xfffffffe), r(B + EN(1)), // bit 0 (reserved source 0): QEMU 7.2 keeps it, the spec and we do not w(B + EN(3, 1), 0x12345678), r(B + EN(3, 1)), r(B + EN(2, 1)),
      w(B + CTX(1), 0xff), r(B + CTX(1)), w(B + CTX(3), 2), r(B + CTX(3)),
      r(B + CTX(1) + 4), w(B + 0x1000, 0xffffffff), r(B + 0x1000), r(B + CTX(3) + 4),
    ];
    const qemu = await qemuReplay('qemu-system-riscv64', ['-M', 'virt', '-smp', '2', '-m', '128M'], seq);
    expect(modelReplay(make(all, 2, 96).plic, B, seq)).toEqual(qemu);
  });
});
