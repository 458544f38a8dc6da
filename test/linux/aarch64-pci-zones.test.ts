/**
 * Two zones share the board's PCIe, each with its own function: zone1 runs Debian's arm64 Linux
 * (1 vCPU, its own RAM) with the virtio-net-pci at 00:02.0; zone0 (the root zone, CPU 0) runs a
 * small bare-metal prober that owns the virtio-blk-pci at 00:01.0. Linux in zone1 enumerates only
 * its function and binds virtio_net; the prober sees zone1's function as absent in its own ECAM,
 * and touching zone1's PCI window is a stage-2 fault delivered to the prober alone, while zone1's
 * Linux runs on. Then gdb-multiarch asks each zone's stub for `monitor pci`.
 * (Two Linux zones at once would double the boot time on CI; the bare-metal zone0 keeps this
 * test near one Linux boot.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixtureMatching, REPO, tool } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies, scratch, waitForLinkUp } from '../helpers/linux-initramfs.js';
import { gdbBatch } from '../gdbstub/gdb-batch.js';

const PROBER_BASE = 0x4008_0000;
const RESULTS = PROBER_BASE + 0x1000;
/** An address in zone1's 32-bit PCI window (mem32_base 0x2000_0000): not in zone0's stage 2. */
const ZONE1_WINDOW = 0x2000_1000;

