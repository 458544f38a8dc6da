/**
 * hvisor's zcu102 root zone (platform/aarch64/zcu102/board.rs, boards/zcu102/root-zone.ts) gives the
 * DDR controller's registers at 0xfd07_0000 as a `ram` region: on the ZCU102 board built from
 * Debian's DTB that range is /axi/memory-controller@fd070000, so the zone gets the controller passed
 * through (our register model of it), never guest RAM; a `ram` region on nothing at all is still refused.
 */
import { describe, expect, it } from 'vitest';
import { loadZoneConfig, zoneConfigFromJson } from '../../src/config/zone-config.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { findBoard } from '../../boards/index.js';
import { zcu102 } from '../../boards/zcu102/index.js';
import { imx8mpEvk } from '../../boards/imx8mp-evk/index.js';
import { deviceRamAsIo } from '../../src/hypervisor/lifecycle/device-ram.js';
import { checkPartition, PartitionError } from '../../src/hypervisor/lifecycle/partition-check.js';
import { generateZoneDtb } from '../../src/hypervisor/lifecycle/zone-dtb.js';
import { parseDtb } from '../../dtb/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixtures.js';

describe('ram regions on device registers', () => {
  const { machine } = buildBoard(findBoard('zcu102'), { dtb: readFileSync(fixture('dtbs-arm64/xilinx/zynqmp-zcu102-rev1.0.dtb')) });

  it("hvisor's zcu102 root zone: the DDR controller region becomes the controller's passthrough, not a memory node", () => {
    const given = zoneConfigFromJson(zcu102.rootZone, 'board.rs');
    expect(() => checkPartition(machine, [given])).toThrow(PartitionError);
    const { config, notes } = deviceRamAsIo(machine, given);
    expect(notes).toEqual(['memory_regions[2] ram 0xfd070000+0x30000 is /axi/memory-controller@fd070000 on board zcu102, not DRAM: passed through as an io region']);
    expect(config.memoryRegions[2]!.type).toBe('io');
    expect(config.memoryRegions.filter((r) => r.type === 'ram').map((r) => r.physicalStart)).toEqual([0, 0x5000_0000]);
    expect(() => checkPartition(machine, [config])).not.toThrow();
    const tree = parseDtb(generateZoneDtb(machine, config).blob);
    expect([...tree.root.children].filter((n) => n.string('device_type') === 'memory').map((n) => n.name)).toEqual(['memory@0', 'memory@50000000']);
    expect(tree.node('/axi/memory-controller@fd070000')).toBeDefined();
    expect(machine.deviceAt(0xfd07_0000)?.modelName).toBe('zynqmp-ddrc');
  });

  it('leaves a ram region on no device (or partly on RAM) for the partition check to refuse', () => {
    const json = structuredClone(zcu102.rootZone) as unknown as { memory_regions: { physical_start: string; virtual_start: string; size: string }[] };
    json.memory_regions[2] = { ...json.memory_regions[2]!, physical_start: '0xe0000000', virtual_start: '0xe0000000' };
    const { config, notes } = deviceRamAsIo(machine, zoneConfigFromJson(json, 'edited.json'));
    expect(notes).toEqual([]);
    expect(() => checkPartition(machine, [config])).toThrow(/memory_regions\[2\] ram \[0xe0000000, 0xe0030000\) is not inside one RAM bank/);
  });
});

describe("io regions over what the DTB describes but nothing models (hvisor's imx8mp root zone)", () => {
  const { machine } = buildBoard(findBoard('imx8mp-evk'), { dtb: readFileSync(fixture('dtbs-arm64/freescale/imx8mp-evk.dtb')) });

  it('accepts the AIPS bus windows whose devices are all disabled and the NPU the mainline DTB leaves out; refuses an io region on nothing', () => {
    const root = zoneConfigFromJson(imx8mpEvk.rootZone, 'board.rs');
    expect(() => checkPartition(machine, [root])).not.toThrow();
    expect(machine.describedAt(0x30c0_0000, 0x40_0000)).toBeDefined(); // only disabled nodes there (mailbox@30e60000, ...)
    expect(machine.describedAt(0x3850_0000, 0x2_0000)?.path).toBe('npu (not in the DTB)');
    const json = structuredClone(imx8mpEvk.rootZone) as unknown as { memory_regions: { physical_start: string; virtual_start: string; size: string }[] };
    json.memory_regions[6] = { ...json.memory_regions[6]!, physical_start: '0x39000000', virtual_start: '0x39000000', size: '0x1000' };
    expect(() => checkPartition(machine, [zoneConfigFromJson(json, 'edited.json')])).toThrow(/memory_regions\[6\] io \[0x39000000, 0x39001000\) covers no device of board imx8mp-evk/);
  });

  it("lends hvisor-tool's nxp zone1 the UART4 the DTB disables out of the root zone's bus window, never an enabled device", () => {
    const root = zoneConfigFromJson(imx8mpEvk.rootZone, 'board.rs');
    const zone1 = loadZoneConfig(join(import.meta.dirname, '../../boards/guests/aarch64/imx8mp-zone1-linux.json'));
    expect(() => checkPartition(machine, [root, zone1])).not.toThrow();
    const json = JSON.parse(readFileSync(join(import.meta.dirname, '../../boards/guests/aarch64/imx8mp-zone1-linux.json'), 'utf8'));
    json.memory_regions[1] = { ...json.memory_regions[1], physical_start: '0x30890000', virtual_start: '0x30890000' }; // UART2, the root's console
    expect(() => checkPartition(machine, [root, zoneConfigFromJson(json, 'zone1.json')])).toThrow(/physical \[0x30890000, 0x308a0000\) is claimed by both zone 0/);
  });

  it('maps the blocks the DTB describes and nothing models as read-as-zero on this board (listed as no model)', () => {
    const gpio = machine.devices.find((d) => d.path.endsWith('/gpio@30200000'))!;
    expect(gpio.modelName).toBeUndefined();
    expect(gpio.model?.read(0x14, 4)).toBe(0);
  });
});
