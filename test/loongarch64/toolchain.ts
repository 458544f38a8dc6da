import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, tool } from '../helpers/fixtures.js';

export const PROGRAMS = join(REPO, 'test', 'loongarch64', 'programs');

let workDir: string | undefined;
function work(): string {
  return (workDir ??= mkdtempSync(join(tmpdir(), 'la64-test-')));
}

/**
 * Assembles a bare-metal LoongArch program with clang-19 (Debian 12 has no GNU loongarch64 toolchain;
 * clang runs the C preprocessor on .S itself) and links it with ld.lld-19 and `linkScript`
 * (programs/link.ld at LOAD_ADDR 0x200000 by default). Returns the ELF path and its symbols.
 */
export function buildLoongarchProgram(source: string, options: { defines?: string[]; linkScript?: string; name?: string } = {}): { elf: string; symbols: Map<string, bigint> } {
  const dir = work();
  const name = options.name ?? 'program';
  const obj = join(dir, `${name}.o`);
  const elf = join(dir, `${name}.elf`);
  execFileSync(tool('clang-19'), ['--target=loongarch64-unknown-none', '-c', ...(options.defines ?? []).map((d) => `-D${d}`), '-o', obj, source]);
  execFileSync(tool('ld.lld-19'), ['-T', options.linkScript ?? join(PROGRAMS, 'link.ld'), '--defsym=LOAD_ADDR=0x200000',
    '-z', 'max-page-size=4096', '-o', elf, obj]);
  const symbols = new Map<string, bigint>();
  for (const line of execFileSync(tool('llvm-nm-19'), [elf], { encoding: 'utf8' }).split('\n')) {
    const [addr, , sym] = line.trim().split(/\s+/);
    if (addr && sym) symbols.set(sym, BigInt('0x' + addr));
  }
  return { elf, symbols };
}
