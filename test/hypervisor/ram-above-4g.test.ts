/**
 * RAM banks above 4 GiB (QEMU virt with -m 8G; i.MX8MP's and ZCU102's second banks): the bank is a run
 * of RAM blocks, a zone's region maps each block it covers, and accesses that cross a block boundary
 * land in the right bytes. Untouched gigabytes are never committed.
 */
import { describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { RAM_BLOCK_BYTES, RamBank } from '../../src/machine/ram-bank.js';
import { buildStage2 } from '../../src/hypervisor/stage2/stage2.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';

const GiB = 2 ** 30;

describe('RAM above 4 GiB', () => {
  it('cuts a bank into blocks and finds the pieces of any window', () => {
    const bank = new RamBank(0x8_0000_0000, 2 * GiB + 0x1000);
    expect(bank.blocks.map((b) => b.size)).toEqual([GiB, GiB, 0x1000]);
    const spans = bank.spans(GiB - 8, GiB + 16);
    expect(spans.map((s) => [s.offset, s.size, bank.blocks.indexOf(s.ram), s.ramOffset])).toEqual([
      [GiB - 8, 8, 0, GiB - 8],
      [GiB, GiB, 1, 0],
      [2 * GiB, 8, 2, 0],
    ]);
    expect(() => bank.spans(2 * GiB, 0x2000)).toThrow(/outside the bank/);
  });

  it('qemu-virt-aarch64 with 8 GiB: a zone region above 4 GiB across a block boundary reads back what was written', () => {
    const rssBefore = process.memoryUsage().rss;
    const { machine } = buildBoard(findBoard('qemu-virt-aarch64'), { params: { memoryBytes: 8 * GiB } });
    expect(machine.ramBanks.map((b) => [b.base, b.size])).toEqual([[0x4000_0000, 8 * GiB]]);
    const boundary = 0x4000_0000 + 5 * RAM_BLOCK_BYTES; // 0x1_8000_0000
    const zone = zoneConfigFromJson(
      {
        name: 'high', zone_id: 1, cpus: [1],
        memory_regions: [{ type: 'ram', physical_start: '0x17ff00000', virtual_start: '0x40000000', size: '0x200000' }],
        interrupts: [], ivc_configs: [], kernel_filepath: '', dtb_filepath: '',
        kernel_load_paddr: '0x17ff00000', dtb_load_paddr: '0x17ff00000', entry_point: '0x40000000',
        arch_config: { gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000' },
      },
      'high.json',
    );
    const { space } = buildStage2(machine, zone);
    expect(machine.ramBanks[0]!.blocks.some((b) => b.committed)).toBe(false); // mapping allocates nothing
    const guestBoundary = 0x4000_0000 + (boundary - 0x1_7ff0_0000);
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
    expect(space.writeDebug(guestBoundary - 16, bytes)).toBe(32);
    expect([...machine.physical.readDebug(boundary - 16, 32)]).toEqual([...bytes]);
    expect(space.read(guestBoundary - 8, 8)).toBe(0xafaeadacabaaa9a8n);
    expect(space.read(guestBoundary, 8)).toBe(0xb7b6b5b4b3b2b1b0n);
    expect(space.write(guestBoundary + 0x1000, 4, 0xcafef00dn)).toBe(true);
    expect(machine.physical.read(boundary + 0x1000, 4)).toBe(0xcafef00dn);
    // The last byte of the 8 GiB bank, far above 4 GiB.
    expect(machine.physical.write(0x4000_0000 + 8 * GiB - 1, 1, 0x5an)).toBe(true);
    expect(machine.physical.read(0x4000_0000 + 8 * GiB - 1, 1)).toBe(0x5an);
    // Only the blocks something reached were allocated: 4 and 5 around the boundary, 7 at the top.
    expect(machine.ramBanks[0]!.blocks.flatMap((b, i) => (b.committed ? [i] : []))).toEqual([4, 5, 7]);
    // Eight gigabytes of address space, a few pages of memory.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 2 ** 20);
  });
});
