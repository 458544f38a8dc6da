/**
 * Debian's U-Boot for qemu_arm64 in zone0 of qemu-virt-aarch64 through `launch()`. QEMU runs it
 * from the flash at 0x0 (`-bios`: bank 0 holds u-boot.bin, bank 1 at 0x4000000 its environment)
 * with the device tree at the start of RAM (0x40000000), where U-Boot's qemu_arm64 board looks for
 * it. The zone config gives it the same layout with no hypervisor support beyond hvisor's own: a
 * RAM region at guest-physical 0 standing in for both flash banks (u-boot.bin loaded there, the
 * environment bank blank), and the zone's generated device tree at 0x40000000. Being RAM, that
 * region is also described as memory in the zone's tree, and U-Boot takes it as its first DRAM bank.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { GuestConsole } from '../helpers/guest-console.js';

const UBOOT = '/usr/lib/u-boot/qemu_arm64/u-boot.bin';

/**
 * U-Boot's console under qemu-system-aarch64 (-bios), with autoboot stopped and `version` typed.
 * The console is a Unix socket QEMU waits on before it starts (wait=on): nothing is printed before
 * we listen, and a socket applies back-pressure where QEMU's stdio chardev on a pipe lost output.
 */
async function qemuVersionSession(): Promise<string> {
  const sock = join(mkdtempSync(join(tmpdir(), 'uboot-qemu-')), 'console.sock');
  const qemu = spawn(tool('qemu-system-aarch64'), ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '256M', '-bios', UBOOT,
    '-display', 'none', '-monitor', 'none', '-chardev', `socket,id=con,path=${sock},server=on,wait=on`, '-serial', 'chardev:con', '-nic', 'none'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) => qemu.once('exit', (code) => reject(new Error(`qemu-system-aarch64 exited (${code}) before U-Boot answered: ${stderr}`))));
  exited.catch(() => {});
  try {
    let socket: Socket | undefined;
    for (let i = 0; socket === undefined; i++) {
      socket = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(sock);
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (socket === undefined) {
        if (i > 200) throw new Error(`QEMU never opened its console socket: ${stderr}`);
        await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
      }
    }
    const session = new Promise<string>((resolve, reject) => {
      let out = '';
      let stage = 0;
      const timer = setTimeout(() => reject(new Error(`QEMU's U-Boot did not answer version; it printed:\n${out}`)), 60_000);
      socket!.on('data', (chunk: Buffer) => {
        out += chunk.toString('latin1');
        if (stage === 0 && out.includes('Hit any key to stop autoboot')) {
          stage = 1;
          socket!.write(' ');
        } else if (stage === 1 && /=> $/.test(out)) {
          stage = 2;
          socket!.write('version\r');
        } else if (stage === 2 && /=> version[\s\S]*=> $/.test(out)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
    });
    const out = await Promise.race([session, exited]);
    socket.destroy();
    return out;
  } finally {
    qemu.kill();
  }
}

/** The lines U-Boot printed for `version`, without carriage returns and blank lines. */
function versionAnswer(text: string): string[] {
  const m = /=> version\r?\n([\s\S]*?)=> $/.exec(text);
  if (!m) throw new Error(`no version answer in:\n${text}`);
  return m[1]!.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
}

describe('Debian U-Boot (qemu_arm64) in zone0 of qemu-virt-aarch64', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('reaches the => prompt on the zone\'s PL011 and answers version as it does under qemu-system-aarch64', async () => {
    const reference = versionAnswer(await qemuVersionSession());
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
    await console0.run('version', /aarch64-linux-gnu-gcc[\s\S]*=> $/, 20_000);
    const answer = versionAnswer(console0.text());
    expect(answer[0]).toMatch(/^U-Boot 2023\.01\S* \(/);
    expect(answer).toEqual(reference);
    const log = console0.text();
    if (process.env.UBOOT_VERBOSE) console.log(log);
    // Found its device tree at 0x40000000 and its environment area in the flash stand-in (blank).
    expect(log).toMatch(/^DRAM:\s+\d+ MiB\r?$/m);
    expect(log).toMatch(/Loading Environment from Flash\.\.\. \*\*\* Warning - bad CRC, using default environment/);
    expect(log).toMatch(/^In:\s+pl011@9000000\r?$/m);
    expect(log).not.toMatch(/Synchronous Abort|resetting/);
    expect(instance.hypervisor.list().map((z) => [z.id, z.name, z.state])).toEqual([[0, 'zone0-uboot', 'running']]);
  }, 120_000);
});
