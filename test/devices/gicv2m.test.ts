import { describe, expect, it } from 'vitest';
import { Gicv2 } from '../../src/devices/irqchip/gic/gicv2.js';
import { Gicv2m } from '../../src/devices/irqchip/gic/gicv2m.js';
import { modelReplay, qemuReplay, r, TestIrq } from './qtest.js';

describe('GICv2m MSI frame', () => {
  function make(owned: number[]) {
    const out = new TestIrq();
    const gic = new Gicv2({ vcpus: 1, ownedSpis: owned, irqOutputs: [out], currentVcpu: () => 0 });
    const frame = new Gicv2m({ core: gic.core, baseIntid: 80, count: 64, frameBase: 0x8020000 });
    return { gic, frame, out };
  }

  it('an MSI write of an owned INTID raises that SPI as an edge; others are dropped and counted', () => {
    const { gic, frame, out } = make([81]);
    gic.distributor.write(0x000, 4, 1);
    gic.cpuInterface.write(0x04, 4, 0xf0);
    gic.cpuInterface.write(0x00, 4, 1);
    gic.distributor.write(0x100 + 8, 4, 1 << (81 - 64));
    gic.distributor.write(0xc00 + 20, 4, 2 << 2); // INTID 81 edge
    frame.write(0x040, 4, 81);
    expect(out.level).toBe(true);
    expect(gic.cpuInterface.read(0x0c, 4)).toBe(81);
    gic.cpuInterface.write(0x10, 4, 81);
    expect(out.level).toBe(false);
    frame.write(0x040, 4, 82); // in the frame, not the zone's
    frame.write(0x040, 4, 40); // outside the frame
    frame.write(0x044, 4, 81); // not MSI_SETSPI_NS
    expect(out.level).toBe(false);
    expect(frame.dropped).toBe(2);
    frame.signal(0x8, 0x8020040, 81); // a PCI function's MSI through the MsiController seam
    expect(out.level).toBe(true);
    frame.signal(0x8, 0x8030040, 81);
    expect(frame.dropped).toBe(2);
  });

  it("reports the same SPI range and identification as QEMU virt's frame", async () => {
    const B = 0x8020000;
    const seq = [r(B + 0x008), r(B + 0xfcc), r(B + 0x040), r(B + 0x000)];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt,gic-version=2', '-cpu', 'cortex-a53', '-m', '128M'], seq);
    expect(modelReplay(make([]).frame, B, seq)).toEqual(qemu);
  });
});
