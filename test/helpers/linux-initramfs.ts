/**
 * Initramfs images for the Linux-in-a-zone tests: the fixture's BusyBox archive followed by a second
 * cpio (Linux unpacks concatenated archives; later files win) holding the test's own /init, any
 * extra files, and kernel modules taken from the same Debian kernel package with their dependencies.
 *
 * Modules go in without their appended signatures: checking one (SHA-256 over the module, then RSA)
 * costs the emulated CPU seconds per module, and Debian's kernel only taints itself for an unsigned
 * module (MODULE_SIG without MODULE_SIG_FORCE, lockdown off). The code loaded is the package's.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fixture, tool } from './fixtures.js';

/** The `.modinfo` strings of a kernel module (an ELF64 little-endian relocatable object). */
function modinfo(ko: Uint8Array): Map<string, string> {
  const v = new DataView(ko.buffer, ko.byteOffset, ko.byteLength);
  if (v.getUint32(0) !== 0x7f454c46 || ko[4] !== 2 || ko[5] !== 1) throw new Error('not an ELF64 little-endian module');
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const section = (i: number) => ({
    name: v.getUint32(shoff + i * shentsize, true),
    offset: Number(v.getBigUint64(shoff + i * shentsize + 0x18, true)),
    size: Number(v.getBigUint64(shoff + i * shentsize + 0x20, true)),
  });
  const names = section(v.getUint16(0x3e, true));
  const text = new TextDecoder('latin1');
  const nameOf = (at: number) => {
    let end = names.offset + at;
    while (ko[end] !== 0) end++;
    return text.decode(ko.subarray(names.offset + at, end));
  };
  const info = new Map<string, string>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameOf(s.name) !== '.modinfo') continue;
    for (const entry of text.decode(ko.subarray(s.offset, s.offset + s.size)).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) info.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  }
  return info;
}

/** A module file's name without `.ko` or `.ko.xz` (Debian's newer kernels ship xz-compressed modules). */
const MODULE_FILE = /\.ko(\.xz)?$/;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (MODULE_FILE.test(e.name)) out.push(p);
  }
  return out;
}

/** A module's ELF bytes, decompressed on the host (BusyBox's insmod hands the kernel the file as it is). */
function moduleBytes(file: string): Buffer {
  if (!file.endsWith('.xz')) return readFileSync(file);
  return execFileSync(tool('xz'), ['-dc', file], { maxBuffer: 256 << 20 });
}

const moduleName = (file: string) => basename(file).replace(MODULE_FILE, '');

/** The newest kernel version's module tree under a fixture's modules folder (<folder>/<version>/kernel). */
function moduleTree(modulesFolder: string): string {
  const base = fixture(modulesFolder);
  const version = readdirSync(base).sort().pop();
  if (version === undefined) throw new Error(`no kernel version under ${base}: run \`bash scripts/fixtures.sh\``);
  return join(base, version, 'kernel');
}

/** The module tree of the Debian arm64 kernel fixture (bookworm's linux-image, lib/modules). */
export const arm64ModuleTree = (): string => moduleTree('debian/arm64-6.1/lib/modules');

/** The module tree of the Debian riscv64 kernel fixture (forky's linux-modules, usr/lib/modules; xz-compressed). */
export const riscv64ModuleTree = (): string => moduleTree('debian/rv64-modules/usr/lib/modules');

/**
 * The module files for `names` and everything they depend on, dependencies first (the order
 * `insmod` needs). Names are module names (`virtio_blk`, `nvme`); '-' and '_' are the same.
 */
export function modulesWithDependencies(tree: string, names: readonly string[]): string[] {
  const files = new Map<string, string>();
  for (const f of walk(tree)) files.set(moduleName(f).replace(/-/g, '_'), f);
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: string[]) => {
    const key = name.replace(/-/g, '_');
    if (seen.has(key)) return;
    const file = files.get(key);
    if (file === undefined) throw new Error(`module ${name} (needed by ${chain.join(' <- ') || 'the test'}) is not in ${tree}`);
    seen.add(key);
    const depends = modinfo(moduleBytes(file)).get('depends') ?? '';
    for (const d of depends.split(',').filter(Boolean)) visit(d, [key, ...chain]);
    ordered.push(file);
  };
  for (const n of names) visit(n, []);
  return ordered;
}

