import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { aarch64Factories, riscvFactories } from '../../src/hypervisor/zone/arch-factories.js';
import { zoneConfigFromJson } from '../../src/config/zone-config.js';
import { qemuVirtAarch64, qemuVirtRiscv64 } from './boards.js';
import { assembleRiscv } from './riscv-asm.js';

const configs = join(import.meta.dirname, 'configs');

/** hvisor-tool's qemu-riscv64 linux2 zone moved onto harts [1, 2], running `elf`. */
function riscvZone(elf: string) {
  const j = JSON.parse(readFileSync(join(configs, 'qemu-riscv64-linux2.json'), 'utf8'));
  j.cpus = [1, 2];
  j.kernel_filepath = elf;
  j.dtb_filepath = '';
  const file = join(mkdtempSync(join(tmpdir(), 'hartids-')), 'zone.json');
  writeFileSync(file, JSON.stringify(j));
  return file;
}

const RESULTS = 0x83100000;
const SBI_ERR_INVALID_PARAM = BigInt.asUintN(64, -3n);
const SBI_ERR_ALREADY_AVAILABLE = BigInt.asUintN(64, -6n);

// Boot hart (hart 1, vCPU 0): HSM, IPI and RFENCE calls naming physical hart ids, each result
// stored at RESULTS + 8n. The hart started (hart 2) stores its a0/a1 and waits for the IPI.
const HARTS = `
  .globl _start
_start:
  li s0, ${RESULTS}
  sd a0, 0(s0)
  li a7, 0x48534d
  li a6, 0
  li a0, 1
  la a1, secondary
  li a2, 0x11
  ecall
  sd a0, 8(s0)
  li a6, 2
  li a0, 2
  ecall
  sd a0, 16(s0)
  sd a1, 24(s0)
  li a6, 2
  li a0, 0
  ecall
  sd a0, 32(s0)
  li a6, 0
  li a0, 2
  la a1, secondary
  li a2, 0x22
  ecall
  sd a0, 40(s0)
  li a7, 0x735049
  li a6, 0
  li a0, 1
  li a1, 2
  ecall
  sd a0, 48(s0)
  li a0, 1
  li a1, 0
  ecall
  sd a0, 56(s0)
  li a7, 0x52464e43
  li a6, 0
  li a0, 3
  li a1, 1
  ecall
  sd a0, 64(s0)
  li a0, 3
  li a1, 2
  ecall
  sd a0, 72(s0)
  li t0, 1
  sd t0, 80(s0)
  j .
secondary:
  li s0, ${RESULTS}
  sd a0, 96(s0)
  sd a1, 104(s0)
1:csrr t0, sip
  andi t0, t0, 2
  beqz t0, 1b
  sd t0, 112(s0)
  j .
`;

// Hart 1 starts hart 2, which suspends non-retentively (woken by IPI: sie.SSIE); hart 1 stores what
// hart_get_status(2) says meanwhile and the IPI's result; hart 2 stores its a0/a1 where it resumes.
const SUSPENDING = `
  .globl _start
_start:
  li s0, ${RESULTS}
  li a7, 0x48534d
  li a6, 0
  li a0, 2
  la a1, secondary
  li a2, 0
  ecall
1:li a7, 0x48534d
  li a6, 2
  li a0, 2
  ecall
  li t0, 4
  bne a1, t0, 1b
  sd a1, 0(s0)
  li a7, 0x735049
  li a6, 0
  li a0, 1
  li a1, 2
  ecall
  sd a0, 8(s0)
  j .
secondary:
  li t0, 2
  csrs sie, t0
  li a7, 0x48534d
  li a6, 3
  li a0, 0x80000000
  la a1, resumed
  li a2, 0x99
  ecall
  j .
resumed:
  li s0, ${RESULTS}
  sd a0, 16(s0)
  sd a1, 24(s0)
  li t0, 1
  sd t0, 32(s0)
  j .
`;

