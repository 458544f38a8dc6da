import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, tool } from '../helpers/fixtures.js';

export const PROGRAMS = join(REPO, 'test', 'riscv64', 'programs');

let workDir: string | undefined;
function work(): string {
  return (workDir ??= mkdtempSync(join(tmpdir(), 'rv64-test-')));
}

/**
 * Assembles (with gcc's C preprocessor only when `defines` are given) and links a bare-metal program with the
 * programs/link.ld script at `loadAddress`. Returns the ELF path.
 */
export function buildProgram(name: string, source: string, options: { loadAddress?: number; defines?: string[]; march?: string } = {}): string {
  const dir = work();
  const src = join(dir, `${name}.S`);
  const obj = join(dir, `${name}.o`);
  const elf = join(dir, `${name}.elf`);
  writeFileSync(src, source);
  const march = options.march ?? 'rv64gc_zba_zbb_zbc_zbs';
  if (options.defines === undefined) {
    execFileSync(tool('riscv64-linux-gnu-as'), [`-march=${march}`, '-mabi=lp64d', src, '-o', obj]);
  } else {
    execFileSync(tool('riscv64-linux-gnu-gcc'), [`-march=${march}`, '-mabi=lp64d', '-c', ...options.defines.map((d) => `-D${d}`), src, '-o', obj]);
  }
  execFileSync(tool('riscv64-linux-gnu-ld'), ['-T', join(PROGRAMS, 'link.ld'),
    `--defsym=LOAD_ADDR=0x${(options.loadAddress ?? 0x8000_0000).toString(16)}`, '-z', 'max-page-size=4096', '--no-warn-rwx-segments', '-o', elf, obj]);
  return elf;
}
