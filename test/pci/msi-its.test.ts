/**
 * MSI-X through a zone's GICv3 ITS, end to end with the real models: launch() builds zone0 and
 * zone1 on qemu-virt-aarch64 (GICv3 with gits_base/gits_size, PCI functions from a file); each
 * zone runs a tiny aarch64 program that takes IRQs through the ICC_* interface and records the
 * INTIDs it acknowledged. The test plays each zone's kernel on the MMIO side, through the zone's
 * own stage-2 space (LPI tables, ITS command queue, BARs, MSI-X table), as Linux's
 * irq-gic-v3-its and nvme-pci would. An NVMe completion then reaches zone0's vCPU as an LPI.
 * Isolation: a message aimed anywhere but the zone's doorbell is dropped, and a zone's ITS maps
 * and translates only its own functions' device ids. Without gits_size the function uses INTx.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { Gicv3Its, ITS_TRANSLATER } from '../../src/devices/irqchip/gic/gicv3-its.js';
import type { Zone } from '../../src/hypervisor/zone/zone.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { NvmeTestDriver } from './nvme-driver.js';

const GICD = 0x800_0000;
const GICR = 0x80a_0000;
const ITS = 0x808_0000;
const ECAM = 0x40_1000_0000;
const NVME_BDF = 0x18; // 00:03.0, zone0's
const NET_BDF = 0x10; // 00:02.0, zone1's
const NVME_BAR0 = 0x1000_0000; // in the zones' mem32 window
const RAM = [0x4000_0000, 0x6000_0000];
/** Offsets in each zone's RAM. */
const PROGRAM = 0x8_0000;
const RECORD = PROGRAM + 0x1000;
const PROP = 0x20_0000;
const PEND = 0x21_0000;
const CMDQ = 0x22_0000;
const DEVICE_TABLE = 0x24_0000; // GITS_BASER0: flat, one 64 KiB page
const COLLECTION_TABLE = 0x25_0000; // GITS_BASER1
const ITT = 0x26_0000;
const NVME_PAGES = 0x30_0000;

/**
 * Unmasks IRQs with ICC_PMR_EL1 = 0xf0 and ICC_IGRPEN1_EL1 = 1 and sleeps; the IRQ handler counts
 * acknowledged INTIDs (ICC_IAR1_EL1, spurious 1023 not counted) in RECORD[0], the last in RECORD[1].
 */
const PROGRAM_SOURCE = `
.text
.globl _start
_start:
  adr x0, vectors
  msr vbar_el1, x0
  mov x0, #0xf0
  msr S3_0_C4_C6_0, x0
  mov x0, #1
  msr S3_0_C12_C12_7, x0
  isb
  msr daifclr, #2
1: wfi
  b 1b
.macro HANDLER
  mrs x1, S3_0_C12_C12_0
  cmp w1, #1023
  b.eq 2f
  adr x2, record
  ldr w3, [x2]
  add w3, w3, #1
  str w3, [x2]
  str w1, [x2, #4]
  msr S3_0_C12_C12_1, x1
2: eret
.endm
.org 0x800
vectors:
.org 0x880
  HANDLER
.org 0xa80
  HANDLER
.org 0x1000
record: .word 0, 0
`;

const hex = (n: number) => `0x${n.toString(16)}`;

function assemble(dir: string): string {
  writeFileSync(join(dir, 'irq.s'), PROGRAM_SOURCE);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'irq.o'), join(dir, 'irq.s')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'irq.o'), join(dir, 'irq.bin')]);
  return 'irq.bin';
}

