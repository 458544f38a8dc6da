import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import { Gicv3, Icc, REDISTRIBUTOR_STRIDE } from '../../src/devices/irqchip/gic/gicv3.js';
import { Gicv3Its, ITS_TRANSLATER } from '../../src/devices/irqchip/gic/gicv3-its.js';
import { modelReplay, qemuReplay, r, w, TestIrq } from './qtest.js';
import { guestMemory } from '../../src/machine/guest-memory.js';

const RAM = 0x40000000;
const PROP = RAM + 0x10000; // LPI property table
const PEND = RAM + 0x20000;
const CMDQ = RAM + 0x30000;
const DEVICE_TABLE = RAM + 0x50000; // one 64 KiB page: DeviceIDs 0..8191 (8-byte entries)
const COLLECTION_TABLE = RAM + 0x60000;
const ITS = 0x8080000;
const SGI = 0x10000;

/** A zone on two vCPUs with an ITS, brought up the way irq-gic-v3(-its) does it; its tables in RAM at `at`. */
function make(at = RAM) {
  const [PROP, PEND, CMDQ, DEVICE_TABLE, COLLECTION_TABLE] = [0x10000, 0x20000, 0x30000, 0x50000, 0x60000].map((o) => at + o);
  const mem = new AddressSpace();
  const ram = new Ram(0x80000);
  mem.mapRam(at, ram.size, ram);
  const outs = [new TestIrq(), new TestIrq()];
  const gic = new Gicv3({ vcpus: 2, ownedSpis: [], affinities: [0n, 1n], irqOutputs: outs, lpis: { memory: guestMemory(mem) } });
  const its = new Gicv3Its({ gic, memory: guestMemory(mem), base: ITS });
  const rd = gic.redistributors;
  gic.distributor.write(0, 4, 0x13);
  for (let cpu = 0; cpu < 2; cpu++) {
    const f = cpu * REDISTRIBUTOR_STRIDE;
    expect(rd.read(f + 0x8, 4) & 1).toBe(1); // PLPIS
    rd.write(f + 0x14, 4, 0);
    rd.write(f + 0x70, 4, PROP | (14 - 1)); // IDbits
    rd.write(f + 0x74, 4, 0);
    rd.write(f + 0x78, 4, PEND);
    rd.write(f + 0x7c, 4, 0);
    rd.write(f + 0x0, 4, 1); // EnableLPIs
    gic.write(cpu, Icc.PMR, 0xf0n);
    gic.write(cpu, Icc.IGRPEN1, 1n);
  }
  // Device and Collection tables: flat, one 64 KiB page each, valid.
  its.write(0x100, 4, DEVICE_TABLE | (2 << 8));
  its.write(0x104, 4, 0x80000000);
  its.write(0x108, 4, COLLECTION_TABLE | (2 << 8));
  its.write(0x10c, 4, 0x80000000);
  // Command queue: one 4 KiB page, valid.
  its.write(0x80, 4, CMDQ);
  its.write(0x84, 4, 0x80000000);
  its.write(0x88, 4, 0);
  its.write(0x0, 4, 1);
  let tail = 0;
  const send = (...cmds: bigint[][]) => {
    for (const c of cmds) {
      c.forEach((dw, i) => mem.write(CMDQ + tail + 8 * i, 8, dw));
      tail = (tail + 32) % 4096;
    }
    its.write(0x88, 4, tail);
    expect(its.read(0x90, 4)).toBe(tail); // CREADR caught up: commands done
  };
  const lpiConfig = (lpi: number, prio: number, enable: boolean) => mem.write(PROP + lpi - 8192, 1, BigInt(prio | (enable ? 1 : 0)));
  return { mem, gic, its, outs, send, lpiConfig, rd };
}

