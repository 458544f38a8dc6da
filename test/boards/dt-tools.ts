/** The real oracles of the board tests: dtc and QEMU's own `dumpdtb`. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';

/** dtc compiles DTS text to a blob (test-only: production code never needs dtc). */
export function dtcCompile(dts: string): Uint8Array {
  return execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', '-'], { input: dts, maxBuffer: 1 << 26 });
}

/** dtc decompiles a blob, or a DTB file, to DTS text. */
export function dtcDecompile(blobOrPath: Uint8Array | string): string {
  if (typeof blobOrPath === 'string') {
    return execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dts', blobOrPath], { encoding: 'utf8', maxBuffer: 1 << 26 });
  }
  // Through a file: dtc stops reading a pipe at the header's totalsize, and QEMU pads its dumps.
  return withTempDir((dir) => {
    const file = join(dir, 'in.dtb');
    writeFileSync(file, blobOrPath);
    return dtcDecompile(file);
  });
}

function withTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hvisor-board-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** QEMU's own device tree for a machine: `qemu-system-X <args> -machine dumpdtb=FILE`. */
export function qemuDumpDtb(binary: string, args: readonly string[]): Uint8Array {
  return withTempDir((dir) => {
    const file = join(dir, 'dump.dtb');
    execFileSync(tool(binary), [...args, '-nographic', '-nic', 'none', '-machine', `dumpdtb=${file}`], { stdio: 'ignore', timeout: 30_000 });
    return readFileSync(file);
  });
}

/** QEMU writes fresh random seeds into /chosen on every run; everything else must match. */
export function withoutRandomSeeds(dts: string): string {
  return dts
    .split('\n')
    .filter((line) => !/^\s*(rng-seed|kaslr-seed) = /.test(line))
    .join('\n');
}
