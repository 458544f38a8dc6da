/**
 * An initramfs for the virtio Linux tests: test/helpers' buildInitramfs (BusyBox base + /init) with the
 * kernel modules appended as one more cpio archive, which cpio writes straight to a file. The
 * virtio + ext4 + DRM modules are several MiB: more than the helper's piped cpio output may hold
 * (execFileSync's 1 MiB maxBuffer), so they do not go through it.
 *
 * The modules go in without their appended signatures: checking a signature (SHA-256 over the whole
 * module, then RSA) costs the emulated CPU seconds per module, and Debian's kernel only taints itself
 * for an unsigned module (CONFIG_MODULE_SIG without _FORCE, lockdown off). The code loaded is the
 * package's, byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { arm64ModuleTree, buildInitramfs, modulesWithDependencies } from '../helpers/linux-initramfs.js';

/**
 * Returns the initramfs path. /init finds the modules in /lib/modules, their load order (dependencies
 * first) in /lib/modules/order.
 */
export function initramfsWithModules(init: string, moduleNames: readonly string[], files: Readonly<Record<string, string>> = {}): string {
  const modules = modulesWithDependencies(arm64ModuleTree(), moduleNames);
  const path = buildInitramfs({ base: 'initramfs-arm64.cpio.gz', init, files: { ...files, 'lib/modules/order': modules.map((m) => basename(m)).join('\n') + '\n' } });
  const root = join(dirname(path), 'modules');
  mkdirSync(join(root, 'lib/modules'), { recursive: true });
  for (const m of modules) writeFileSync(join(root, 'lib/modules', basename(m)), withoutSignature(readFileSync(m)));
  const archive = join(dirname(path), 'modules.cpio');
  const list = ['lib', 'lib/modules', ...modules.map((m) => `lib/modules/${basename(m)}`)].join('\n') + '\n';
  execFileSync(tool('cpio'), ['-o', '-H', 'newc', '--owner=0:0', '--quiet', '-O', archive], { cwd: root, input: list });
  // Each archive must start 4-byte aligned; zeros between archives are skipped.
  appendFileSync(path, new Uint8Array((4 - (statSync(path).size % 4)) % 4));
  appendFileSync(path, readFileSync(archive));
  return path;
}

const SIGNATURE_MAGIC = '~Module signature appended~\n';

/** The module without its appended PKCS#7 signature (kernel module_signature: ... be32 sig_len, then the magic). */
function withoutSignature(ko: Buffer): Buffer {
  const magic = ko.length - SIGNATURE_MAGIC.length;
  if (magic < 12 || ko.toString('latin1', magic) !== SIGNATURE_MAGIC) return ko;
  const info = magic - 12;
  const signed = info - ko[info + 3]! - ko[info + 4]! - ko.readUInt32BE(info + 8);
  if (signed <= 0) throw new Error('module signature is longer than the module');
  return ko.subarray(0, signed);
}

/** Writes `json` to `dir/name` and returns the path. */
export function writeJson(dir: string, name: string, json: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(json, null, 2));
  return path;
}
