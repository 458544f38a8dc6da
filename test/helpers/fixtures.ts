import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where scripts/fixtures.sh caches Debian artefacts and QEMU dumps (gitignored). */
export const FIXTURES = join(REPO, '.fixtures');

/**
 * A path under .fixtures/ that must exist. A missing fixture fails the test with the command that
 * makes it: in CI a missing real dependency is a failure, never a skip.
 */
export function fixture(relative: string): string {
  const p = join(FIXTURES, relative);
  if (!existsSync(p)) throw new Error(`missing fixture ${p}: run \`bash scripts/fixtures.sh\``);
  return p;
}

/** The single file in a fixture directory whose name matches `pattern` (versions change with Debian updates). */
export function fixtureMatching(relativeDir: string, pattern: RegExp): string {
  const dir = fixture(relativeDir);
  const hits = readdirSync(dir).filter((f) => pattern.test(f)).sort();
  if (hits.length === 0) throw new Error(`no file matching ${pattern} in ${dir}: run \`bash scripts/fixtures.sh\``);
  return join(dir, hits[hits.length - 1]!);
}

/** A host tool that must be installed (gdb-multiarch, dtc, qemu-system-*); throws with the apt hint otherwise. */
export function tool(name: string): string {
  // Looked up on PATH directly: spawning `which` can fail for reasons that are not a missing tool (a
  // loaded machine), and that must not read as one.
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`missing host tool ${name}: run \`bash scripts/fixtures.sh\` (installs it with apt)`);
}
