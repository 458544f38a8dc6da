/**
 * riscv64 conformance in a zone: programs/riscv64-sbi-hsm.c (SBI base probes, HSM start / status /
 * retentive and non-retentive suspend watched from the other hart, woken by an IPI) runs bare
 * metal in S-mode in a two-hart zone of the QEMU virt riscv64 board and under qemu-system-riscv64
 * with Debian's OpenSBI; every line must match. programs/riscv64-plic.c (the PLIC driven by the
 * UART's interrupt) likewise, but where QEMU 7.2's PLIC departs from the PLIC specification.
 */
import { describe, expect, it } from 'vitest';
import { expectSameAsQemu } from './bare-metal.js';

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin';
/** Where OpenSBI's fw_jump enters the payload; the zone's RAM starts there too, so 0x80000000 is outside it as OpenSBI's own memory is outside S-mode's reach. */
const LOAD = 0x8020_0000;
/** As hvisor-tool configs write addresses: its cJSON reads JSON numbers above 2^31 - 1 as 2^31 - 1. */
const LOAD_HEX = `0x${LOAD.toString(16)}`;

const UART = { type: 'io', physical_start: '0x10000000', virtual_start: '0x10000000', size: '0x1000' };

const zone = (kernel: string, cpus = [0, 1], io: object[] = [], interrupts: number[] = []) => ({
  arch: 'riscv',
  name: 'conformance',
  zone_id: 0,
  cpus,
  memory_regions: [{ type: 'ram', physical_start: LOAD_HEX, virtual_start: LOAD_HEX, size: '0x3e00000' }, ...io],
  interrupts,
  ivc_configs: [],
  kernel_filepath: kernel,
  dtb_filepath: '',
  kernel_load_paddr: LOAD_HEX,
  dtb_load_paddr: '0x83f00000',
  entry_point: LOAD_HEX,
  arch_config: { plic_base: '0xc000000', plic_size: '0x4000000', aplic_base: '0x0', aplic_size: '0x0' },
  pci_config: [],
  num_pci_devs: 0,
  alloc_pci_devs: [],
});

const QEMU = (harts: number) => ['-M', 'virt', '-smp', String(harts), '-m', '1G', '-bios', OPENSBI];

describe('riscv64 conformance: SBI HSM and the PLIC, in a zone and on QEMU + OpenSBI', () => {
  it('gives the same HSM states, errors and resume state as qemu-system-riscv64 with OpenSBI', async () => {
    const end = await expectSameAsQemu({
      arch: 'riscv64', program: 'riscv64-sbi-hsm', loadAddress: LOAD, qemu: QEMU(2), board: 'qemu-virt-riscv64', zone: (elf) => zone(elf),
      qemuSays: ['retentive: status other 0x4', 'non-retentive: status other 0x4', 'non-retentive: a1 0x99'],
    });
    expect(end.status).toBe(0); // SRST shutdown, no reason
  }, 120_000);

  it('a zone\'s PLIC driven by the UART\'s interrupt answers as QEMU\'s does, and as the PLIC specification says where QEMU 7.2 departs', async () => {
    const end = await expectSameAsQemu({
      arch: 'riscv64', program: 'riscv64-plic', loadAddress: LOAD, qemu: QEMU(1), board: 'qemu-virt-riscv64', zone: (elf) => zone(elf, [0], [UART], [10]),
      qemuSays: ['claim 0xa', 'threshold 3: SEIP 0x0'],
      // Clearing the enable drops the hart's interrupt (QEMU 7.2 keeps SEIP until its next update), and a
      // level-triggered source still asserted when its claim completes is pending again (QEMU forwards
      // only level changes).
      oursWhereQemuDiffers: {
        'disabled: SEIP': '0x0',
        'after complete: pending': '0x1',
        'after complete: SEIP': '0x1',
        'claim while the line is high': '0xa',
      },
    });
    expect(end.status).toBe(0);
  }, 120_000);
});
