/**
 * Deterministic zones (issue 15): in virtual time a zone's vCPUs run fixed quanta of instructions in
 * a fixed order and its exits are charged in instructions, so nothing the guest sees depends on the
 * host. The same Linux boot (Debian's kernel, the fixture initramfs whose /init prints BOOT-OK and
 * powers off; 2 vCPUs) runs twice, the second time beside a process that keeps a host CPU busy: the
 * console bytes and every vCPU's instruction count at power-off are the same.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch } from '../../src/cli/launch.js';
import { fixture, fixtureMatching, REPO } from '../helpers/fixtures.js';
import { scratch } from '../helpers/linux-initramfs.js';

interface Boot {
  readonly console: string;
  readonly retired: readonly number[];
}

/** Boots zone0 to its power-off; its console and each vCPU's instruction count. */
async function boot(board: string, configFile: string, kernel: string, initramfs: string): Promise<Boot> {
  const dir = scratch('deterministic-');
  const config = JSON.parse(readFileSync(join(REPO, configFile), 'utf8'));
  writeFileSync(join(dir, 'zone0.json'), JSON.stringify({ ...config, kernel_filepath: kernel, initrd_filepath: fixture(initramfs) }));
  let out = '';
  const instance = await launch({ board, zones: [join(dir, 'zone0.json')], gdbBasePort: false, output: (t) => (out += t), log: () => {} });
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
    if (load?.pid !== undefined && load.exitCode === null) process.kill(load.pid, 'SIGKILL');
    load = undefined;
  });

  async function twice(board: string, configFile: string, kernel: string, initramfs: string): Promise<void> {
    const calm = await boot(board, configFile, kernel, initramfs);
    expect(calm.console).toContain('BOOT-OK');
    load = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const loaded = await boot(board, configFile, kernel, initramfs);
    process.kill(load.pid!, 'SIGKILL');
    console.log(`${board}: ${calm.console.length} console bytes, ${calm.retired.join(' + ')} instructions`);
    expect(loaded.console).toBe(calm.console);
    expect(loaded.retired).toEqual(calm.retired);
    expect(calm.retired.every((n) => n > 0)).toBe(true); // both vCPUs ran
  }

  it('riscv64 zone0 (2 harts)', async () => {
    const kernel = join(fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/), 'vmlinuz');
    await twice('qemu-virt-riscv64', 'boards/guests/riscv64/zone0-linux.json', kernel, 'initramfs-riscv64.cpio.gz');
  }, 600_000);

  it('aarch64 zone0 (2 CPUs, GICv3)', async () => {
    const kernel = fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/);
    await twice('qemu-virt-aarch64', 'boards/guests/aarch64/zone0-linux.json', kernel, 'initramfs-arm64.cpio.gz');
  }, 900_000);
});
