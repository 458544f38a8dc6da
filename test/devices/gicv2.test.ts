import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { Gicv2 } from '../../src/devices/irqchip/gic/gicv2.js';
import { InterruptControllerConfigError, InterruptNotOwnedError } from '../../src/devices/irqchip/ownership.js';
import { TestIrq } from './qtest.js';

const GICD_CTLR = 0x000, GICD_TYPER = 0x004, GICD_ISENABLER = 0x100, GICD_ICENABLER = 0x180, GICD_ISPENDR = 0x200;
const GICD_ICACTIVER = 0x380, GICD_IPRIORITYR = 0x400, GICD_ITARGETSR = 0x800, GICD_ICFGR = 0xc00, GICD_SGIR = 0xf00;
const GICC_CTLR = 0x00, GICC_PMR = 0x04, GICC_IAR = 0x0c, GICC_EOIR = 0x10, GICC_RPR = 0x14, GICC_HPPIR = 0x18, GICC_DIR = 0x1000;

function make(vcpus = 2, owned = [33, 34, 40, 79]) {
  let current = 0;
  const outs = Array.from({ length: vcpus }, () => new TestIrq());
  const gic = new Gicv2({ vcpus, ownedSpis: owned, irqOutputs: outs, currentVcpu: () => current });
  const on = (cpu: number) => {
    current = cpu;
    return { d: gic.distributor, c: gic.cpuInterface };
  };
  return { gic, outs, on };
}

