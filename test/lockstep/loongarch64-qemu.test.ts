/**
 * Lockstep against QEMU: programs/loongarch64-system.S runs on qemu-system-loongarch64 (one
 * instruction per translation block, CPU state logged before each: `-singlestep -d cpu,fpu,nochain`)
 * and on our core, stepped one instruction (or exception/interrupt entry) at a time, both from
 * _start in PLV0 direct address mode. pc, r1..r31, f0..f31, FCSR0 and every CSR QEMU logs (CRMD,
 * PRMD, EUEN, ESTAT, ERA, BADV, BADI, EENTRY, TLBRENTRY, TLBRBADV, TLBRERA) must agree at every
 * step, for over a million instructions covering integer, FP, PLV3, TLB refill, the TLB
 * instructions, exceptions and timer interrupts.
 *
 * One mask: ESTAT.IS bit 11 (the timer's latch). QEMU's constant timer runs on the host clock, so
 * the step at which it latches is not reproducible; the program arms it with interrupts off and
 * waits in `idle`, so what the program observes (the interrupt entry, ESTAT as the handler reads
 * it) is compared exactly.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Stops, describeStop } from '../../src/arch/cpu.js';
import { BareLoongarch64Machine } from '../../src/arch/loongarch64/bare-machine.js';
import { CSR } from '../../src/arch/loongarch64/csr.js';
import { EM_LOONGARCH, loadElf } from '../../src/loader/elf.js';
import { REPO } from '../helpers/fixtures.js';
import { buildLoongarchProgram } from '../loongarch64/toolchain.js';
import { runQemuCpuLog } from './qemu-cpu-log.js';

const PROGRAMS = join(REPO, 'test', 'lockstep', 'programs');

/** The CSRs QEMU 7.2 logs, by the name it prints. */
const LOGGED = ['CRMD', 'PRMD', 'EUEN', 'ESTAT', 'ERA', 'BADV', 'BADI', 'EENTRY', 'TLBRENTRY', 'TLBRBADV', 'TLBRERA'] as const;
type Logged = (typeof LOGGED)[number];

interface QemuState {
  pc: string;
  fcsr: number;
  csr: Map<Logged, string>;
  r: string[];
  f: string[];
}

/** Reads QEMU's loongarch `-d cpu,fpu` lines; calls `onState` for each complete state (after its f28..f31 line). */
class CpuLogParser {
  private state: QemuState = CpuLogParser.empty();

  constructor(private readonly onState: (s: QemuState) => void) {}

  private static empty(): QemuState {
    return { pc: '', fcsr: 0, csr: new Map(), r: [], f: [] };
  }

  line(l: string): void {
    if (l.startsWith(' PC=')) {
      this.state.pc = l.slice(4, 20);
      this.state.fcsr = parseInt(/FCSR0 0x([0-9a-f]+)/.exec(l)?.[1] ?? 'x', 16);
      return;
    }
    if (l.startsWith(' GPR')) {
      for (const m of l.matchAll(/r\d+ ([0-9a-f]{16})/g)) this.state.r.push(m[1]!);
      return;
    }
    const eq = l.indexOf('=');
    if (eq > 0 && !l.startsWith(' ')) {
      const name = l.slice(0, eq) as Logged;
      if ((LOGGED as readonly string[]).includes(name)) this.state.csr.set(name, l.slice(eq + 1, eq + 17));
      return;
    }
    if (l.startsWith(' f')) {
      for (const m of l.matchAll(/f\d+ ([0-9a-f]{16})/g)) this.state.f.push(m[1]!);
      if (this.state.f.length === 32) {
        this.onState(this.state);
        this.state = CpuLogParser.empty();
      }
    }
  }
}

const hexBig = (s: string) => BigInt('0x' + s);
const TI = 1n << 11n;
/** `idle 0`. */
const IDLE = 0x06488000n;

