/**
 * Debian's riscv64 Linux in zone0 of QEMU virt riscv64 with PCIe, on both of hvisor's riscv64
 * platforms: the board carries a virtio-blk-pci (00:01.0), a virtio-net-pci (00:02.0) and an NVMe
 * controller (00:03.0) from a `pci` functions file; the zone's alloc_pci_devs (hvisor's root-zone
 * pci_config) gives it the host bridge, 00:01.0 and 00:03.0. Linux's pci-host-generic enumerates the
 * zone's virtual ECAM, Debian's modules bind, and the guest writes a pattern to each disk, which the
 * test then finds in the backing files.
 * - qemu-virt-riscv64 (PLIC): the functions interrupt through INTx, the interrupt-map's PLIC sources.
 * - qemu-virt-riscv64-aia: the host bridge's msi-parent is the zone's IMSIC; MSI-X writes reach the
 *   hart's S file through the zone's stage-2 space.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { rootZone } from '../../boards/qemu-virt-riscv64/root-zone.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { buildInitramfs, modulesWithDependencies, riscv64ModuleTree, scratch } from '../helpers/linux-initramfs.js';
import { mulberry32 } from '../helpers/prng.js';

const DISK_BYTES = 1 << 20;
const PATTERN_BYTES = 64 * 1024;
/** Where the guest writes the pattern: 4 KiB block 128 (512 KiB into each disk). */
const PATTERN_BLOCK = 128;
/** PLIC/APLIC sources of INTA for slots 1 and 3 (the interrupt-map: 32 + slot mod 4). */
const INTX_BLK = 33;
const INTX_NVME = 35;

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
echo "PCI-BEFORE: $(ls /sys/bus/pci/devices | tr '\\n' ' ')"
for d in /sys/bus/pci/devices/*; do echo "PCI-ID $(basename $d) $(cat $d/vendor) $(cat $d/device) $(cat $d/class)"; done
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
sleep 1
for d in /sys/bus/pci/devices/*; do echo "PCI-DRIVER $(basename $d) $(basename $(readlink $d/driver) 2>/dev/null)"; done
echo "DISKS: $(ls /sys/block | tr '\\n' ' ')"
for disk in vda nvme0n1; do
  echo "READ-$disk $(dd if=/dev/$disk bs=4096 count=16 2>/dev/null | md5sum)"
  dd if=/pattern.bin of=/dev/$disk bs=4096 seek=${PATTERN_BLOCK} conv=fsync 2>/dev/null
  echo 3 > /proc/sys/vm/drop_caches
  echo "BACK-$disk $(dd if=/dev/$disk bs=4096 skip=${PATTERN_BLOCK} count=16 iflag=direct 2>/dev/null | md5sum)"
done
echo INTERRUPTS-BEGIN
cat /proc/interrupts
echo PCI-TEST-DONE
exec sh
`;

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

function randomBytes(seed: number, n: number): Uint8Array {
  const next = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

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

/** The interrupts the rows whose chip and actions match took, in all. */
const taken = (rows: ReturnType<typeof interruptRows>, chip: RegExp, actions: RegExp) =>
  rows.filter((r) => chip.test(r.chip) && actions.test(r.actions)).reduce((n, r) => n + r.count, 0);

interface Boot {
  dir: string;
  disks: { blk: Uint8Array; nvme: Uint8Array };
  pattern: Uint8Array;
  out: string;
  log: string;
  interrupts: ReturnType<typeof interruptRows>;
}

