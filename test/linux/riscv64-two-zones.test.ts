/**
 * Two Debian riscv64 Linux zones on each of hvisor's riscv64 platforms, qemu-virt-riscv64 (PLIC)
 * and qemu-virt-riscv64-aia (APLIC in MSI mode + IMSIC), one boot per board serving every check:
 * - zone0 (harts 0-1) owns PCIe functions from a `pci` file: the board has a virtio-blk-pci
 *   (00:01.0), a virtio-net-pci (00:02.0) and an NVMe controller (00:03.0); zone0's alloc_pci_devs
 *   (hvisor's root-zone pci_config) gives it the host bridge, 00:01.0 and 00:03.0. Linux enumerates
 *   its virtual ECAM, Debian's modules bind, and it writes a pattern to each disk, which the test
 *   finds in the backing files. The functions interrupt through INTx (the interrupt-map's PLIC
 *   sources) on the PLIC board, through MSI-X to the zone's IMSIC files on the AIA board.
 * - zone1 is hvisor-tool's examples/qemu-riscv64/linux2.json (linux2-aia.json on the AIA board):
 *   hart 3, RAM 0x8300_0000..0x8f00_0000, virtio-mmio at 0x1000_6000 and 0x1000_7000. Adapted: our
 *   kernel and initramfs; the zone DTB generated (dtb_filepath ""); its interrupts are its virtio
 *   sources (the example lists the root zone's, which zone0 owns); its virtio windows are type
 *   "virtio" (served here, not passed through) plus a third slot for the NIC; no PCI functions (the
 *   example's 00:02.0/00:04.0 are zone0's board here). It has a virtio-blk disk (I/O the host finds in
 *   the image) and its only console is a virtio-console on TCP.
 * - Each zone has a virtio-net NIC on the board's switch; the zones ping each other.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootZone } from '../../boards/qemu-virt-riscv64/root-zone.js';
import { fixture, fixtureMatching, REPO } from '../helpers/fixtures.js';
import { buildInitramfs, modulesWithDependencies, riscv64ModuleTree, scratch } from '../helpers/linux-initramfs.js';
import { diskPatternScript, expectDiskPattern, PATTERN_BYTES, seededBytes } from './disk-pattern.js';
import { expectPingBothWays, netShell, startTwoZones, stopTwoZones, type TwoZones } from './two-zones.js';

const DISK_BYTES = 1 << 20;
/** PLIC/APLIC sources of INTA for slots 1 and 3 (the interrupt-map: 32 + slot mod 4). */
const INTX_BLK = 33;
const INTX_NVME = 35;
/** virtio-mmio slots (0x1000_1000 + n * 0x1000, source n + 1): zone0's NIC; zone1's NIC, disk and console. */
const ZONE0_NET = { addr: 0x1000_1000, irq: 1 };
const ZONE1_NET = { addr: 0x1000_5000, irq: 5 };
const ZONE1_BLK = { addr: 0x1000_6000, irq: 6 };
const ZONE1_CONSOLE = { addr: 0x1000_7000, irq: 7 };
/** Two boots on one host thread take minutes, more when the machine is shared. */
const BOOT_MS = 1_500_000;
const GUEST_MS = 300_000;
const TEST_MS = 600_000;

const PREAMBLE = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin`;
const LOAD_MODULES = 'for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done';

const ZONE0_INIT = `${PREAMBLE}
echo "PCI-BEFORE: $(ls /sys/bus/pci/devices | tr '\\n' ' ')"
for d in /sys/bus/pci/devices/*; do echo "PCI-ID $(basename $d) $(cat $d/vendor) $(cat $d/device) $(cat $d/class)"; done
${LOAD_MODULES}
sleep 1
for d in /sys/bus/pci/devices/*; do echo "PCI-DRIVER $(basename $d) $(basename $(readlink $d/driver) 2>/dev/null)"; done
echo "DISKS: $(ls /sys/block | tr '\\n' ' ')"
${diskPatternScript('vda')}
${diskPatternScript('nvme0n1')}
echo INTERRUPTS-BEGIN
cat /proc/interrupts
echo PCI-TEST-DONE
${netShell('10.0.0.1', 'zone0')}`;

/** zone1's /init: its only console is the virtio one, there once virtio_mmio is loaded. */
const ZONE1_INIT = `${PREAMBLE}
${LOAD_MODULES}
exec </dev/hvc0 >/dev/hvc0 2>&1
echo "DISKS: $(ls /sys/block | tr '\\n' ' ')"
${diskPatternScript('vda')}
${netShell('10.0.0.2', 'zone1')}`;

