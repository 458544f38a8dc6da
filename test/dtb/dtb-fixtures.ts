/** Where the dtb tests find real device trees, and dtc as the oracle. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureMatching, tool } from '../helpers/fixtures.js';

const DATA = join(dirname(fileURLToPath(import.meta.url)), 'data');

/** QEMU 7.2's virt DTBs (`-machine virt,dumpdtb=`, compacted by dtc), committed as test data. */
export const QEMU_DTBS = [
  'qemu-virt-aarch64-gicv2', 'qemu-virt-aarch64-gicv3', 'qemu-virt-riscv64', 'qemu-virt-loongarch64',
] as const;

export function qemuDtbPath(name: (typeof QEMU_DTBS)[number]): string {
  return join(DATA, `${name}.dtb`);
}

/** A plain Uint8Array copy (a Buffer's slice() would alias the original). */
export function qemuDtb(name: (typeof QEMU_DTBS)[number]): Uint8Array {
  return new Uint8Array(readFileSync(qemuDtbPath(name)));
}

/** The Debian 6.1 arm64 kernel package's DTB directory (fetched by scripts/fixtures.sh). */
export function debianDtbDir(): string {
  return fixtureMatching('debian/arm64-6.1/usr/lib', /^linux-image-6\.1\./);
}

export function debianDtbPath(relative: string): string {
  return join(debianDtbDir(), relative);
}

/** Every .dtb in the Debian package, sorted. */
export function allDebianDtbs(): string[] {
  const root = debianDtbDir();
  const out: string[] = [];
  for (const vendor of readdirSync(root, { withFileTypes: true })) {
    if (!vendor.isDirectory()) continue;
    for (const f of readdirSync(join(root, vendor.name))) if (f.endsWith('.dtb')) out.push(join(root, vendor.name, f));
  }
  return out.sort();
}

/** The named board DTBs the issue requires. */
export const NAMED_DEBIAN_DTBS = [
  'freescale/imx8mp-evk.dtb', 'xilinx/zynqmp-zcu102-rev1.0.dtb',
  'rockchip/rk3568-evb1-v10.dtb', 'rockchip/rk3568-rock-3a.dtb',
  'rockchip/rk3568-odroid-m1.dtb', 'rockchip/rk3568-bpi-r2-pro.dtb',
];

/** `dtc -I dtb -O dts FILE` (warnings dropped). */
export function dtcDts(file: string): string {
  return execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dts', file], { encoding: 'latin1', maxBuffer: 64 << 20 });
}

/** `dtc -I dts -O dtb` of a source text. */
export function dtcCompile(source: string, extra: string[] = []): Uint8Array {
  return execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', ...extra, '-'], { input: source, maxBuffer: 64 << 20 });
}

/**
 * Runs dtc once per input from a single shell loop (far cheaper than one Node spawn per file) and
 * returns the output file of each: `dtc -q <args> -o OUT IN`.
 */
export function dtcBatch(inputs: readonly string[], args: readonly string[], outputExtension: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'dtc-batch-'));
  const list = join(dir, 'inputs');
  writeFileSync(list, inputs.join('\n') + '\n');
  const quoted = args.map((a) => `'${a}'`).join(' ');
  execFileSync('bash', ['-c', `i=0; while read -r f; do "${tool('dtc')}" -q ${quoted} -o "${dir}/$i.${outputExtension}" "$f" || exit 1; i=$((i+1)); done < "${list}"`]);
  return inputs.map((_, i) => join(dir, `${i}.${outputExtension}`));
}
