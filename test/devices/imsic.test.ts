import { describe, expect, it } from 'vitest';
import { Imsic, ImsicSelect } from '../../src/devices/irqchip/imsic.js';
import { Aplic } from '../../src/devices/irqchip/aplic.js';
import { InterruptControllerConfigError } from '../../src/devices/irqchip/ownership.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { ZoneMsiRouter } from '../../src/devices/pci/msi.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

function make(vcpus = 2) {
  const outs = Array.from({ length: vcpus }, () => new TestIrq());
  return { imsic: new Imsic({ vcpus, numIds: 256, hartOutputs: outs, base: 0x28000000 }), outs };
}

/** imsic_local_init in Linux: delivery on, threshold 0; enabling an identity sets its eie bit. */
function linuxInit(imsic: Imsic, hart: number, ids: number[]) {
  imsic.writeIndirect(hart, ImsicSelect.EiDelivery, 1n);
  imsic.writeIndirect(hart, ImsicSelect.EiThreshold, 0n);
  for (const id of ids) {
    const sel = ImsicSelect.Eie0 + Math.floor(id / 64) * 2;
    imsic.writeIndirect(hart, sel, imsic.readIndirect(hart, sel)! | (1n << BigInt(id % 64)));
  }
}

describe('IMSIC (per-zone supervisor interrupt files)', () => {
  it('an MSI to a hart page pends its identity; stopei reports the lowest one and the claim clears it', () => {
    const { imsic, outs } = make();
    linuxInit(imsic, 1, [5, 70]);
    imsic.write(0x1000, 4, 70);
    expect(outs[1]!.level).toBe(true);
    expect(outs[0]!.level).toBe(false);
    imsic.signal(0x18, 0x28001000, 5); // a PCI function's MSI-X write
    expect(imsic.readIndirect(1, ImsicSelect.Eip0)).toBe(1n << 5n);
    expect(imsic.readIndirect(1, ImsicSelect.Eip0 + 2)).toBe(1n << 6n);
    expect(imsic.topei(1)).toBe((5 << 16) | 5);
    expect(imsic.claimTopei(1)).toBe((5 << 16) | 5);
    expect(imsic.claimTopei(1)).toBe((70 << 16) | 70);
    expect(outs[1]!.level).toBe(false);
    expect(imsic.topei(1)).toBe(0);
  });

  it('is a PCI MSI doorbell: a function\'s MSI-X write routed through the zone\'s space pends on that hart\'s file only', () => {
    const { imsic, outs } = make();
    linuxInit(imsic, 0, [33]);
    linuxInit(imsic, 1, [33]);
    const space = new AddressSpace();
    space.mapMmio(0x28000000, 0x2000, imsic);
    const router = new ZoneMsiRouter(space);
    router.signal(0x08, 0x28001000, 33); // 00:01.0's vector to hart 1
    expect(imsic.topei(1)).toBe((33 << 16) | 33);
    expect(imsic.topei(0)).toBe(0);
    expect(outs[1]!.level).toBe(true);
    router.signal(0x08, 0x29000000, 34); // no doorbell of this zone there: dropped
    expect(router.dropped).toBe(1);
    expect(imsic.readIndirect(0, ImsicSelect.Eip0)).toBe(0n);
  });

  it('eithreshold hides identities at or above it; eidelivery 0 masks the file; disabled ids wait', () => {
    const { imsic, outs } = make(1);
    linuxInit(imsic, 0, [9]);
    imsic.write(0, 4, 9);
    imsic.writeIndirect(0, ImsicSelect.EiThreshold, 9n);
    expect(outs[0]!.level).toBe(false);
    imsic.writeIndirect(0, ImsicSelect.EiThreshold, 10n);
    expect(outs[0]!.level).toBe(true);
    imsic.writeIndirect(0, ImsicSelect.EiDelivery, 0n);
    expect(outs[0]!.level).toBe(false);
    imsic.writeIndirect(0, ImsicSelect.EiDelivery, 1n);
    imsic.write(0, 4, 3); // not enabled
    expect(imsic.claimTopei(0)).toBe((9 << 16) | 9);
    expect(imsic.topei(0)).toBe(0);
    expect(imsic.readIndirect(0, ImsicSelect.Eip0)).toBe(1n << 3n);
  });

  it('ignores identity 0, ids past num-ids, other harts\' pages, odd RV64 selects and reads of the doorbell', () => {
    const { imsic, outs } = make();
    linuxInit(imsic, 0, [1]);
    imsic.write(0, 4, 0);
    imsic.write(0, 4, 300);
    imsic.write(0x2000, 4, 1); // page 2: no such vCPU in this zone
    imsic.signal(0, 0x28000004, 1); // not the start of a page
    imsic.signal(0, 0x27fff000, 1);
    expect(outs.some((o) => o.level)).toBe(false);
    expect(imsic.readIndirect(0, ImsicSelect.Eip0 + 1)).toBeUndefined();
    expect(imsic.writeIndirect(0, 0x10, 1n)).toBe(false);
    expect(imsic.read()).toBe(0);
    imsic.write(0x4, 4, 0x01000000); // seteipnum_be: identity 1
    expect(outs[0]!.level).toBe(true);
    expect(() => new Imsic({ vcpus: 1, numIds: 100, hartOutputs: [new TestIrq()] })).toThrow(InterruptControllerConfigError);
  });
});

