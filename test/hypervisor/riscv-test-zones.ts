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