function setup(mutate: (zone: any, id: number) => void = () => {}) {
  const dir = scratch('msi-its-');
  const program = assemble(dir);
  writeFileSync(join(dir, 'nvme.img'), new Uint8Array(64 * 1024));
  writeFileSync(join(dir, 'pci.json'), JSON.stringify({
    functions: [
      { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
      { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
    ],
  }));
  const zones = ['zone0-linux-pci.json', 'zone1-linux-pci.json'].map((name, id) => {
    const zone = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64', name), 'utf8'));
    const base = RAM[id]!;
    Object.assign(zone, {
      memory_regions: [{ type: 'ram', physical_start: hex(base), virtual_start: hex(base), size: '0x1000000' }],
      kernel_filepath: program,
      kernel_load_paddr: hex(base + PROGRAM),
      entry_point: hex(base + PROGRAM),
      dtb_load_paddr: hex(base),
      alloc_pci_devs: [{ bdf: 0, dev_type: 0 }, { bdf: id === 0 ? NVME_BDF : NET_BDF, dev_type: 0 }],
      interrupts: id === 0 ? [38] : [37], // their functions' INTx lines
    });
    delete zone.initrd_filepath;
    delete zone.initrd_load_paddr;
    mutate(zone, id);
    const file = join(dir, `zone${id}.json`);
    writeFileSync(file, JSON.stringify(zone));
    return file;
  });
  return { zones, pci: join(dir, 'pci.json') };
}

/** The zone's kernel, MMIO side: everything through the zone's own stage-2 space. */
class ZoneKernel {
  private tail = 0;
  readonly ram: number;

  constructor(readonly zone: Zone) {
    this.ram = RAM[zone.config.zoneId]!;
  }

  w32(addr: number, v: number): void {
    expect(this.zone.memory.write(addr, 4, BigInt(v >>> 0))).toBe(true);
  }

  r32(addr: number): number {
    return Number(this.zone.memory.read(addr, 4) ?? -1n);
  }

  get irqCount(): number {
    return this.r32(this.ram + RECORD);
  }

  get lastIntid(): number {
    return this.r32(this.ram + RECORD + 4);
  }

  its(): Gicv3Its {
    const w = this.zone.irqchip!.windows.find((x) => x.device instanceof Gicv3Its);
    expect(w?.base).toBe(ITS);
    return w!.device as Gicv3Its;
  }

  /** irq-gic-v3's LPI bring-up on the zone's one redistributor and the ITS's command queue. */
  enableLpis(): void {
    this.w32(GICD, 0x12); // ARE_NS, EnableGrp1NS
    this.w32(GICR + 0x70, this.ram + PROP + 13); // PROPBASER: 14 INTID bits
    this.w32(GICR + 0x74, 0);
    this.w32(GICR + 0x78, this.ram + PEND);
    this.w32(GICR + 0x7c, 0);
    this.w32(GICR, 1); // EnableLPIs
    this.w32(ITS + 0x100, this.ram + DEVICE_TABLE + (2 << 8)); // 64 KiB pages, one of them
    this.w32(ITS + 0x104, 0x8000_0000); // valid
    this.w32(ITS + 0x108, this.ram + COLLECTION_TABLE + (2 << 8));
    this.w32(ITS + 0x10c, 0x8000_0000);
    this.w32(ITS + 0x80, this.ram + CMDQ);
    this.w32(ITS + 0x84, 0x8000_0000); // valid, one 4 KiB page
    this.w32(ITS + 0x88, 0);
    this.w32(ITS, 1);
  }

  lpiConfig(lpi: number, priority: number): void {
    expect(this.zone.memory.write(this.ram + PROP + lpi - 8192, 1, BigInt(priority | 1))).toBe(true);
  }

  commands(...cmds: bigint[][]): void {
    for (const c of cmds) {
      c.forEach((dw, i) => expect(this.zone.memory.write(this.ram + CMDQ + this.tail + 8 * i, 8, dw)).toBe(true));
      this.tail = (this.tail + 32) % 4096;
    }
    this.w32(ITS + 0x88, this.tail);
    expect(this.r32(ITS + 0x90)).toBe(this.tail); // CREADR caught up
  }

  /** nvme-pci's probe up to the admin queue, with MSI-X vector 0 aimed at `address` / `data`. */
  nvme(address: number, data: number, msix = true): NvmeTestDriver {
    const cfg = ECAM + (NVME_BDF << 12);
    this.w32(cfg + 0x10, NVME_BAR0);
    this.w32(cfg + 0x14, 0);
    this.w32(cfg + 0x04, 0x6); // memory space, bus master
    if (msix) {
      expect(this.r32(cfg + 0x40) & 0xff).toBe(0x11); // the MSI-X capability
      this.w32(cfg + 0x40, 0x8000_0000 | (this.r32(cfg + 0x40) & 0xffff));
      this.msixVector0(address, data);
    }
    const driver = new NvmeTestDriver(this.zone.memory, NVME_BAR0, this.ram + NVME_PAGES);
    driver.start();
    return driver;
  }

  msixVector0(address: number, data: number): void {
    const table = NVME_BAR0 + (this.r32(ECAM + (NVME_BDF << 12) + 0x44) & ~7);
    this.w32(table, address);
    this.w32(table + 4, 0);
    this.w32(table + 8, data);
    this.w32(table + 12, 0); // unmasked
  }
}

const MAPC = (icid: number, cpu: number) => [0x09n, 0n, (1n << 63n) | (BigInt(cpu) << 16n) | BigInt(icid), 0n];
const MAPD = (dev: number, itt: number) => [0x08n | (BigInt(dev) << 32n), 4n, (1n << 63n) | BigInt(itt), 0n];
const MAPTI = (dev: number, ev: number, lpi: number, icid: number) => [0x0an | (BigInt(dev) << 32n), (BigInt(lpi) << 32n) | BigInt(ev), BigInt(icid), 0n];
const SYNC = [0x05n, 0n, 0n, 0n];
const IDENTIFY_CONTROLLER = (buf: number) => [0x06, 1, 0, 0, 0, 0, buf, 0, 0, 0, 1];

async function until(what: string, done: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets the vCPUs run a while (for "nothing arrived" checks). */
const settle = () => new Promise((r) => setTimeout(r, 200));

describe('MSI-X of a zone\'s PCI functions through its GICv3 ITS', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('an NVMe completion reaches zone0\'s vCPU as the LPI its ITS mapped for DeviceID = BDF; stray messages reach no zone', async () => {
    instance = await launch({ board: 'qemu-virt-aarch64', ...setup(), gdbBasePort: false, output: () => {}, log: () => {} });
    const z0 = new ZoneKernel(instance.hypervisor.zone(0)!);
    const z1 = new ZoneKernel(instance.hypervisor.zone(1)!);
    for (const z of [z0, z1]) {
      z.enableLpis();
      z.commands(MAPC(0, 0), SYNC);
    }
    const its0 = z0.its();
    const its1 = z1.its();
    expect(its0).not.toBe(its1);
    z0.lpiConfig(8192 + 5, 0xa0);
    z0.commands(MAPD(NVME_BDF, z0.ram + ITT), MAPTI(NVME_BDF, 0, 8192 + 5, 0), SYNC);
    expect(its0.commandErrors).toBe(0);

    const nvme = z0.nvme(ITS + ITS_TRANSLATER, 0);
    nvme.submit(0, IDENTIFY_CONTROLLER(z0.ram + 0x40_0000));
    await until('zone0 to take the LPI', () => z0.irqCount >= 1);
    expect(z0.lastIntid).toBe(8192 + 5);
    expect(nvme.reap(0).map((c) => c.status)).toEqual([0]);
    expect(its0.droppedMsis).toBe(0);
    const taken = z0.irqCount;

    // Aimed at zone1's RAM (not mapped in zone0's stage 2), or at the ITS frame but not at
    // GITS_TRANSLATER: no zone takes anything and zone1's memory is untouched.
    const zone1Word = z1.ram + 0x1000;
    z1.zone.memory.write(zone1Word, 4, 0x5a5a5a5an);
    for (const address of [zone1Word, ITS]) {
      z0.msixVector0(address, 0);
      nvme.submit(0, IDENTIFY_CONTROLLER(z0.ram + 0x40_0000));
      await settle();
      expect(nvme.reap(0).map((c) => c.status)).toEqual([0]);
    }
    expect(z1.zone.memory.read(zone1Word, 4)).toBe(0x5a5a5a5an);
    expect(z0.r32(ITS)).toBe(0x8000_0001); // GITS_CTLR still enabled (the message was no register write)
    expect(its0.droppedMsis).toBe(1);
    expect(z0.irqCount).toBe(taken);
    expect(z1.irqCount).toBe(0);

    // zone1's ITS neither maps nor translates zone0's function; its own function's id it does.
    z1.lpiConfig(8192 + 9, 0xa0);
    z1.commands(MAPD(NVME_BDF, z1.ram + ITT), MAPTI(NVME_BDF, 0, 8192 + 9, 0), SYNC);
    expect(its1.commandErrors).toBe(2);
    its1.message(NVME_BDF, ITS_TRANSLATER, 0);
    await settle();
    expect(z1.irqCount).toBe(0);
    z1.commands(MAPD(NET_BDF, z1.ram + ITT), MAPTI(NET_BDF, 0, 8192 + 9, 0), SYNC);
    expect(its1.commandErrors).toBe(2);
    its1.message(NET_BDF, ITS_TRANSLATER, 0);
    await until('zone1 to take its own LPI', () => z1.irqCount === 1);
    expect(z1.lastIntid).toBe(8192 + 9);
    expect(z0.irqCount).toBe(taken);

    // A zone restart resets its ITS: the tables are forgotten (GITS_BASER<n> at their reset values), so
    // the mapping in zone1's memory no longer translates; zone0's ITS keeps its own.
    expect(z1.r32(ITS + 0x104)).toBe(0x8107_0000);
    instance.hypervisor.restartZone(1);
    expect([0x100, 0x104, 0x108, 0x10c].map((o) => z1.r32(ITS + o))).toEqual([0x200, 0x0107_0000, 0x200, 0x0407_0000]);
    expect(z1.r32(ITS)).toBe(0x8000_0000); // disabled
    const dropped = its1.droppedMsis;
    its1.message(NET_BDF, ITS_TRANSLATER, 0);
    expect(its1.droppedMsis).toBe(dropped + 1);
    expect(z0.r32(ITS + 0x104)).toBe(0x8107_0000);
  }, 60_000);

  it('without gits_size the zone has no ITS window and the function interrupts through INTx (SPI 6)', async () => {
    instance = await launch({
      board: 'qemu-virt-aarch64',
      ...setup((zone) => (zone.arch_config.gits_size = '0x0')),
      gdbBasePort: false,
      output: () => {},
      log: () => {},
    });
    const z0 = new ZoneKernel(instance.hypervisor.zone(0)!);
    expect(z0.zone.irqchip!.windows.some((w) => w.device instanceof Gicv3Its)).toBe(false);
    expect(z0.zone.memory.read(ITS, 4)).toBeUndefined(); // nothing mapped there: a stage-2 fault
    // SPI 6 of the interrupt-map (INTID 38): group 1, priority 0xa0, enabled, routed to the vCPU.
    z0.w32(GICD, 0x12);
    z0.w32(GICD + 0x84, 1 << 6);
    z0.w32(GICD + 0x400 + 36, 0xa0 << 16);
    z0.w32(GICD + 0x6000 + 8 * 38, 0);
    z0.w32(GICD + 0x104, 1 << 6);
    const nvme = z0.nvme(0, 0, false);
    nvme.submit(0, IDENTIFY_CONTROLLER(z0.ram + 0x40_0000));
    await until('zone0 to take SPI 38', () => z0.irqCount >= 1);
    expect(z0.lastIntid).toBe(38);
    expect(nvme.reap(0).map((c) => c.status)).toEqual([0]);
  }, 60_000);
});
