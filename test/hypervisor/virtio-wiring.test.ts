import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoardVirtio } from '../../src/devices/virtio/virtio-provider.js';
import { parseVirtioConfig } from '../../src/config/virtio-config.js';
import { aarch64Factories } from '../../src/hypervisor/zone/arch-factories.js';
import { Zone } from '../../src/hypervisor/zone/zone.js';
import { FakeCpu, Op, encode } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config } from './zone-fixture.js';

describe('virtio devices served into a zone’s virtio window', () => {
  it('hvisor-tool’s zone1 window gets the virtio layer’s blk device at 0xa003c00, its SPI wired to the zone GIC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vio-'));
    writeFileSync(join(dir, 'rootfs2.ext4'), new Uint8Array(1 << 20));
    // hvisor-tool's qemu-aarch64 virtio_cfg.json, its blk device only (the console would take the terminal).
    const virtio = new BoardVirtio(parseVirtioConfig({
      zones: [{ id: 1, memory_region: [{ zone0_ipa: '0x50000000', zonex_ipa: '0x50000000', size: '0x30000000' }],
        devices: [{ type: 'blk', addr: '0xa003c00', len: '0x200', irq: 78, img: 'rootfs2.ext4', status: 'enable' }] }],
    }), dir);
    const { machine } = qemuVirtAarch64();
    const { createIrqchip } = aarch64Factories('gicv3');
    const zone = new Zone({
      machine, config: config(1), createCpu: FakeCpu.factory(), createIrqchip, timerFrequency: 1000,
      virtio: { provide: (cfg, space) => virtio.provide(cfg.zoneId, space), release: (id) => virtio.release(id) },
      images: [{ name: 'k', paddr: 0x50400000, data: encode([[Op.WaitIrq, 0]]) }],
    });
    zone.start();
    const m = zone.memory;
    expect(m.read(0xa003c00, 4)).toBe(0x74726976n); // "virt"
    expect(m.read(0xa003c08, 4)).toBe(2n); // block device
    expect(m.read(0xa003800, 4)).toBeUndefined(); // no console served: a hole
    expect(zone.virtioWindows.map((w) => w.name)).toEqual(['virtio-blk@a003c00']);
    expect(zone.virtioWindows[0]!.irqLine!.connected).toBe(true);
    expect(zone.monitor('devices')).toContain('[0xa003c00, 0xa003e00) virtio-mmio-blk virtio-blk@a003c00');
    await virtio.close();
  });
});
