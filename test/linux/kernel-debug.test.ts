/**
 * Debugging Debian's stock riscv64 kernel (forky) in zone0 with no debug package (issue 19), one boot
 * serving every check of kernel-debug-checks.ts. The arm64 kernel gets the same checks in a nonroot
 * zone through the README walkthrough (readme-walkthrough.test.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { launch, type Instance } from '../../src/cli/launch.js';
import { fixture, REPO } from '../helpers/fixtures.js';
import { GuestConsole, until } from '../helpers/guest-console.js';
import { scratch } from '../helpers/linux-initramfs.js';
import { breakInUname, compareWithProcKallsyms, compareWithPsAndDmesg, expectBreakInUname } from './kernel-debug-checks.js';

const run = promisify(execFile);

describe('debugging Debian\'s riscv64 kernel in zone0 with no debug package', () => {
  let instance: Instance | undefined;
  afterEach(async () => {
    await instance?.close();
    instance = undefined;
  });

  it('hvisor symbols matches /proc/kallsyms, data symbols read through gdb; gdb breaks in the uname syscall by name; monitor linux ps and dmesg match the shell', async () => {
    const dir = scratch('kernel-debug-rv64-');
    const image = fixture('vmlinuz-riscv64');
    const elf = join(dir, 'kernel.elf');
    const listed = await run('node', [join(REPO, 'dist/src/cli/main.js'), 'symbols', image, '-o', elf, '--list'], { maxBuffer: 64 << 20 });
    // The debugging setup's own config, its relative paths made absolute for the scratch copy.
    const config = JSON.parse(readFileSync(join(REPO, 'boards/guests/riscv64/debug/zone0-linux-shell.json'), 'utf8'));
    config.kernel_filepath = image;
    config.initrd_filepath = fixture('initramfs-riscv64-shell.cpio.gz');
    writeFileSync(join(dir, 'zone0.json'), JSON.stringify(config));
    let typeOn: (bytes: Uint8Array) => void = () => {};
    const shell = new GuestConsole('zone0-linux', (b) => typeOn(b));
    instance = await launch({ board: 'qemu-virt-riscv64', zones: [join(dir, 'zone0.json')], gdbBasePort: 0, output: shell.append, log: () => {} });
    typeOn = (b) => instance!.consoles.type(0, b);
    const prompt = /\nzone0# $/;
    await shell.waitFor(/SHELL-READY[\s\S]*zone0# $/, 'the shell prompt', 600_000);

    await compareWithProcKallsyms(shell, listed);

    const zone = instance.hypervisor.zone(0)!;
    // At the breakpoint a key reaches the UART while the hart is held: `monitor irq` then shows the
    // UART's PLIC source pending (and not yet claimed).
    const keyFlag = join(dir, 'key');
    const keyTyped = join(dir, 'key-typed');
    const key = (async () => {
      await until(() => existsSync(keyFlag), 'gdb at the breakpoint', 1_200_000, () => shell.text());
      shell.type('\n');
      await new Promise((r) => setTimeout(r, 500));
      writeFileSync(keyTyped, '');
    })();
    const session = await breakInUname({
      port: instance.gdb.get(0)!.port,
      elf,
      image,
      syscall: '__riscv_sys_newuname',
      flag: join(dir, 'continuing'),
      before: ['monitor linux kaslr'],
      atBreakpoint: [
        'bt 4', 'monitor linux current', 'monitor linux ps', 'monitor linux dmesg 5', 'monitor linux modules',
        `shell touch ${keyFlag}`, `shell while [ ! -f ${keyTyped} ]; do sleep 0.1; done`, 'monitor irq',
      ],
      typeUname: async (continuing) => {
        await until(continuing, 'gdb to continue', 300_000, () => shell.text());
        await until(() => !zone.halted, 'the zone to run', 300_000, () => shell.text());
        shell.type('uname -r\n');
      },
    });
    // gdb prints monitor output on stderr in batch mode.
    const out = session.stdout + session.stderr;
    expect(out, session.stderr).toContain('Breakpoint 1');
    expectBreakInUname(out, '__riscv_sys_newuname', 'do_trap_ecall_u');
    expect(out).toContain('no modules loaded');
    await key;
    // The PLIC's source 10 (the UART, enabled for the harts' S-mode contexts): pending, line high, while the hart is held.
    expect(out).toMatch(/^ +10 +[1-7] yes +no +high +ctx[13]( ctx3)?$/m);
    await shell.waitFor(/\d+\.\d+\.\d+[^\n]*\n[\s\S]*zone0# $/, 'uname to finish', 300_000);
    await compareWithPsAndDmesg(shell, prompt, out);
  }, 1_800_000);
});