/** Reads four vendor/device words from its vECAM, then zone1's window; the abort handler records ESR/FAR. It then sleeps in WFI (no interrupts enabled), leaving the CPU time to zone1. */
const PROBER = `
  .text
  .globl _start
_start:
  adr   x0, vectors
  msr   vbar_el1, x0
  isb
  adr   x10, results
  movz  x1, #0x0040, lsl #32
  movk  x1, #0x1000, lsl #16       // x1 = 0x40_1000_0000, the zone's ECAM
  ldr   w2, [x1]                   // 00:00.0
  str   w2, [x10, #0]
  add   x3, x1, #0x8000            // 00:01.0 (zone0's)
  ldr   w2, [x3]
  str   w2, [x10, #4]
  add   x3, x1, #0x10000           // 00:02.0 (zone1's)
  ldr   w2, [x3]
  str   w2, [x10, #8]
  add   x3, x1, #0x18000           // 00:03.0 (nobody's)
  ldr   w2, [x3]
  str   w2, [x10, #12]
  movz  w2, #0x600d
  str   w2, [x10, #16]
  movz  x3, #0x2000, lsl #16
  movk  x3, #0x1000                // zone1's window
  ldr   w2, [x3]
  str   w2, [x10, #20]             // only if the load did not abort
1:
  wfi
  b     1b

  .balign 2048
vectors:
  b     abort                      // current EL, SP_EL0, synchronous
  .balign 0x200
  b     abort                      // current EL, SP_ELx, synchronous
abort:
  mrs   x4, esr_el1
  mrs   x5, far_el1
  str   x4, [x10, #24]
  str   x5, [x10, #32]
2:
  wfi
  b     2b

  .balign 4096
results:
  .fill 64, 1, 0
`;

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox --install -s /bin
echo "PCI-BEFORE: $(ls /sys/bus/pci/devices | tr '\\n' ' ')"
for d in /sys/bus/pci/devices/*; do echo "PCI-ID $(basename $d) $(cat $d/vendor) $(cat $d/device) $(cat $d/class)"; done
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
for d in /sys/bus/pci/devices/*; do echo "PCI-DRIVER $(basename $d) $(basename $(readlink $d/driver) 2>/dev/null)"; done
echo "NET-MAC $(cat /sys/class/net/eth0/address)"
ip link set eth0 up
${waitForLinkUp('eth0')}
echo "NET-UP $(cat /sys/class/net/eth0/operstate)"
echo PCI-TEST-DONE
exec sh
`;

function assemble(dir: string): string {
  writeFileSync(join(dir, 'p.s'), PROBER);
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'p.o'), join(dir, 'p.s')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'p.o'), join(dir, 'prober.bin')]);
  return join(dir, 'prober.bin');
}

describe('PCI functions split between two zones of qemu-virt-aarch64', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('zone1 Linux sees and binds only its virtio-net-pci; zone0 cannot see or reach it; monitor pci per zone', async () => {
    const dir = scratch('a64-pci-zones-');
    writeFileSync(join(dir, 'blk.img'), new Uint8Array(64 * 1024));
    writeFileSync(join(dir, 'pci.json'), JSON.stringify({
      functions: [
        { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
        { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
      ],
    }));
    const zone0 = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone0-linux-pci.json'), 'utf8'));
    Object.assign(zone0, {
      name: 'zone0-prober',
      memory_regions: [{ type: 'ram', physical_start: '0x40000000', virtual_start: '0x40000000', size: '0x1000000' }],
      interrupts: [36],
      kernel_filepath: assemble(dir),
      kernel_load_paddr: PROBER_BASE,
      entry_point: PROBER_BASE,
      dtb_load_paddr: '0x40000000',
      alloc_pci_devs: [{ bdf: 0x0, dev_type: 0 }, { bdf: 0x8, dev_type: 0 }],
    });
    delete zone0.initrd_filepath;
    delete zone0.initrd_load_paddr;
    const zone1 = JSON.parse(readFileSync(join(REPO, 'boards/guests/aarch64/zone1-linux-pci.json'), 'utf8'));
    zone1.kernel_filepath = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    zone1.initrd_filepath = buildInitramfs({
      base: 'initramfs-arm64.cpio.gz',
      init: INIT,
      modules: modulesWithDependencies(arm64ModuleTree(), ['virtio_pci', 'virtio_net']),
    });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(zone0));
    writeFileSync(join(dir, 'zone1.json'), JSON.stringify(zone1));

    const console1 = new GuestConsole('zone1-linux-');
    const logs: string[] = [];
    instance = await launch({
      board: 'qemu-virt-aarch64',
      zones: [join(dir, 'zone0.json'), join(dir, 'zone1.json')],
      pci: join(dir, 'pci.json'),
      gdbBasePort: 0,
      output: console1.append,
      log: (l) => logs.push(l),
    });
    const out = await console1.waitFor(/PCI-TEST-DONE/, 'zone1\'s PCI script to finish', 600_000);
    const z0 = instance.hypervisor.zone(0)!;
    const z1 = instance.hypervisor.zone(1)!;

    // zone1's Linux: the host bridge and its own function only, bound to virtio-pci and up as eth0.
    expect(out).toMatch(/PCI-BEFORE: 0000:00:00\.0 0000:00:02\.0\s*\n/);
    expect(out).toMatch(/PCI-ID 0000:00:02\.0 0x1af4 0x1041 0x020000/);
    expect(out).not.toMatch(/INSMOD-FAILED/);
    expect(out).toMatch(/PCI-DRIVER 0000:00:02\.0 virtio-pci/);
    expect(out).toMatch(/NET-MAC 52:54:00:00:00:02/);
    expect(out).toMatch(/NET-UP (up|unknown)/);

    // zone0's prober: its own functions answer, zone1's and the empty slot read all-ones ...
    const word = (off: number) => Number(instance!.build.machine.physical.read(RESULTS + off, 4));
    expect([word(0), word(4), word(8), word(12), word(16)].map((w) => w >>> 0)).toEqual([0x0008_1b36, 0x1042_1af4, 0xffff_ffff, 0xffff_ffff, 0x600d]);
    // ... and its load from zone1's window aborted (data abort, FAR = the address) in zone0 alone.
    expect(word(20)).toBe(0);
    expect((word(24) >>> 26) & 0x3f).toBe(0x25);
    expect(instance.build.machine.physical.read(RESULTS + 32, 8)).toBe(BigInt(ZONE1_WINDOW));
    expect(z0.stage2Faults).toBe(1);
    expect(z0.recentFaults[0]).toMatch(/stage-2 fault: vCPU 0 pc 0x[0-9a-f]+ read of 4 bytes at 0x20001000/);
    expect(z1.stage2Faults).toBe(0);
    expect(z1.state).toBe('running');

    // gdb-multiarch: each zone's `monitor pci` lists only that zone's functions.
    const monitor = async (zone: number) => {
      const run = await gdbBatch(instance!.gdb.get(zone)!.port, undefined, ['monitor pci', 'detach'], { timeoutMs: 60_000 });
      return run.stdout + run.stderr;
    };
    const pci0 = await monitor(0);
    expect(pci0).toMatch(/virtual ECAM at 0x4010000000/);
    expect(pci0).toMatch(/00:00\.0 Host bridge \[060000\]: gpex-root \[1b36:0008\]/);
    expect(pci0).toMatch(/00:01\.0 .*virtio-blk-pci \[1af4:1042\]/);
    expect(pci0).not.toMatch(/00:02\.0/);
    const pci1 = await monitor(1);
    expect(pci1).toMatch(/00:02\.0 Ethernet controller \[020000\]: virtio-net-pci \[1af4:1041\]/);
    expect(pci1).toMatch(/BAR4 mem64,pref\s+zone-pci 0x9[0-9a-f]{9} size 16K \(cpu 0x9[0-9a-f]{9}\)/);
    expect(pci1).toMatch(/IRQ INTA -> SPI 5 \(irq 37\)/);
    expect(pci1).toMatch(/command: mem bus-master/);
    expect(pci1).not.toMatch(/00:01\.0/);
    expect(console1.text()).not.toMatch(/Internal error|Unable to handle|BUG:/);
  }, 720_000);
});
