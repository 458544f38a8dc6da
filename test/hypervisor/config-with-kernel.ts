import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** A copy of one of test/hypervisor/configs/ with its kernel replaced by `elf` (and no dtb file); returns its path. */
export function configWithKernel(configFile: string, elf: string): string {
  const j = JSON.parse(readFileSync(join(import.meta.dirname, 'configs', configFile), 'utf8'));
  j.kernel_filepath = elf;
  j.dtb_filepath = '';
  const out = join(mkdtempSync(join(tmpdir(), 'zone-config-')), basename(configFile));
  writeFileSync(out, JSON.stringify(j));
  return out;
}
