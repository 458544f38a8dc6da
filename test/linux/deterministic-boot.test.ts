/**
 * Deterministic zones (issue 15): in virtual time a zone's vCPUs run fixed quanta of instructions in
 * a fixed order and its exits are charged in instructions, so nothing the guest sees depends on the
 * host. The same Linux boot (Debian's kernel, the fixture initramfs whose /init prints BOOT-OK and
 * powers off; 2 vCPUs) runs twice, the second time beside a process that keeps a host CPU busy: the
 * console bytes and every vCPU's instruction count at power-off are the same.
 *
 * The arm64 boot is seeded (hvisor run --kaslr-seed): its /init prints where /proc/kallsyms puts _stext.
 * The kernel runs away from its link address, the same place both times, and where QEMU puts the same
 * kernel given the same generated device tree (the kernel derives its offset from /chosen/kaslr-seed).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { launch } from '../../src/cli/launch.js';
import { loadZoneConfig } from '../../src/config/zone-config.js';
import { zoneKaslrSeed } from '../../src/hypervisor/lifecycle/kaslr-seed.js';
import { generateZoneDtb } from '../../src/hypervisor/lifecycle/zone-dtb.js';
import { readKernelSymbols } from '../../src/linux-guest/kernel-symbols.js';
import { fixture, fixtureMatching, REPO, tool } from '../helpers/fixtures.js';
import { buildInitramfs, scratch } from '../helpers/linux-initramfs.js';

const run = promisify(execFile);

interface Boot {
  readonly console: string;
  readonly retired: readonly number[];
}

/** A zone0 config of the repository with this kernel and initramfs, in a scratch folder. */
function zoneFile(configFile: string, kernel: string, initramfs: string): string {
  const dir = scratch('deterministic-');
  const config = JSON.parse(readFileSync(join(REPO, configFile), 'utf8'));
  writeFileSync(join(dir, 'zone0.json'), JSON.stringify({ ...config, kernel_filepath: kernel, initrd_filepath: initramfs }));
  return join(dir, 'zone0.json');
}

/** Boots zone0 to its power-off; its console and each vCPU's instruction count. */
async function boot(board: string, zone: string, kaslrSeed?: bigint): Promise<Boot> {
  let out = '';
  const instance = await launch({ board, zones: [zone], gdbBasePort: false, ...(kaslrSeed !== undefined && { kaslrSeed }), output: (t) => (out += t), log: () => {} });
  try {
    const end = await instance.stopped;
    const zone = instance.hypervisor.zone(0)!;
    expect(end.reason, out.slice(-2000)).toMatch(/zone 0 stopped/);
    return { console: out, retired: zone.cpus.map((c) => c.retired) };
  } finally {
    await instance.close();
  }
}

describe('the same Linux boot twice, the host loaded or not, is the same to the byte and the instruction', () => {
  let load: ChildProcess | undefined;
  afterEach(() => {
    // (A child killed by a signal keeps exitCode null: signalCode says it is gone.)
    if (load?.pid !== undefined && load.exitCode === null && load.signalCode === null) load.kill('SIGKILL');
    load = undefined;
  });

  async function twice(board: string, zone: string, kaslrSeed?: bigint): Promise<Boot> {
    const calm = await boot(board, zone, kaslrSeed);
    expect(calm.console).toContain('BOOT-OK');
    load = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const loaded = await boot(board, zone, kaslrSeed);
    load.kill('SIGKILL');
    load = undefined;
    console.log(`${board}: ${calm.console.length} console bytes, ${calm.retired.join(' + ')} instructions`);
    expect(loaded.console).toBe(calm.console);
    expect(loaded.retired).toEqual(calm.retired);
    expect(calm.retired.every((n) => n > 0)).toBe(true); // both vCPUs ran
    return calm;
  }

  it('riscv64 zone0 (2 harts)', async () => {
    const kernel = join(fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/), 'vmlinuz');
    await twice('qemu-virt-riscv64', zoneFile('boards/guests/riscv64/zone0-linux.json', kernel, fixture('initramfs-riscv64.cpio.gz')));
  }, 600_000);

  it('aarch64 zone0 (2 CPUs, GICv3), seeded: its kernel runs away from its link address, where QEMU puts it with the same device tree', async () => {
    const board = 'qemu-virt-aarch64';
    const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    // grep -m 1 stops at the first match: _stext is near the start of the table (all of it takes ~0.5 G instructions).
    const initramfs = buildInitramfs({
      base: 'initramfs-arm64.cpio.gz',
      init: '#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho "KALLSYMS $(/bin/busybox grep -m 1 -w _stext /proc/kallsyms)"\necho BOOT-OK\n/bin/busybox poweroff -f\n',
    });
    const zone = zoneFile('boards/guests/aarch64/zone0-linux.json', kernel, initramfs);
    const seed = 0x5eedn;
    const stextOf = (text: string) => /KALLSYMS ([0-9a-f]{16}) T _stext\r?$/m.exec(text)?.[1];
    const ours = stextOf((await twice(board, zone, seed)).console);
    expect(ours, 'the KALLSYMS line').toBeDefined();
    const linked = readKernelSymbols(new Uint8Array(readFileSync(kernel))).symbols.find((s) => s.name === '_stext')!.address;
    expect(BigInt(`0x${ours}`)).not.toBe(linked);

    // QEMU with the device tree the zone was given (generated as the hypervisor does) and the same images.
    const qemuDir = scratch('kaslr-qemu-');
    const dtb = join(qemuDir, 'zone0.dtb');
    const serial = join(qemuDir, 'serial.txt');
    const config = loadZoneConfig(zone);
    writeFileSync(dtb, generateZoneDtb(buildBoard(findBoard(board)).machine, config, { initrdSize: statSync(initramfs).size, kaslrSeed: zoneKaslrSeed(seed, 0) }).blob);
    const memory = `${config.memoryRegions.filter((r) => r.type === 'ram').reduce((n, r) => n + r.size, 0) >> 20}M`;
    // The console to a file: a pipe has lost QEMU's serial output under load (test-audit).
    await run(tool('qemu-system-aarch64'), [
      '-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', String(config.cpus.length), '-m', memory, '-display', 'none', '-serial', `file:${serial}`,
      '-monitor', 'none', '-nic', 'none', '-no-reboot', '-kernel', kernel, '-initrd', initramfs, '-dtb', dtb,
    ], { timeout: 600_000 });
    const qemuConsole = readFileSync(serial, 'utf8');
    expect(stextOf(qemuConsole), qemuConsole.slice(-2000)).toBe(ours);
  }, 900_000);
});
