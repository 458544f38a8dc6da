import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { Aplic } from '../../src/devices/irqchip/aplic.js';
import { InterruptNotOwnedError } from '../../src/devices/irqchip/ownership.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

const SRC = (i: number) => 4 * i;
const TARGET = (i: number) => 0x3004 + 4 * (i - 1);
const IDC = (h: number, reg: number) => 0x4000 + 32 * h + reg;
const SETIENUM = 0x1edc, SETIPNUM = 0x1cdc, SETIP = 0x1c00, CLRIENUM = 0x1fdc;

function make(owned = [10, 11, 12], vcpus = 2) {
  const outs = Array.from({ length: vcpus }, () => new TestIrq());
  return { aplic: new Aplic({ numSources: 96, ownedSources: owned, vcpus, hartOutputs: outs }), outs };
}

/** irq-riscv-aplic-direct: IDCs on, threshold 0; per interrupt: sourcecfg, target, enable; domain IE. */
function linuxInit(a: Aplic, sources: Array<[number, number, number]>, vcpus = 2) {
  for (let h = 0; h < vcpus; h++) {
    a.write(IDC(h, 0x08), 4, 0);
    a.write(IDC(h, 0x04), 4, 0);
    a.write(IDC(h, 0x00), 4, 1);
  }
  for (const [s, mode, hart] of sources) {
    a.write(SRC(s), 4, mode);
    a.write(TARGET(s), 4, (hart << 18) | 1);
    a.write(SETIENUM, 4, s);
  }
  a.write(0, 4, 0x100);
}

