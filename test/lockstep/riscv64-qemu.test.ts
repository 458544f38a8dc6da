/**
 * Lockstep against QEMU: programs/riscv64-system.S runs on qemu-system-riscv64 (one instruction per
 * translation block, CPU state logged before each: `-singlestep -d cpu,fpu,nochain`) and on our
 * core, stepped one instruction (or trap entry) at a time. From `compare_start` on, pc, x1..x31,
 * f0..f31, the S-mode view of mstatus, scause, sepc, stval and satp must agree at every step, for
 * over a million instructions that cover every class, U-mode, Sv39, traps and interrupts. A second
 * program (programs/riscv64-aia.S, on `virt,aia=aplic-imsic`) does the same for the AIA CSRs and
 * the hart's IMSIC S file, against our Imsic model as the core's interrupt file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../../src/loader/elf.js';
import { REPO, tool } from '../helpers/fixtures.js';
import { runQemuCpuLog } from './qemu-cpu-log.js';
import { Imsic, IMSIC_PAGE } from '../../src/devices/irqchip/imsic.js';
import { IRQ_SEI } from '../../src/arch/riscv64/csr.js';

const PROGRAMS = join(REPO, 'test', 'lockstep', 'programs');
/** S-visible mstatus bits: SIE, SPIE, SPP, FS, SUM, MXR. */
const SSTATUS_MASK = 0x2n | 0x20n | 0x100n | 0x6000n | 0x40000n | 0x80000n;
const CSR = { sstatus: 0x100, sepc: 0x141, scause: 0x142, stval: 0x143, satp: 0x180 } as const;
const CSR_NAMES = ['scause', 'sepc', 'stval', 'satp'] as const;

function build(program: string): { elf: string; symbols: Map<string, bigint>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-rv64-'));
  const elf = join(dir, 'program.elf');
  execFileSync(tool('riscv64-linux-gnu-gcc'), ['-march=rv64gc_zba_zbb_zbs', '-mabi=lp64d', '-nostdlib', '-static',
    `-Wl,-T,${join(PROGRAMS, 'link.ld')}`, '-Wl,--no-relax', '-Wl,--build-id=none', '-o', elf, join(PROGRAMS, program)]);
  const symbols = new Map<string, bigint>();
  for (const line of execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' }).split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (addr && name) symbols.set(name, BigInt('0x' + addr));
  }
  return { elf, symbols, dir };
}

/** One logged CPU state: the fields we compare, as QEMU printed them (16 hex digits each). */
interface QemuState {
  pc: string;
  mstatus: string;
  scause: string;
  sepc: string;
  stval: string;
  satp: string;
  x: string[];
  f: string[];
}

/** Reads QEMU's `-d cpu,fpu` lines; calls `onState` for each complete state (after its f28..f31 line). */
class CpuLogParser {
  private state: QemuState = CpuLogParser.empty();

  constructor(private readonly onState: (s: QemuState) => void) {}

  private static empty(): QemuState {
    return { pc: '', mstatus: '', scause: '', sepc: '', stval: '', satp: '', x: [], f: [] };
  }

  line(l: string): void {
    const key = l.slice(1, 9).trimEnd();
    if (key === 'pc' || key === 'mstatus' || key === 'scause' || key === 'sepc' || key === 'stval' || key === 'satp') {
      this.state[key] = l.slice(10, 26);
      return;
    }
    const kind = l[1];
    if ((kind === 'x' || kind === 'f') && l.length >= 26 * 4) {
      const regs = kind === 'x' ? this.state.x : this.state.f;
      for (let k = 0; k < 4; k++) regs.push(l.slice(26 * k + 10, 26 * k + 26));
      if (kind === 'f' && regs.length === 32) {
        this.onState(this.state);
        this.state = CpuLogParser.empty();
      }
    }
  }
}

const hexBig = (s: string) => BigInt('0x' + s);

/**
 * Runs `program` on QEMU (`-M machine`) and on our core in `m`, comparing at every step from
 * compare_start; resolves with the steps compared once QEMU exits (the program wrote the finisher).
 */
