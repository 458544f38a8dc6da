/**
 * Every model under a deterministic storm of random accesses (any offset in and past its window,
 * any size, any value): nothing throws, reads are 32-bit unsigned integers, and `peek` is free of
 * side effects (peeking everything twice gives the same answers and never moves an interrupt line).
 */
import { describe, expect, it } from 'vitest';
import type { MmioDevice } from '../../src/machine/mmio-device.js';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import { createDevice } from '../../src/devices/registry.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { Plic } from '../../src/devices/irqchip/plic.js';
import { Aplic } from '../../src/devices/irqchip/aplic.js';
import { Gicv2 } from '../../src/devices/irqchip/gic/gicv2.js';
import { Gicv3 } from '../../src/devices/irqchip/gic/gicv3.js';
import { Gicv3Its } from '../../src/devices/irqchip/gic/gicv3-its.js';
import { Gicv2m } from '../../src/devices/irqchip/gic/gicv2m.js';
import { Ls7aPchPic } from '../../src/devices/irqchip/ls7a-pch-pic.js';
import { Imsic } from '../../src/devices/irqchip/imsic.js';
import { CfiFlash } from '../../src/devices/platform/cfi-flash.js';
import { TestIrq } from './qtest.js';
import { mulberry32 } from '../helpers/prng.js';
import { guestMemory } from '../../src/machine/guest-memory.js';

const prng = mulberry32;

interface Subject {
  name: string;
  device: MmioDevice;
  window: number;
  lines: TestIrq[];
  /** Offsets where registers live, for the peek check. */
  hot: number[];
}

/** Whether the GICv2's accesses rotate over the vCPUs (the storm) or come from vCPU 1 (the peeks). */
let rotate = true;

