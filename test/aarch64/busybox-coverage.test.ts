/**
 * Decoder coverage against a real binary: every instruction binutils finds in Debian's arm64
 * busybox-static (glibc, with its NEON string functions) must translate to something other than
 * UNDEFINED, except the SVE, MTE and MOPS ones glibc only reaches when HWCAPs we do not advertise
 * (ID_AA64PFR0/PFR1/ISAR2 report them absent) say so.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileBlock, translateInstruction } from '../../src/arch/aarch64/translate.js';
import { fixture, tool } from '../helpers/fixtures.js';
import { makeZone } from './test-host.js';

/** Mnemonics of features we do not implement or advertise (SVE, MTE, MOPS). */
const UNADVERTISED = /^(ld1b|st1b|whilelo|cntb|cntd|ptrue|ldg|stg|stzg|st2g|stz2g|gmi|irg|cpyf?[pme]|set[pme])$/;

describe('busybox-static decode coverage', () => {
  it('translates every A64 instruction of the binary outside SVE/MTE/MOPS', () => {
    const dis = execFileSync(tool('aarch64-linux-gnu-objdump'), ['-d', fixture('debian/bb-arm64/bin/busybox')], { encoding: 'latin1', maxBuffer: 1 << 28 });
    const z = makeZone();
    let undefinedHit = false;
    (z.cpu as unknown as { undefinedInstruction: () => void }).undefinedInstruction = () => {
      undefinedHit = true;
    };
    let total = 0;
    const missing = new Map<string, string>();
    for (const line of dis.split('\n')) {
      const f = line.split('\t');
      if (f.length < 3 || !f[0]!.endsWith(':')) continue;
      const hex = f[1]!.trim();
      const mnemonic = f[2]!.trim();
      if (hex.length !== 8 || mnemonic.startsWith('.') || mnemonic === 'udf') continue;
      total++;
      const insn = parseInt(hex, 16);
      const e = translateInstruction(insn, { pc: 0x1000n, k: 0 });
      let undef = e.code.includes('undefinedInstruction(');
      if (undef && /if\(!m\.(simd|fp)/.test(e.code)) {
        // The lane helpers decide some reserved encodings at run time: run it once to see.
        undefinedHit = false;
        const b = compileBlock(0x1000n, () => insn, 1);
        b.fn(z.cpu, z.cpu.r, z.cpu.r32, z.cpu.s, z.cpu.s32, z.cpu.si);
        undef = undefinedHit;
      }
      if (undef && !UNADVERTISED.test(mnemonic) && !/\b[zp]\d+\./.test(f[3] ?? '')) missing.set(mnemonic, `${hex} ${mnemonic} ${f[3] ?? ''}`);
    }
    expect(total).toBeGreaterThan(300_000);
    expect([...missing.values()]).toEqual([]);
  }, 120_000);
});
