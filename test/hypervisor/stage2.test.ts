import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadZoneConfig, zoneConfigFromJson } from '../../src/config/zone-config.js';
import { buildStage2, Stage2Error, type ZoneDeviceSource } from '../../src/hypervisor/stage2/stage2.js';
import { qemuVirtAarch64, qemuVirtRiscv64, RecordingDevice } from './boards.js';

/** A device source whose release has nothing to free. */
const provider = (provide: ZoneDeviceSource['provide']): ZoneDeviceSource => ({ provide, release: async () => {} });

const dir = join(import.meta.dirname, 'configs');
const zone0 = () => loadZoneConfig(join(dir, 'qemu-aarch64-zone0.json'));
const zone1 = () => loadZoneConfig(join(dir, 'qemu-aarch64-zone1_linux_with_pci.json'));

describe('stage-2 map', () => {
  it('maps RAM regions onto the board RAM (same bytes, offset by physical_start)', () => {
    const { machine } = qemuVirtAarch64();
    // hvisor-tool's ruxos example maps physical 0x50000000 at guest 0x40000000.
    const rux = loadZoneConfig(join(dir, 'qemu-aarch64-zone1_ruxos_display.json'));
    const { space } = buildStage2(machine, rux);
    expect(space.write(0x40000010, 8, 0x1122334455667788n)).toBe(true);
    expect(machine.physical.read(0x50000010, 8)).toBe(0x1122334455667788n);
    expect(machine.ramBanks[0]!.blocks[0]!.u8[0x10000010]).toBe(0x88);
  });

  it('isolates zones: an access outside the zone faults and the other zone is untouched', () => {
    const { machine, uart } = qemuVirtAarch64();
    const s0 = buildStage2(machine, zone0()).space;
    const s1 = buildStage2(machine, zone1()).space;
    s0.write(0x40001000, 4, 0xcafef00dn);
    const faults: string[] = [];
    s1.onFault = (gpa, size, write) => faults.push(`${write ? 'w' : 'r'}${size}@${gpa.toString(16)}`);
    expect(s1.read(0x40001000, 4)).toBeUndefined();
    expect(s1.write(0x40001000, 4, 0xdeadn)).toBe(false);
    expect(s1.write(0x9000000, 1, 0x41n)).toBe(false); // zone0's UART
    expect(faults).toEqual(['r4@40001000', 'w4@40001000', 'w1@9000000']);
    expect(s0.read(0x40001000, 4)).toBe(0xcafef00dn);
    expect(uart.accesses).toEqual([]);
    // Debugger reads of unmapped space are not guest faults.
    expect(s1.readDebug(0x40001000, 4).length).toBe(0);
    expect(faults).toHaveLength(3);
  });

  it('passes io regions through to the board model; the board GIC and model-less devices are holes', () => {
    const { machine, uart } = qemuVirtAarch64();
    const { space, holes } = buildStage2(machine, zone0());
    space.write(0x9000000, 4, 0x41n);
    expect(uart.accesses).toEqual(['w4@0=41']);
    const rux = loadZoneConfig(join(dir, 'qemu-aarch64-zone1_ruxos_display.json'));
    const m = buildStage2(qemuVirtAarch64().machine, rux);
    expect(m.holes).toContainEqual({ base: 0x8000000, size: 0x10000, why: "/intc@8000000 is the board's interrupt controller: the zone's own model is not mapped here" });
    expect(m.holes).toContainEqual({ base: 0x9010000, size: 0x1000, why: 'no board device here' });
    // zone0's io window over the virtio slots: the board has no models there.
    expect(holes[0]).toEqual({ base: 0xa000000, size: 0x200, why: '/virtio_mmio@a000000 (virtio,mmio) has no device model' });
  });

  it('an io region starting inside a device window reaches the right registers; io may be remapped', () => {
    const { machine, slots } = qemuVirtRiscv64();
    const rv = loadZoneConfig(join(dir, 'qemu-riscv64-linux2.json'));
    const j = JSON.parse(readFileSync(join(dir, 'qemu-riscv64-linux2.json'), 'utf8'));
    j.memory_regions[1] = { type: 'io', physical_start: '0x10007100', virtual_start: '0x20000100', size: '0x100' };
    const { space } = buildStage2(machine, zoneConfigFromJson(j, 'moved.json'));
    space.write(0x20000104, 4, 7n);
    expect(slots[6]!.accesses).toEqual(['w4@104=7']);
    // The unmodified example: slots 6 and 7 (0x10006000/0x10007000) are the zone's, slot 1 is not.
    const plain = buildStage2(qemuVirtRiscv64().machine, rv).space;
    expect(plain.read(0x10006000, 4)).toBe(0n);
    expect(plain.read(0x10001000, 4)).toBeUndefined();
  });

  it('maps the zone’s own emulated windows over io passthrough, and virtio devices only inside virtio regions', () => {
    const { machine } = qemuVirtAarch64();
    const vgic = new RecordingDevice('vgic-d');
    const blk = new RecordingDevice('virtio-blk');
    const z1 = zone1();
    let sawRam = false;
    const { space, holes } = buildStage2(machine, z1, [{ base: 0x8000000, size: 0x10000, device: vgic, name: 'gicd' }], provider((_zone, memory) => {
      sawRam = memory.find(0x50000000)?.kind === 'ram';
      return [{ base: 0xa003c00, size: 0x200, device: blk, name: 'virtio-blk' }];
    }));
    expect(sawRam).toBe(true);
    space.write(0x8000004, 4, 1n);
    space.read(0xa003c70, 4);
    expect(vgic.accesses).toEqual(['w4@4=1']);
    expect(blk.accesses).toEqual(['r4@70']);
    expect(holes).toEqual([
      { base: 0xa000000, size: 0x3c00, why: 'virtio window with no device served here' },
      { base: 0xa003e00, size: 0x200, why: 'virtio window with no device served here' },
    ]);
    expect(() => buildStage2(qemuVirtAarch64().machine, z1, [], provider(() => [{ base: 0xb000000, size: 0x200, device: blk, name: 'virtio-blk' }])))
      .toThrow(new Stage2Error("zone 1 (linux2): virtio device virtio-blk at 0xb000000+0x200 lies outside the zone's virtio regions"));
  });

  it('a DeviceProvider (vPCI) gets the zone memory with RAM mapped and may map anywhere free', () => {
    const ecam = new RecordingDevice('vecam');
    let dmaSeesRam = false;
    const m = buildStage2(qemuVirtAarch64().machine, zone1(), [], undefined, [], provider((_z, memory) => {
      dmaSeesRam = memory.find(0x50000000)?.kind === 'ram';
      return [{ base: 0x4010000000, size: 0x10000000, device: ecam, name: 'vecam' }];
    }));
    expect(dmaSeesRam).toBe(true);
    m.space.read(0x4010000000 + 0x8, 4);
    expect(ecam.accesses).toEqual(['r4@8']);
    expect(m.devices.map((w) => w.name)).toEqual(['vecam']);
    expect(() => buildStage2(qemuVirtAarch64().machine, zone1(), [], undefined, [], provider(() => [{ base: 0x50000000, size: 0x1000, device: ecam, name: 'over-ram' }])))
      .toThrow(/zone 1 \(linux2\): region over-ram \[0x50000000, 0x50001000\) overlaps ram@0x50000000/);
  });
});
