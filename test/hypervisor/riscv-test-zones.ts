/**
 * Small bare-metal riscv64 zones for the isolation tests (issue 18): zone configs written as
 * hvisor-tool JSON, and a zone0 that counts in its own RAM (proof that it keeps running).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleRiscv } from './riscv-asm.js';

/** Where zone0's counter lives. */
export const ZONE0_COUNTER = 0x80100000;

// zone0: counts in its own RAM.
const COUNTER = `
  .globl _start
_start:
  li t0, ${ZONE0_COUNTER}
1:ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  j 1b
`;

/** Writes a riscv zone config `file` in `dir` with hvisor-tool's fields, `fields` on top; returns its path. */
export function riscvZone(dir: string, file: string, fields: Record<string, unknown>): string {
  const zone = {
    arch: 'riscv', ivc_configs: [], interrupts: [], dtb_filepath: '',
    arch_config: { plic_base: '0xc000000', plic_size: '0x4000000', aplic_base: '0x0', aplic_size: '0x0' },
    pci_config: [], num_pci_devs: 0, alloc_pci_devs: [],
    ...fields,
  };
  writeFileSync(join(dir, file), JSON.stringify(zone));
  return join(dir, file);
}

/** zone0 on CPU 0 with 16 MiB at 0x80000000, counting at ZONE0_COUNTER. */
export function counterZone0(dir: string): string {
  return riscvZone(dir, 'zone0.json', {
    name: 'zone0', zone_id: 0, cpus: [0],
    memory_regions: [{ type: 'ram', physical_start: '0x80000000', virtual_start: '0x80000000', size: '0x1000000' }],
    kernel_filepath: assembleRiscv(COUNTER, 0x80010000, 'zone0'), kernel_load_paddr: '0x80010000', entry_point: '0x80010000', dtb_load_paddr: '0x80f00000',
  });
}

/**
 * An attacker: SBI DBCN console_write of 1 MiB (of its zeroed RAM) in a 3-instruction loop, as zone
 * `id` on CPU `cpu` with 16 MiB of RAM at `base`.
 */
export function sbiFloodZone(dir: string, id: number, cpu: number, base: number): string {
  const buffer = base + 0x100000;
  const source = `
  .globl _start
_start:
  li a7, 0x4442434e
  li a6, 0
  li a1, ${buffer % 2 ** 32}
  li a2, ${Math.floor(buffer / 2 ** 32)}
1:li a0, 0x100000
  ecall
  j 1b
`;
  const kernel = base + 0x10000;
  return riscvZone(dir, `sbi-flood-${id}.json`, {
    name: 'sbi-flood', zone_id: id, cpus: [cpu],
    memory_regions: [{ type: 'ram', physical_start: `0x${base.toString(16)}`, virtual_start: `0x${base.toString(16)}`, size: '0x1000000' }],
    kernel_filepath: assembleRiscv(source, kernel, `sbi-flood-${id}`), kernel_load_paddr: `0x${kernel.toString(16)}`, entry_point: `0x${kernel.toString(16)}`, dtb_load_paddr: `0x${(base + 0xf00000).toString(16)}`,
  });
}
