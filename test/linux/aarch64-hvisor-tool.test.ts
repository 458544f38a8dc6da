/**
 * hvisor's own management path, unmodified: Debian's arm64 Linux in zone0 loads the real hvisor.ko and
 * runs the real hvisor-tool (syswonder/hvisor-tool, built by scripts/fixtures.sh) to start, serve and
 * stop a nonroot Linux zone1, as on hvisor with QEMU virt (hvisor-tool's examples/qemu-aarch64
 * with_virtio_blk_console configs, paths adapted; zone1 on one vCPU).
 * - zone0 keeps the RAM it lends (0x50000000+0x30000000, `no-map` in its generated device tree) and
 *   finds `hvisor_virtio_device` there; `hvisor zone list` prints hvisor-tool's table;
 * - `hvisor virtio start` serves zone1's virtio-blk (zone0's own disk, which the VMM serves to zone0)
 *   and virtio-console (a pty in zone0) through hvisor's bridge; `hvisor zone start` boots zone1;
 * - zone1 writes a file on ext4 and syncs; after `hvisor zone shutdown -id 1` the host finds it in the
 *   image; `zone start` again boots zone1 again and it reads the file back;
 * - gdb-multiarch halting zone1 leaves zone0 responsive; halting zone0 stalls only zone1's virtio
 *   requests (its vCPU waits in the access), and they complete after gdb lets zone0 go.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { launch, type Instance } from '../../src/cli/launch.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { generateZoneDtb } from '../../src/hypervisor/lifecycle/zone-dtb.js';
import type { Zone } from '../../src/hypervisor/zone/zone.js';
import { fixture, fixtureMatching, tool } from '../helpers/fixtures.js';
import { GuestConsole, until } from '../helpers/guest-console.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies, scratch } from '../helpers/linux-initramfs.js';
import { gdbBatch } from '../gdbstub/gdb-batch.js';

const ZONE0_NAME = 'root-linux';
const ZONE0_BLK = 0xa00_3e00; // slot 31, SPI 47 = GIC 79: zone0's own disk, served by the VMM
const ZONE1_INITRD = 0x5800_0000;
/** Two Linux boots on one host thread: minutes, more when the 2-core machine is shared. */
const BOOT_MS = 1_200_000;
const GUEST_MS = 300_000;
const TEST_MS = 900_000;

