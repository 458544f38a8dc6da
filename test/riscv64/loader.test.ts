import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tool } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/machine/address-space.js';
import { Ram } from '../../src/machine/ram.js';
import { EM_AARCH64, EM_RISCV, loadElf, parseElf64 } from '../../src/loader/elf.js';
import { ImageError } from '../../src/loader/image-error.js';
import { loadRawImage } from '../../src/loader/raw-image.js';
import { buildProgram } from './toolchain.js';

const PROGRAM = `
  .section .text.boot, "ax"
  .global _start
_start:
  li a0, 1
  j _start
  .section .data
  .balign 8
value: .dword 0x1122334455667788
  .section .bss
  .balign 8
zeros: .space 64
`;

function space(base = 0x8000_0000, size = 1 << 20): AddressSpace {
  const s = new AddressSpace();
  s.mapRam(base, size, new Ram(size));
  return s;
}

describe('ELF64 loader', () => {
  const elf = buildProgram('loader', PROGRAM);
  const bytes = new Uint8Array(readFileSync(elf));

  it('loads PT_LOAD segments at their physical addresses, zero-fills the bss and returns the entry (checked against binutils)', () => {
    const mem = space();
    // Dirty the bss area first: the loader must clear it.
    mem.writeDebug(0x8000_0000, new Uint8Array(0x3000).fill(0xee));
    const image = loadElf(bytes, mem, { machine: EM_RISCV });
    expect(image.entry).toBe(0x8000_0000n);
    expect(image.machine).toBe(EM_RISCV);
    // binutils' flat image of the same ELF is what must be in memory from the first segment on.
    const flat = join(dirname(elf), 'loader.bin');
    execFileSync(tool('riscv64-linux-gnu-objcopy'), ['-O', 'binary', elf, flat]);
    const bin = new Uint8Array(readFileSync(flat));
    expect(image.low).toBe(0x8000_0000);
    expect(mem.readDebug(0x8000_0000, bin.length)).toEqual(bin);
    const nm = execFileSync(tool('riscv64-linux-gnu-nm'), [elf], { encoding: 'utf8' });
    const sym = (name: string) => parseInt(new RegExp(`([0-9a-f]+) \\w ${name}\\n`).exec(nm)![1]!, 16);
    expect(mem.read(sym('value'), 8)).toBe(0x1122334455667788n);
    expect(image.high).toBe(sym('zeros') + 64);
    expect([...mem.readDebug(sym('zeros'), 64)].every((b) => b === 0)).toBe(true);
  });

  it('rejects bad input with a typed error naming the image and the problem', () => {
    const mem = space();
    const bad = (b: Uint8Array, re: RegExp, machine?: number) => {
      try {
        loadElf(b, mem, { image: 'kernel.elf', machine });
        throw new Error('loaded');
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        expect((e as ImageError).message).toMatch(/^kernel\.elf: /);
        expect((e as Error).message).toMatch(re);
      }
    };
    bad(new Uint8Array(10), /too short/);
    const notElf = bytes.slice(); notElf[1] = 0x44;
    bad(notElf, /bad magic/);
    const elf32 = bytes.slice(); elf32[4] = 1;
    bad(elf32, /not ELF64/);
    const bigEndian = bytes.slice(); bigEndian[5] = 2;
    bad(bigEndian, /little-endian/);
    bad(bytes, /machine 243, expected 183/, EM_AARCH64);
    bad(bytes.slice(0, 200), /past the end of the file/);
    // The RAM is elsewhere: every segment lands outside it.
    expect(() => loadElf(bytes, space(0x4000_0000))).toThrow(/segment 0 \[0x80000000, 0x[0-9a-f]+\) is not inside RAM/);
    expect(parseElf64(bytes).segments.length).toBeGreaterThan(0);
  });

  it('loads raw images only inside RAM', () => {
    const mem = space();
    expect(loadRawImage(Uint8Array.of(1, 2, 3), mem, 0x8000_1000)).toBe(0x8000_1003);
    expect([...mem.readDebug(0x8000_1000, 3)]).toEqual([1, 2, 3]);
    expect(() => loadRawImage(new Uint8Array(16), mem, 0x800f_fff8, 'Image')).toThrow(/Image: image \[0x800ffff8, 0x80100008\) is not inside RAM \(stops at 0x80100000\)/);
    expect(() => loadRawImage(new Uint8Array(0), mem, 0x8000_0000)).toThrow(ImageError);
  });
});
