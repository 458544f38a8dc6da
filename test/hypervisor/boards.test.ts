import { describe, expect, it } from 'vitest';
import { boards, findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { checkPartition } from '../../src/hypervisor/lifecycle/partition-check.js';
import { buildStage2 } from '../../src/hypervisor/stage2/stage2.js';

describe('the boards’ own zone configs on the boards’ own machines', () => {
  for (const name of ['qemu-virt-aarch64', 'qemu-virt-riscv64']) {
    it(`${name}: root zone and example zones parse, partition the board, and map`, () => {
      const board = findBoard(name);
      const { machine } = buildBoard(board);
      const zones = [board.rootZone!, ...board.exampleZones].map((j, i) => zoneConfigFromJson(j, `${name} zone #${i}`));
      expect(zones[0]!.zoneId).toBe(0);
      for (const z of zones) expect(() => checkPartition(machine, [z])).not.toThrow();
      // hvisor's own qemu configs give PCI 00:01.0 to both the root zone and zone1 (hvisor then
      // hands it to whichever claims it first): checked together without PCI functions.
      expect(() => checkPartition(machine, zones.map((z) => ({ ...z, allocPciDevs: [] })))).not.toThrow();
      for (const z of zones) {
        const { space } = buildStage2(machine, z);
        const ram = z.memoryRegions.find((r) => r.type === 'ram')!;
        expect(space.find(ram.virtualStart)?.kind).toBe('ram');
      }
    });
  }
  it('every board’s root zone parses (the Rockchip boards mirror no hvisor root zone yet)', () => {
    expect(boards.filter((b) => b.rootZone === undefined).map((b) => b.name)).toEqual(['rk3568', 'rk3588']);
    for (const b of boards) if (b.rootZone !== undefined) expect(() => zoneConfigFromJson(b.rootZone!, `${b.name} root`)).not.toThrow();
  });
});