describe('Debian riscv64 Linux enumerating PCI functions in zone0', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  async function boot(board: 'qemu-virt-riscv64' | 'qemu-virt-riscv64-aia', baseConfig: string): Promise<Boot> {
    const dir = scratch('rv64-pci-');
    const disks = { blk: randomBytes(1, DISK_BYTES), nvme: randomBytes(2, DISK_BYTES) };
    writeFileSync(join(dir, 'blk.img'), disks.blk);
    writeFileSync(join(dir, 'nvme.img'), disks.nvme);
    writeFileSync(join(dir, 'pci.json'), JSON.stringify({
      functions: [
        { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
        { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
        { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
      ],
    }));
    const pattern = randomBytes(3, PATTERN_BYTES);
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/riscv64', baseConfig), 'utf8'));
    Object.assign(config, {
      name: 'zone0-pci',
      interrupts: [10, INTX_BLK, INTX_NVME],
      kernel_filepath: join(fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/), 'vmlinuz'),
      initrd_filepath: buildInitramfs({
        base: 'initramfs-riscv64.cpio.gz',
        init: INIT,
        modules: modulesWithDependencies(riscv64ModuleTree(), ['virtio_blk', 'nvme']),
        files: { 'pattern.bin': pattern },
      }),
      // hvisor's root zone: the whole ECAM and windows, bus 0..0xff; the bridge, 00:01.0 and 00:03.0.
      pci_config: rootZone.pci_config,
      num_pci_devs: 3,
      alloc_pci_devs: [{ bdf: '0x0', dev_type: '0x0' }, { bdf: '0x8', dev_type: '0x0' }, { bdf: '0x18', dev_type: '0x0' }],
    });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    const console0 = new GuestConsole('zone0-pci');
    const started = Date.now();
    instance = await launch({ board, zones: [join(dir, 'zone0.json')], pci: join(dir, 'pci.json'), gdbBasePort: false, output: console0.append, log: () => {} });
    const out = await console0.waitFor(/PCI-TEST-DONE/, 'the PCI script to finish', 420_000);
    const zone = instance.hypervisor.zone(0)!;
    console.log(`${board}: PCI script done after ${(Date.now() - started) / 1000} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions`);
    writeFileSync(join(dir, 'console.log'), console0.text());
    return { dir, disks, pattern, out, log: console0.text(), interrupts: interruptRows(out.slice(out.indexOf('INTERRUPTS-BEGIN'))) };
  }

  /** What both boards must show: exactly the zone's functions, the drivers bound, the I/O in the files. */
  function expectEnumerationAndIo(b: Boot): void {
    expect(b.out).toMatch(/PCI-BEFORE: 0000:00:00\.0 0000:00:01\.0 0000:00:03\.0\s*\n/);
    expect(b.out).toMatch(/PCI-ID 0000:00:00\.0 0x1b36 0x0008 0x060000/);
    expect(b.out).toMatch(/PCI-ID 0000:00:01\.0 0x1af4 0x1042 0x010000/);
    expect(b.out).toMatch(/PCI-ID 0000:00:03\.0 0x1b36 0x0010 0x010802/);
    expect(b.out).not.toMatch(/INSMOD-FAILED/);
    expect(b.out).toMatch(/PCI-DRIVER 0000:00:01\.0 virtio-pci/);
    expect(b.out).toMatch(/PCI-DRIVER 0000:00:03\.0 nvme/);
    expect(b.out).toMatch(/DISKS: .*nvme0n1.*vda|DISKS: .*vda.*nvme0n1/);
    // Reads came from the backing files; the pattern read back is the one written ...
    expect(b.out).toContain(`READ-vda ${md5(b.disks.blk.subarray(0, PATTERN_BYTES))}`);
    expect(b.out).toContain(`READ-nvme0n1 ${md5(b.disks.nvme.subarray(0, PATTERN_BYTES))}`);
    expect(b.out).toContain(`BACK-vda ${md5(b.pattern)}`);
    expect(b.out).toContain(`BACK-nvme0n1 ${md5(b.pattern)}`);
    // ... and it is in the files, where the guest put it, with the rest untouched.
    const at = PATTERN_BLOCK * 4096;
    for (const name of ['blk', 'nvme'] as const) {
      const now = new Uint8Array(readFileSync(join(b.dir, `${name}.img`)));
      expect(md5(now.subarray(at, at + PATTERN_BYTES))).toBe(md5(b.pattern));
      expect(md5(now.subarray(0, at))).toBe(md5(b.disks[name].subarray(0, at)));
    }
    expect(b.log).not.toMatch(/Oops|Unable to handle|BUG:|Kernel panic/);
  }

  it('qemu-virt-riscv64 (PLIC): sees exactly its functions, binds virtio-pci and nvme, does I/O on both disks through INTx', async () => {
    const b = await boot('qemu-virt-riscv64', 'zone0-linux.json');
    expectEnumerationAndIo(b);
    // Both functions' INTA through the interrupt-map to the zone's PLIC; no MSI (the PLIC board has no MSI controller).
    expect(taken(b.interrupts, new RegExp(`^SiFive PLIC\\s+${INTX_BLK}$`), /^virtio0$/)).toBeGreaterThan(0);
    expect(taken(b.interrupts, new RegExp(`^SiFive PLIC\\s+${INTX_NVME}$`), /nvme0q0/)).toBeGreaterThan(0);
    expect(b.interrupts.filter((r) => /MSI/.test(r.chip))).toEqual([]);
  }, 480_000);

  it('qemu-virt-riscv64-aia: sees exactly its functions, binds virtio-pci and nvme, does I/O on both disks through MSI-X to the IMSIC', async () => {
    const b = await boot('qemu-virt-riscv64-aia', 'zone0-linux-aia.json');
    expectEnumerationAndIo(b);
    // MSI-X vectors of each function (the IMSIC's PCI-MSIX domain; hwirq = vector) took interrupts ...
    expect(taken(b.interrupts, /^PCI-MSIX-0000:00:01\.0\s+\d+$/, /^virtio0-(requests|req\.\d+)$/)).toBeGreaterThan(0);
    expect(taken(b.interrupts, /^PCI-MSIX-0000:00:03\.0\s+0$/, /^nvme0q0$/)).toBeGreaterThan(0);
    expect(taken(b.interrupts, /^PCI-MSIX-0000:00:03\.0\s+\d+$/, /^nvme0q[1-9]\d*$/)).toBeGreaterThan(0);
    // ... and the INTx sources were never used (the UART is the APLIC's only MSI source).
    expect(b.interrupts.filter((r) => /APLIC/.test(r.chip)).map((r) => r.actions)).toEqual(['ttyS0']);
    expect(b.log).toMatch(/pci-host-generic 30000000\.pci: ECAM at \[mem 0x30000000-0x3fffffff\] for \[bus 00-ff\]/);
  }, 480_000);
});
