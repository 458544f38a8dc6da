import { describe, expect, it } from 'vitest';
import { Gicv3, Icc, REDISTRIBUTOR_STRIDE } from '../../src/devices/irqchip/gic/gicv3.js';
import { InterruptControllerConfigError, InterruptNotOwnedError } from '../../src/devices/irqchip/ownership.js';
import { modelReplay, qemuReplay, r, TestIrq, w } from './qtest.js';

const SGI = 0x10000;
const GICR_TYPER = 0x8, GICR_WAKER = 0x14;

/** A zone on physical CPUs 2 and 3 of a board whose MPIDRs are 0..3 (Aff0). */
function make(owned = [40, 78], affinities = [2n, 3n]) {
  const outs = affinities.map(() => new TestIrq());
  const gic = new Gicv3({ vcpus: affinities.length, ownedSpis: owned, affinities, irqOutputs: outs });
  return { gic, outs, d: gic.distributor, rd: gic.redistributors };
}

/** Linux irq-gic-v3: gic_dist_init, then per CPU gic_populate_rdist / gic_enable_redist / gic_cpu_sys_reg_init. */
function linuxBoot(g: ReturnType<typeof make>, bootMpidr = 2) {
  const { d, rd, gic } = g;
  d.write(0x0, 4, 0);
  const lines = ((d.read(0x4, 4) & 0x1f) + 1) * 32;
  for (let i = 32; i < lines; i += 32) {
    d.write(0x080 + i / 8, 4, 0xffffffff); // all SPIs group 1
    d.write(0x180 + i / 8, 4, 0xffffffff);
    d.write(0x380 + i / 8, 4, 0xffffffff);
  }
  for (let i = 32; i < lines; i += 4) d.write(0x400 + i, 4, 0xa0a0a0a0);
  d.write(0x0, 4, (1 << 4) | 3); // ARE_NS | G1A | G1
  for (let i = 32; i < lines; i++) {
    d.write(0x6000 + 8 * i, 4, bootMpidr);
    d.write(0x6000 + 8 * i + 4, 4, 0);
  }
  for (let cpu = 0; cpu < gic.core.vcpus; cpu++) {
    // Find our frame by affinity, walking until Last.
    let frame = 0;
    for (;; frame += REDISTRIBUTOR_STRIDE) {
      if (rd.read(frame + GICR_TYPER + 4, 4) === Number(gic.affinity[cpu])) break;
      if (rd.read(frame + GICR_TYPER, 4) & (1 << 4)) throw new Error('no redistributor');
    }
    rd.write(frame + GICR_WAKER, 4, rd.read(frame + GICR_WAKER, 4) & ~2);
    if (rd.read(frame + GICR_WAKER, 4) & 4) throw new Error('redistributor still asleep');
    rd.write(frame + SGI + 0x080, 4, 0xffffffff);
    rd.write(frame + SGI + 0x380, 4, 0xffffffff);
    rd.write(frame + SGI + 0x180, 4, 0xffff0000);
    rd.write(frame + SGI + 0x100, 4, 0x0000ffff);
    for (let i = 0; i < 32; i += 4) rd.write(frame + SGI + 0x400 + i, 4, 0xa0a0a0a0);
    expect(gic.read(cpu, Icc.SRE)! & 1n).toBe(1n);
    gic.write(cpu, Icc.PMR, 0xf0n);
    gic.write(cpu, Icc.BPR1, 0n);
    gic.write(cpu, Icc.CTLR, 0n);
    expect(Number((gic.read(cpu, Icc.CTLR)! >> 8n) & 7n) + 1).toBe(5);
    gic.write(cpu, Icc.AP1R0, 0n);
    gic.write(cpu, Icc.IGRPEN1, 1n);
  }
}

