/**
 * Debian's arm64 Linux 6.1 in zone0 of qemu-virt-aarch64 with PCIe: the board carries a
 * virtio-blk-pci (00:01.0), a virtio-net-pci (00:02.0) and an NVMe controller (00:03.0) from a
 * `pci` functions file; the zone's alloc_pci_devs gives it the host bridge, 00:01.0 and 00:03.0.
 * Linux's pci-host-generic driver enumerates the zone's virtual ECAM, the Debian modules bind, and
 * the guest writes a pattern to each disk, which the test then finds in the backing files.
 * Interrupts are MSI-X: the zone's config has gits_base/gits_size, so its GICv3 has LPIs and an ITS
 * at gits_base, the zone device tree keeps the ITS node and the host bridge's msi-map, and the
 * functions' MSI-X writes reach GITS_TRANSLATER through the zone's stage-2 space.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixtureMatching, REPO } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies, scratch } from '../helpers/linux-initramfs.js';
import { diskPatternScript, expectDiskPattern, PATTERN_BYTES, seededBytes } from './disk-pattern.js';

const DISK_BYTES = 1 << 20;

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
echo "PCI-BEFORE: $(ls /sys/bus/pci/devices | tr '\\n' ' ')"
for d in /sys/bus/pci/devices/*; do echo "PCI-ID $(basename $d) $(cat $d/vendor) $(cat $d/device) $(cat $d/class) irq $(cat $d/irq)"; done
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
sleep 1
for d in /sys/bus/pci/devices/*; do echo "PCI-DRIVER $(basename $d) $(basename $(readlink $d/driver) 2>/dev/null)"; done
echo "DISKS: $(ls /sys/block | tr '\\n' ' ')"
${diskPatternScript('vda')}
${diskPatternScript('nvme0n1')}
cat /proc/interrupts | grep -i -E 'virtio|nvme|ITS'
echo PCI-TEST-DONE
exec sh
`;

/** /proc/interrupts rows of chip ITS-MSI: action name → count summed over CPUs. */
function itsMsiCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^\s*\d+:((?:\s+\d+)+)\s+ITS-MSI\s+\d+\s+Edge\s+(\S+)\s*$/gm)) {
    out.set(m[2]!, m[1]!.trim().split(/\s+/).reduce((n, c) => n + Number(c), 0));
  }
  return out;
}

describe('Debian arm64 Linux enumerating PCI functions in zone0', () => {
  let instance: Instance | undefined;
  let console0: GuestConsole | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
    // For a failed boot: the whole console, where the error shows only its end.
    if (process.env.PCI_TEST_CONSOLE && console0) writeFileSync(process.env.PCI_TEST_CONSOLE, console0.text());
  });

  it('sees exactly its functions, binds virtio_pci/virtio_blk and nvme, does I/O on both disks, with MSI-X through the zone ITS', async () => {
    const dir = scratch('a64-pci-');
    const disks = { blk: seededBytes(1, DISK_BYTES), nvme: seededBytes(2, DISK_BYTES) };
    writeFileSync(join(dir, 'blk.img'), disks.blk);
    writeFileSync(join(dir, 'nvme.img'), disks.nvme);
    writeFileSync(join(dir, 'pci.json'), JSON.stringify({
      functions: [
        { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
        { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
        { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
      ],
    }));
    const pattern = seededBytes(3, PATTERN_BYTES);
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux-pci.json'), 'utf8'));
    config.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    config.initrd_filepath = buildInitramfs({
      base: 'initramfs-arm64.cpio.gz',
      init: INIT,
      modules: modulesWithDependencies(arm64ModuleTree(), ['virtio_pci', 'virtio_blk', 'nvme']),
      files: { 'pattern.bin': pattern },
    });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    console0 = new GuestConsole('zone0-linux-');
    const started = Date.now();
    instance = await launch({ board: 'qemu-virt-aarch64', zones: [join(dir, 'zone0.json')], pci: join(dir, 'pci.json'), gdbBasePort: false, output: console0.append, log: () => {} });
    const out = await console0.waitFor(/PCI-TEST-DONE/, 'the PCI script to finish', 420_000);
    const zone = instance.hypervisor.zone(0)!;
    console.log(`PCI script done after ${(Date.now() - started) / 1000} s, ${zone.cpus.reduce((n, c) => n + c.retired, 0)} instructions`);

    // Enumeration: the host bridge and the zone's two functions; 00:02.0 (virtio-net) is not the zone's.
    expect(out).toMatch(/PCI-BEFORE: 0000:00:00\.0 0000:00:01\.0 0000:00:03\.0\s*\n/);
    expect(out).toMatch(/PCI-ID 0000:00:00\.0 0x1b36 0x0008 0x060000/);
    expect(out).toMatch(/PCI-ID 0000:00:01\.0 0x1af4 0x1042 0x010000 irq \d+/);
    expect(out).toMatch(/PCI-ID 0000:00:03\.0 0x1b36 0x0010 0x010802 irq \d+/);
    expect(out).not.toMatch(/INSMOD-FAILED/);
    expect(out).toMatch(/PCI-DRIVER 0000:00:01\.0 virtio-pci/);
    expect(out).toMatch(/PCI-DRIVER 0000:00:03\.0 nvme/);
    expect(out).toMatch(/DISKS: .*nvme0n1.*vda|DISKS: .*vda.*nvme0n1/);

    // Reads came from the backing files; the pattern read back is the one written, and it is in the files.
    expectDiskPattern(out, 'vda', join(dir, 'blk.img'), disks.blk, pattern);
    expectDiskPattern(out, 'nvme0n1', join(dir, 'nvme.img'), disks.nvme, pattern);
    // MSI-X through the ITS: Linux found the ITS, and both drivers' vectors took interrupts as LPIs.
    expect(console0.text()).toMatch(/ITS \[mem 0x0*8080000-0x0*809ffff\]/);
    // Rows such as ` 17:   23   ITS-MSI 16385 Edge   virtio0-req.0` (hwirq = BDF << 11 | vector).
    const msi = itsMsiCounts(out);
    const total = (name: RegExp) => [...msi.entries()].filter(([n]) => name.test(n)).reduce((n, [, c]) => n + c, 0);
    expect(msi.has('virtio0-config')).toBe(true);
    expect(total(/^virtio0-(requests|req\.\d+)$/)).toBeGreaterThan(0);
    expect(msi.get('nvme0q0') ?? 0).toBeGreaterThan(0);
    expect(total(/^nvme0q[1-9]\d*$/)).toBeGreaterThan(0);
    expect(out).toMatch(/ITS-MSI\s+16385\s+Edge\s+virtio0-req/); // 00:01.0, vector 1
    expect(out).toMatch(/ITS-MSI\s+49152\s+Edge\s+nvme0q0/); // 00:03.0, vector 0
    // The INTx lines are not used by MSI-X functions.
    expect(out).not.toMatch(/GICv3\s+(36|38) Level/);
    expect(console0.text()).not.toMatch(/Internal error|Unable to handle|BUG:/);
  }, 480_000);
});
