/**
 * `hvisor symbols` on Debian's stock arm64 (6.1) and riscv64 (forky) kernels, which ship no System.map:
 * the kallsyms tables found in the Image, made absolute, and written as an ELF that Debian's
 * gdb-multiarch loads, and on forky's loong64 one (an EFI zboot image). (test/linux/kernel-debug.test.ts
 * and loongarch64-two-zones.test.ts compare the addresses with /proc/kallsyms in a booted zone.)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readKernelFileSymbols, readKernelSymbols, type KernelSymbols } from '../../src/linux-guest/kernel-symbols.js';
import { writeElfSymbolFile } from '../../src/linux-guest/elf-symbol-file.js';
import { fixture, fixtureMatching, REPO, tool } from '../helpers/fixtures.js';
import { scratch } from '../helpers/linux-initramfs.js';

const run = promisify(execFile);

const KERNELS = [
  { arch: 'aarch64', image: () => fixtureMatching('debian/arm64-6.1/boot', /^vmlinuz-/), syscall: '__arm64_sys_newuname', base: 0xffff800008000000n },
  { arch: 'riscv64', image: () => fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/) + '/vmlinuz', syscall: '__riscv_sys_newuname', base: 0xffffffff80000000n },
] as const;

describe.each(KERNELS)('symbols of Debian\'s $arch kernel', ({ arch, image, syscall, base }) => {
  let kernel: KernelSymbols;
  const find = (name: string) => kernel.symbols.find((s) => s.name === name);
  beforeAll(() => {
    kernel = readKernelSymbols(new Uint8Array(readFileSync(image())), 'vmlinuz');
  });

  it('reads the kallsyms tables with link addresses, text and data', () => {
    expect(kernel.arch).toBe(arch);
    expect(kernel.symbols.length).toBeGreaterThan(40_000);
    const text = (name: string) => {
      const s = find(name);
      expect(s, name).toBeDefined();
      expect(s!.type).toMatch(/[Tt]/);
      return s!.address;
    };
    const stext = text('_stext');
    const etext = find('_etext')?.address ?? kernel.symbols.filter((s) => /[Tt]/.test(s.type)).reduce((m, s) => (s.address > m ? s.address : m), 0n);
    expect(stext >= base && stext < base + 0x200000n).toBe(true);
    for (const name of [syscall, 'schedule', 'do_idle']) {
      const a = text(name);
      expect(a > stext && a < etext).toBe(true);
      expect(a % 4n).toBe(0n);
    }
    // Data: kallsyms itself with CONFIG_KALLSYMS_ALL (riscv), else the exported ones from __ksymtab (arm64).
    for (const name of ['jiffies', 'init_task']) {
      const s = find(name);
      expect(s?.type, name).toMatch(/[DdBb]/);
      expect(s!.address > etext).toBe(true);
    }
  });

  it('writes an ELF symbol file that gdb-multiarch resolves by name', async () => {
    const { bytes, stats } = writeElfSymbolFile(kernel.symbols, arch);
    expect(stats.symbols).toBe(kernel.symbols.length);
    const file = join(scratch('symbols-'), 'kernel.elf');
    (await import('node:fs')).writeFileSync(file, bytes);
    const sys = find(syscall)!.address;
    const { stdout } = await run(tool('gdb-multiarch'), [
      '-nx', '-q', '-batch', '-ex', `file ${file}`, '-ex', `info address ${syscall}`, '-ex', `info symbol 0x${(sys + 8n).toString(16)}`,
      '-ex', 'info address jiffies', '-ex', 'show architecture',
    ]);
    expect(stdout).toContain(`Symbol "${syscall}" is at 0x${sys.toString(16)} in a file compiled without debugging.`);
    expect(stdout).toMatch(new RegExp(`${syscall} \\+ 8 in section \\.text`));
    expect(stdout).toContain(`Symbol "jiffies" is at 0x${find('jiffies')!.address.toString(16)} in a file`);
    expect(stdout).toContain(arch === 'aarch64' ? 'currently "aarch64"' : 'currently "riscv:rv64"');
  });
});

describe('symbols of Debian\'s loong64 kernel (an EFI zboot vmlinuz)', () => {
  it('unpacks the zstd payload, reads kallsyms at the link address in the cached direct-mapped window, and writes a LoongArch ELF', async () => {
    const kernel = readKernelFileSymbols(new Uint8Array(readFileSync(fixture('vmlinuz-loong64'))), 'vmlinuz-loong64');
    expect(kernel.arch).toBe('loongarch64');
    expect(kernel.symbols.length).toBeGreaterThan(40_000);
    const find = (name: string) => kernel.symbols.find((s) => s.name === name);
    // Linked at VMLINUX_LOAD_ADDRESS (0x9000_0000_0020_0000), its text a little above.
    const stext = find('_stext')!.address;
    expect(stext >= 0x9000000000200000n && stext < 0x9000000000400000n).toBe(true);
    for (const name of ['kernel_entry', 'start_kernel', 'schedule', 'do_idle']) {
      expect(find(name)?.type, name).toMatch(/[Tt]/);
      expect(find(name)!.address > stext && find(name)!.address % 4n === 0n).toBe(true);
    }
    const file = join(scratch('symbols-la-'), 'kernel.elf');
    (await import('node:fs')).writeFileSync(file, writeElfSymbolFile(kernel.symbols, kernel.arch).bytes);
    expect((await run(tool('llvm-readelf-19'), ['-h', file])).stdout).toMatch(/Machine:\s+LoongArch/);
    const start = find('start_kernel')!.address.toString(16);
    expect((await run(tool('llvm-nm-19'), [file], { maxBuffer: 64 << 20 })).stdout).toContain(`${start} T start_kernel`);
  }, 120_000);
});

describe('hvisor symbols (CLI)', () => {
  const cli = join(REPO, 'dist/src/cli/main.js');
  it('refuses what is not a kernel Image, and a missing output, in one line', async () => {
    const dir = scratch('symbols-bad-');
    const bad = await run('node', [cli, 'symbols', join(REPO, 'package.json'), '-o', join(dir, 'x.elf')]).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^error: .*package\.json: not an arm64, riscv64 or LoongArch kernel Image/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const noOut = await run('node', [cli, 'symbols', join(REPO, 'package.json')]).catch((e) => e);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toMatch(/-o FILE\.elf/);
  });
});