describe('APLIC in MSI delivery mode feeding the IMSIC', () => {
  function chain() {
    const { imsic, outs } = make();
    const aplic = new Aplic({
      numSources: 96,
      ownedSources: [10, 11],
      vcpus: 2,
      hartOutputs: [new TestIrq(), new TestIrq()],
      msiTarget: (h, id) => imsic.setPending(h, id),
    });
    linuxInit(imsic, 1, [33, 34]);
    aplic.write(0, 4, 0x104); // IE | DM
    aplic.write(4 * 10, 4, 6); // level high
    aplic.write(4 * 11, 4, 4); // edge rising
    aplic.write(0x3004 + 4 * 9, 4, (1 << 18) | 33);
    aplic.write(0x3004 + 4 * 10, 4, (1 << 18) | 34);
    aplic.write(0x1edc, 4, 10);
    aplic.write(0x1edc, 4, 11);
    return { imsic, outs, aplic };
  }

  it('forwards an edge as one MSI to (hart, EIID)', () => {
    const { imsic, outs, aplic } = chain();
    aplic.sourceInput(11).pulse();
    expect(outs[1]!.level).toBe(true);
    expect(imsic.claimTopei(1)).toBe((34 << 16) | 34);
    expect(aplic.read(0x1c00, 4)).toBe(0); // pending consumed by the MSI
  });

  it('a level source sends once per assertion; Linux re-triggers through setipnum only while asserted', () => {
    const { imsic, aplic } = chain();
    const line = aplic.sourceInput(10);
    line.set(true);
    expect(imsic.claimTopei(1)).toBe((33 << 16) | 33);
    expect(imsic.topei(1)).toBe(0);
    aplic.write(0x1cdc, 4, 10); // retrigger: input still high
    expect(imsic.claimTopei(1)).toBe((33 << 16) | 33);
    line.set(false);
    aplic.write(0x1cdc, 4, 10);
    expect(imsic.topei(1)).toBe(0);
  });

  it("agrees with QEMU's MSI-mode APLIC (virt,aia=aplic-imsic) on domaincfg and the MSI target format", async () => {
    const S = 0xd000000;
    const seq = [w(S, 0x104), r(S), w(S + 4, 4), w(S + 0x3004, 0x40005), r(S + 0x3004), r(S + 0x4000)];
    const qemu = await qemuReplay('qemu-system-riscv64', ['-M', 'virt,aia=aplic-imsic', '-smp', '2', '-m', '128M'], [w(0xc000004, 0x400), ...seq]);
    const aplic = new Aplic({ numSources: 96, ownedSources: [1], vcpus: 2, hartOutputs: [new TestIrq(), new TestIrq()], msiTarget: () => {} });
    expect(modelReplay(aplic, S, seq)).toEqual(qemu);
  });
});