describe('APLIC (direct mode, per-zone)', () => {
  it('delivers a level source to its target hart; claimi keeps it pending while the input holds', () => {
    const { aplic, outs } = make();
    linuxInit(aplic, [[10, 6, 1], [11, 4, 0]]);
    const uart = aplic.sourceInput(10);
    uart.set(true);
    expect(outs[1]!.level).toBe(true);
    expect(outs[0]!.level).toBe(false);
    expect(aplic.read(IDC(1, 0x18), 4)).toBe((10 << 16) | 1);
    expect(aplic.read(IDC(1, 0x1c), 4)).toBe((10 << 16) | 1);
    expect(outs[1]!.level).toBe(true); // still asserted
    uart.set(false);
    expect(outs[1]!.level).toBe(false);
    expect(aplic.read(IDC(1, 0x1c), 4)).toBe(0);
  });

  it('edge sources latch and are consumed by claimi; priority order then lowest id; ithreshold filters', () => {
    const { aplic, outs } = make();
    linuxInit(aplic, [[11, 4, 0], [12, 4, 0]]);
    aplic.write(TARGET(12), 4, 0 | 2);
    aplic.sourceInput(12).pulse();
    aplic.sourceInput(11).pulse();
    expect(aplic.read(IDC(0, 0x1c), 4)).toBe((11 << 16) | 1);
    aplic.write(IDC(0, 0x08), 4, 2);
    expect(outs[0]!.level).toBe(false); // prio 2 is not below threshold 2
    aplic.write(IDC(0, 0x08), 4, 3);
    expect(aplic.read(IDC(0, 0x1c), 4)).toBe((12 << 16) | 2);
    expect(outs[0]!.level).toBe(false);
  });

  it('equal priorities go to the lowest source id whatever order they became pending in', () => {
    const { aplic } = make([3, 10, 12]);
    linuxInit(aplic, [[12, 4, 0], [10, 4, 0], [3, 4, 0]]);
    for (const s of [12, 10, 3]) aplic.sourceInput(s).pulse();
    expect([1, 2, 3, 4].map(() => aplic.read(IDC(0, 0x1c), 4) >>> 16)).toEqual([3, 10, 12, 0]);
  });

  it('domaincfg.IE and idelivery gate delivery; iforce gives a spurious interrupt that claimi clears', () => {
    const { aplic, outs } = make();
    linuxInit(aplic, [[11, 4, 0]]);
    aplic.write(0, 4, 0);
    aplic.sourceInput(11).pulse();
    expect(outs[0]!.level).toBe(false);
    aplic.write(0, 4, 0x100);
    expect(outs[0]!.level).toBe(true);
    aplic.write(CLRIENUM, 4, 11);
    expect(outs[0]!.level).toBe(false);
    aplic.write(IDC(0, 0x04), 4, 1);
    expect(outs[0]!.level).toBe(true);
    expect(aplic.read(IDC(0, 0x1c), 4)).toBe(0);
    expect(outs[0]!.level).toBe(false);
  });

  it('sources outside the zone are inactive forever; malformed accesses are ignored', () => {
    const { aplic, outs } = make([10]);
    const bus = guestView(aplic); // the guest's accesses, through the address space
    expect(() => aplic.sourceInput(11)).toThrow(InterruptNotOwnedError);
    linuxInit(aplic, [[11, 4, 0]]);
    expect(bus.read(SRC(11), 4)).toBe(0);
    bus.write(SETIPNUM, 4, 11);
    bus.write(SETIP, 4, 0xffffffff);
    expect(bus.read(SETIP, 4)).toBe(0);
    expect(outs[0]!.level).toBe(false);
    bus.write(SRC(10) + 1, 4, 6);
    bus.write(SRC(10), 2, 6);
    expect(bus.read(SRC(10), 4)).toBe(0);
    expect(bus.read(IDC(7, 0x18), 4)).toBe(0);
    expect(bus.peek(IDC(0, 0x1c), 4)).toBe(0);
  });

  it("matches QEMU riscv virt's supervisor APLIC (aia=aplic) on edge sources and the IDC", async () => {
    const M = 0xc000000;
    const S = 0xd000000;
    // M-mode firmware delegates sources 1..3 to the supervisor domain first (not part of the zone's view).
    const delegate = [w(M + 4, 0x400), w(M + 8, 0x400), w(M + 12, 0x400)];
    const seq = [
      r(S), w(S + SRC(2), 4), r(S + SRC(2)), w(S + SRC(3), 5), r(S + SRC(3)), w(S + SRC(1), 1), r(S + SRC(1)),
      // Unconnected detached / falling-edge sources: QEMU 7.2 latches them pending at configuration,
      // which the spec does not ask for; park them inactive before comparing pending state.
      w(S + SRC(1), 0), w(S + SRC(3), 0),
      w(S + TARGET(2), 0), r(S + TARGET(2)), w(S + TARGET(2), (1 << 18) | 5), r(S + TARGET(2)), w(S + TARGET(3), 0x0f), r(S + TARGET(3)),
      w(S + SETIENUM, 2), r(S + 0x1e00), w(S + SETIPNUM, 2), r(S + SETIP),
      w(S + IDC(1, 0), 1), r(S + IDC(1, 0)), r(S + IDC(1, 0x18)),
      w(S, 0x100), r(S), r(S + IDC(1, 0x18)), r(S + IDC(1, 0x1c)), r(S + IDC(1, 0x18)), r(S + SETIP),
      w(S + SETIPNUM, 2), w(S + IDC(1, 8), 5), r(S + IDC(1, 8)), r(S + IDC(1, 0x18)), w(S + IDC(1, 8), 6), r(S + IDC(1, 0x18)),
      w(S + IDC(1, 8), 0xff), r(S + IDC(1, 8)), w(S + IDC(0, 4), 1), r(S + IDC(0, 4)), r(S + IDC(0, 0x1c)), r(S + IDC(0, 4)),
      w(S + 0x1fdc, 2), r(S + 0x1e00), w(S + SRC(2), 0), r(S + SETIP),
    ];
    const qemu = await qemuReplay('qemu-system-riscv64', ['-M', 'virt,aia=aplic', '-smp', '2', '-m', '128M'], [...delegate, ...seq]);
    const { aplic } = make([1, 2, 3]);
    expect(modelReplay(aplic, S, seq)).toEqual(qemu);
  });
});
