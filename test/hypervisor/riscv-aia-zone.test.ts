/**
 * An AIA zone on qemu-virt-riscv64-aia, driven by a bare-metal program built by GNU as: the zone's
 * IMSIC files through the core's siselect / sireg / stopi / stopei, an MSI through the doorbell,
 * the zone's APLIC in MSI mode forwarding the NS16550A's source 10 as an MSI, and an IPI from hart 0
 * to hart 1 written to hart 1's doorbell page (Linux's IPI path with an IMSIC).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoard } from '../../boards/index.js';
import { buildBoard } from '../../src/board/board-builder.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { riscvFactories } from '../../src/hypervisor/zone/arch-factories.js';
import { assembleRiscv } from './riscv-asm.js';
import { riscvZone } from './riscv-test-zones.js';

const RESULTS = 0x80100000;
const IMSIC = 0x2800_0000;
const APLIC = 0xd00_0000;

// CSR numbers (binutils may predate their names): siselect 0x150, sireg 0x151, stopei 0x15c, stopi 0xdb0.
const PROGRAM = `
  # this hart's IMSIC file: eidelivery = 1, eie0 = \\ids
  .macro imsic_file ids
  li t0, 0x70
  csrw 0x150, t0
  li t0, 1
  csrw 0x151, t0
  li t0, 0xc0
  csrw 0x150, t0
  li t0, \\ids
  csrw 0x151, t0
  .endm
  .globl _start
_start:
  la t0, trap
  csrw stvec, t0
  li s0, ${RESULTS}
  imsic_file 0xa0 # identities 5 and 7
  csrr t1, 0x151
  sd t1, 0(s0)
  # an MSI to our own doorbell: identity 5
  li t0, ${IMSIC}
  li t1, 5
  sw t1, 0(t0)
  li t0, 0x80
  csrw 0x150, t0
  csrr t1, 0x151
  sd t1, 8(s0)
  csrr t1, 0xdb0
  sd t1, 16(s0)
  li t0, 0x200
  csrs sie, t0
  csrr t1, 0xdb0
  sd t1, 24(s0)
  csrr t1, 0x15c
  sd t1, 32(s0)
  csrsi sstatus, 2
1:ld t1, 64(s0)
  beqz t1, 1b
  # the APLIC in MSI mode: source 10 level-high, to hart index 0 as identity 7
  li t0, ${APLIC}
  li t1, 0x104
  sw t1, 0(t0)
  li t1, 6
  sw t1, 0x28(t0)
  li t2, 0x3028
  add t2, t2, t0
  li t1, 7
  sw t1, 0(t2)
  li t2, 0x1edc
  add t2, t2, t0
  li t1, 10
  sw t1, 0(t2)
  # the UART's transmitter-empty interrupt raises source 10
  li t0, 0x10000000
  li t1, 2
  sb t1, 1(t0)
1:ld t1, 72(s0)
  beqz t1, 1b
  # hart 1: started through SBI HSM; it enables identity 1 and waits
  li a7, 0x48534d
  li a6, 0
  li a0, 1
  la a1, second
  li a2, 0
  ecall
1:ld t1, 88(s0)
  beqz t1, 1b
  # its IPI: identity 1 on hart 1's doorbell page
  li t0, ${IMSIC + 0x1000}
  li t1, 1
  sw t1, 0(t0)
  j .

  .align 2
trap:
  csrrw t1, 0x15c, zero
  srli t1, t1, 16
  li t0, 5
  bne t1, t0, 2f
  sd t1, 64(s0)
  sret
2:sd t1, 72(s0)
  li t0, 0x10000000
  sb zero, 1(t0)
  sret

  .align 2
second:
  li s0, ${RESULTS}
  la t0, trap1
  csrw stvec, t0
  imsic_file 2 # identity 1
  li t0, 0x200
  csrs sie, t0
  csrsi sstatus, 2
  li t0, 1
  sd t0, 88(s0)
1:wfi
  j 1b
  .align 2
trap1:
  csrrw t1, 0x15c, zero
  sd t1, 96(s0)
  sret
`;

describe('an AIA zone: IMSIC files through the core’s CSRs, the APLIC in MSI mode', () => {
  it('an MSI, a device interrupt through the zone’s APLIC and an IPI to hart 1 arrive as IMSIC identities', () => {
    const board = findBoard('qemu-virt-riscv64-aia');
    const { machine } = buildBoard(board);
    const hv = new Hypervisor({ machine, ...riscvFactories(machine.interruptCount), timerFrequency: 10_000_000, log: () => {} });
    const dir = mkdtempSync(join(tmpdir(), 'aia-'));
    hv.startZoneFile(riscvZone(dir, 'zone0.json', {
      name: 'aia', zone_id: 0, cpus: [0, 1], interrupts: [10],
      memory_regions: [
        { type: 'ram', physical_start: '0x80000000', virtual_start: '0x80000000', size: '0x1000000' },
        { type: 'io', physical_start: '0x10000000', virtual_start: '0x10000000', size: '0x1000' },
      ],
      arch_config: { plic_base: '0x0', plic_size: '0x0', aplic_base: '0xd000000', aplic_size: '0x8000' },
      kernel_filepath: assembleRiscv(PROGRAM, 0x80010000, 'aia'), kernel_load_paddr: '0x80010000', entry_point: '0x80010000', dtb_load_paddr: '0x80f00000',
    }));
    const word = (i: number) => machine.physical.read(RESULTS + 8 * i, 8);
    for (let i = 0; i < 50 && word(12) === 0n; i++) hv.scheduler.runRound();
    expect(word(0)).toBe(0xa0n); // eie0 as written
    expect(word(1)).toBe(0x20n); // eip0: identity 5 pending after the doorbell write
    expect(word(2)).toBe(0n); // stopi: SEI pending but not enabled in sie
    expect(word(3)).toBe(9n << 16n); // stopi: SEI, the highest default priority
    expect(word(4)).toBe((5n << 16n) | 5n); // stopei
    expect(word(8)).toBe(5n); // the trap claimed identity 5
    expect(word(9)).toBe(7n); // the UART's source 10 came as identity 7
    expect(word(12)).toBe((1n << 16n) | 1n); // hart 1 claimed the IPI's identity 1
    // monitor irq: the zone's APLIC in MSI mode with its one source, and both harts' files.
    const state = hv.zone(0)!.irqchip!.describe!();
    expect(state).toContain('aplic: MSI delivery, interrupts enabled');
    expect(state).toMatch(/^\s+10 level1\s+low\s+no\s+yes\s+hart 0 eiid 7$/m);
    expect(state).toContain('vcpu0: delivery on, threshold 0, pending none, enabled 5,7, output low');
    expect(state).toContain('vcpu1: delivery on, threshold 0, pending none, enabled 1, output low');
  });
});
