import { describe, expect, it } from 'vitest';
import { buildBenchRiscv64, runBenchOnOurCore, runBenchOnQemu, smodeInstructions } from '../../bench/riscv64.js';
import { tool } from '../helpers/fixtures.js';

/** The shared bench program (fixtures.md §4) run to completion: its CKSUM line comes from a C reference model. */
describe('riscv64 bench program', () => {
  it('prints the reference checksum for ITERS=1000 with the exact instruction count, like qemu-system-riscv64', () => {
    tool('riscv64-linux-gnu-gcc');
    const ours = runBenchOnOurCore(buildBenchRiscv64(1000, true));
    expect(ours.output).toBe('CKSUM a=000000000007a314 b=00000000000328f0 m=0000000000088740\n');
    // 11·N + 2951 for a 2-instruction `li` of N (fixtures.md); N = 1000 fits one addi (-1), and ours also
    // counts the final wfi that parks the hart (+1).
    expect(ours.instructions).toBe(smodeInstructions(1000) - 1 + 1);
    tool('qemu-system-riscv64');
    const qemu = runBenchOnQemu(buildBenchRiscv64(1000, false));
    expect(qemu.output).toContain('CKSUM a=000000000007a314 b=00000000000328f0 m=0000000000088740');
  });

  it('runs 22 M instructions at interpreter speed (a guard against de-optimised hot paths)', () => {
    const elf = buildBenchRiscv64(2_000_000, true);
    // CPU time, not wall time: the CI host is shared; a de-optimised interpreter runs at 1-2 MIPS.
    const before = process.cpuUsage();
    const ours = runBenchOnOurCore(elf);
    const cpu = process.cpuUsage(before);
    expect(ours.instructions).toBe(smodeInstructions(2_000_000) + 1);
    const mips = ours.instructions / ((cpu.user + cpu.system) / 1e6) / 1e6;
    expect(mips).toBeGreaterThan(20);
  });
});
