/**
 * Two Debian loong64 Linux zones on ls3a5000-7a2000, one boot serving every check:
 * - zone0 (CPUs 0-1, RAM 0..0x1000_0000) is boards/guests/loongarch64/zone0-linux.json: a shell on the NS16550A.
 * - zone1 is boards/guests/loongarch64/zone1-linux.json with zone1-virtio_cfg.json, in the shape of hvisor's
 *   nonroot zones on this board (syswonder/hvisor platform/loongarch64/ls3a5000/configs/zone1-linux.json,
 *   virtio.json): one CPU (board core 2, core 0 to itself), a virtio-console at 0x3000_1000 (len 0x200,
 *   interrupt 4), its only console. Adapted: its RAM is the board's 0x9000_0000..0xa000_0000 seen at
 *   guest-physical 0 (Debian's kernel is entered at its Image's load offset, 0x20_0000; hvisor's kernels
 *   are built for 0xc020_0000), no passed-through UART, RTC or PCI, the device tree generated
 *   (dtb_filepath ""): interrupt 4 is an input of the zone's own PCH-PIC (hvisor injects a CPU interrupt
 *   line instead; the number is the config's either way). Debian has virtio_mmio only as a module: the
 *   fixture initramfs (scripts/fixtures.sh) holds it from the same kernel's linux-modules package and
 *   loads it (virtio_console is built in), then starts a shell on hvc0.
 * - zone1's lifecycle through the control socket, as `hvisor zone shutdown/start` send it: shutdown,
 *   then start from the same file (hvisor's issue #369: a restart after a shutdown must boot).
 * - Isolation: zone1's memory map holds only its RAM, and what it writes lands in its host RAM, never
 *   in zone0's.
 * - `hvisor symbols` on the same vmlinuz: its addresses are the running kernel's /proc/kallsyms ones;
 *   trixie's gdb-multiarch (LoongArch) attaches to zone1's stub with that symbol file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { zoneList, zoneShutdown, zoneStart } from '../../src/hypervisor/control/control-client.js';
import { writeElfSymbolFile } from '../../src/linux-guest/elf-symbol-file.js';
import { readKernelFileSymbols } from '../../src/linux-guest/kernel-symbols.js';
import { fixture, REPO, tool } from '../helpers/fixtures.js';
import { GuestConsole, interruptCounts } from '../helpers/guest-console.js';
import { buildInitramfs, scratch, shellInit } from '../helpers/linux-initramfs.js';
import { connectVirtioConsole, type SocketGuestConsole } from '../virtio/socket-guest-console.js';
import { gdbBatch, trixieGdb } from '../gdbstub/gdb-batch.js';

const ZONE1_RAM = { host: 0x9000_0000, guest: 0, size: 0x1000_0000 };
const ZONE0_RAM = { host: 0, size: 0x1000_0000 };
const CONSOLE = { addr: 0x3000_1000, len: 0x200, irq: 4 };
/** LoongArch boots on one host thread take minutes, more when the machine is shared. */
const BOOT_MS = 1_500_000;
const GUEST_MS = 300_000;
const TEST_MS = 600_000;
const CRASH = /Oops|Unable to handle|BUG:|Kernel panic|UBSAN|rcu: INFO: .*stall|soft lockup|insmod \S+ failed/;

const hex = (n: number) => `0x${n.toString(16)}`;

/** Whether host-physical [base, base + size) holds `marker` (read in overlapping 16 MiB pieces). */
function hostRamHolds(instance: Instance, base: number, size: number, marker: string): boolean {
  const needle = Buffer.from(marker, 'latin1');
  const piece = 16 << 20;
  for (let at = base; at < base + size; at += piece) {
    const length = Math.min(piece + needle.length, base + size - at);
    if (Buffer.from(instance.hypervisor.machine.physical.readDebug(at, length)).includes(needle)) return true;
  }
  return false;
}