function subjects(): Subject[] {
  const out: Subject[] = [];
  const line = () => new TestIrq();
  for (const [compatible, window] of [
    ['arm,pl011', 0x1000], ['ns16550a', 0x100], ['snps,dw-apb-uart', 0x100], ['fsl,imx8mp-uart', 0x4000], ['cdns,uart-r1p12', 0x1000],
    ['sifive,test1', 0x1000], ['qemu,fw-cfg-mmio', 0x18], ['cfi-flash', 0x100000], ['arm,pl031', 0x1000], ['google,goldfish-rtc', 0x1000], ['arm,pl061', 0x1000], ['loongson,ls7a-rtc', 0x100],
  ] as const) {
    const irq = line();
    const backend = new BufferedCharBackend();
    backend.push('input that arrives while the storm runs');
    const device = createDevice(
      { path: `/${compatible}`, compatible: [compatible], windows: [{ base: 0, size: window }], irqs: [irq], regShift: compatible === 'snps,dw-apb-uart' ? 2 : 0 },
      { console: () => backend, wallClockNs: () => 1_700_000_000_000_000_000n, powerOff: () => {}, reset: () => {} },
    )!;
    out.push({ name: compatible, device, window, lines: [irq], hot: Array.from({ length: Math.min(window, 0x200) / 4 }, (_, i) => i * 4) });
  }
  const ctx = [line(), line(), line(), line()];
  const plic = new Plic({ numSources: 96, ownedSources: [1, 5, 10, 95], vcpus: 2, contextOutputs: ctx });
  for (const s of [1, 5, 10, 95]) plic.input(s).set(true);
  out.push({ name: 'plic', device: plic, window: 0x600000, lines: ctx, hot: [0, 4, 40, 0x1000, 0x2000, 0x2080, 0x200000, 0x201000] });
  const harts = [line(), line()];
  const aplic = new Aplic({ numSources: 96, ownedSources: [3, 10], vcpus: 2, hartOutputs: harts });
  aplic.sourceInput(10).set(true);
  out.push({ name: 'aplic', device: aplic, window: 0x8000, lines: harts, hot: [0, 12, 40, 0x1c00, 0x1d00, 0x1e00, 0x3008, 0x4000, 0x4018, 0x4038] });
  const v2out = [line(), line()];
  // The storm comes from all vCPUs (and an index the zone got wrong); peeks from one.
  let cur = 0;
  const v2 = new Gicv2({ vcpus: 2, ownedSpis: [33, 40], irqOutputs: v2out, currentVcpu: () => (rotate ? cur++ % 3 : 1) });
  v2.spiInput(33).set(true);
  out.push({ name: 'gicv2-distributor', device: v2.distributor, window: 0x1000, lines: v2out, hot: [0, 4, 0x100, 0x104, 0x200, 0x400, 0x800, 0xc00, 0xf10] });
  out.push({ name: 'gicv2-cpu', device: v2.cpuInterface, window: 0x2000, lines: v2out, hot: [0, 4, 8, 0x14, 0x18, 0xd0, 0xfc] });
  out.push({ name: 'gicv2m', device: new Gicv2m({ core: v2.core, baseIntid: 32, count: 64 }), window: 0x1000, lines: v2out, hot: [8, 0x40, 0xfcc] });
  const v3out = [line(), line()];
  const mem = new AddressSpace();
  mem.mapRam(0x40000000, 0x10000, new Ram(0x10000));
  const v3 = new Gicv3({ vcpus: 2, ownedSpis: [40, 78], affinities: [0n, 1n], irqOutputs: v3out, lpis: { memory: guestMemory(mem) } });
  v3.spiInput(40).set(true);
  out.push({ name: 'gicv3-distributor', device: v3.distributor, window: 0x10000, lines: v3out, hot: [0, 4, 0x104, 0x204, 0x428, 0x6140, 0xffe8] });
  out.push({ name: 'gicv3-redistributors', device: v3.redistributors, window: 0x40000, lines: v3out, hot: [0, 8, 0xc, 0x14, 0x70, 0x10100, 0x30200] });
  out.push({ name: 'gicv3-its', device: new Gicv3Its({ gic: v3, memory: guestMemory(mem) }), window: 0x20000, lines: v3out, hot: [0, 4, 8, 0x80, 0x88, 0x90] });
  out.push({ name: 'cfi-flash', device: new CfiFlash({ size: 1024 * 1024, bankWidth: 4 }), window: 1024 * 1024, lines: [], hot: [0, 0x40, 0x44, 0x100] });
  const files = [line(), line()];
  const imsic = new Imsic({ vcpus: 2, numIds: 256, hartOutputs: files });
  imsic.writeIndirect(0, 0x70, 1n);
  imsic.writeIndirect(0, 0xc0, ~0n);
  out.push({ name: 'imsic', device: imsic, window: 0x2000, lines: files, hot: [0, 4, 0x1000] });
  const msiHarts = [line(), line()];
  const msiAplic = new Aplic({ numSources: 96, ownedSources: [3, 10], vcpus: 2, hartOutputs: msiHarts, msiTarget: (h, id) => imsic.setPending(h, id) });
  out.push({ name: 'aplic-msi', device: msiAplic, window: 0x8000, lines: [...msiHarts, ...files], hot: [0, 12, 40, 0x1c00, 0x1e00, 0x3008] });
  const vectors: TestIrq[] = Array.from({ length: 256 }, () => line());
  const pch = new Ls7aPchPic({ ownedInputs: [2, 40, 63], vectorOutput: (v, l) => vectors[v]!.set(l) });
  pch.inputLine(2).set(true);
  out.push({ name: 'ls7a-pch-pic', device: pch, window: 0x400, lines: vectors, hot: [0, 4, 0x20, 0x24, 0x60, 0x100, 0x200, 0x3a0, 0x3e0] });
  return out;
}

describe('malformed accesses', () => {
  it.each(subjects().map((s) => [s.name, s] as const))('%s survives 5,000 random accesses', (_name, s) => {
    rotate = true;
    const rnd = prng(0x5eed);
    const sizes = [1, 2, 4] as const;
    for (let i = 0; i < 5_000; i++) {
      // Mostly near the registers, sometimes anywhere in or past the window, sometimes misaligned.
      const r = rnd();
      const offset = r < 0.6 ? Math.floor(rnd() * 0x200) : r < 0.9 ? Math.floor(rnd() * s.window) : s.window + Math.floor(rnd() * 0x100);
      const size = sizes[Math.floor(rnd() * 3)]!;
      if (rnd() < 0.5) {
        const v = s.device.read(offset, size);
        expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `${s.name} read ${offset.toString(16)}/${size} → ${v}`).toBe(true);
      } else {
        s.device.write(offset, size, Math.floor(rnd() * 2 ** 32));
      }
    }
    rotate = false;
    const levels = s.lines.map((l) => l.level);
    const first = s.hot.map((o) => s.device.peek?.(o, 4));
    const second = s.hot.map((o) => s.device.peek?.(o, 4));
    expect(second).toEqual(first);
    expect(s.lines.map((l) => l.level)).toEqual(levels);
  });
});