export interface InitramfsSpec {
  /** The fixture archive to extend (`initramfs-arm64.cpio.gz`). */
  readonly base: string;
  /** The shell script that becomes /init. */
  readonly init: string;
  /** Kernel module files to place in /lib/modules (in load order, see {@link modulesWithDependencies}). */
  readonly modules?: readonly string[];
  /** Extra files: archive path → contents. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Which of `files` are programs (mode 0755). */
  readonly executables?: readonly string[];
}

/**
 * Writes the combined initramfs into a fresh temporary directory and returns its path. /init can load
 * the modules in order with `for m in $(cat /lib/modules/order); do insmod /lib/modules/$m; done`.
 */
export function buildInitramfs(spec: InitramfsSpec): string {
  const dir = mkdtempSync(join(tmpdir(), 'initramfs-'));
  const root = join(dir, 'overlay');
  const entries: string[] = [];
  const put = (path: string, data: string | Uint8Array, mode = 0o644) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data);
    chmodSync(full, mode);
    entries.push(path);
  };
  mkdirSync(root);
  put('init', spec.init, 0o755);
  const modules = spec.modules ?? [];
  if (modules.length > 0) {
    mkdirSync(join(root, 'lib/modules'), { recursive: true });
    entries.push('lib', 'lib/modules');
    for (const m of modules) {
      writeFileSync(join(root, 'lib/modules', `${moduleName(m)}.ko`), withoutSignature(moduleBytes(m)));
      entries.push(`lib/modules/${moduleName(m)}.ko`);
    }
    put('lib/modules/order', modules.map((m) => `${moduleName(m)}.ko`).join('\n') + '\n');
  }
  for (const [path, data] of Object.entries(spec.files ?? {})) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) entries.push(parts.slice(0, i).join('/'));
    put(path, data, spec.executables?.includes(path) ? 0o755 : 0o644);
  }
  const list = [...new Set(entries)].sort().join('\n') + '\n';
  // Straight to a file: modules make the archive larger than a child process's output buffer.
  execFileSync(tool('cpio'), ['-o', '-H', 'newc', '--owner=0:0', '--quiet', '-O', join(dir, 'overlay.cpio')], { cwd: root, input: list });
  const overlay = readFileSync(join(dir, 'overlay.cpio'));
  const base = readFileSync(fixture(spec.base));
  const path = join(dir, 'initramfs.cpio');
  // Each archive must start 4-byte aligned; zeros between archives are skipped.
  writeFileSync(path, Buffer.concat([base, new Uint8Array((4 - (base.length % 4)) % 4), overlay]));
  return path;
}

const SIGNATURE_MAGIC = '~Module signature appended~\n';

/** A module without its appended signature: ..., signature, struct module_signature (be32 sig_len last), magic. */
function withoutSignature(ko: Buffer): Buffer {
  const magic = ko.length - SIGNATURE_MAGIC.length;
  if (magic < 12 || ko.toString('latin1', magic) !== SIGNATURE_MAGIC) return ko;
  const info = magic - 12;
  const signed = info - ko[info + 3]! - ko[info + 4]! - ko.readUInt32BE(info + 8);
  if (signed <= 0) throw new Error('module signature is longer than the module');
  return ko.subarray(0, signed);
}

/**
 * An /init that mounts /proc and /sys (and debugfs, for clk_summary and the like, with `debugfs`),
 * installs BusyBox's applets and runs an interactive shell with `prompt`.
 */
export function shellInit(prompt: string, options: { debugfs?: boolean } = {}): string {
  return `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
${options.debugfs === true ? '/bin/busybox mount -t debugfs debugfs /sys/kernel/debug\n' : ''}/bin/busybox --install -s /bin
export PS1='${prompt}'
echo SHELL-READY
exec sh
`;
}

/** A scratch directory for a test's zone configs and images. */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Shell lines for an /init: after `ip link set IFACE up`, wait (in guest time, at most 20 s) until the
 * link's operstate leaves "down". The driver reports the carrier from a work item that runs after
 * `ip link` returns, so reading the link state at once races it.
 */
export function waitForLinkUp(iface: string): string {
  return `n=0; while [ "$(cat /sys/class/net/${iface}/operstate)" = down ] && [ $n -lt 20 ]; do sleep 1; n=$((n+1)); done`;
}