describe('GICv3 (per-zone)', () => {
  it('lays out one redistributor per vCPU with its affinity, Last on the final frame, and wakes through GICR_WAKER', () => {
    const g = make();
    expect(g.rd.read(GICR_TYPER + 4, 4)).toBe(2);
    expect(g.rd.read(REDISTRIBUTOR_STRIDE + GICR_TYPER + 4, 4)).toBe(3);
    expect(g.rd.read(GICR_TYPER, 4) & 0x10).toBe(0);
    expect(g.rd.read(REDISTRIBUTOR_STRIDE + GICR_TYPER, 4)).toBe((1 << 8) | 0x10);
    expect(g.rd.read(2 * REDISTRIBUTOR_STRIDE + GICR_TYPER, 4)).toBe(0);
    expect(g.rd.read(GICR_WAKER, 4)).toBe(6);
    linuxBoot(g);
    expect(g.rd.read(GICR_WAKER, 4)).toBe(0);
    expect(g.rd.read(0xffe8, 4)).toBe(0x3b);
  });

  it('routes an SPI by IROUTER affinity to that vCPU, IAR1/EOIR1 complete it', () => {
    const g = make();
    linuxBoot(g);
    g.d.write(0x6000 + 8 * 78, 4, 3); // affinity 0.0.0.3 = vCPU 1
    g.d.write(0x100 + 8, 4, 1 << (78 - 64));
    g.gic.spiInput(78).set(true);
    expect(g.outs[1]!.level).toBe(true);
    expect(g.outs[0]!.level).toBe(false);
    expect(g.gic.read(0, Icc.IAR1)).toBe(1023n);
    expect(g.gic.read(1, Icc.HPPIR1)).toBe(78n);
    expect(g.gic.read(1, Icc.IAR1)).toBe(78n);
    expect(g.gic.read(1, Icc.RPR)).toBe(0xa0n);
    g.gic.spiInput(78).set(false);
    g.gic.write(1, Icc.EOIR1, 78n);
    expect(g.outs[1]!.level).toBe(false);
    expect(g.gic.read(1, Icc.RPR)).toBe(0xffn);
    // An affinity naming no vCPU of the zone (physical CPU 0) delivers nowhere.
    g.d.write(0x6000 + 8 * 78, 4, 0);
    g.gic.spiInput(78).set(true);
    expect(g.outs[0]!.level || g.outs[1]!.level).toBe(false);
  });

  it('ICC_SGI1R targets by affinity (Aff1 + target list) and IRM; the timer PPI reaches its own vCPU', () => {
    const g = make();
    linuxBoot(g);
    g.gic.write(0, Icc.SGI1R, (1n << 24n) | (1n << 3n)); // SGI 1 to Aff0 = 3 → vCPU 1
    expect(g.outs[1]!.level).toBe(true);
    expect(g.gic.read(1, Icc.IAR1)).toBe(1n);
    g.gic.write(1, Icc.EOIR1, 1n);
    g.gic.write(1, Icc.SGI1R, (2n << 24n) | (1n << 40n)); // IRM: everyone but me
    expect(g.outs[0]!.level).toBe(true);
    expect(g.outs[1]!.level).toBe(false);
    expect(g.gic.read(0, Icc.IAR1)).toBe(2n);
    g.gic.write(0, Icc.EOIR1, 2n);

    g.rd.write(REDISTRIBUTOR_STRIDE + SGI + 0x100, 4, 1 << 27);
    g.gic.ppiInput(1, 27).set(true);
    expect(g.outs[1]!.level).toBe(true);
    expect(g.outs[0]!.level).toBe(false);
    expect(g.gic.read(1, Icc.IAR1)).toBe(27n);
    g.gic.ppiInput(1, 27).set(false); // the timer handler reprograms CVAL
    g.gic.write(1, Icc.EOIR1, 27n);
    expect(g.outs[1]!.level).toBe(false);
  });

  it('EOImode 1: EOIR1 drops priority, DIR deactivates; IGRPEN1 off masks everything', () => {
    const g = make();
    linuxBoot(g);
    g.gic.write(0, Icc.CTLR, 2n);
    g.d.write(0x100 + 4, 4, 1 << 8);
    g.gic.spiInput(40).pulse();
    expect(g.gic.read(0, Icc.IAR1)).toBe(40n);
    g.gic.write(0, Icc.EOIR1, 40n);
    g.gic.spiInput(40).pulse();
    expect(g.outs[0]!.level).toBe(false);
    g.gic.write(0, Icc.DIR, 40n);
    expect(g.outs[0]!.level).toBe(true);
    g.gic.write(0, Icc.IGRPEN1, 0n);
    expect(g.outs[0]!.level).toBe(false);
  });

  it('never lets the zone enable, pend or route an SPI it does not own; SGIs/PPIs are RAZ/WI in GICD', () => {
    const g = make([40]);
    linuxBoot(g);
    expect(() => g.gic.spiInput(41)).toThrow(InterruptNotOwnedError);
    g.d.write(0x100 + 4, 4, 0xffffffff);
    g.d.write(0x200 + 4, 4, 0xffffffff);
    expect(g.d.read(0x100 + 4, 4)).toBe(1 << 8);
    expect(g.d.read(0x200 + 4, 4)).toBe(1 << 8);
    g.d.write(0x6000 + 8 * 41, 4, 2);
    expect(g.d.read(0x6000 + 8 * 41, 4)).toBe(0);
    expect(g.d.read(0x100, 4)).toBe(0);
    g.d.write(0x100, 4, 0xffffffff);
    expect(g.rd.read(SGI + 0x100, 4)).toBe(0x0000ffff);
    expect(g.gic.read(0, Icc.IAR1)).toBe(40n);
    g.gic.write(0, Icc.EOIR1, 40n);
    g.d.write(0x280 + 4, 4, 0xffffffff);
    expect(g.gic.read(0, Icc.IAR1)).toBe(1023n);
    expect(g.gic.read(5, Icc.IAR1)).toBeUndefined(); // no such vCPU
    expect(g.gic.read(0, 0x1234)).toBeUndefined(); // not an ICC register: the core UNDEFs
  });

  it('message-based SPIs: GICD_SETSPI_NSR (and the MSI doorbell for PCI) raise owned SPIs only', () => {
    const g = make([40, 78]);
    linuxBoot(g);
    expect(g.d.read(0x4, 4) & (1 << 16)).toBe(1 << 16); // MBIS
    g.d.write(0xc00 + 8, 4, 0xaaaaaaaa); // INTIDs 32..47 edge
    g.d.write(0x100 + 4, 4, 1 << 8);
    g.d.write(0x040, 4, 40);
    expect(g.outs[0]!.level).toBe(true);
    g.d.write(0x048, 4, 40); // CLRSPI
    expect(g.outs[0]!.level).toBe(false);
    const msi = g.gic.msiDoorbell(0x8000000);
    msi.signal(0x18, 0x8000040, 40);
    expect(g.gic.read(0, Icc.IAR1)).toBe(40n);
    g.gic.write(0, Icc.EOIR1, 40n);
    msi.signal(0x18, 0x8000040, 41); // not the zone's
    msi.signal(0x18, 0x9000040, 40); // not the doorbell
    expect(g.outs[0]!.level).toBe(false);
  });

  it("can sit its frames at their physical positions in the board's layout; Linux's scan walks past other CPUs' frames", () => {
    const outs = [new TestIrq(), new TestIrq()];
    const gic = new Gicv3({ vcpus: 2, ownedSpis: [], affinities: [2n, 3n], irqOutputs: outs, boardRedistributors: [0n, 1n, 2n, 3n] });
    const rd = gic.redistributors;
    // gic_iterate_rdists: PIDR2 must say GICv3 on every frame until one with Last.
    const seen: number[] = [];
    for (let f = 0; ; f++) {
      expect(rd.read(f * REDISTRIBUTOR_STRIDE + 0xffe8, 4) & 0xf0).toBe(0x30);
      seen.push(rd.read(f * REDISTRIBUTOR_STRIDE + GICR_TYPER + 4, 4));
      if (rd.read(f * REDISTRIBUTOR_STRIDE + GICR_TYPER, 4) & 0x10) break;
    }
    expect(seen).toEqual([0, 1, 2, 3]);
    // A bare-metal guest on physical CPU 3 (vCPU 1) computes its frame as base + 3 * 128 KiB.
    rd.write(3 * REDISTRIBUTOR_STRIDE + 0x14, 4, 0);
    rd.write(3 * REDISTRIBUTOR_STRIDE + SGI + 0x080, 4, 0xffffffff);
    rd.write(3 * REDISTRIBUTOR_STRIDE + SGI + 0x100, 4, 1 << 27);
    expect(rd.read(3 * REDISTRIBUTOR_STRIDE + SGI + 0x100, 4)).toBe(1 << 27);
    // Other CPUs' frames are read-only identification.
    rd.write(0 * REDISTRIBUTOR_STRIDE + SGI + 0x100, 4, 0xffffffff);
    expect(rd.read(0 * REDISTRIBUTOR_STRIDE + SGI + 0x100, 4)).toBe(0);
    expect(rd.read(1 * REDISTRIBUTOR_STRIDE + 0x14, 4)).toBe(0);
    gic.distributor.write(0, 4, 0x13);
    gic.write(1, Icc.PMR, 0xf0n);
    gic.write(1, Icc.IGRPEN1, 1n);
    gic.ppiInput(1, 27).set(true);
    expect(outs[1]!.level).toBe(true);
    expect(() => new Gicv3({ vcpus: 1, ownedSpis: [], affinities: [5n], irqOutputs: [new TestIrq()], boardRedistributors: [0n, 1n] })).toThrow(
      InterruptControllerConfigError,
    );
  });

  it('malformed MMIO accesses read zero and change nothing', () => {
    const g = make();
    expect(g.d.read(0x2, 4)).toBe(0);
    g.d.write(0x102, 2, 0xffff);
    expect(g.d.read(0x100 + 4, 4)).toBe(0);
    expect(g.d.read(0x20000, 4)).toBe(0);
    expect(g.rd.read(7 * REDISTRIBUTOR_STRIDE, 4)).toBe(0);
    g.rd.write(SGI + 0x101, 1, 0xff);
    expect(g.rd.read(SGI + 0x100, 4)).toBe(0);
  });

  it("matches QEMU virt's GICv3 distributor and redistributors (2 CPUs, zone owning every SPI)", async () => {
    const D = 0x8000000;
    const R = 0x80a0000;
    const seq = [
      r(D + 0x0), r(D + 0x8), r(D + 0x84), r(D + 0x104), r(D + 0x420), r(D + 0xc08), r(D + 0xffe8), r(D + 0xffd0),
      r(D + 0xffe0), r(D + 0xffe4), r(D + 0xfff0),
      w(D + 0x420, 0xffffffff), r(D + 0x420), w(D + 0x84, 0xffffffff), r(D + 0x84), w(D + 0x0, 0x13), r(D + 0x0),
      w(D + 0xc08, 0xffffffff), r(D + 0xc08), w(D + 0x104, 0x0f0f), r(D + 0x104), r(D + 0x184), w(D + 0x184, 0x0f00), r(D + 0x104),
      r(D + 0x6100), w(D + 0x6100, 0x1), r(D + 0x6100), r(D + 0x100), w(D + 0x100, 0xffffffff), r(D + 0x100),
      w(D + 0x204, 0x3), r(D + 0x204), w(D + 0x284, 0x1), r(D + 0x204), w(D + 0x304, 0x5), r(D + 0x304),
      r(R + 0x4), r(R + 0x8), r(R + 0xc), r(R + 0x14), r(R + 0xffe8), r(R + 0x20008), r(R + 0x2000c),
      w(R + 0x14, 0), r(R + 0x14),
      r(R + 0x10080), r(R + 0x10100), r(R + 0x10400), r(R + 0x10c00), r(R + 0x10c04),
      w(R + 0x10c04, 0xffffffff), r(R + 0x10c04), w(R + 0x10100, 0xffffffff), r(R + 0x10100), w(R + 0x10180, 0xff), r(R + 0x10100),
      w(R + 0x10400, 0xffffffff), r(R + 0x10400), w(R + 0x30080, 0xffffffff), r(R + 0x30080), r(R + 0x10080),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '128M'], seq);
    const all = Array.from({ length: 288 - 32 }, (_, i) => i + 32);
    const g = new Gicv3({ vcpus: 2, ownedSpis: all, affinities: [0n, 1n], irqOutputs: [new TestIrq(), new TestIrq()] });
    const ours = modelReplay(
      {
        read: (o, s) => (o >= R - D ? g.redistributors.read(o - (R - D), s) : g.distributor.read(o, s)),
        write: (o, s, v) => (o >= R - D ? g.redistributors.write(o - (R - D), s, v) : g.distributor.write(o, s, v)),
      },
      D,
      seq,
    );
    // Deliberate difference: no LPIs/ITS here, so GICR_TYPER has neither PLPIS (bit 0) nor
    // CommonLPIAff (bits 25:24); everything else must agree.
    const reads = seq.filter((a) => a.op === 'r');
    const lpiBits = (i: number) => (reads[i]!.addr === R + 0x8 || reads[i]!.addr === R + 0x20008 ? ~0x03000001 : ~0);
    expect(ours.map((v, i) => (v & lpiBits(i)) >>> 0)).toEqual(qemu.map((v, i) => (v & lpiBits(i)) >>> 0));
  });
});
