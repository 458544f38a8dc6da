import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceTree, DtNode, parseDtb, printDts, writeDtb } from '../../dtb/index.js';
import { fixture, tool } from '../helpers/fixtures.js';
import { allDebianDtbs, debianDtbPath, dtcBatch, NAMED_DEBIAN_DTBS, QEMU_DTBS, qemuDtbPath } from './dtb-fixtures.js';

/** dtc's own re-encoding of a blob: the byte-level oracle for our writer. */
const dtcRewrite = (file: string): Buffer => execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dtb', file], { maxBuffer: 64 << 20 });

/** Structural equality: names, property names and bytes, order, reservations. */
function sameTree(a: DeviceTree, b: DeviceTree): void {
  expect(a.memoryReservations).toEqual(b.memoryReservations);
  expect(a.bootCpuId).toBe(b.bootCpuId);
  const flat = (n: DtNode): unknown[] => [...n.walk()].map((x) => [x.path, x.properties.map((p) => [p.name, Buffer.from(p.value).toString('hex')])]);
  expect(flat(a.root)).toEqual(flat(b.root));
}

describe('DTB writer', () => {
  it('re-encodes QEMU virt DTBs byte for byte as dtc -I dtb -O dtb does (compact and raw dumps)', () => {
    const raw = readdirSync(fixture('qemu-dtb')).filter((f) => f.endsWith('.dtb')).map((f) => join(fixture('qemu-dtb'), f));
    expect(raw.length).toBeGreaterThanOrEqual(4);
    for (const file of [...QEMU_DTBS.map(qemuDtbPath), ...raw]) {
      const ours = writeDtb(parseDtb(readFileSync(file)));
      expect(Buffer.from(ours).equals(dtcRewrite(file)), file).toBe(true);
    }
  });

  it('re-encodes the named Debian board DTBs and every 10th other one byte for byte', () => {
    const files = [...NAMED_DEBIAN_DTBS.map(debianDtbPath), ...allDebianDtbs().filter((_, i) => i % 10 === 0)];
    const dtcOutputs = dtcBatch(files, ['-I', 'dtb', '-O', 'dtb'], 'dtb');
    files.forEach((file, i) => {
      const ours = writeDtb(parseDtb(readFileSync(file)));
      expect(Buffer.from(ours).equals(readFileSync(dtcOutputs[i]!)), file).toBe(true);
    });
  });

  it('round-trips parse → write → parse to the same tree, with memory reservations and boot CPU', () => {
    const tree = parseDtb(readFileSync(debianDtbPath('freescale/imx8mp-evk.dtb')));
    tree.memoryReservations.push({ address: 0x40000000n, size: 0x100000n }, { address: 0xffff_0000_0000_0000n, size: 0x1000n });
    tree.bootCpuId = 2;
    const again = parseDtb(writeDtb(tree));
    sameTree(again, tree);
    sameTree(tree.clone(), tree);
    expect(printDts(again)).toBe(printDts(tree));
    expect(printDts(again)).toContain('/memreserve/\t0xffff000000000000 0x0000000000001000;\n');
  });

  it('writes edits: added, patched and removed nodes survive the round trip', () => {
    const tree = parseDtb(readFileSync(qemuDtbPath('qemu-virt-riscv64')));
    tree.requireNode('/chosen').setProperty('bootargs', 'console=ttyS0 earlycon');
    tree.requireNode('/soc').removeChild('rtc@101000');
    const ivc = tree.root.addChild('ivc@d0000000');
    ivc.setProperty('compatible', ['hvisor,ivc', 'simple-bus']);
    ivc.setProperty('reg', [0, 0xd0000000, 0, 0x1000]);
    ivc.setProperty('hvisor,id', 7n);
    ivc.setProperty('empty', new Uint8Array(0));
    const again = parseDtb(writeDtb(tree));
    sameTree(again, tree);
    expect(again.chosen().bootargs).toBe('console=ttyS0 earlycon');
    expect(again.node('/soc/rtc@101000')).toBeUndefined();
    expect(again.reg(again.requireNode('/ivc@d0000000'))).toEqual([{ address: 0xd0000000, size: 0x1000 }]);
    expect(again.requireNode('/ivc@d0000000').u64('hvisor,id')).toBe(7n);
  });

  it('leaves free space as dtc -p, -S and -a do', () => {
    const file = qemuDtbPath('qemu-virt-aarch64-gicv3');
    const tree = parseDtb(readFileSync(file));
    const cases: [string[], Parameters<typeof writeDtb>[1]][] = [
      [['-p', '1024'], { padding: 1024 }],
      [['-S', '65536'], { minSize: 65536 }],
      [['-S', '100'], { minSize: 100 }],
      [['-a', '4096'], { align: 4096 }],
      [['-p', '100', '-a', '64'], { padding: 100, align: 64 }],
    ];
    for (const [args, options] of cases) {
      const dtc = execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dtb', ...args, file]);
      const ours = writeDtb(tree, options);
      expect(Buffer.from(ours).equals(dtc), args.join(' ')).toBe(true);
      sameTree(parseDtb(ours), tree);
    }
    expect(() => writeDtb(tree, { align: 100 })).toThrow(/not a power of two/);
  });

  it('reads version-16 blobs (no size_dt_struct) as dtc writes them with -V 16', () => {
    const file = qemuDtbPath('qemu-virt-riscv64');
    const v16 = execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dtb', '-V', '16', file]);
    expect(v16.readUInt32BE(20)).toBe(16);
    const tree = parseDtb(v16);
    sameTree(tree, parseDtb(readFileSync(file)));
    expect(Buffer.from(writeDtb(tree)).equals(dtcRewrite(file))).toBe(true);
  });

  it('produces a blob dtc accepts and decompiles to our own DTS text', () => {
    const tree = parseDtb(readFileSync(qemuDtbPath('qemu-virt-aarch64-gicv2')));
    tree.root.addChild('extra').setProperty('value', [1, 2, 3]);
    const blob = writeDtb(tree);
    const dts = execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dts', '-'], { input: blob, encoding: 'latin1' });
    expect(dts).toBe(printDts(tree));
  });
});