/**
 * The numbered /proc/interrupts rows: chip and hwirq (`SiFive PLIC   33`, `PCI-MSIX-0000:00:01.0      1`),
 * actions (`nvme0q0, nvme0q1`), and the count summed over the CPUs.
 */
function interruptRows(text: string): { chip: string; actions: string; count: number }[] {
  const rows: { chip: string; actions: string; count: number }[] = [];
  for (const m of text.matchAll(/^\s*\d+:((?:\s+\d+)+)\s+(.*?)\s+(?:Edge|Level)\s+(?:-fasteoi\s+)?(\S.*?)\s*$/gm)) {
    rows.push({ chip: m[2]!, actions: m[3]!, count: m[1]!.trim().split(/\s+/).reduce((n, c) => n + Number(c), 0) });
  }
  return rows;
}
type InterruptRows = ReturnType<typeof interruptRows>;

/** The interrupts the rows whose chip and actions match took, in all. */
const taken = (rows: InterruptRows, chip: RegExp, actions: RegExp) =>
  rows.filter((r) => chip.test(r.chip) && actions.test(r.actions)).reduce((n, r) => n + r.count, 0);

const hex = (n: number) => `0x${n.toString(16)}`;

interface BoardCase {
  readonly board: 'qemu-virt-riscv64' | 'qemu-virt-riscv64-aia';
  /** Our zone0 config the test starts from (its UART, its interrupt controller). */
  readonly zone0: string;
  /** hvisor-tool's example for zone1. */
  readonly zone1: string;
  /** The zone's interrupt controller as /proc/interrupts names it for a wired source. */
  readonly wired: string;
  /** What zone0's PCI interrupts must look like. */
  readonly expectPciInterrupts: (rows: InterruptRows) => void;
}

const BOARDS: readonly BoardCase[] = [
  {
    board: 'qemu-virt-riscv64',
    zone0: 'zone0-linux.json',
    zone1: 'linux2.json',
    wired: 'SiFive PLIC',
    expectPciInterrupts: (rows) => {
      // Both functions' INTA through the interrupt-map to the zone's PLIC; no MSI (the PLIC board has no MSI controller).
      expect(taken(rows, new RegExp(`^SiFive PLIC\\s+${INTX_BLK}$`), /^virtio\d+$/)).toBeGreaterThan(0);
      expect(taken(rows, new RegExp(`^SiFive PLIC\\s+${INTX_NVME}$`), /nvme0q0/)).toBeGreaterThan(0);
      expect(rows.filter((r) => /MSI/.test(r.chip))).toEqual([]);
    },
  },
  {
    board: 'qemu-virt-riscv64-aia',
    zone0: 'zone0-linux-aia.json',
    zone1: 'linux2-aia.json',
    wired: 'APLIC-MSI-d000000.aplic',
    expectPciInterrupts: (rows) => {
      // MSI-X vectors of each function (the IMSIC's PCI-MSIX domain; hwirq = vector) took interrupts ...
      expect(taken(rows, /^PCI-MSIX-0000:00:01\.0\s+\d+$/, /^virtio\d+-(requests|req\.\d+)$/)).toBeGreaterThan(0);
      expect(taken(rows, /^PCI-MSIX-0000:00:03\.0\s+0$/, /^nvme0q0$/)).toBeGreaterThan(0);
      expect(taken(rows, /^PCI-MSIX-0000:00:03\.0\s+\d+$/, /^nvme0q[1-9]\d*$/)).toBeGreaterThan(0);
      // ... and the INTx sources were never wired up.
      expect(rows.filter((r) => new RegExp(`^APLIC\\S*\\s+(${INTX_BLK}|${INTX_NVME})$`).test(r.chip))).toEqual([]);
    },
  },
];

