import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describeStop } from '../../src/arch/cpu.js';
import { BareRiscv64Machine } from '../../src/arch/riscv64/bare-machine.js';
import { loadElf, EM_RISCV } from '../../src/loader/elf.js';
import { tool } from '../helpers/fixtures.js';
import { DUMP_BYTES } from './random-program.js';

/** The dump a random program writes to stdout under qemu-riscv64 (user mode). */
export function runUnderQemuUser(elf: string): Uint8Array {
  const out = execFileSync(tool('qemu-riscv64'), [elf], { maxBuffer: 1 << 20 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * The same program on our core in U-mode with bare translation: each write ecall traps to S-mode,
 * where no handler is installed, so the vCPU stops there with the trap not taken; the dump is read
 * from memory at gp and the run resumes after the ecall. Ends at the exit ecall (a7 = 93).
 */
export function runOnOurCore(elf: string, maxInstructions = 1_000_000): { dumps: Uint8Array[]; problem?: string } {
  const m = new BareRiscv64Machine();
  const image = loadElf(readFileSync(elf), m.memory, { machine: EM_RISCV });
  m.cpu.reset(image.entry, []);
  m.cpu.priv = 0;
  m.cpu.status |= 1 << 13; // FS = Initial: FP usable in U-mode
  const dumps: Uint8Array[] = [];
  for (;;) {
    const stop = m.cpu.run(maxInstructions);
    if (stop.kind !== 'guest-error' || stop.report.cause !== 'environment call from U-mode') {
      return { dumps, problem: `stopped with ${describeStop(stop)} at 0x${m.cpu.pc.toString(16)}` };
    }
    if (m.cpu.reg(17) === 93n) return { dumps };
    dumps.push(m.memory.readDebug(Number(m.cpu.reg(3)), DUMP_BYTES));
    m.cpu.pc += 4n;
  }
}

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

/** Names the differing 8-byte words of two dumps: registers by name, then fcsr and data-area offsets. */
export function describeDifferences(expected: Uint8Array, actual: Uint8Array): string[] {
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const e = dv(expected), a = dv(actual);
  const diffs: string[] = [];
  for (let o = 0; o + 8 <= Math.min(expected.length, actual.length); o += 8) {
    const ev = e.getBigUint64(o, true), av = a.getBigUint64(o, true);
    if (ev === av) continue;
    const what = o < 256 ? ABI[o / 8]! : o < 512 ? `f${(o - 256) / 8}` : o === 512 ? 'fcsr' : `data+${o - 1024}`;
    diffs.push(`${what}: qemu 0x${ev.toString(16)} ours 0x${av.toString(16)}`);
  }
  if (expected.length !== actual.length) diffs.push(`dump length: qemu ${expected.length} ours ${actual.length}`);
  return diffs;
}