async function lockstep(program: string, machine: string, m: BareRiscv64Machine): Promise<{ compared: number; symbols: Map<string, bigint> }> {
  const { elf, symbols, dir } = build(program);
  const compareStart = symbols.get('compare_start')!;
  const image = loadElf(new Uint8Array(readFileSync(elf)), m.memory, { machine: EM_RISCV });
  expect(image.entry).toBe(symbols.get('_start'));
  m.cpu.reset(symbols.get('s_entry')!, []);
  // QEMU -singlestep takes interrupts between steps: so does ours (debugger steps hold them by default).
  m.cpu.interruptsInSteps = true;
  for (let i = 0; i < 200 && m.cpu.pc !== compareStart; i++) m.cpu.run(1, true);
  expect(m.cpu.pc).toBe(compareStart);

  const csr = (n: number): bigint => m.cpu.readCsr(n)!;
  const x32 = m.cpu.x32;
  const f32 = m.cpu.fu32;
  const same = (hex: string, words: Uint32Array, i: number) =>
    parseInt(hex.slice(8), 16) === words[2 * i] && parseInt(hex.slice(0, 8), 16) === words[2 * i + 1];

  const differences = (q: QemuState): string[] => {
    const diffs: string[] = [];
    const pc = m.cpu.pc;
    if (hexBig(q.pc) !== pc) diffs.push(`pc: qemu ${q.pc} ours ${pc.toString(16)}`);
    for (let i = 1; i < 32; i++) if (!same(q.x[i]!, x32, i)) diffs.push(`x${i}: qemu ${q.x[i]} ours ${m.cpu.reg(i).toString(16)}`);
    for (let i = 0; i < 32; i++) if (!same(q.f[i]!, f32, i)) diffs.push(`f${i}: qemu ${q.f[i]} ours ${m.cpu.fb[i]!.toString(16)}`);
    // The S-mode CSRs at every step too (readCsr returns the core's field: no allocation).
    if ((hexBig(q.mstatus) & SSTATUS_MASK) !== (csr(CSR.sstatus) & SSTATUS_MASK)) diffs.push(`sstatus: qemu mstatus ${q.mstatus} ours ${csr(CSR.sstatus).toString(16)}`);
    for (const name of CSR_NAMES) {
      if (hexBig(q[name]) !== csr(CSR[name])) diffs.push(`${name}: qemu ${q[name]} ours ${csr(CSR[name]).toString(16)}`);
    }
    return diffs;
  };

  let compared = 0;
  let skipped = 0;
  let started = false;
  let failure: string | undefined;
  const check = (q: QemuState) => {
    if (failure !== undefined) return;
    if (!started) {
      if (hexBig(q.pc) !== compareStart) {
        if (++skipped > 10_000) failure = `QEMU never reached compare_start (0x${compareStart.toString(16)}); last pc ${q.pc}`;
        return;
      }
      started = true;
    }
    if (compared > 5_000_000) failure = 'the program ran past 5,000,000 instructions without finishing';
    let diffs = differences(q);
    if (diffs.length > 0) {
      // QEMU takes a pending interrupt before it logs the next instruction; our core reports the
      // interrupt entry as a step of its own. If that is what our next step does, compare again.
      const before = m.cpu.pc;
      m.cpu.run(1, true);
      if (csr(CSR.scause) >> 63n === 1n && csr(CSR.sepc) === before) diffs = differences(q);
    }
    if (diffs.length > 0) {
      failure = `after ${compared} steps, at qemu pc ${q.pc}: ${diffs.join('; ')}`;
      return;
    }
    compared++;
    m.cpu.run(1, true);
  };

  const parser = new CpuLogParser(check);
  const { code, stderr } = await runQemuCpuLog('qemu-system-riscv64', ['-M', machine, '-smp', '1', '-m', '256M', '-bios', 'none', '-kernel', elf], dir, (line) => {
    parser.line(line);
    return failure === undefined;
  });
  if (failure !== undefined) throw new Error(failure);
  expect(code, stderr).toBe(0); // the program wrote 0x5555 to the sifive_test finisher
  expect(m.finisher.status).toBe(0x5555);
  return { compared, symbols };
}

describe('riscv64 lockstep with qemu-system-riscv64', () => {
  it('agrees on every register after each of over 1,000,000 instructions (all classes, U-mode, Sv39, traps, interrupts)', async () => {
    const m = new BareRiscv64Machine();
    const { compared, symbols } = await lockstep('riscv64-system.S', 'virt', m);
    expect(compared).toBeGreaterThan(1_000_000);
    const result = symbols.get('result')!;
    expect(m.memory.read(Number(result), 8)).not.toBe(0n);
  }, 600_000);

  it('agrees on the AIA CSRs (siselect, sireg, stopei, stopi) and IMSIC MSIs with virt,aia=aplic-imsic', async () => {
    let m: BareRiscv64Machine | undefined;
    const imsic = new Imsic({ vcpus: 1, numIds: 256, hartOutputs: [{ set: (l) => m!.cpu.setInterrupt(IRQ_SEI, l), pulse() {} }] });
    m = new BareRiscv64Machine(64 << 20, 0x8000_0000, {
      readIndirect: (select) => imsic.readIndirect(0, select),
      writeIndirect: (select, value) => imsic.writeIndirect(0, select, value),
      topei: () => imsic.topei(0),
      claimTopei: () => void imsic.claimTopei(0),
    });
    m.memory.mapMmio(0x2800_0000, IMSIC_PAGE, imsic);
    const { compared } = await lockstep('riscv64-aia.S', 'virt,aia=aplic-imsic', m);
    expect(compared).toBeGreaterThan(100);
    expect(m.cpu.reg(22)).toBe(9n + 20n + 68n); // s6: the handler claimed each remaining identity once
    // The last MSI (identity 5) pends with delivery off: no interrupt (stopi 0), but stopei names it.
    expect(m.cpu.reg(25)).toBe(0n);
    expect(m.cpu.reg(26)).toBe((5n << 16n) | 5n);
  }, 120_000);
});
