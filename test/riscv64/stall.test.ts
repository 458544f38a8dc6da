/**
 * A device access that stalls (the device cannot answer yet: hvisor's virtio trampoline waiting for
 * zone0's daemon) leaves its instruction undone: the hart stops with a stall, pc on the load or store,
 * and makes the access again when it next runs. The instruction must retire once, when it completes:
 * retired counts drive virtual time, so a stall counted as a retirement would shift every later
 * timer interrupt. Checked interpreted and with every block compiled (blocks hand MMIO accesses to the
 * interpreter), for loads, stores and FP loads.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { EM_RISCV, loadElf } from '../../src/loader/elf.js';
import { ACCESS_STALLED, type AccessSize, type MmioDevice } from '../../src/machine/mmio-device.js';
import { tool } from '../helpers/fixtures.js';
import { buildProgram } from './toolchain.js';

const DEVICE = 0x2000_0000;
const ITERATIONS = 4;

// Three set-up instructions, then per iteration: lw, add, sw, flw, addi, bnez (6); ebreak ends it
// (no trap vector: the hart stops with a guest error, the ebreak not retired).
const SOURCE = `
  .option norvc
  .globl _start
_start:
  li t0, ${DEVICE}
  li s0, ${ITERATIONS}
  li s1, 0
loop:
load:
  lw t1, 0(t0)
  add s1, s1, t1
store:
  sw s1, 4(t0)
fpload:
  flw f1, 8(t0)
  addi s0, s0, -1
  bnez s0, loop
  ebreak
`;
const SETUP = 3;
const BODY = 6;

/** Stalls every access once, then answers it: reads return 5 + the number of reads answered so far. */
class StallingDevice implements MmioDevice {
  readonly name = 'stalling';
  owed = false;
  stalls = 0;
  readonly answered: string[] = [];
  private reads = 0;
  read(offset: number, size: AccessSize): number {
    this.stallOnce();
    this.answered.push(`r${size}@${offset}`);
    return 5 + this.reads++;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.stallOnce();
    this.answered.push(`w${size}@${offset}=${value}`);
  }
  reset(): void {}
  private stallOnce(): void {
    this.owed = !this.owed;
    if (this.owed) {
      this.stalls++;
      throw ACCESS_STALLED;
    }
  }
}

function symbols(elf: string): Map<string, bigint> {
  const out = execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' });
  return new Map(out.trim().split('\n').map((l) => l.split(' ')).map(([a, , n]) => [n!, BigInt('0x' + a!)]));
}

describe('riscv64: a stalled device access retires once', () => {
  const elf = buildProgram('stall', SOURCE);
  const sym = symbols(elf);

  for (const compileThreshold of [0, 1]) {
    it(compileThreshold === 0 ? 'interpreted' : 'with every block compiled', () => {
      const m = new BareRiscv64Machine();
      const device = new StallingDevice();
      m.memory.mapMmio(DEVICE, 0x1000, device);
      const image = loadElf(new Uint8Array(readFileSync(elf)), m.memory, { machine: EM_RISCV });
      m.cpu.reset(image.entry, [0n, 0n]);
      m.cpu.compileThreshold = compileThreshold;
      m.cpu.status |= 1 << 13; // sstatus.FS: FP on, so fld reaches the device

      const stops: string[] = [];
      for (let round = 0; round < 100; round++) {
        const stop = m.cpu.run(1000);
        if (stop.kind !== 'stall') {
          expect(stop.kind).toBe('guest-error');
          break;
        }
        // The stalled instruction is undone: pc on it, and only the instructions before it retired.
        const k = device.stalls - 1;
        const iteration = Math.floor(k / 3);
        const which = (['load', 'store', 'fpload'] as const)[k % 3]!;
        const before = SETUP + BODY * iteration + { load: 0, store: 2, fpload: 3 }[which];
        stops.push(`${which}@${m.cpu.retired}`);
        expect(m.cpu.pc, `stall ${k}`).toBe(sym.get(which));
        expect(m.cpu.retired, `retired at stall ${k} (${which}, iteration ${iteration})`).toBe(before);
      }
      expect(device.stalls).toBe(3 * ITERATIONS);
      // Every access made once, in order; the loop ran to the ebreak and nothing more retired.
      expect(device.answered).toEqual(Array.from({ length: ITERATIONS }, (_, i) => [
        'r4@0', `w4@4=${Array.from({ length: i + 1 }, (_, j) => 5 + 2 * j).reduce((a, b) => a + b)}`, 'r4@8',
      ]).flat());
      expect(m.cpu.retired).toBe(SETUP + BODY * ITERATIONS);
      expect(m.cpu.pc).toBe(sym.get('loop')! + BigInt(4 * BODY));
      expect(m.cpu.reg(8)).toBe(0n);
      expect(stops).toHaveLength(3 * ITERATIONS);
    });
  }
});
