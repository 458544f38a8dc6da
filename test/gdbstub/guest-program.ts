import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tool } from '../helpers/fixtures.js';

/**
 * The test zone's program, assembled and linked by Debian's riscv64 binutils (a real oracle for
 * encodings and symbols): each hart counts in its own pair of words until gdb stops it.
 */
const SOURCE = `
  .option norvc
  .text
  .globl _start
_start:
  la    a1, counters
  slli  a2, a0, 4
  add   a1, a1, a2        # hart n uses counters[2n], counters[2n+1]
  li    t0, 0
loop:
  addi  t0, t0, 1
store:
  sd    t0, 0(a1)         # written every iteration (watch)
load:
  ld    t1, 8(a1)         # read every iteration (rwatch)
  addi  t1, t1, 2
bump:
  sd    t1, 8(a1)
  j     loop
  .globl exit_now
exit_now:
  li    a0, 7
  li    a7, 93
  ecall
  .data
  .balign 16
  .globl counters
counters:
  .zero 64
`;

export interface GuestProgram {
  readonly elf: string;
  readonly image: Uint8Array;
  readonly symbols: ReadonlyMap<string, bigint>;
}

let built: GuestProgram | undefined;

/** Built once per test process. */
export function buildGuestProgram(): GuestProgram {
  return (built ??= build());
}

function build(): GuestProgram {
  const dir = mkdtempSync(join(tmpdir(), 'gdbstub-guest-'));
  const src = join(dir, 'guest.s');
  const obj = join(dir, 'guest.o');
  const elf = join(dir, 'guest.elf');
  const bin = join(dir, 'guest.bin');
  writeFileSync(src, SOURCE);
  execFileSync(tool('riscv64-linux-gnu-as'), ['-march=rv64i', '-mabi=lp64', '-g', '-o', obj, src]);
  execFileSync(tool('riscv64-linux-gnu-ld'), ['-N', '--no-warn-rwx-segments', '-Ttext=0x80000000', '-e', '_start', '-o', elf, obj]);
  execFileSync(tool('riscv64-linux-gnu-objcopy'), ['-O', 'binary', elf, bin]);
  const symbols = new Map<string, bigint>();
  for (const line of execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' }).split('\n')) {
    const [value, , name] = line.trim().split(/\s+/);
    if (value && name) symbols.set(name, BigInt('0x' + value));
  }
  return { elf, image: new Uint8Array(readFileSync(bin)), symbols };
}
