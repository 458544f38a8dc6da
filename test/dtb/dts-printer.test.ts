import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceTree, parseDtb, printDts, writeDtb } from '../../dtb/index.js';
import { fixture } from '../helpers/fixtures.js';
import { allDebianDtbs, debianDtbPath, dtcBatch, dtcCompile, dtcDts, NAMED_DEBIAN_DTBS, QEMU_DTBS, qemuDtbPath } from './dtb-fixtures.js';
import { randomValue, rng } from './random.js';

/** The first differing line, so a failure shows where rather than two 3000-line blobs. */
function firstDifference(ours: string, dtc: string): string | undefined {
  if (ours === dtc) return undefined;
  const a = ours.split('\n');
  const b = dtc.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  return `line ${i + 1}: ours ${JSON.stringify(a[i])} dtc ${JSON.stringify(b[i])}`;
}

const ours = (file: string): string => printDts(parseDtb(readFileSync(file)));

describe('DTS printer is byte-identical to dtc -I dtb -O dts', () => {
  it('on QEMU virt DTBs (aarch64 GICv2/GICv3, riscv64, loongarch64)', () => {
    for (const name of QEMU_DTBS) {
      const file = qemuDtbPath(name);
      expect(firstDifference(ours(file), dtcDts(file)), name).toBeUndefined();
    }
  });

  it('on the named Debian board DTBs (i.MX8MP EVK, ZCU102, RK3568)', () => {
    for (const f of NAMED_DEBIAN_DTBS) {
      const file = debianDtbPath(f);
      expect(firstDifference(ours(file), dtcDts(file)), f).toBeUndefined();
    }
  });

  it('on every DTB of the Debian 6.1 arm64 kernel package', () => {
    const files = allDebianDtbs();
    expect(files.length).toBeGreaterThan(500);
    const dtcOutputs = dtcBatch(files, ['-I', 'dtb', '-O', 'dts'], 'dts');
    const mismatches: string[] = [];
    files.forEach((file, i) => {
      const diff = firstDifference(ours(file), readFileSync(dtcOutputs[i]!, 'latin1'));
      if (diff !== undefined) mismatches.push(`${file}: ${diff}`);
    });
    expect(mismatches).toEqual([]);
    // ~10 s on an idle 2-core machine (577 dtc runs); allow for a loaded CI runner.
  }, 180_000);

  it('on the raw QEMU dumps, a blob with __symbols__, and a redundant name property', () => {
    const dir = fixture('qemu-dtb');
    const files = readdirSync(dir).filter((f) => f.endsWith('.dtb')).map((f) => join(dir, f));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) expect(firstDifference(ours(file), dtcDts(file)), file).toBeUndefined();
    const tmp = mkdtempSync(join(tmpdir(), 'dtb-symbols-'));
    const withSymbols = join(tmp, 'symbols.dtb');
    writeFileSync(withSymbols, dtcCompile('/dts-v1/; / { l1: a { p = <&l2>; }; l2: b@1 { name = "b"; reg = <1>; }; };', ['-@']));
    expect(dtcDts(withSymbols)).toContain('__symbols__');
    expect(firstDifference(ours(withSymbols), dtcDts(withSymbols))).toBeUndefined();
    const tree = new DeviceTree();
    tree.root.addChild('foo').setProperty('name', 'foo');
    writeFileSync(join(tmp, 'name.dtb'), writeDtb(tree));
    expect(firstDifference(printDts(tree), dtcDts(join(tmp, 'name.dtb')))).toBeUndefined();
  });

  it('guesses string, cell and byte forms as dtc does for thousands of boundary values', () => {
    const next = rng(0x5eed);
    const tree = new DeviceTree();
    const node = tree.root.addChild('values');
    for (let i = 0; i < 3000; i++) node.setProperty(`p${i}`, randomValue(next));
    tree.memoryReservations.push({ address: 0x80000000n, size: 0x10000n }, { address: 0xfedcba9876543210n, size: 1n });
    // dtc reads the bytes back from a blob it compiled itself from our byte-exact source.
    const source = [
      '/dts-v1/;',
      ...tree.memoryReservations.map((r) => `/memreserve/ 0x${r.address.toString(16)} 0x${r.size.toString(16)};`),
      '/ { values {',
      ...node.properties.map((p) => `${p.name} = [${Buffer.from(p.value).toString('hex')}];`),
      '}; };',
    ].join('\n');
    const blob = dtcCompile(source);
    const dir = mkdtempSync(join(tmpdir(), 'dtb-values-'));
    writeFileSync(join(dir, 'v.dtb'), blob);
    expect(firstDifference(printDts(parseDtb(blob)), dtcDts(join(dir, 'v.dtb')))).toBeUndefined();
    expect(printDts(tree)).toBe(printDts(parseDtb(blob)));
  });
});