const MAPC = (icid: number, cpu: number) => [0x09n, 0n, (1n << 63n) | (BigInt(cpu) << 16n) | BigInt(icid), 0n];
const MAPD = (dev: number, valid = true, itt = RAM + 0x40000) => [0x08n | (BigInt(dev) << 32n), 4n, (valid ? 1n << 63n : 0n) | BigInt(itt), 0n];
const MAPTI = (dev: number, ev: number, lpi: number, icid: number) => [0x0an | (BigInt(dev) << 32n), (BigInt(lpi) << 32n) | BigInt(ev), BigInt(icid), 0n];
const INV = (dev: number, ev: number) => [0x0cn | (BigInt(dev) << 32n), BigInt(ev), 0n, 0n];
const MOVI = (dev: number, ev: number, icid: number) => [0x01n | (BigInt(dev) << 32n), BigInt(ev), BigInt(icid), 0n];
const INT = (dev: number, ev: number) => [0x03n | (BigInt(dev) << 32n), BigInt(ev), 0n, 0n];
const DISCARD = (dev: number, ev: number) => [0x0fn | (BigInt(dev) << 32n), BigInt(ev), 0n, 0n];
const SYNC = (cpu: number) => [0x05n, 0n, BigInt(cpu) << 16n, 0n];

describe('GICv3 ITS (per-zone) and LPIs', () => {
  it('maps a PCI function\'s MSI (DeviceID = BDF, EventID = data) to an LPI on its collection\'s vCPU', () => {
    const z = make();
    z.lpiConfig(8192, 0xa0, true);
    z.send(MAPC(0, 0), MAPC(1, 1), SYNC(0), SYNC(1), MAPD(0x18), MAPTI(0x18, 0, 8192, 1), INV(0x18, 0), SYNC(1));
    expect(z.its.commandErrors).toBe(0);
    z.its.signal(0x18, ITS + ITS_TRANSLATER, 0);
    expect(z.outs[1]!.level).toBe(true);
    expect(z.outs[0]!.level).toBe(false);
    expect(z.gic.read(1, Icc.HPPIR1)).toBe(8192n);
    expect(z.gic.read(1, Icc.IAR1)).toBe(8192n);
    expect(z.outs[1]!.level).toBe(false);
    expect(z.gic.read(1, Icc.RPR)).toBe(0xa0n);
    z.gic.write(1, Icc.EOIR1, 8192n);
    expect(z.gic.read(1, Icc.RPR)).toBe(0xffn);
  });

  it('works with its queue and tables at or above 2 GiB (zone0 on hvisor\'s QEMU layout has RAM there)', () => {
    const z = make(0x9000_0000);
    z.lpiConfig(8192, 0xa0, true);
    z.send(MAPC(0, 0), SYNC(0), MAPD(0x18, true, 0x9004_0000), MAPTI(0x18, 0, 8192, 0), INV(0x18, 0), SYNC(0));
    expect(z.its.commandErrors).toBe(0);
    z.its.signal(0x18, ITS + ITS_TRANSLATER, 0);
    expect(z.gic.read(0, Icc.IAR1)).toBe(8192n);
  });

  it('honours the property table: a disabled LPI stays pending until enabled and invalidated', () => {
    const z = make();
    z.lpiConfig(8200, 0x80, false);
    z.send(MAPC(0, 0), MAPD(0x20), MAPTI(0x20, 3, 8200, 0));
    z.its.signal(0x20, ITS + ITS_TRANSLATER, 3);
    expect(z.outs[0]!.level).toBe(false);
    z.lpiConfig(8200, 0x80, true);
    expect(z.outs[0]!.level).toBe(false); // not yet: the ITS caches the configuration
    z.send(INV(0x20, 3));
    expect(z.outs[0]!.level).toBe(true);
    expect(z.gic.read(0, Icc.IAR1)).toBe(8200n);
  });

  it('MOVI moves a pending LPI; INT raises one by command; DISCARD and unmapped devices drop MSIs', () => {
    const z = make();
    z.lpiConfig(8193, 0x40, true);
    z.send(MAPC(0, 0), MAPC(1, 1), MAPD(0x8), MAPTI(0x8, 1, 8193, 0));
    z.send(INT(0x8, 1));
    expect(z.outs[0]!.level).toBe(true);
    z.send(MOVI(0x8, 1, 1));
    expect(z.outs[0]!.level).toBe(false);
    expect(z.outs[1]!.level).toBe(true);
    expect(z.gic.read(1, Icc.IAR1)).toBe(8193n);
    z.gic.write(1, Icc.EOIR1, 8193n);
    z.send(DISCARD(0x8, 1));
    z.its.signal(0x8, ITS + ITS_TRANSLATER, 1);
    z.its.signal(0x99, ITS + ITS_TRANSLATER, 0);
    z.its.signal(0x8, 0x9000000, 1); // not the ITS doorbell
    expect(z.outs.some((o) => o.level)).toBe(false);
    expect(z.its.droppedMsis).toBe(2);
    z.send(MAPTI(0x77, 0, 8194, 0), MAPC(9, 2));
    expect(z.its.commandErrors).toBe(2); // an unmapped device; a third vCPU
  });

  it('a higher-priority LPI preempts a running LPI handler; EnableLPIs off masks LPIs', () => {
    const z = make();
    z.lpiConfig(8192, 0x80, true);
    z.lpiConfig(8193, 0x40, true);
    z.send(MAPC(0, 0), MAPD(1), MAPTI(1, 0, 8192, 0), MAPTI(1, 1, 8193, 0));
    z.its.signal(1, ITS + ITS_TRANSLATER, 0);
    expect(z.gic.read(0, Icc.IAR1)).toBe(8192n);
    z.its.signal(1, ITS + ITS_TRANSLATER, 1);
    expect(z.outs[0]!.level).toBe(true);
    expect(z.gic.read(0, Icc.IAR1)).toBe(8193n);
    z.gic.write(0, Icc.EOIR1, 8193n);
    z.gic.write(0, Icc.EOIR1, 8192n);
    z.its.signal(1, ITS + ITS_TRANSLATER, 0);
    z.rd.write(0x0, 4, 0);
    expect(z.outs[0]!.level).toBe(false);
  });

  it('keeps the command queue attributes Linux reads back (shareability) and ignores CBASER while enabled', () => {
    const z = make();
    z.its.write(0x0, 4, 0);
    z.its.write(0x80, 4, CMDQ | (1 << 10)); // Inner Shareable
    expect(z.its.read(0x80, 4)).toBe(CMDQ | (1 << 10));
    z.its.write(0x0, 4, 1);
    z.its.write(0x80, 4, 0);
    expect(z.its.read(0x80, 4)).toBe(CMDQ | (1 << 10));
  });

  it('a queue in unmapped memory and malformed register accesses do not break it', () => {
    const z = make();
    z.its.write(0x0, 4, 0);
    z.its.write(0x80, 4, 0x7000_0000);
    z.its.write(0x84, 4, 0x80000000);
    z.its.write(0x0, 4, 1);
    z.its.write(0x88, 4, 64);
    expect(z.its.commandErrors).toBe(2);
    expect(z.its.read(0x2, 4)).toBe(0);
    z.its.write(0x89, 1, 0xff);
    expect(z.its.read(0x110, 4)).toBe(0); // GITS_BASER2: unimplemented
  });

  it("identifies itself as QEMU virt's ITS does: CTLR, IIDR, TYPER, the GITS_BASER<n> and what their fields keep", async () => {
    const basers = Array.from({ length: 16 }, (_, i) => r(ITS + 0x100 + 4 * i));
    const seq = [
      r(ITS), r(ITS + 0x4), r(ITS + 0x8), r(ITS + 0xc), r(ITS + 0xffe8), ...basers,
      // Every bit written: Type and Entry_Size stay the ITS's; BASER2..7 stay RAZ/WI.
      ...Array.from({ length: 16 }, (_, i) => w(ITS + 0x100 + 4 * i, 0xffffffff)), ...basers,
      // Valid, Indirect, 4 KiB pages, an address and a size.
      w(ITS + 0x100, 0x4005_0003), w(ITS + 0x104, 0xc000_0000), w(ITS + 0x108, 0x4006_0101), w(ITS + 0x10c, 0x8000_0000), ...basers.slice(0, 4),
      // Enabled, the tables keep their value whatever is written.
      w(ITS, 1), w(ITS + 0x100, 0), w(ITS + 0x104, 0), r(ITS + 0x100), r(ITS + 0x104),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '2', '-m', '128M'], seq);
    const z = new Gicv3Its({ gic: new Gicv3({ vcpus: 2, ownedSpis: [], affinities: [0n, 1n], irqOutputs: [new TestIrq(), new TestIrq()], lpis: { memory: guestMemory(new AddressSpace()) } }), memory: guestMemory(new AddressSpace()) });
    expect(modelReplay(z, ITS, seq)).toEqual(qemu);
  });

  it('keeps the mappings in the guest\'s tables: DTE, CTE and ITE as QEMU lays them out, cleared by DISCARD and MAPD V=0', () => {
    const z = make();
    const itt = RAM + 0x40000;
    z.send(MAPC(3, 1), MAPD(0x18), MAPTI(0x18, 2, 8195, 3), SYNC(1));
    expect(z.mem.read(COLLECTION_TABLE + 3 * 8, 8)).toBe(1n | (1n << 1n)); // valid, RDbase = processor 1
    expect(z.mem.read(DEVICE_TABLE + 0x18 * 8, 8)).toBe(1n | (4n << 1n) | (BigInt(itt / 256) << 6n)); // valid, 5 EventID bits, ITT
    expect(z.mem.read(itt + 2 * 12, 4)).toBe(3n | (8195n << 2n)); // valid, physical, INTID
    expect(z.mem.read(itt + 2 * 12 + 4, 4)).toBe(3n); // ICID
    expect(z.mem.read(itt + 2 * 12 + 8, 4)).toBe(1023n); // no doorbell
    // The guest rewriting its own tables redirects the next MSI: the ITS reads them on every lookup.
    z.lpiConfig(8195, 0x80, true);
    z.send(INV(0x18, 2));
    z.mem.write(COLLECTION_TABLE + 3 * 8, 8, 1n); // collection 3 → processor 0
    z.its.signal(0x18, ITS + ITS_TRANSLATER, 2);
    expect(z.outs[0]!.level).toBe(true);
    expect(z.outs[1]!.level).toBe(false);
    expect(z.gic.read(0, Icc.IAR1)).toBe(8195n);
    z.gic.write(0, Icc.EOIR1, 8195n);
    z.send(DISCARD(0x18, 2));
    expect(z.mem.read(itt + 2 * 12, 4)).toBe(0n);
    z.send(MAPD(0x18, false));
    expect(z.mem.read(DEVICE_TABLE + 0x18 * 8, 8)).toBe(0n);
    expect(z.its.commandErrors).toBe(0);
    // EventIDs beyond the 5 bits MAPD gave, and DeviceIDs beyond the table's one page, are refused.
    z.send(MAPD(0x18), MAPTI(0x18, 32, 8196, 3), MAPD(0x2000));
    expect(z.its.commandErrors).toBe(2);
  });

  it('walks an indirect Device table: a DeviceID whose level-1 descriptor is not valid cannot be mapped', () => {
    const z = make();
    const l1 = RAM + 0x70000;
    const l2 = RAM + 0x71000;
    z.its.write(0x0, 4, 0);
    z.its.write(0x100, 4, l1 | (0 << 8)); // 4 KiB pages, one level-1 page
    z.its.write(0x104, 4, 0xc0000000); // valid, indirect
    expect(z.its.read(0x104, 4)).toBe(0xc1070000);
    z.its.write(0x0, 4, 1);
    // DeviceID 0x1234 is in level-2 page 0x1234 / 512 = 9.
    z.send(MAPD(0x1234));
    expect(z.its.commandErrors).toBe(1);
    z.mem.write(l1 + 9 * 8, 8, (1n << 63n) | BigInt(l2));
    z.lpiConfig(8192, 0x80, true);
    z.send(MAPC(0, 0), MAPD(0x1234), MAPTI(0x1234, 0, 8192, 0), INV(0x1234, 0));
    expect(z.its.commandErrors).toBe(1);
    expect(z.mem.read(l2 + (0x1234 % 512) * 8, 8)! & 1n).toBe(1n);
    z.its.signal(0x1234, ITS + ITS_TRANSLATER, 0);
    expect(z.gic.read(0, Icc.IAR1)).toBe(8192n);
  });

  it('reset (zone restart) forgets the tables: GITS_BASER<n> read their reset values again', () => {
    const z = make();
    expect(z.its.read(0x104, 4)).toBe(0x81070000);
    z.its.reset();
    expect([0x100, 0x104, 0x108, 0x10c].map((o) => z.its.read(o, 4))).toEqual([0x200, 0x01070000, 0x200, 0x04070000]);
  });
});
