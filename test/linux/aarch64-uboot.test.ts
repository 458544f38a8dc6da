/**
 * Debian's U-Boot for qemu_arm64 in zone0 of qemu-virt-aarch64 through `launch()`. QEMU runs it
 * from the flash at 0x0 (`-bios`: bank 0 holds u-boot.bin, bank 1 at 0x4000000 its environment)
 * with the device tree at the start of RAM (0x40000000), where U-Boot's qemu_arm64 board looks for
 * it. The zone config gives it the same layout with no hypervisor support beyond hvisor's own: a
 * RAM region at guest-physical 0 standing in for both flash banks (u-boot.bin loaded there, the
 * environment bank blank), and the zone's generated device tree at 0x40000000. Being RAM, that
 * region is also described as memory in the zone's tree, and U-Boot takes it as its first DRAM bank.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';

describe('Debian U-Boot (qemu_arm64) in zone0 of qemu-virt-aarch64', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('reaches the => prompt on the zone\'s PL011 and answers version', async () => {
    tool('qemu-system-aarch64'); // the fixtures script installs u-boot-qemu with QEMU
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const console0 = new GuestConsole('zone0-uboot', (b) => typeOn(b));
    instance = await launch({
      board: 'qemu-virt-aarch64',
      zones: [join(REPO, 'boards/guests/aarch64/zone0-uboot.json')],
      gdbBasePort: false,
      output: console0.append,
      log: () => {},
    });
    typeOn = (b) => instance!.consoles.type(0, b);
    await console0.waitFor(/Hit any key to stop autoboot/, 'U-Boot\'s autoboot prompt', 60_000);
    console0.type(' ');
    await console0.waitFor(/=> $/, 'the U-Boot prompt', 20_000);
    const version = await console0.run('version', /aarch64-linux-gnu-gcc[\s\S]*=> $/, 20_000);
    expect(version).toMatch(/^U-Boot 2023\.01\S* \(/m);
    expect(version).toMatch(/^GNU ld /m);
    const log = console0.text();
    if (process.env.UBOOT_VERBOSE) console.log(log);
    // Found its device tree at 0x40000000 and its environment area in the flash stand-in (blank).
    expect(log).toMatch(/^DRAM:\s+\d+ MiB$/m);
    expect(log).toMatch(/Loading Environment from Flash\.\.\. \*\*\* Warning - bad CRC, using default environment/);
    expect(log).toMatch(/^In:\s+pl011@9000000$/m);
    expect(log).not.toMatch(/Synchronous Abort|resetting/);
    expect(instance.hypervisor.list().map((z) => [z.id, z.name, z.state])).toEqual([[0, 'zone0-uboot', 'running']]);
  }, 120_000);
});
