/**
 * The chain a zone builds: a board device's RoutedIrq connected to the zone's interrupt controller
 * input, both mapped in the zone's guest-physical AddressSpace, and the controller's output on a
 * vCPU line. Accesses go through AddressSpace as a core's loads and stores do (8-byte accesses
 * split low word first).
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { RoutedIrq } from '../../src/machine/routed-irq.js';
import { Gicv3, Icc } from '../../src/devices/irqchip/gic/gicv3.js';
import { Plic } from '../../src/devices/irqchip/plic.js';
import { createDevice } from '../../src/devices/registry.js';
import { BufferedCharBackend } from '../../src/devices/uart/char-backend.js';
import { TestIrq } from './qtest.js';

describe('device → RoutedIrq → per-zone controller → vCPU', () => {
  it('aarch64: PL011 on SPI 1 (INTID 33) through GICv3 to the vCPU routed by a 64-bit IROUTER store', () => {
    const mem = new AddressSpace();
    const console = new BufferedCharBackend();
    const spi = new RoutedIrq('SPI 1', 33);
    const uart = createDevice(
      { path: '/pl011@9000000', compatible: ['arm,pl011', 'arm,primecell'], windows: [{ base: 0x9000000, size: 0x1000 }], irqs: [spi] },
      { console: () => console },
    )!;
    const cpus = [new TestIrq(), new TestIrq()];
    const gic = new Gicv3({ vcpus: 2, ownedSpis: [33], affinities: [0x100n, 0x101n], irqOutputs: cpus });
    mem.mapMmio(0x9000000, 0x1000, uart);
    mem.mapMmio(0x8000000, 0x10000, gic.distributor);
    mem.mapMmio(0x80a0000, 2 * 0x20000, gic.redistributors);
    spi.connect(gic.spiInput(33));

    mem.write(0x8000000, 4, 0x13n);
    mem.write(0x8000084, 4, 0xffffffffn);
    expect(mem.write(0x8000000 + 0x6000 + 8 * 33, 8, 0x101n)).toBe(true); // Aff1=1, Aff0=1: vCPU 1
    expect(mem.read(0x8000000 + 0x6000 + 8 * 33, 8)).toBe(0x101n);
    mem.write(0x8000104, 4, 2n);
    gic.write(1, Icc.PMR, 0xf0n);
    gic.write(1, Icc.IGRPEN1, 1n);
    mem.write(0x9000038, 4, 1n << 4n); // PL011 RXIM
    console.push('x');
    expect(cpus[1]!.level).toBe(true);
    expect(cpus[0]!.level).toBe(false);
    expect(gic.read(1, Icc.IAR1)).toBe(33n);
    expect(mem.read(0x9000000, 4)).toBe(0x78n);
    gic.write(1, Icc.EOIR1, 33n);
    expect(cpus[1]!.level).toBe(false);
  });

  it('riscv64: NS16550A on PLIC source 10 to the hart-1 S-mode context', () => {
    const mem = new AddressSpace();
    const console = new BufferedCharBackend();
    const src = new RoutedIrq('PLIC 10', 10);
    const uart = createDevice(
      { path: '/soc/serial@10000000', compatible: ['ns16550a'], windows: [{ base: 0x10000000, size: 0x100 }], irqs: [src], regShift: 0 },
      { console: () => console },
    )!;
    const contexts = [new TestIrq(), new TestIrq(), new TestIrq(), new TestIrq()];
    const plic = new Plic({ numSources: 96, ownedSources: [10], vcpus: 2, contextOutputs: contexts });
    mem.mapMmio(0x10000000, 0x100, uart);
    mem.mapMmio(0xc000000, 0x600000, plic);
    src.connect(plic.input(10));
    mem.write(0xc000000 + 40, 4, 1n);
    mem.write(0xc000000 + 0x2000 + 0x80 * 3, 4, 1n << 10n);
    mem.write(0x10000001, 1, 1n); // IER: received data
    console.push('y');
    expect(contexts[3]!.level).toBe(true);
    expect(contexts.filter((c) => c.level).length).toBe(1);
    expect(mem.read(0xc000000 + 0x200000 + 0x1000 * 3 + 4, 4)).toBe(10n);
    expect(mem.read(0x10000000, 1)).toBe(0x79n);
    mem.write(0xc000000 + 0x200000 + 0x1000 * 3 + 4, 4, 10n);
    expect(contexts[3]!.level).toBe(false);
  });
});
