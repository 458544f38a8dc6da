import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';

/** Assembles riscv64 source with GNU as and links it at `textAddress`; returns the ELF's path. */
export function assembleRiscv(source: string, textAddress: number, name = 'prog'): string {
  const dir = mkdtempSync(join(tmpdir(), 'rvasm-'));
  writeFileSync(join(dir, `${name}.S`), source);
  execFileSync(tool('riscv64-linux-gnu-as'), ['-march=rv64imac', '-o', `${name}.o`, `${name}.S`], { cwd: dir });
  execFileSync(tool('riscv64-linux-gnu-ld'), [`-Ttext=0x${textAddress.toString(16)}`, '-e', `0x${textAddress.toString(16)}`, '-o', `${name}.elf`, `${name}.o`], { cwd: dir });
  return join(dir, `${name}.elf`);
}

/** A symbol's address in an ELF, by GNU nm. */
export function symbolAddress(elf: string, name: string): bigint {
  const out = execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.endsWith(` ${name}`));
  if (line === undefined) throw new Error(`no symbol ${name} in ${elf}`);
  return BigInt('0x' + line.split(' ')[0]);
}
