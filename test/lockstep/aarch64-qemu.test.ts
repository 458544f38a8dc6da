/**
 * Lockstep against QEMU: programs/aarch64-system.S runs on qemu-system-aarch64 (virt, GICv3,
 * cortex-a53, one instruction per translation block, CPU state logged before each:
 * `-singlestep -d cpu,fpu,nochain`) and on our core, stepped one instruction (or exception entry) at
 * a time. From `compare_start` on, pc, x0..x30, sp, PSTATE (NZCV, DAIF, EL, SPSel), FPCR, FPSR and v0..v31 must
 * agree at every step, for over a million instructions covering every class the core implements,
 * stage-1 translation, EL0, SVC/BRK/abort entries and ERET. The program keeps interrupts masked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tool } from '../helpers/fixtures.js';
import { loadElf, makeZone } from '../aarch64/test-host.js';
import { runQemuCpuLog } from './qemu-cpu-log.js';

const PROGRAMS = join(REPO, 'test', 'lockstep', 'programs');
/** Slot of V0's low half in the core's register file (see src/arch/aarch64/registers.ts). */
const V0 = 64;
const PC = 32;
/** FPSR bits compared: all of them (QC, IDC, IXC, UFC, OFC, DZC, IOC). */
const FPSR_COMPARED = 0xf800009f;
const SP = 31;

function build(dir: string): string {
  const elf = join(dir, 'system.elf');
  execFileSync(tool('aarch64-linux-gnu-gcc'), ['-nostdlib', '-static', `-Wl,-T,${join(PROGRAMS, 'aarch64-link.ld')}`,
    '-Wl,--build-id=none', '-o', elf, join(PROGRAMS, 'aarch64-system.S')]);
  return elf;
}

/**
 * One state as QEMU 7.2 prints it for aarch64: 11 lines of three 64-bit fields (PC, X00..X30, SP,
 * each `NAM=<16 hex>` at columns 4, 25, 46), a `PSTATE=<8 hex> ...` line, then (unless it ends in
 * "FPU disabled") 16 lines of two `Qnn=<hi 16 hex>:<lo 16 hex>` fields. Lines are kept as text and
 * decoded only where compared.
 */
interface QemuState {
  gpr: string[];
  pstate: string;
  q: string[];
}

class CpuLogParser {
  private state: QemuState | undefined;

  constructor(private readonly onState: (s: QemuState) => void, private readonly onError: (message: string) => void) {}

  line(l: string): void {
    if (l.startsWith(' PC=')) {
      if (this.state !== undefined) this.onError(`incomplete QEMU state before: ${l}`);
      this.state = { gpr: [l], pstate: '', q: [] };
      return;
    }
    const s = this.state;
    if (s === undefined) return; // anything QEMU prints outside a state
    if (l.startsWith('PSTATE=')) {
      if (s.gpr.length !== 11) this.onError(`QEMU state with ${s.gpr.length} register lines: ${s.gpr[0]}`);
      s.pstate = l;
      if (l.endsWith('FPU disabled')) this.emit(s);
    } else if (l.startsWith('Q')) {
      s.q.push(l);
      if (s.q.length === 16) this.emit(s);
    } else if (l.startsWith('X')) {
      s.gpr.push(l);
    }
  }

  private emit(s: QemuState): void {
    this.state = undefined;
    this.onState(s);
  }
}

const GPR_COLUMNS = [4, 25, 46];
/** Core slot of the j-th 64-bit field of the register lines (PC, X0..X30, SP). */
const gprSlot = (j: number): number => (j === 0 ? PC : j === 32 ? SP : j - 1);
const gprName = (j: number): string => (j === 0 ? 'pc' : j === 32 ? 'sp' : `x${j - 1}`);

