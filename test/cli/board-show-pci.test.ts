import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { showBoard } from '../../src/cli/commands/board.js';

describe('hvisor board show --pci', () => {
  it('lists the functions of a --pci file on the board\'s host bridge, INTx routed by the tree\'s interrupt-map', () => {
    const dir = mkdtempSync(join(tmpdir(), 'board-show-pci-'));
    writeFileSync(join(dir, 'disk.img'), new Uint8Array(1 << 16));
    writeFileSync(join(dir, 'pci.json'), JSON.stringify({
      functions: [{ bdf: '00:01.0', type: 'virtio-blk', img: 'disk.img' }, { bdf: '00:02.0', type: 'virtio-net' }],
    }));
    const report = showBoard({ name: 'qemu-virt-aarch64', pci: join(dir, 'pci.json') });
    const text = report.pciFunctions!;
    expect(text).toMatch(/^00:00\.0 Host bridge \[060000\]: gpex-root \[1b36:0008\]/m);
    expect(text).toMatch(/^00:01\.0 SCSI storage controller \[010000\]: virtio-blk-pci \[1af4:1042\]/m);
    expect(text).toMatch(/^00:02\.0 Ethernet controller \[020000\]: virtio-net-pci \[1af4:1041\]/m);
    // QEMU virt swizzles INTA of slot n to SPI 3 + n % 4 (GIC INTID 35 + n % 4).
    expect(text).toMatch(/00:01\.0[\s\S]*?IRQ INTA -> SPI 4 \(irq 36\)/);
    expect(text).toMatch(/00:02\.0[\s\S]*?IRQ INTA -> SPI 5 \(irq 37\)/);
    expect(showBoard({ name: 'qemu-virt-aarch64' }).pciFunctions).toBeUndefined();
    expect(() => showBoard({ name: 'qemu-virt-aarch64', pci: join(dir, 'nope.json') })).toThrow(/nope\.json: \(top level\): cannot read the PCI functions file/);
  });
});