describe('loongarch64 lockstep with qemu-system-loongarch64', () => {
  it('agrees on every register after each of over 1,000,000 instructions (integer, FP, PLV3, TLB refill, exceptions, timer interrupts)', async () => {
    const { elf, symbols } = buildLoongarchProgram(join(PROGRAMS, 'loongarch64-system.S'), {
      name: 'lockstep-system', linkScript: join(PROGRAMS, 'loongarch64-link.ld'),
    });
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-la64-'));
    const m = new BareLoongarch64Machine();
    const image = loadElf(new Uint8Array(readFileSync(elf)), m.memory, { machine: EM_LOONGARCH });
    expect(image.entry).toBe(symbols.get('_start'));
    m.cpu.reset(image.entry, []);
    const cpu = m.cpu;
    // QEMU -singlestep takes interrupts between steps: so does ours (debugger steps hold them by default).
    cpu.interruptsInSteps = true;
    const x32 = cpu.x32;
    const f32 = cpu.fu32;
    const same = (hex: string, words: Uint32Array, i: number) =>
      parseInt(hex.slice(8), 16) === words[2 * i] && parseInt(hex.slice(0, 8), 16) === words[2 * i + 1];
    const csrNumber: Record<Logged, number> = {
      CRMD: CSR.CRMD, PRMD: CSR.PRMD, EUEN: CSR.EUEN, ESTAT: CSR.ESTAT, ERA: CSR.ERA, BADV: CSR.BADV, BADI: CSR.BADI,
      EENTRY: CSR.EENTRY, TLBRENTRY: CSR.TLBRENTRY, TLBRBADV: CSR.TLBRBADV, TLBRERA: CSR.TLBRERA,
    };

    /** One step of ours; a wait (idle) moves time to the timer and steps again. */
    const step = (): void => {
      for (let tries = 0; tries < 3; tries++) {
        const stop = cpu.run(1, true);
        if (stop === Stops.step) return;
        if (stop === Stops.wait && m.warpToTimer()) continue;
        throw new Error(`our core stopped (${describeStop(stop)}) at pc 0x${cpu.pc.toString(16)}`);
      }
    };

    const differences = (q: QemuState): string[] => {
      const diffs: string[] = [];
      if (hexBig(q.pc) !== cpu.pc) diffs.push(`pc: qemu ${q.pc} ours ${cpu.pc.toString(16)}`);
      for (let i = 1; i < 32; i++) if (!same(q.r[i]!, x32, i)) diffs.push(`r${i}: qemu ${q.r[i]} ours ${cpu.reg(i).toString(16)}`);
      for (let i = 0; i < 32; i++) if (!same(q.f[i]!, f32, i)) diffs.push(`f${i}: qemu ${q.f[i]} ours ${cpu.fb[i]!.toString(16)}`);
      if (q.fcsr !== cpu.fcsr) diffs.push(`fcsr0: qemu ${q.fcsr.toString(16)} ours ${cpu.fcsr.toString(16)}`);
      for (const name of LOGGED) {
        let theirs = hexBig(q.csr.get(name)!);
        let ours = cpu.readCsr(csrNumber[name]);
        if (name === 'ESTAT') { theirs &= ~TI; ours &= ~TI; }
        if (theirs !== ours) diffs.push(`${name}: qemu ${theirs.toString(16)} ours ${ours.toString(16)}`);
      }
      return diffs;
    };

    const snapshot = (): string => `pc ${cpu.pc.toString(16)}`;
    let compared = 0;
    let idleRepeats = 0;
    /** The pc of the `idle` our core just executed, if it did. */
    let idlePc: bigint | undefined;
    let interrupts = 0;
    let failure: string | undefined;
    const check = (q: QemuState) => {
      if (failure !== undefined) return;
      if (compared > 3_000_000) failure = 'the program ran past 3,000,000 instructions without finishing';
      let diffs = differences(q);
      if (diffs.length > 0 && idlePc !== undefined && hexBig(q.pc) === idlePc) {
        // QEMU 7.2 logs an `idle` again when the core wakes from it (it re-enters the halted TB);
        // our core retired it once. Skip QEMU's repeat.
        idleRepeats++;
        return;
      }
      if (diffs.length > 0) {
        // QEMU logs a state only when a translation block starts: it takes a pending interrupt, or
        // an instruction fetch fault (a TLB refill of the code page), before logging anything. Our
        // core reports such an entry as a step that retires nothing. If that is what our next step
        // is, compare again.
        const retired = cpu.retired;
        const interrupt = (cpu.readCsr(CSR.CRMD) & 4n) !== 0n && (cpu.readCsr(CSR.ESTAT) & cpu.readCsr(CSR.ECFG) & 0x1fffn) !== 0n;
        const saved = snapshot();
        step();
        if (cpu.retired === retired) {
          if (interrupt) interrupts++;
          diffs = differences(q);
        } else {
          diffs.push(`(and our next step, from ${saved}, retired an instruction)`);
        }
      }
      if (diffs.length > 0) {
        failure = `after ${compared} steps, at qemu pc ${q.pc}: ${diffs.join('; ')}`;
        return;
      }
      compared++;
      idlePc = m.memory.read(Number(cpu.pc & 0xffff_ffff_ffffn), 4) === IDLE ? cpu.pc : undefined;
      step();
    };

    const parser = new CpuLogParser(check);
    const { code, stderr } = await runQemuCpuLog('qemu-system-loongarch64', ['-M', 'virt', '-smp', '1', '-m', '1G', '-kernel', elf], dir, (line) => {
      parser.line(line);
      return failure === undefined;
    });
    if (failure !== undefined) throw new Error(failure);
    expect(code, stderr).toBe(0); // the program wrote S5 to the GED sleep control
    expect(m.sleep.value).toBe(0x34);
    expect(compared).toBeGreaterThan(1_000_000);
    expect(cpu.reg(22)).toBe(320n); // fp: the handler took one timer interrupt per round (ITERATIONS)
    expect(interrupts).toBe(320); // and each was an interrupt entry QEMU took before logging
    expect(idleRepeats).toBeLessThanOrEqual(320);
  }, 900_000);
});