const GIC = { gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000', gits_base: '0x8080000', gits_size: '0x20000', is_aarch32: false };

/** zone0 as hvisor's qemu-gicv3 platform has it (RAM 0x50000000+0x70000000 lending zone1's), one vCPU. */
function zone0Config(kernel: string, initrd: string) {
  return {
    arch: 'arm64', name: ZONE0_NAME, zone_id: 0, cpus: [0],
    memory_regions: [
      { type: 'ram', physical_start: '0x50000000', virtual_start: '0x50000000', size: '0x70000000' },
      { type: 'io', physical_start: '0x9000000', virtual_start: '0x9000000', size: '0x1000' },
      { type: 'virtio', physical_start: `0x${ZONE0_BLK.toString(16)}`, virtual_start: `0x${ZONE0_BLK.toString(16)}`, size: '0x200' },
    ],
    reserved_memory: [{ start: '0x50000000', size: '0x30000000' }],
    interrupts: [33, 64, 79], // PL011, hvisor's IRQ_WAKEUP_VIRTIO_DEVICE, the disk
    ivc_configs: [],
    kernel_filepath: kernel, dtb_filepath: '', kernel_load_paddr: '0xa0400000', dtb_load_paddr: '0xa0000000', entry_point: '0xa0400000',
    initrd_filepath: initrd, initrd_load_paddr: '0xa8000000',
    kernel_args: 'console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init',
    arch_config: GIC, pci_config: [], num_pci_devs: 0, alloc_pci_devs: [],
  };
}

/** hvisor-tool's examples/qemu-aarch64/with_virtio_blk_console/zone1_linux.json, paths adapted, one CPU, no PCI, the initrd as a module. */
const ZONE1 = {
  arch: 'arm64', name: 'linux2', zone_id: 1, cpus: [1],
  memory_regions: [
    { type: 'ram', physical_start: '0x50000000', virtual_start: '0x50000000', size: '0x30000000' },
    { type: 'virtio', physical_start: '0xa000000', virtual_start: '0xa000000', size: '0x4000' },
  ],
  interrupts: [76, 78],
  ivc_configs: [],
  kernel_filepath: '/zone1/Image', dtb_filepath: '/zone1/linux2.dtb',
  kernel_load_paddr: '0x50400000', dtb_load_paddr: '0x50000000', entry_point: '0x50400000',
  modules: [{ name: 'initrd', filepath: '/zone1/initrd.cpio', load_paddr: `0x${ZONE1_INITRD.toString(16)}` }],
  arch_config: GIC, pci_config: [], num_pci_devs: 0, alloc_pci_devs: [],
};

/** hvisor-tool's examples/qemu-aarch64/with_virtio_blk_console/virtio_cfg.json; the image is zone0's disk. */
const VIRTIO_CFG = {
  zones: [{
    id: 1,
    memory_region: [{ zone0_ipa: '0x50000000', zonex_ipa: '0x50000000', size: '0x30000000' }],
    devices: [
      { type: 'blk', addr: '0xa003c00', len: '0x200', irq: 78, img: '/dev/vda', status: 'enable' },
      { type: 'console', addr: '0xa003800', len: '0x200', irq: 76, status: 'enable' },
    ],
  }],
};

const ZONE0_INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
mkdir -p /dev/pts /var/log /tmp && mount -t devpts devpts /dev/pts
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
syslogd -O /var/log/messages
cd /
export PS1='zone0# '
echo SHELL-READY
exec setsid cttyhack sh
`;

// zone1's only console is the daemon's virtio-console: /init's shell moves there once its driver is up.
const ZONE1_INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m; done
while [ ! -e /dev/hvc0 ]; do sleep 0.1; done
exec </dev/hvc0 >/dev/hvc0 2>&1
mkdir -p /mnt
export PS1='zone1# '
echo ZONE1-READY-$((6*7))
exec setsid cttyhack sh
`;

describe('the real hvisor-tool in zone0 Linux starts, serves and stops a nonroot Linux zone1', () => {
  let instance: Instance | undefined;
  let console0: GuestConsole;
  let dir: string;
  let image: string;
  let pty = '';

  /** A command for zone1's shell, typed by zone0 into the daemon's pty; resolves once `done` shows (zone1's output reaches zone0's console through `cat`). */
  const inZone1 = (command: string, done: RegExp, ms = GUEST_MS) => console0.run(`echo '${command}' > ${pty}`, done, ms);
  const zone = (id: number): Zone => {
    const z = instance!.hypervisor.zone(id);
    if (z === undefined) throw new Error(`zone ${id} is not running`);
    return z;
  };

  beforeAll(async () => {
    dir = scratch('a64-hvisor-tool-');
    console.log(`scratch folder (configs, console log): ${dir}`);
    const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    const tree = arm64ModuleTree();
    // zone1: Debian's kernel, its initramfs (the virtio and ext4 modules), and the device tree we generate for it.
    const zone1Initrd = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init: ZONE1_INIT, modules: modulesWithDependencies(tree, ['virtio_mmio', 'virtio_blk', 'virtio_console', 'crc32c_generic', 'ext4']) });
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'));
    const zone1Dtb = generateZoneDtb(
      machine,
      { ...zoneConfigFromJson(ZONE1, 'zone1_linux.json'), kernelArgs: 'console=hvc0 rdinit=/init quiet', initrdFilepath: 'initrd', initrdLoadPaddr: ZONE1_INITRD },
      { initrdSize: readFileSync(zone1Initrd).length },
    ).blob;
    const tool0 = (f: string) => readFileSync(fixture(`hvisor-tool/${f}`));
    const zone0Initrd = buildInitramfs({
      base: 'initramfs-arm64.cpio.gz',
      init: ZONE0_INIT,
      modules: modulesWithDependencies(tree, ['virtio_mmio', 'virtio_blk']),
      files: {
        hvisor: tool0('hvisor'),
        'hvisor.ko': tool0('hvisor.ko'),
        'zone1/Image': readFileSync(kernel),
        'zone1/linux2.dtb': zone1Dtb,
        'zone1/initrd.cpio': readFileSync(zone1Initrd),
        'zone1_linux.json': JSON.stringify(ZONE1, null, 2),
        'virtio_cfg.json': JSON.stringify(VIRTIO_CFG, null, 2),
      },
      executables: ['hvisor'],
    });
    // zone0's disk (/dev/vda), which the daemon serves to zone1: a journal-less ext4 the host reads with debugfs.
    image = join(dir, 'zone1.ext4');
    mkdirSync(join(dir, 'content'));
    writeFileSync(join(dir, 'content', 'from-host.txt'), 'written by the host\n');
    execFileSync(tool('mkfs.ext4'), ['-q', '-F', '-O', '^has_journal', '-E', 'lazy_itable_init=0', '-d', join(dir, 'content'), image, '16M'], { stdio: 'pipe' });
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(zone0Config(kernel, zone0Initrd), null, 2));
    writeFileSync(join(dir, 'vmm-virtio.json'), JSON.stringify({ zones: [{ id: 0, devices: [{ type: 'blk', addr: `0x${ZONE0_BLK.toString(16)}`, len: '0x200', irq: 79, img: image, status: 'enable' }] }] }));

    let typeOn: (bytes: Uint8Array) => void = () => {};
    console0 = new GuestConsole(ZONE0_NAME, (b) => typeOn(b));
    instance = await launch({
      board: 'qemu-virt-aarch64',
      zones: [join(dir, 'zone0.json')],
      virtio: join(dir, 'vmm-virtio.json'),
      gdbBasePort: 0,
      output: (text) => {
        console0.append(text);
        appendFileSync(join(dir, 'console.log'), text);
      },
      log: (line) => appendFileSync(join(dir, 'hypervisor.log'), line + '\n'),
    });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, "zone0's shell", BOOT_MS);
  }, BOOT_MS + 60_000);

  afterAll(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('zone0: insmod hvisor.ko finds hvisor_virtio_device; hvisor zone list prints zone0', async () => {
    const insmod = await console0.run('insmod /hvisor.ko && echo INSMOD-$((40+2))', /INSMOD-42[\s\S]*zone0# $|zone0# $/, GUEST_MS);
    expect(insmod).toMatch(/INSMOD-42/);
    expect(insmod).not.toMatch(/Missing device tree node|cannot register IRQ/);
    // The driver's virtio interrupt is hvisor's wake-up SPI 32 (GIC 64), edge.
    expect(await console0.run('grep hvisor_virtio_device /proc/interrupts', /zone0# $/)).toMatch(/\b64\b.*Edge\s+hvisor_virtio_device/);
    // zone0 does not map the RAM it lends: no System RAM below 0x80000000.
    const iomem = await console0.run('grep "System RAM" /proc/iomem', /zone0# $/);
    expect(iomem).toMatch(/^\s*80000000-bfffffff : System RAM/m);
    expect(iomem).not.toMatch(/^\s*5[0-9a-f]{7}-/m);
    const list = await console0.run('./hvisor zone list', /zone0# $/);
    expect(list).toMatch(/zone_id\s*\|\s*cpus\s*\|\s*name\s*\|\s*status/);
    expect(list).toMatch(/\|\s*0\s*\|\s*0\s*\|\s*root-linux\s*\|\s*running\s*\|/);
  }, TEST_MS);

  it('the daemon serves zone1; hvisor zone start boots zone1 to its shell on the daemon\'s virtio console', async () => {
    // The daemon logs to syslog where its console's pty is ("char device redirected to /dev/pts/N").
    const started = await console0.run(
      './hvisor virtio start /virtio_cfg.json & until grep -q "redirected to /dev/pts/" /var/log/messages; do sleep 1; done; grep -o "redirected to /dev/pts/[0-9]*" /var/log/messages',
      /redirected to \/dev\/pts\/\d+\n[\s\S]*zone0# $/,
      GUEST_MS,
    );
    pty = /redirected to (\/dev\/pts\/\d+)\n/.exec(started)![1]!;
    expect(instance!.hypervisor.virtioBridge.enabled).toBe(true);
    await console0.run(`cat ${pty} &`, /zone0# $/);
    const start = await console0.run('./hvisor zone start /zone1_linux.json; echo START-$?', /START-\d+/, GUEST_MS);
    expect(start).toMatch(/START-0/);
    await console0.waitFor(/ZONE1-READY-42[\s\S]*zone1# /, "zone1's shell on the daemon's console", BOOT_MS);
    const list = await console0.run('./hvisor zone list', /linux2[\s\S]*zone0# $/);
    expect(list).toMatch(/\|\s*1\s*\|\s*1\s*\|\s*linux2\s*\|\s*running\s*\|/);
    expect(instance!.hypervisor.list().map((z) => [z.id, z.name, z.state])).toEqual([[0, ZONE0_NAME, 'running'], [1, 'linux2', 'running']]);
  }, BOOT_MS);

  it('zone1 writes a file on ext4 through the daemon\'s virtio-blk and syncs; after zone shutdown -id 1 the host finds it in the image', async () => {
    const wrote = await inZone1('mount -t ext4 /dev/vda /mnt && cat /mnt/from-host.txt && echo hvisor-tool-zone1 > /mnt/from-zone1.txt && sync && echo SYNCED-$((3*5))', /SYNCED-15|mount: |No such/);
    expect(wrote).toMatch(/written by the host/);
    expect(wrote).toMatch(/SYNCED-15/);
    const down = await console0.run('./hvisor zone shutdown -id 1; echo DOWN-$?', /DOWN-\d+/, GUEST_MS);
    expect(down).toMatch(/DOWN-0/);
    expect(instance!.hypervisor.zone(1)).toBeUndefined();
    // zone0 holds the daemon's writes to its disk in its page cache until it syncs.
    await console0.run('sync; echo ZSYNC-$((2*4))', /ZSYNC-8/);
    const cat = execFileSync(tool('debugfs'), ['-R', 'cat /from-zone1.txt', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(cat).toBe('hvisor-tool-zone1\n');
  }, TEST_MS);

  it('zone start again after shutdown boots zone1 again, and it reads its file back', async () => {
    const from = console0.text().length;
    const start = await console0.run('./hvisor zone start /zone1_linux.json; echo RESTART-$?', /RESTART-\d+/, GUEST_MS);
    expect(start).toMatch(/RESTART-0/);
    await console0.waitFor(/ZONE1-READY-42[\s\S]*zone1# /, 'zone1 started again', BOOT_MS, from);
    const read = await inZone1('mount -t ext4 /dev/vda /mnt && cat /mnt/from-zone1.txt && echo READ-$((7*3))', /READ-21/);
    expect(read).toMatch(/hvisor-tool-zone1/);
  }, BOOT_MS);

  it('gdb-multiarch halting zone1 leaves zone0 responsive', async () => {
    const release = join(dir, 'release-zone1');
    const port = instance!.gdb.get(1)!.port;
    const gdb = gdbBatch(port, undefined, ['info threads', `shell while [ ! -e ${release} ]; do sleep 0.05; done`, 'detach'], { timeoutMs: GUEST_MS });
    await until(() => zone(1).halted, 'gdb to halt zone1', GUEST_MS, () => console0.text());
    const alive = await console0.run('echo ZONE0-ALIVE-$((50-8))', /ZONE0-ALIVE-42/);
    expect(alive).toMatch(/ZONE0-ALIVE-42/);
    expect(zone(1).halted).toBe(true);
    writeFileSync(release, '');
    const run = await gdb;
    expect(run.stdout).toMatch(/Thread 1\.1 "linux2\/vcpu0 \(cpu 1\)" \(EL[01][th], .*halted\)/);
    await until(() => !zone(1).halted, 'zone1 to run again', GUEST_MS, () => console0.text());
    expect(await inZone1('echo ZONE1-BACK-$((9*9))', /ZONE1-BACK-81/)).toMatch(/ZONE1-BACK-81/);
  }, TEST_MS);

  it("gdb-multiarch halting zone0 stalls only zone1's virtio requests, which complete once zone0 runs again", async () => {
    await inZone1('i=0; while true; do i=$((i+1)); echo TICK-$i; sleep 1; done &', /TICK-2\b/);
    const release = join(dir, 'release-zone0');
    const gdb = gdbBatch(instance!.gdb.get(0)!.port, undefined, ['info threads', `shell while [ ! -e ${release} ]; do sleep 0.05; done`, 'detach'], { timeoutMs: GUEST_MS });
    await until(() => zone(0).halted, 'gdb to halt zone0', GUEST_MS, () => console0.text());
    // zone1's next console write traps to the daemon, which cannot answer: its vCPU waits in the access.
    await until(() => /waiting for a device/.test(zone(1).threads()[0]!.extra ?? ''), "zone1's vCPU to wait for zone0's daemon", GUEST_MS, () => console0.text());
    expect(zone(1).state).toBe('running');
    expect(zone(1).halted).toBe(false);
    const ticks = () => [...console0.text().matchAll(/TICK-(\d+)/g)].map((m) => Number(m[1]));
    const last = Math.max(...ticks());
    expect(zone(0).halted).toBe(true);
    writeFileSync(release, '');
    const run = await gdb;
    await until(() => Math.max(...ticks()) >= last + 2, "zone1's console to move on", GUEST_MS, () => console0.text());
    expect(run.stdout).toMatch(/Thread 1\.1 "root-linux\/vcpu0 \(cpu 0\)" \(EL[01][th], .*halted\)/);
    expect(zone(1).state).toBe('running');
  }, TEST_MS);
});