describe.each(BOARDS)('two Debian riscv64 Linux zones on $board', (c) => {
  let zones: TwoZones | undefined;
  let dir: string;
  const disks = { blk: seededBytes(1, DISK_BYTES), nvme: seededBytes(2, DISK_BYTES), zone1: seededBytes(4, DISK_BYTES) };
  const pattern = seededBytes(3, PATTERN_BYTES);

  beforeAll(async () => {
    dir = scratch('rv64-two-zones-');
    console.log(`${c.board}: scratch folder (configs, images, console logs): ${dir}`);
    writeFileSync(join(dir, 'blk.img'), disks.blk);
    writeFileSync(join(dir, 'nvme.img'), disks.nvme);
    writeFileSync(join(dir, 'zone1.img'), disks.zone1);
    const write = (name: string, json: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(json, null, 2));
      return join(dir, name);
    };
    const pci = write('pci.json', {
      functions: [
        { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
        { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
        { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
      ],
    });
    const kernel = join(fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/), 'vmlinuz');
    const modules = riscv64ModuleTree();

    const zone0 = JSON.parse(readFileSync(join(REPO, 'boards/guests/riscv64', c.zone0), 'utf8'));
    Object.assign(zone0, {
      name: 'zone0',
      // zone1 has 0x8300_0000..0x8f00_0000 (hvisor's root zone lends it from its own RAM; this one has its own).
      memory_regions: [
        { type: 'ram', physical_start: '0x90000000', virtual_start: '0x90000000', size: '0x10000000' },
        { type: 'io', physical_start: '0x10000000', virtual_start: '0x10000000', size: '0x1000' },
        { type: 'virtio', physical_start: hex(ZONE0_NET.addr), virtual_start: hex(ZONE0_NET.addr), size: '0x1000' },
      ],
      interrupts: [10, INTX_BLK, INTX_NVME, ZONE0_NET.irq],
      kernel_filepath: kernel,
      kernel_load_paddr: '0x90200000',
      entry_point: '0x90200000',
      dtb_load_paddr: '0x9fe00000',
      initrd_load_paddr: '0x98000000',
      initrd_filepath: buildInitramfs({
        base: 'initramfs-riscv64.cpio.gz',
        init: ZONE0_INIT,
        modules: modulesWithDependencies(modules, ['virtio_blk', 'nvme', 'virtio_mmio', 'virtio_net']),
        files: { 'pattern.bin': pattern },
      }),
      // hvisor's root zone: the whole ECAM and windows, bus 0..0xff; the bridge, 00:01.0 and 00:03.0.
      pci_config: rootZone.pci_config,
      num_pci_devs: 3,
      alloc_pci_devs: [{ bdf: '0x0', dev_type: '0x0' }, { bdf: '0x8', dev_type: '0x0' }, { bdf: '0x18', dev_type: '0x0' }],
    });

    const zone1 = JSON.parse(readFileSync(fixture(`hvisor-tool-examples/qemu-riscv64/${c.zone1}`), 'utf8'));
    const virtioSlot = (s: { addr: number }) => ({ type: 'virtio', physical_start: hex(s.addr), virtual_start: hex(s.addr), size: '0x1000' });
    Object.assign(zone1, {
      memory_regions: [zone1.memory_regions[0], virtioSlot(ZONE1_NET), virtioSlot(ZONE1_BLK), virtioSlot(ZONE1_CONSOLE)],
      interrupts: [ZONE1_NET.irq, ZONE1_BLK.irq, ZONE1_CONSOLE.irq],
      kernel_filepath: kernel,
      dtb_filepath: '',
      initrd_filepath: buildInitramfs({
        base: 'initramfs-riscv64.cpio.gz',
        init: ZONE1_INIT,
        modules: modulesWithDependencies(modules, ['virtio_mmio', 'virtio_blk', 'virtio_net']),
        files: { 'pattern.bin': pattern },
      }),
      initrd_load_paddr: '0x8a000000',
      kernel_args: 'console=hvc0 rdinit=/init',
      pci_config: [],
      num_pci_devs: 0,
      alloc_pci_devs: [],
    });

    const device = (type: string, slot: { addr: number; irq: number }, extra: object) => ({ type, addr: hex(slot.addr), len: '0x1000', irq: slot.irq, ...extra, status: 'enable' });
    const virtio = write('virtio.json', {
      zones: [
        { id: 0, devices: [device('net', ZONE0_NET, { mac: [0x52, 0x54, 0, 0x12, 0x34, 0x01], tap: 'lan' })] },
        {
          id: 1,
          devices: [
            device('net', ZONE1_NET, { mac: [0x52, 0x54, 0, 0x12, 0x34, 0x02], tap: 'lan' }),
            device('blk', ZONE1_BLK, { img: join(dir, 'zone1.img') }),
            device('console', ZONE1_CONSOLE, { tcp: 0 }),
          ],
        },
      ],
    });

    zones = await startTwoZones({
      launch: { board: c.board, zones: [write('zone0.json', zone0), write('zone1.json', zone1)], virtio, pci, gdbBasePort: false },
      zone0Name: 'zone0',
      zone1Console: ZONE1_CONSOLE.addr,
      dir,
      bootMs: BOOT_MS,
    });
  }, BOOT_MS + 100_000);

  afterAll(async () => {
    await stopTwoZones(zones);
    zones = undefined;
  });

  it('zone0 enumerates exactly its PCI functions, binds virtio-pci and nvme, and does I/O the host finds in both backing files', () => {
    const log = zones!.console0.text();
    const out = log.slice(log.indexOf('PCI-BEFORE'));
    expect(out).toMatch(/PCI-BEFORE: 0000:00:00\.0 0000:00:01\.0 0000:00:03\.0\s*\n/);
    expect(out).toMatch(/PCI-ID 0000:00:00\.0 0x1b36 0x0008 0x060000/);
    expect(out).toMatch(/PCI-ID 0000:00:01\.0 0x1af4 0x1042 0x010000/);
    expect(out).toMatch(/PCI-ID 0000:00:03\.0 0x1b36 0x0010 0x010802/);
    expect(out).not.toMatch(/INSMOD-FAILED/);
    expect(out).toMatch(/PCI-DRIVER 0000:00:01\.0 virtio-pci/);
    expect(out).toMatch(/PCI-DRIVER 0000:00:03\.0 nvme/);
    expect(out).toMatch(/DISKS: .*nvme0n1.*vda|DISKS: .*vda.*nvme0n1/);
    expectDiskPattern(out, 'vda', join(dir, 'blk.img'), disks.blk, pattern);
    expectDiskPattern(out, 'nvme0n1', join(dir, 'nvme.img'), disks.nvme, pattern);
    expect(log).toMatch(/pci-host-generic 30000000\.pci: ECAM at \[mem 0x30000000-0x3fffffff\] for \[bus 00-ff\]/);
    c.expectPciInterrupts(interruptRows(out.slice(out.indexOf('INTERRUPTS-BEGIN'), out.indexOf('PCI-TEST-DONE'))));
    expect(log).not.toMatch(/Oops|Unable to handle|BUG:|Kernel panic|rcu: INFO: .*stall|hard LOCKUP|soft lockup/);
  });

  it('zone1 (hvisor-tool\'s example shape) runs on hart 3 in its own RAM, does virtio-blk I/O the host finds, and has a shell on virtio-console', async () => {
    const hvc1 = zones!.hvc1;
    const log = hvc1.console.text();
    expect(log).not.toMatch(/INSMOD-FAILED|Oops|Unable to handle|BUG:|Kernel panic|rcu: INFO: .*stall|hard LOCKUP|soft lockup/);
    expect(log).toMatch(/DISKS: vda\s/);
    expectDiskPattern(log, 'vda', join(dir, 'zone1.img'), disks.zone1, pattern);
    const where = await hvc1.console.run('tty; grep -E "^(processor|hart)[[:space:]]" /proc/cpuinfo; grep "System RAM" /proc/iomem; echo WHERE-DONE', /WHERE-DONE\s+zone1# $/, GUEST_MS);
    expect(where).toMatch(/\/dev\/hvc0/);
    expect(where).toMatch(/^processor\s*: 0\s*\nhart\s*: 3\s*$/m);
    // Exactly the example's RAM, 0x8300_0000 + 192 MiB.
    expect([...where.matchAll(/^\s*([0-9a-f]+-[0-9a-f]+) : System RAM\s*$/gm)].map((m) => m[1])).toEqual(['83000000-8effffff']);
    const interrupts = interruptRows(await hvc1.console.run('cat /proc/interrupts', /IPI[\s\S]*zone1# $/, GUEST_MS));
    for (const slot of [ZONE1_BLK, ZONE1_CONSOLE, ZONE1_NET]) {
      expect(taken(interrupts, new RegExp(`^${c.wired}\\s+${slot.irq}$`), /^virtio\d+$/)).toBeGreaterThan(0);
    }
  }, TEST_MS);

  it('zone0 pings zone1 and zone1 pings zone0 over virtio-net', async () => {
    const link0 = await zones!.console0.run('ip link show eth0', /zone0# $/, GUEST_MS);
    expect(link0).toMatch(/link\/ether 52:54:00:12:34:01/);
    expect(link0).toMatch(/<BROADCAST,MULTICAST,UP,LOWER_UP>/);
    await expectPingBothWays(zones!, GUEST_MS);
  }, TEST_MS);
});