/** What Linux's irq-gic driver does at boot: gic_dist_init then gic_cpu_init on each CPU. */
function linuxBoot(g: ReturnType<typeof make>) {
  const { d } = g.on(0);
  d.write(GICD_CTLR, 4, 0);
  const lines = ((d.read(GICD_TYPER, 4) & 0x1f) + 1) * 32;
  for (let i = 32; i < lines; i += 4) d.write(GICD_ITARGETSR + i, 4, 0x01010101);
  for (let i = 32; i < lines; i += 16) d.write(GICD_ICFGR + i / 4, 4, 0);
  for (let i = 32; i < lines; i += 4) d.write(GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
  for (let i = 32; i < lines; i += 32) {
    d.write(GICD_ICACTIVER + i / 8, 4, 0xffffffff);
    d.write(GICD_ICENABLER + i / 8, 4, 0xffffffff);
  }
  d.write(GICD_CTLR, 4, 1);
  for (let cpu = 0; cpu < g.gic.core.vcpus; cpu++) {
    const { d: dd, c } = g.on(cpu);
    dd.write(GICD_ICACTIVER, 4, 0xffffffff);
    dd.write(GICD_ICENABLER, 4, 0xffff0000);
    dd.write(GICD_ISENABLER, 4, 0x0000ffff);
    for (let i = 0; i < 32; i += 4) dd.write(GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
    c.write(GICC_PMR, 4, 0xf0);
    c.write(GICC_CTLR, 4, 1);
  }
}

describe('GICv2 (per-zone, GIC-400 layout)', () => {
  it('reports its size and CPU count the way gic_dist_init reads them, and SPI targets of SGIs/PPIs read as the CPU itself', () => {
    const g = make(2);
    expect(g.on(0).d.read(GICD_TYPER, 4)).toBe(8 | (1 << 5));
    expect(g.on(1).d.read(GICD_ITARGETSR, 4)).toBe(0x02020202);
    expect(g.on(0).d.read(GICD_ITARGETSR + 28, 1)).toBe(0x01);
    expect(g.on(0).d.read(0xfe8, 4)).toBe(0x2b);
    expect(g.on(0).c.read(0xfc, 4)).toBe(0x0202143b);
  });

  it('delivers a level SPI to its target CPU: IAR, EOI, re-pends while the line stays high', () => {
    const g = make();
    linuxBoot(g);
    const { d, c } = g.on(0);
    d.write(GICD_ITARGETSR + 40, 1, 0x02); // gic_set_affinity: byte write
    d.write(GICD_ISENABLER + 4, 4, 1 << 8);
    const line = g.gic.spiInput(40);
    line.set(true);
    expect(g.outs[0]!.level).toBe(false);
    expect(g.outs[1]!.level).toBe(true);
    expect(c.read(GICC_IAR, 4)).toBe(1023); // CPU 0 is not a target
    const c1 = g.on(1).c;
    expect(c1.read(GICC_HPPIR, 4)).toBe(40);
    expect(c1.read(GICC_IAR, 4)).toBe(40);
    expect(g.outs[1]!.level).toBe(false); // active: not signalled again
    expect(c1.read(GICC_RPR, 4)).toBe(0xa0);
    c1.write(GICC_EOIR, 4, 40);
    expect(g.outs[1]!.level).toBe(true); // still asserted
    line.set(false);
    expect(g.outs[1]!.level).toBe(false);
    expect(c1.read(GICC_IAR, 4)).toBe(1023);
  });

  it('edge SPIs latch a pulse; SGIs carry their source CPU and one acknowledge per source', () => {
    const g = make();
    linuxBoot(g);
    const { d } = g.on(0);
    d.write(GICD_ICFGR + 8, 4, 2 << 2); // INTID 33 edge
    d.write(GICD_ISENABLER + 4, 4, 1 << 1);
    g.gic.spiInput(33).pulse();
    const c0 = g.on(0).c;
    expect(c0.read(GICC_IAR, 4)).toBe(33);
    c0.write(GICC_EOIR, 4, 33);
    expect(g.outs[0]!.level).toBe(false);

    g.on(0).d.write(GICD_SGIR, 4, (0x2 << 16) | 5); // CPU0 → CPU1, SGI 5
    g.on(1).d.write(GICD_SGIR, 4, (2 << 24) | 5); // CPU1 → itself
    expect(g.outs[1]!.level).toBe(true);
    const c1 = g.on(1).c;
    const first = c1.read(GICC_IAR, 4);
    expect(first).toBe(5); // source CPU 0
    c1.write(GICC_EOIR, 4, first);
    const second = c1.read(GICC_IAR, 4);
    expect(second).toBe((1 << 10) | 5);
    c1.write(GICC_EOIR, 4, second);
    expect(c1.read(GICC_IAR, 4)).toBe(1023);
  });

  it('a higher-priority interrupt preempts an active one; equal or lower waits; PMR masks', () => {
    const g = make(1);
    linuxBoot(g);
    const { d, c } = g.on(0);
    d.write(GICD_ISENABLER + 4, 4, (1 << 1) | (1 << 2));
    d.write(GICD_IPRIORITYR + 33, 1, 0x80);
    d.write(GICD_IPRIORITYR + 34, 1, 0x40);
    g.gic.spiInput(33).set(true);
    expect(c.read(GICC_IAR, 4)).toBe(33);
    g.gic.spiInput(34).set(true);
    expect(g.outs[0]!.level).toBe(true); // 0x40 preempts 0x80
    expect(c.read(GICC_IAR, 4)).toBe(34);
    c.write(GICC_EOIR, 4, 34);
    g.gic.spiInput(34).set(false);
    c.write(GICC_EOIR, 4, 33);
    g.gic.spiInput(33).set(false);
    c.write(GICC_PMR, 4, 0x40);
    g.gic.spiInput(33).set(true);
    expect(g.outs[0]!.level).toBe(false);
    c.write(GICC_PMR, 4, 0xf0);
    expect(g.outs[0]!.level).toBe(true);
  });

  it('EOImode 1 splits priority drop and deactivation (GICC_DIR)', () => {
    const g = make(1);
    linuxBoot(g);
    const { d, c } = g.on(0);
    c.write(GICC_CTLR, 4, 1 | (1 << 9));
    d.write(GICD_ISENABLER + 4, 4, 1 << 1);
    g.gic.spiInput(33).pulse();
    expect(c.read(GICC_IAR, 4)).toBe(33);
    c.write(GICC_EOIR, 4, 33);
    expect(c.read(GICC_RPR, 4)).toBe(0xff);
    g.gic.spiInput(33).pulse();
    expect(g.outs[0]!.level).toBe(false); // still active
    c.write(GICC_DIR, 4, 33);
    expect(g.outs[0]!.level).toBe(true);
  });

  it('per-vCPU timer PPIs reach only their own vCPU', () => {
    const g = make();
    linuxBoot(g);
    g.on(1).d.write(GICD_ISENABLER, 4, 1 << 27);
    g.gic.ppiInput(1, 27).set(true);
    expect(g.outs[1]!.level).toBe(true);
    expect(g.outs[0]!.level).toBe(false);
    expect(g.on(1).c.read(GICC_IAR, 4)).toBe(27);
  });

  it('never enables, pends, targets or delivers an SPI the zone does not own', () => {
    const g = make(2, [40]);
    linuxBoot(g);
    expect(() => g.gic.spiInput(41)).toThrow(InterruptNotOwnedError);
    expect(() => g.gic.spiInput(1000)).toThrow(InterruptNotOwnedError);
    const { d, c } = g.on(0);
    d.write(GICD_ISENABLER + 4, 4, 0xffffffff);
    d.write(GICD_ISPENDR + 4, 4, 0xffffffff);
    expect(d.read(GICD_ISENABLER + 4, 4)).toBe(1 << 8);
    expect(d.read(GICD_ISPENDR + 4, 4)).toBe(1 << 8);
    expect(d.read(GICD_IPRIORITYR + 41, 1)).toBe(0);
    expect(d.read(GICD_ITARGETSR + 44, 4)).toBe(0);
    expect(c.read(GICC_IAR, 4)).toBe(40);
    c.write(GICC_EOIR, 4, 40);
    d.write(0x280 + 4, 4, 0xffffffff);
    expect(c.read(GICC_IAR, 4)).toBe(1023);
  });

  it('refuses configurations a GICv2 cannot express', () => {
    const outs = Array.from({ length: 9 }, () => new TestIrq());
    expect(() => new Gicv2({ vcpus: 9, ownedSpis: [], irqOutputs: outs, currentVcpu: () => 0 })).toThrow(InterruptControllerConfigError);
    expect(() => new Gicv2({ vcpus: 1, ownedSpis: [20], irqOutputs: [outs[0]!], currentVcpu: () => 0 })).toThrow(InterruptControllerConfigError);
    expect(() => new Gicv2({ vcpus: 1, ownedSpis: [33], irqOutputs: [], currentVcpu: () => 0 })).toThrow(InterruptControllerConfigError);
  });

  it('malformed accesses read zero and change nothing', () => {
    const g = make();
    const on = g.on(0);
    const d = guestView(on.d), c = guestView(on.c); // the guest's accesses, through the address space
    expect(d.read(GICD_CTLR + 1, 4)).toBe(0);
    d.write(GICD_ISENABLER + 2, 2, 0xffff);
    d.write(0x10000, 4, 1);
    expect(d.read(GICD_ISENABLER, 4)).toBe(0);
    expect(c.read(GICC_IAR, 2)).toBe(0);
    expect(c.read(0x3000, 4)).toBe(0);
    expect(c.peek!(GICC_IAR, 4)).toBe(1023);
  });
});