describe('firmware calls name CPUs by their physical ids', () => {
  it('riscv SBI HSM/IPI/RFENCE take hart ids: in a zone with harts [1,2], hart_start(1) is the running hart, hart_start(2) starts hart 2', () => {
    const { machine } = qemuVirtRiscv64();
    const hv = new Hypervisor({ machine, ...riscvFactories(), timerFrequency: 10_000_000 });
    hv.startZoneFile(riscvZone(assembleRiscv(HARTS, 0x84000000, 'harts')));
    const word = (i: number) => machine.physical.read(RESULTS + 8 * i, 8);
    for (let i = 0; i < 20 && (word(10) === 0n || word(14) === 0n); i++) hv.scheduler.runRound();
    expect(word(10)).toBe(1n); // the boot hart finished
    expect(word(0)).toBe(1n); // boot a0 = hart id 1
    expect(word(1)).toBe(SBI_ERR_ALREADY_AVAILABLE); // hart_start(1): hart 1 is the caller
    expect([word(2), word(3)]).toEqual([0n, 1n]); // hart_get_status(2): stopped
    expect(word(4)).toBe(SBI_ERR_INVALID_PARAM); // hart_get_status(0): not the zone's
    expect(word(5)).toBe(0n); // hart_start(2)
    expect(word(6)).toBe(0n); // send_ipi(mask 1, base 2)
    expect(word(7)).toBe(SBI_ERR_INVALID_PARAM); // send_ipi(mask 1, base 0): hart 0 is not the zone's
    expect(word(8)).toBe(0n); // remote_fence_i(harts 1, 2)
    expect(word(9)).toBe(SBI_ERR_INVALID_PARAM); // remote_fence_i(harts 2, 3)
    expect([word(12), word(13)]).toEqual([2n, 0x22n]); // hart 2 started with a0 = its hart id, a1 = opaque
    expect(word(14)).toBe(2n); // and took the IPI sent to hart 2
  });

  it('riscv SBI HSM suspend: hart_get_status(2) is SUSPENDED, and a non-retentive resume gets a0 = hart id 2 (not the vCPU index)', () => {
    const { machine } = qemuVirtRiscv64();
    const hv = new Hypervisor({ machine, ...riscvFactories(), timerFrequency: 10_000_000 });
    hv.startZoneFile(riscvZone(assembleRiscv(SUSPENDING, 0x84000000, 'suspending')));
    const word = (i: number) => machine.physical.read(RESULTS + 8 * i, 8);
    for (let i = 0; i < 40 && word(4) === 0n; i++) hv.scheduler.runRound();
    expect(word(0)).toBe(4n); // SUSPENDED, seen from hart 1
    expect(word(1)).toBe(0n); // send_ipi
    expect([word(2), word(3)]).toEqual([2n, 0x99n]); // resumed with a0 = hart id, a1 = opaque
    expect(word(4)).toBe(1n);
  });

  it('aarch64 PSCI CPU_ON/AFFINITY_INFO take MPIDRs: in a zone on CPUs [2,3], CPU_ON(2) is the caller, CPU_ON(0) is not the zone\'s', () => {
    const { machine } = qemuVirtAarch64();
    const hv = new Hypervisor({ machine, ...aarch64Factories('gicv3'), timerFrequency: 62_500_000 });
    const dir = mkdtempSync(join(tmpdir(), 'mpidr-'));
    writeFileSync(join(dir, 'p.s'), `
  .globl _start
_start:
  ldr x9, =0x50100000
  ldr x0, =0xc4000003
  mov x1, #2
  adr x2, second
  hvc #0
  str x0, [x9]
  ldr x0, =0xc4000003
  mov x1, #0
  adr x2, second
  hvc #0
  str x0, [x9, #8]
  ldr x0, =0xc4000004
  mov x1, #3
  mov x2, #0
  hvc #0
  str x0, [x9, #16]
  ldr x0, =0xc4000003
  mov x1, #3
  adr x2, second
  mov x3, #0x33
  hvc #0
  str x0, [x9, #24]
  b .
second:
  ldr x9, =0x50100000
  mrs x1, mpidr_el1
  str x1, [x9, #32]
  str x0, [x9, #40]
  b .
  .ltorg
`);
    execFileSync(tool('aarch64-linux-gnu-as'), ['-o', join(dir, 'p.o'), join(dir, 'p.s')]);
    execFileSync(tool('aarch64-linux-gnu-objcopy'), ['-O', 'binary', join(dir, 'p.o'), join(dir, 'p.bin')]);
    const j = JSON.parse(readFileSync(join(configs, 'qemu-aarch64-zone1_linux.json'), 'utf8'));
    const config = zoneConfigFromJson({ ...j, cpus: [2, 3] }, 'zone1');
    hv.startZone(config, [{ name: 'kernel', paddr: config.kernelLoadPaddr, data: new Uint8Array(readFileSync(join(dir, 'p.bin'))) }]);
    const word = (i: number) => machine.physical.read(0x50100000 + 8 * i, 8);
    for (let i = 0; i < 20 && word(5) === 0n; i++) hv.scheduler.runRound();
    expect(word(0)).toBe(BigInt.asUintN(64, -4n)); // ALREADY_ON: MPIDR 2 is the caller
    expect(word(1)).toBe(BigInt.asUintN(64, -2n)); // INVALID_PARAMETERS: CPU 0 is zone0's
    expect(word(2)).toBe(1n); // AFFINITY_INFO(3): off
    expect(word(3)).toBe(0n); // CPU_ON(3)
    expect(word(4)).toBe(0x80000003n); // the started vCPU reads CPU 3's MPIDR
    expect(word(5)).toBe(0x33n);
  });
});
