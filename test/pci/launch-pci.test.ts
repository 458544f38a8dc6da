/**
 * launch() with a PCI functions file, without a Linux boot: a zone0 that only sleeps owns the
 * host bridge, a virtio-blk-pci and an NVMe controller; gdb-multiarch reads the zone's PCI tree
 * through `monitor pci`; bad input is refused before anything runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, LaunchError, type Instance } from '../../src/cli/launch.js';
import { PciAssignmentError } from '../../src/devices/pci/virtual-ecam.js';
import { ConfigError } from '../../src/config/config-error.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { gdbBatch } from '../gdbstub/gdb-batch.js';

const BASE = 0x4008_0000;

function setup(mutate: (zone: any) => void = () => {}, functions?: unknown) {
  const dir = scratch('launch-pci-');
  writeFileSync(join(dir, 'p.s'), '.text\n.globl _start\n_start:\n1: wfi\n b 1b\n');
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'p.o'), join(dir, 'p.s')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'p.o'), join(dir, 'sleep.bin')]);
  writeFileSync(join(dir, 'blk.img'), new Uint8Array(4096));
  writeFileSync(join(dir, 'nvme.img'), new Uint8Array(4096));
  writeFileSync(join(dir, 'pci.json'), JSON.stringify(functions ?? {
    functions: [
      { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
      { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
    ],
  }));
  const zone = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux-pci.json'), 'utf8'));
  Object.assign(zone, {
    memory_regions: [{ type: 'ram', physical_start: '0x40000000', virtual_start: '0x40000000', size: '0x1000000' }],
    kernel_filepath: 'sleep.bin',
    kernel_load_paddr: BASE,
    entry_point: BASE,
    dtb_load_paddr: '0x40000000',
  });
  delete zone.initrd_filepath;
  delete zone.initrd_load_paddr;
  mutate(zone);
  writeFileSync(join(dir, 'zone0.json'), JSON.stringify(zone));
  return { zones: [join(dir, 'zone0.json')], pci: join(dir, 'pci.json') };
}

describe('launch() with the board\'s PCI functions', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('gives zone0 its vECAM and windows; gdb-multiarch reads the zone\'s tree with monitor pci', async () => {
    const { zones, pci } = setup();
    instance = await launch({ board: 'qemu-virt-aarch64', zones, pci, gdbBasePort: 0, output: () => {}, log: () => {} });
    const zone = instance.hypervisor.zone(0)!;
    expect(zone.deviceWindows.map((w) => [w.base, w.size, w.name])).toEqual([
      [0x40_1000_0000, 0x1000_0000, 'pci vECAM of zone 0 (zone0-linux-pci)'],
      [0x3eff_0000, 0x8000, 'pci io window of zone 0 (zone0-linux-pci)'],
      [0x1000_0000, 0x1000_0000, 'pci mem32 window of zone 0 (zone0-linux-pci)'],
      [0x80_0000_0000, 0x10_0000_0000, 'pci mem64 window of zone 0 (zone0-linux-pci)'],
    ]);
    // The zone reads its functions' ids through its own stage 2 (what its Linux would do).
    expect(zone.memory.read(0x40_1000_0000 + (3 << 15), 4)).toBe(0x0010_1b36n);
    expect(zone.memory.read(0x40_1000_0000 + (2 << 15), 4)).toBe(0xffff_ffffn);
    const run = await gdbBatch(instance.gdb.get(0)!.port, undefined, ['monitor pci', 'detach'], { timeoutMs: 30_000 });
    const text = run.stdout + run.stderr;
    expect(text).toMatch(/virtual ECAM at 0x4010000000/);
    expect(text).toMatch(/00:00\.0 Host bridge \[060000\]: gpex-root \[1b36:0008\] rev 00/);
    expect(text).toMatch(/00:01\.0 SCSI storage controller \[010000\]: virtio-blk-pci \[1af4:1042\] rev 01/);
    expect(text).toMatch(/00:03\.0 Non-Volatile memory controller \[010802\]: nvme \[1b36:0010\] rev 02\n\s+BAR0 mem64\s+zone-pci 0x0 size 16K \(outside the zone windows, not decoded\)\n\s+IRQ INTA -> SPI 6 \(irq 38\)/);
    expect(text).toMatch(/capabilities: MSI-X@40 PCIe@80 PM@60/);
    expect(instance.pci!.describe()).toMatch(/00:03\.0 [\s\S]*?owner: zone 0/);
  });

  it('refuses a malformed functions file, a zone asking for a function the board lacks, and a shared BDF', async () => {
    const bad = setup(() => {}, { functions: [{ bdf: '00:01.0', type: 'sata' }] });
    await expect(launch({ board: 'qemu-virt-aarch64', ...bad, gdbBasePort: false, output: () => {}, log: () => {} })).rejects.toThrow(
      new ConfigError(bad.pci, 'functions[0].type', 'one of "virtio-blk", "virtio-net", "nvme", got "sata"'),
    );
    const notJson = setup();
    writeFileSync(notJson.pci, '{ functions: ');
    await expect(launch({ board: 'qemu-virt-aarch64', ...notJson, gdbBasePort: false, output: () => {}, log: () => {} })).rejects.toThrow(ConfigError);
    const absent = setup((z) => z.alloc_pci_devs.push({ bdf: '0x10', dev_type: 0 }));
    await expect(launch({ board: 'qemu-virt-aarch64', ...absent, gdbBasePort: 0, output: () => {}, log: () => {} })).rejects.toThrow(
      new PciAssignmentError('zone 0: alloc_pci_devs names 00:02.0, which has no function'),
    );
    // Two zones naming 00:01.0: the partition check names both before zone 1 exists.
    const shared = setup();
    const zone1 = JSON.parse(readFileSync(shared.zones[0]!, 'utf8'));
    Object.assign(zone1, {
      name: 'zone1', zone_id: 1, cpus: [1],
      memory_regions: [{ type: 'ram', physical_start: '0x41000000', virtual_start: '0x40000000', size: '0x1000000' }],
      kernel_load_paddr: 0x4108_0000, dtb_load_paddr: '0x41000000', interrupts: [37],
    });
    zone1.pci_config[0].mem32_base = zone1.pci_config[0].pci_mem32_base = '0x20000000';
    writeFileSync(join(shared.zones[0]! + '.1.json'), JSON.stringify(zone1));
    await expect(launch({ board: 'qemu-virt-aarch64', zones: [shared.zones[0]!, shared.zones[0]! + '.1.json'], pci: shared.pci, gdbBasePort: 0, output: () => {}, log: () => {} }))
      .rejects.toThrow(/PCI function 0000:00:01\.0 is given to both zone 0 .* and zone 1/);
  });
});
