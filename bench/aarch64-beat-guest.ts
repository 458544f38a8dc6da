import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A bare-metal aarch64 zone for qemu-virt-aarch64 (GICv3, PL011 at 0x9000000), assembled by Debian's
 * binutils: the virtual timer interrupts it every `period` ticks; the handler counts the beat in
 * `beats` (one store: a watchpoint's writer) and prints `marker` if given; between beats a busy loop
 * (a self-looping block that stores its counter) keeps the vCPU running, so interrupts land inside
 * long blocks, as in a kernel.
 */
function source(period: number, marker: string | undefined): string {
  return `
  .text
  .globl _start
_start:
  ldr   x0, =vectors
  msr   vbar_el1, x0
  ldr   x1, =0x08000000       // GICD_CTLR: ARE, group 1 on
  mov   w2, #0x12
  str   w2, [x1]
  ldr   x1, =0x080a0000       // vCPU 0's redistributor: awake
  str   wzr, [x1, #0x14]
  ldr   x1, =0x080b0000       // its SGI page: PPI 27 (virtual timer) group 1, enabled
  mov   w2, #(1 << 27)
  str   w2, [x1, #0x80]
  str   w2, [x1, #0x100]
  mov   x2, #1
  msr   S3_0_C12_C12_5, x2    // ICC_SRE_EL1
  isb
  mov   x2, #0xf0
  msr   S3_0_C4_C6_0, x2      // ICC_PMR_EL1
  mov   x2, #1
  msr   S3_0_C12_C12_7, x2    // ICC_IGRPEN1_EL1
  ldr   x2, =${period}
  msr   cntv_tval_el0, x2
  mov   x2, #1
  msr   cntv_ctl_el0, x2
  msr   daifclr, #2
  ldr   x11, =spin
  mov   x9, #0
busy:
  add   x9, x9, #1
  eor   x10, x10, x9
  str   x9, [x11]
  b     busy

  .balign 2048
vectors:
  .skip 0x280
  b     irq
  .balign 128
  .skip 0x600 - 0x300
irq:
  mrs   x3, S3_0_C12_C12_0    // ICC_IAR1_EL1
  ldr   x4, =beats
  ldr   x5, [x4]
  add   x5, x5, #1
  .globl beat_store
beat_store:
  str   x5, [x4]
${marker === undefined ? '' : `  ldr   x6, =0x09000000
  mov   w7, #'${marker}'
  strb  w7, [x6]
`}  ldr   x2, =${period}
  msr   cntv_tval_el0, x2
  msr   S3_0_C12_C12_1, x3    // ICC_EOIR1_EL1
  eret
  .ltorg

  .balign 4096
  .globl beats
beats:
  .quad 0
spin:
  .quad 0
`;
}

export interface BeatGuest {
  readonly image: string;
  readonly elf: string;
  /** Linked at 0x40000000 (the zone's guest-physical RAM base). */
  readonly beats: bigint;
  readonly beatStore: bigint;
}

/** `marker`: the character each beat prints on the PL011 (none: the zone has no UART); `tool`: where binutils are (tests pass fixtures' `tool`). */
export function buildBeatGuest(period: number, marker?: string, tool: (name: string) => string = (name) => name): BeatGuest {
  const dir = mkdtempSync(join(tmpdir(), 'beat-guest-'));
  writeFileSync(join(dir, 'g.s'), source(period, marker));
  execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'g.o'), join(dir, 'g.s')]);
  execFileSync(tool('aarch64-linux-gnu-ld'), ['-Ttext=0x40000000', '-e', '_start', '-o', join(dir, 'g.elf'), join(dir, 'g.o')]);
  execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'g.elf'), join(dir, 'g.bin')]);
  const symbols = execFileSync(tool('aarch64-linux-gnu-nm'), [join(dir, 'g.elf')], { encoding: 'utf8' });
  const at = (name: string) => BigInt(`0x${new RegExp(`^([0-9a-f]+) \\w ${name}$`, 'm').exec(symbols)![1]!}`);
  return { image: join(dir, 'g.bin'), elf: join(dir, 'g.elf'), beats: at('beats'), beatStore: at('beat_store') };
}

/** A zone config for the guest: its RAM at `ram` seen at 0x40000000, CPU `cpu`; zone0 owns the PL011. */
export function beatZoneJson(id: number, name: string, image: string, ram: number, cpu: number): object {
  return {
    arch: 'arm64', name, zone_id: id, cpus: [cpu],
    memory_regions: [
      { type: 'ram', physical_start: `0x${ram.toString(16)}`, virtual_start: '0x40000000', size: '0x1000000' },
      ...(id === 0 ? [{ type: 'io', physical_start: '0x9000000', virtual_start: '0x9000000', size: '0x1000' }] : []),
    ],
    interrupts: id === 0 ? [33] : [], ivc_configs: [],
    kernel_filepath: image, dtb_filepath: '', kernel_load_paddr: `0x${ram.toString(16)}`, dtb_load_paddr: `0x${(ram + 0xf00000).toString(16)}`,
    entry_point: '0x40000000', initrd_filepath: '', initrd_load_paddr: '0x0', kernel_args: '',
    arch_config: { gic_version: 'v3', gicd_base: '0x8000000', gicd_size: '0x10000', gicr_base: '0x80a0000', gicr_size: '0xf60000', gits_base: '0x8080000', gits_size: '0x20000', is_aarch32: false },
    pci_config: [], num_pci_devs: 0, alloc_pci_devs: [],
  };
}
