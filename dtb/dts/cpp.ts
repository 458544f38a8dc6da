/**
 * Board and zone sources are usually written for the C preprocessor (`#include <dt-bindings/...>`,
 * `#define`), as the Linux and hvisor builds run it before dtc. We run the host's `cpp` the way
 * the kernel does (-nostdinc -undef -x assembler-with-cpp, so `linux` stays a word); its line
 * markers let compile errors name the original file and line.
 */
import { execFileSync } from 'node:child_process';
import { DtbError } from '../errors.js';

/** Whether a source uses preprocessor directives (`#include`, `#define`, `#if...`). */
export function needsCpp(text: string): boolean {
  return /^[ \t]*#[ \t]*(include|define|undef|if|ifdef|ifndef)\b/m.test(text);
}

/** The source after `cpp`, with `includeDirs` on the include path. DtbError if cpp fails or is missing. */
export function runCpp(file: string, includeDirs: readonly string[] = []): string {
  const args = ['-nostdinc', '-undef', '-D__DTS__', '-x', 'assembler-with-cpp', '-E', ...includeDirs.flatMap((d) => ['-I', d]), file];
  try {
    return execFileSync('cpp', args, { encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer | string };
    if (err.code === 'ENOENT') throw new DtbError('the C preprocessor `cpp` is not installed (apt install cpp)', { path: file });
    const lines = String(err.stderr ?? err.message).trim().split('\n');
    const detail = lines.find((l) => l.includes('error:')) ?? lines[0] ?? 'failed';
    throw new DtbError(`cpp: ${detail}`, { path: file });
  }
}