describe('two Debian loong64 Linux zones on ls3a5000-7a2000', () => {
  let instance: Instance | undefined;
  let console0: GuestConsole;
  let hvc1: SocketGuestConsole | undefined;
  let zone1File: string;
  let control: { path: string };
  let dir: string;
  /** The ELF symbol file `hvisor symbols` wrote for the kernel (the symbols test). */
  let kernelElf: string | undefined;

  const connectZone1 = async () => {
    hvc1 = await connectVirtioConsole(instance!.hypervisor.zone(1)!, CONSOLE.addr, 'zone1');
    hvc1.socket.on('data', (text: string) => writeFileSync(join(dir, 'zone1-console.log'), text, { flag: 'a' }));
    return hvc1;
  };

  beforeAll(async () => {
    dir = scratch('la64-two-zones-');
    console.log(`scratch folder (configs, images, console logs): ${dir}`);
    const write = (name: string, json: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(json, null, 2));
      return join(dir, name);
    };
    const kernel = fixture('vmlinuz-loong64');
    const zone0 = JSON.parse(readFileSync(join(REPO, 'boards/guests/loongarch64/zone0-linux.json'), 'utf8'));
    Object.assign(zone0, {
      kernel_filepath: kernel,
      initrd_filepath: buildInitramfs({ base: 'initramfs-loong64-shell.cpio.gz', init: shellInit('zone0# ') }),
    });
    // boards/guests/loongarch64/zone1-linux.json and its virtio config as a user runs them; only the fixture paths made absolute.
    const zone1 = JSON.parse(readFileSync(join(REPO, 'boards/guests/loongarch64/zone1-linux.json'), 'utf8'));
    Object.assign(zone1, { kernel_filepath: kernel, initrd_filepath: fixture('initramfs-loong64-shell.cpio.gz') });
    expect(zone1.memory_regions[0]).toEqual({ type: 'ram', physical_start: hex(ZONE1_RAM.host), virtual_start: hex(ZONE1_RAM.guest), size: hex(ZONE1_RAM.size) });
    expect(zone1.interrupts).toEqual([CONSOLE.irq]);
    zone1File = write('zone1.json', zone1);
    const virtio = join(REPO, 'boards/guests/loongarch64/zone1-virtio_cfg.json');
    control = { path: join(dir, 'control.sock') };
    let typeOn: (bytes: Uint8Array) => void = () => {};
    console0 = new GuestConsole('zone0-linux', (b) => typeOn(b));
    const started = Date.now();
    instance = await launch({
      board: 'ls3a5000-7a2000',
      zones: [write('zone0.json', zone0), zone1File],
      virtio,
      control,
      gdbBasePort: 0,
      output: (text) => {
        console0.append(text);
        writeFileSync(join(dir, 'zone0-console.log'), text, { flag: 'a' });
      },
      log: (line) => writeFileSync(join(dir, 'hypervisor.log'), line + '\n', { flag: 'a' }),
    });
    typeOn = (b) => instance!.consoles.type(0, b);
    await connectZone1();
    await console0.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'zone0\'s shell', BOOT_MS);
    await hvc1!.console.waitFor(/SHELL-READY[\s\S]*zone1# $/, 'zone1\'s shell on its virtio-console', BOOT_MS);
    const retired = (id: number) => instance!.hypervisor.zone(id)!.cpus.reduce((n, c) => n + c.retired, 0);
    console.log(`both shells after ${(Date.now() - started) / 1000} s; zone0 ${retired(0)}, zone1 ${retired(1)} instructions`);
  }, BOOT_MS + 100_000);

  afterAll(async () => {
    hvc1?.socket.destroy();
    await instance?.close();
    instance = undefined;
  });

  it('zone1 answers on its virtio-console: loongarch64 Linux on one CPU, virtio_mmio loaded, the console interrupting through the zone\'s PCH-PIC', async () => {
    const c = hvc1!.console;
    const uname = await c.run('uname -a', /GNU\/Linux[\s\S]*zone1# $/, GUEST_MS);
    expect(uname).toMatch(/Linux \(none\) \d+\.\d+\.\d+\S*-loong64 #1 SMP .* loongarch64 GNU\/Linux/);
    const where = await c.run('tty; grep -c ^processor /proc/cpuinfo; lsmod; echo WHERE-DONE', /WHERE-DONE\s+zone1# $/, GUEST_MS);
    expect(where).toMatch(/^\/dev\/hvc0$/m);
    expect(where).toMatch(/^1$/m);
    expect(where).toMatch(/^virtio_mmio\s/m);
    const interrupts = await c.run('cat /proc/interrupts', /IPI[\s\S]*zone1# $/, GUEST_MS);
    // The zone's PCH-PIC owns only input 4 (the config's interrupts); /proc/interrupts shows Linux's own hwirq for the line.
    expect(interruptCounts(interrupts, /PCH PIC\s+\d+\s+(\S+\s+)?virtio0/, 1)[0]).toBeGreaterThan(0);
    expect(interruptCounts(interrupts, /CPUINTC\s+11\s+(\S+\s+)?timer/, 1)[0]).toBeGreaterThan(0);
    expect(c.text()).not.toMatch(CRASH);
  }, TEST_MS);

  it('zone0 keeps its shell on the UART beside zone1', async () => {
    const uname = await console0.run('uname -m; grep -c ^processor /proc/cpuinfo', /loongarch64\s+2\s+zone0# $/, GUEST_MS);
    expect(uname).toMatch(/loongarch64/);
    expect(console0.text()).not.toMatch(CRASH);
  }, TEST_MS);

  it('isolation: zone1\'s memory map is its own 256 MiB; what it writes lands in its host RAM, never in zone0\'s', async () => {
    const c = hvc1!.console;
    const iomem = await c.run('grep "System RAM" /proc/iomem; echo IOMEM-DONE', /IOMEM-DONE\s+zone1# $/, GUEST_MS);
    expect([...iomem.matchAll(/^\s*([0-9a-f]+)-([0-9a-f]+) : System RAM\s*$/gm)].map((m) => [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16)]))
      .toEqual([[ZONE1_RAM.guest, ZONE1_RAM.guest + ZONE1_RAM.size - 1]]);
    // A string only zone1 computes (the command typed holds its parts, not the whole), kept in a file in its rootfs.
    const marker = await c.run('m=ZONE1-ISOLATION-$((40000 + 2345)); echo $m$m > /root-marker; echo MARK-DONE', /MARK-DONE\s+zone1# $/, GUEST_MS);
    expect(marker).toMatch(/MARK-DONE/);
    const mark = 'ZONE1-ISOLATION-42345ZONE1-ISOLATION-42345';
    expect(hostRamHolds(instance!, ZONE1_RAM.host, ZONE1_RAM.size, mark)).toBe(true);
    expect(hostRamHolds(instance!, ZONE0_RAM.host, ZONE0_RAM.size, mark)).toBe(false);
    // And zone0's RAM map does not grow into zone1's.
    const zone0Map = await console0.run('grep "System RAM" /proc/iomem; echo IOMEM0-DONE', /IOMEM0-DONE\s+zone0# $/, GUEST_MS);
    for (const m of zone0Map.matchAll(/^\s*([0-9a-f]+)-([0-9a-f]+) : System RAM\s*$/gm)) {
      expect(Number.parseInt(m[2]!, 16)).toBeLessThan(ZONE0_RAM.host + ZONE0_RAM.size);
    }
  }, TEST_MS);

  it('hvisor symbols reads Debian\'s loong64 vmlinuz (EFI zboot, zstd): its text symbols are where zone1\'s /proc/kallsyms has them, and its ELF symbol file is LoongArch', async () => {
    const kernel = readKernelFileSymbols(new Uint8Array(readFileSync(fixture('vmlinuz-loong64'))), 'vmlinuz-loong64');
    expect(kernel.arch).toBe('loongarch64');
    expect(kernel.symbols.length).toBeGreaterThan(40_000);
    const names = ['_stext', 'kernel_entry', 'start_kernel', 'schedule', 'do_idle', 'nr_free_zone_pages'];
    const ours = new Map(names.map((n) => [n, kernel.symbols.find((s) => s.name === n)?.address.toString(16).padStart(16, '0')]));
    const listed = await hvc1!.console.run(`grep -E ' (${names.join('|')})$' /proc/kallsyms; echo KALLSYMS-DONE`, /KALLSYMS-DONE\s+zone1# $/, GUEST_MS);
    const running = new Map<string, string>();
    for (const m of listed.matchAll(/^([0-9a-f]{16}) [Tt] (\S+)$/gm)) if (!running.has(m[2]!)) running.set(m[2]!, m[1]!);
    expect([...running.keys()].sort()).toEqual([...names].sort());
    for (const n of names) expect(ours.get(n), n).toBe(running.get(n));
    // The kernel runs where it is linked, in the cached direct-mapped window.
    expect(running.get('kernel_entry')).toMatch(/^90000000[0-9a-f]{8}$/);
    const file = join(dir, 'loong64-kernel.elf');
    writeFileSync(file, writeElfSymbolFile(kernel.symbols, kernel.arch).bytes);
    kernelElf = file;
    expect(execFileSync(tool('llvm-readelf-19'), ['-h', file], { encoding: 'utf8' })).toMatch(/Machine:\s+LoongArch/);
    expect(execFileSync(tool('llvm-nm-19'), [file], { encoding: 'utf8', maxBuffer: 64 << 20 })).toContain(`${running.get('start_kernel')} T start_kernel`);
  }, TEST_MS);

  it('trixie\'s gdb-multiarch attaches to zone1\'s stub: registers read, the pc named in the kernel by the symbol file; detached, zone1 answers again', async () => {
    expect(kernelElf).toBeDefined();
    const port = instance!.gdb.get(1)!.port;
    const r = await gdbBatch(port, kernelElf, ['show architecture', 'info registers pc sp', 'info symbol $pc', 'detach'], { gdb: trixieGdb(), timeoutMs: 300_000 });
    expect(r.stdout).toContain('currently "Loongarch64"');
    // Stopped wherever the zone was (idle, most likely): kernel text in the cached window, its stack too.
    expect(r.stdout).toMatch(/^pc\s+0x90000000[0-9a-f]{8}\b/m);
    expect(r.stdout).toMatch(/^sp\s+0x90000000[0-9a-f]{8}\b/m);
    expect(r.stdout).toMatch(/^\S+ (\+ \d+ )?in section \.text/m);
    expect(await hvc1!.console.run('echo AFTER-GDB-$((3 * 3))', /AFTER-GDB-9\s+zone1# $/, GUEST_MS)).toMatch(/AFTER-GDB-9/);
  }, TEST_MS);

  it('zone1 shut down through the control socket and started again from its file reaches its shell again; zone0 runs on (hvisor issue #369)', async () => {
    const down = await zoneShutdown(control, 1);
    expect(down.zones.map((z) => [z.id, z.state])).toEqual([[0, 'running']]);
    hvc1!.socket.destroy();
    hvc1 = undefined;
    await instance!.hypervisor.released();
    expect(await console0.run('echo ZONE0-ALIVE-$((1 + 1))', /ZONE0-ALIVE-2\s+zone0# $/, GUEST_MS)).toMatch(/ZONE0-ALIVE-2/);
    const up = await zoneStart(control, zone1File);
    expect(up.zones.map((z) => [z.id, z.state])).toEqual([[0, 'running'], [1, 'running']]);
    const again = await connectZone1();
    await again.console.waitFor(/SHELL-READY[\s\S]*zone1# $/, 'zone1\'s shell after shutdown and start', BOOT_MS);
    const uname = await again.console.run('uname -m; cat /root-marker 2>&1; echo AGAIN-DONE', /AGAIN-DONE\s+zone1# $/, GUEST_MS);
    expect(uname).toMatch(/^loongarch64$/m);
    // A fresh boot: the rootfs file the first run wrote is gone.
    expect(uname).not.toMatch(/ZONE1-ISOLATION-42345/);
    expect(again.console.text()).not.toMatch(CRASH);
    expect((await zoneList(control)).zones.map((z) => z.id)).toEqual([0, 1]);
  }, BOOT_MS + TEST_MS);
});