describe('aarch64 lockstep with qemu-system-aarch64', () => {
  it('agrees on every register after each of over 1,000,000 instructions (all classes, EL0, MMU, exceptions)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-a64-'));
    const elf = build(dir);
    const z = makeZone(0x4000_0000, 0x100_0000);
    const { entry, symbols } = loadElf(z.memory, elf);
    const compareStart = symbols.get('compare_start')!;
    expect(entry).toBe(symbols.get('_start'));
    z.cpu.reset(entry, []);
    for (let i = 0; i < 10 && z.cpu.pc !== compareStart; i++) z.cpu.run(1, true);
    expect(z.cpu.pc).toBe(compareStart);

    const r32 = z.cpu.r32;
    const word = (l: string, at: number) => parseInt(l.slice(at, at + 8), 16);
    const same = (l: string, at: number, slot: number) => word(l, at + 8) === r32[2 * slot] && word(l, at) === r32[2 * slot + 1];
    const hex = (slot: number) => z.cpu.r[slot]!.toString(16).padStart(16, '0');

    const differences = (q: QemuState): string[] => {
      const diffs: string[] = [];
      for (let j = 0; j < 33; j++) {
        const line = q.gpr[(j / 3) | 0]!;
        const at = GPR_COLUMNS[j % 3]!;
        if (!same(line, at, gprSlot(j))) diffs.push(`${gprName(j)}: qemu ${line.slice(at, at + 16)} ours ${hex(gprSlot(j))}`);
      }
      const pstate = parseInt(q.pstate.slice(7, 15), 16);
      if (pstate !== z.cpu.pstate()) diffs.push(`pstate: qemu ${q.pstate.slice(7, 15)} ours ${z.cpu.pstate().toString(16).padStart(8, '0')}`);
      if (q.q.length > 0) {
        // `FPCR=<8 hex> FPSR=<8 hex>` close the PSTATE line when the FPU is enabled.
        const fpcr = q.pstate.length - 22;
        if (parseInt(q.pstate.slice(fpcr, fpcr + 8), 16) !== z.cpu.fpcr) diffs.push(`fpcr: qemu ${q.pstate.slice(fpcr, fpcr + 8)} ours ${z.cpu.fpcr.toString(16)}`);
        if (((parseInt(q.pstate.slice(-8), 16) & FPSR_COMPARED) >>> 0) !== ((z.cpu.fpsr & FPSR_COMPARED) >>> 0)) diffs.push(`fpsr: qemu ${q.pstate.slice(-8)} ours ${z.cpu.fpsr.toString(16)}`);
      }
      for (let k = 0; k < q.q.length; k++) {
        const line = q.q[k]!;
        for (let h = 0; h < 2; h++) {
          const n = 2 * k + h;
          const at = 4 + 38 * h; // Qnn=<hi>:<lo>
          if (!same(line, at, V0 + 2 * n + 1) || !same(line, at + 17, V0 + 2 * n)) {
            diffs.push(`v${n}: qemu ${line.slice(at, at + 33)} ours ${hex(V0 + 2 * n + 1)}:${hex(V0 + 2 * n)}`);
          }
        }
      }
      return diffs;
    };

    let compared = 0;
    let skipped = 0;
    let started = false;
    let failure: string | undefined;
    const fail = (message: string) => void (failure ??= message);
    const check = (q: QemuState) => {
      if (failure !== undefined) return;
      if (!started) {
        if (parseInt(q.gpr[0]!.slice(4, 20), 16) !== Number(compareStart)) {
          if (++skipped > 10_000) fail(`QEMU never reached compare_start (0x${compareStart.toString(16)}); last: ${q.gpr[0]}`);
          return;
        }
        started = true;
      }
      if (compared > 3_000_000) return fail('the program ran past 3,000,000 instructions without finishing');
      if (!z.cpu.powered) return fail(`our core powered off after ${compared} steps but QEMU went on at ${q.gpr[0]}`);
      const diffs = differences(q);
      if (diffs.length > 0) return fail(`after ${compared} steps, at qemu${q.gpr[0]!.slice(0, 20)}: ${diffs.join('; ')}`);
      compared++;
      const stop = z.cpu.run(1, true);
      if (stop.kind === 'guest-error') fail(`our core stopped: ${stop.report.cause} at 0x${stop.report.pc.toString(16)}`);
    };

    const parser = new CpuLogParser(check, fail);
    const { code, stderr } = await runQemuCpuLog('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '1', '-m', '256M',
      '-no-reboot', '-kernel', elf], dir, (line) => {
      parser.line(line);
      return failure === undefined;
    });
    if (failure !== undefined) throw new Error(failure);
    expect(code, stderr).toBe(0); // PSCI SYSTEM_OFF
    expect(started, 'QEMU never logged compare_start').toBe(true);
    expect(z.host.events).toContain('off'); // our core executed the same SYSTEM_OFF
    expect(z.cpu.pc).toBe(symbols.get('finish')! + 12n); // just past its hvc
    if (process.env.LOCKSTEP_VERBOSE) console.log(`aarch64 lockstep: ${compared} steps compared`);
    expect(compared).toBeGreaterThan(1_000_000);
    expect(z.memory.read(Number(symbols.get('result')!), 8)).not.toBe(0n);
  }, 600_000);
});
