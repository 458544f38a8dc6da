/**
 * The block compiler against the interpreter: the lockstep program (every instruction class, U-mode,
 * Sv39, traps, interrupts) and the bench program run on two bare machines, one compiling every block
 * on its first run and one interpreting only. Both run the same sequence of odd-sized budgets; after
 * each, pc, the retired count, every register, the S-mode CSRs and privilege must agree, and the memory
 * must agree at the end. Debian's riscv64 kernel's first 20 M instructions (relocation, the MMU
 * switch, jumps across pages both ways, early setup) get the same treatment. The interpreter itself is
 * checked against QEMU by test/lockstep.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../../src/loader/elf.js';
import { buildBenchRiscv64 } from '../../bench/riscv64.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { Rng } from './random-program.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { LinuxMachine } from './linux-machine.js';

const CSRS = [0x100, 0x104, 0x105, 0x140, 0x141, 0x142, 0x143, 0x180] as const;

function buildLockstepProgram(): { elf: string; entry: bigint } {
  const dir = mkdtempSync(join(tmpdir(), 'blocks-rv64-'));
  const programs = join(REPO, 'test', 'lockstep', 'programs');
  const elf = join(dir, 'program.elf');
  execFileSync(tool('riscv64-linux-gnu-gcc'), ['-march=rv64gc_zba_zbb_zbs', '-mabi=lp64d', '-nostdlib', '-static',
    `-Wl,-T,${join(programs, 'link.ld')}`, '-Wl,--no-relax', '-Wl,--build-id=none', '-o', elf, join(programs, 'riscv64-system.S')]);
  const line = execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith(' s_entry'));
  return { elf, entry: BigInt('0x' + line!.split(' ')[0]) };
}

function machine(elf: string, entry: bigint | undefined, compileThreshold: number): BareRiscv64Machine {
  const m = new BareRiscv64Machine();
  const image = loadElf(new Uint8Array(readFileSync(elf)), m.memory, { machine: EM_RISCV });
  m.cpu.reset(entry ?? image.entry, [0n, 0n]);
  m.cpu.compileThreshold = compileThreshold;
  return m;
}

function state(m: { cpu: BareRiscv64Machine['cpu'] }): string {
  const c = m.cpu;
  return [`pc=${c.pc.toString(16)}`, `retired=${c.retired}`, `priv=${c.priv}`,
    ...Array.from({ length: 31 }, (_, i) => `x${i + 1}=${c.reg(i + 1).toString(16)}`),
    ...Array.from(c.fb, (v, i) => `f${i}=${v.toString(16)}`),
    ...CSRS.map((n) => `csr${n.toString(16)}=${c.readCsr(n)!.toString(16)}`)].join(' ');
}

/** Runs both machines with the same budgets to the finisher; returns the number of comparisons. */
function runBoth(elf: string, entry: bigint | undefined, seed: number, maxBudget: number): { compared: number; compiled: BareRiscv64Machine } {
  const compiled = machine(elf, entry, 1);
  const interpreted = machine(elf, entry, 0);
  const rng = new Rng(seed);
  let compared = 0;
  for (let round = 0; round < 1_000_000 && compiled.finisher.status === undefined; round++) {
    const budget = 2 + rng.int(maxBudget);
    const a = compiled.cpu.run(budget);
    const b = interpreted.cpu.run(budget);
    expect(a.kind, `stop reason after ${compared} comparisons`).toBe(b.kind);
    const sa = state(compiled), sb = state(interpreted);
    if (sa !== sb) {
      const diff = sa.split(' ').filter((f, i) => f !== sb.split(' ')[i]);
      throw new Error(`compiled and interpreted differ after ${compared} runs: ${diff.join(' ')} (interpreted: ${sb.split(' ').filter((f) => diff.some((d) => d.split('=')[0] === f.split('=')[0])).join(' ')})`);
    }
    compared++;
    if (a.kind === 'wait') {
      if (!compiled.warpToTimer() || !interpreted.warpToTimer()) break;
    } else if (a.kind !== 'budget' && a.kind !== 'yield') {
      break;
    }
  }
  expect(compiled.finisher.status).toBe(interpreted.finisher.status);
  expect(compiled.output()).toBe(interpreted.output());
  expect(compiled.cpu.blocksCompiled).toBeGreaterThan(10);
  expect(interpreted.cpu.blocksCompiled).toBe(0);
  expect(Buffer.compare(Buffer.from(compiled.ram.u8), Buffer.from(interpreted.ram.u8))).toBe(0);
  return { compared, compiled };
}

describe('riscv64 block compiler', () => {
  it('agrees with the interpreter on the lockstep program after every run of odd-sized budgets', () => {
    const { elf, entry } = buildLockstepProgram();
    const { compared, compiled } = runBoth(elf, entry, 7, 3000);
    expect(compiled.finisher.status).toBe(0x5555);
    expect(compared).toBeGreaterThan(300);
  }, 300_000);

  it('agrees with the interpreter on the bench program, printing its checksum', () => {
    const elf = buildBenchRiscv64(20_000, true);
    const { compiled } = runBoth(elf, undefined, 11, 100_000);
    expect(compiled.output()).toMatch(/^CKSUM a=[0-9a-f]{16} b=[0-9a-f]{16} m=[0-9a-f]{16}\n$/);
  }, 120_000);
});

describe('riscv64 block compiler on Linux', () => {
  it('agrees with the interpreter over the first 20 M instructions of Debian\'s kernel', () => {
    const kernel = new Uint8Array(readFileSync(`${fixtureMatching('debian/rv64/usr/lib/modules', /riscv64$/)}/vmlinuz`));
    const initrd = new Uint8Array(readFileSync(fixture('initramfs-riscv64.cpio.gz')));
    const boot = (compileThreshold: number): LinuxMachine => {
      const m = new LinuxMachine(kernel, fixture('qemu-dtb/qemu-virt-riscv64.dtb'), initrd, 'console=ttyS0 earlycon=sbi rdinit=/init panic=-1');
      m.cpu.compileThreshold = compileThreshold;
      return m;
    };
    const compiled = boot(2), interpreted = boot(0);
    const rng = new Rng(3);
    let runs = 0;
    while (compiled.cpu.retired < 20_000_000) {
      const budget = 2 + rng.int(2000);
      const a = compiled.cpu.run(budget), b = interpreted.cpu.run(budget);
      expect(a.kind, `stop reason after ${runs} runs`).toBe(b.kind);
      expect(['budget', 'yield']).toContain(a.kind);
      const sa = state(compiled), sb = state(interpreted);
      if (sa !== sb) throw new Error(`compiled and interpreted differ after ${runs} runs: ${sa.split(' ').filter((f, i) => f !== sb.split(' ')[i]).join(' ')}`);
      runs++;
    }
    expect(compiled.cpu.blocksCompiled).toBeGreaterThan(1000);
    expect(compiled.console.outputText).toBe(interpreted.console.outputText);
    expect(compiled.console.outputText).toContain('Linux version');
  }, 300_000);
});
