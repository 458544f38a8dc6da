import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GdbArchDescription, GdbRegister } from '../../gdbstub/arch-description.js';
import { RegisterMap, TargetDescriptionFiles } from '../../gdbstub/target-xml.js';
import { AARCH64_GDB } from '../../src/arch/aarch64/gdb-registers.js';
import { riscv64GdbDescription } from '../../src/arch/riscv64/gdb-description.js';
import { tool } from '../helpers/fixtures.js';
import { RISCV64_DESCRIPTION } from './riscv64-description.js';

/**
 * LoongArch as current GDB requires it (gdb/features/loongarch: base with orig_a0 and badv, fpu with
 * eight 8-bit fcc registers). No core yet: this checks the XML shape our generator gives it.
 */
const reg = (regno: number, name: string, bits: number, type?: string): GdbRegister => ({ regno, name, bits, type });
const LOONGARCH64: GdbArchDescription = {
  architecture: 'loongarch64',
  gPacketRegisters: 35,
  expedite: [3, 33],
  features: [
    {
      name: 'org.gnu.gdb.loongarch.base',
      file: 'loongarch-base64.xml',
      registers: [
        ...Array.from({ length: 32 }, (_, i) => reg(i, `r${i}`, 64, i === 1 ? 'code_ptr' : i === 3 ? 'data_ptr' : 'uint64')),
        reg(32, 'orig_a0', 64, 'uint64'),
        reg(33, 'pc', 64, 'code_ptr'),
        reg(34, 'badv', 64, 'code_ptr'),
      ],
    },
    {
      name: 'org.gnu.gdb.loongarch.fpu',
      file: 'loongarch-fpu.xml',
      typesXml: '<union id="fputype"><field name="f" type="ieee_single"/><field name="d" type="ieee_double"/></union>',
      registers: [
        ...Array.from({ length: 32 }, (_, i) => reg(35 + i, `f${i}`, 64, 'fputype')),
        ...Array.from({ length: 8 }, (_, i) => reg(67 + i, `fcc${i}`, 8, 'uint8')),
        reg(75, 'fcsr', 32, 'uint32'),
      ],
    },
  ],
};

interface ParsedReg {
  feature: string;
  name: string;
  bits: number;
  regno: number;
}

/** gdb reads our files (xi:include and all) and prints back the description it understood. */
function gdbParse(description: GdbArchDescription, withoutArchitecture = false): Promise<{ regs: ParsedReg[]; architecture: string | undefined; stderr: string }> {
  const files = new TargetDescriptionFiles(description);
  const dir = mkdtempSync(join(tmpdir(), 'tdesc-'));
  for (const name of files.names()) {
    let text = files.get(name)!;
    if (withoutArchitecture) text = text.replace(/<architecture>[^<]*<\/architecture>/, '');
    writeFileSync(join(dir, name), text);
  }
  return new Promise((resolve, reject) => {
    execFile(tool('gdb-multiarch'), ['-nx', '-batch', '-ex', `set tdesc filename ${join(dir, 'target.xml')}`, '-ex', 'maint print xml-tdesc'], (e, stdout, stderr) => {
      if (e && !stdout && !stderr) return reject(e);
      const regs: ParsedReg[] = [];
      let feature = '';
      for (const line of stdout.split('\n')) {
        const f = /<feature name="([^"]+)">/.exec(line);
        if (f) feature = f[1]!;
        const r = /<reg name="([^"]+)" bitsize="(\d+)".* regnum="(\d+)"/.exec(line);
        if (r) regs.push({ feature, name: r[1]!, bits: Number(r[2]), regno: Number(r[3]) });
      }
      resolve({ regs, architecture: /<architecture>([^<]+)<\/architecture>/.exec(stdout)?.[1], stderr });
    });
  });
}

function expected(description: GdbArchDescription): ParsedReg[] {
  return description.features.flatMap((f) => f.registers.map((r) => ({ feature: f.name, name: r.name, bits: r.bits, regno: r.regno })));
}

describe('target descriptions generated from the arch register tables, as gdb-multiarch 13.1 reads them', () => {
  for (const [label, description] of [
    ['riscv64 (the core)', riscv64GdbDescription],
    ['aarch64 (the core)', AARCH64_GDB],
    ['riscv64 (test zone)', RISCV64_DESCRIPTION],
  ] as const) {
    it(`${label}: every register, width, number and feature survives gdb's parser`, async () => {
      const parsed = await gdbParse(description);
      expect(parsed.stderr).toBe('');
      expect(parsed.architecture).toBe(description.architecture);
      expect(parsed.regs).toEqual(expected(description));
    });
  }

  it('loongarch64: gdb reads every register of our files; Debian 12 gdb only lacks the architecture', async () => {
    const withArch = await gdbParse(LOONGARCH64);
    expect(withArch.stderr).toMatch(/^warning: while parsing target description \(at line 1\): Target description specified unknown architecture "loongarch64"/);
    // Without the architecture element gdb parses the features generically (its default arch then
    // declines them, the only complaint): all registers survive its parser.
    const parsed = await gdbParse(LOONGARCH64, true);
    expect(parsed.stderr.trim()).toBe('warning: Architecture rejected target-supplied description');
    expect(parsed.regs).toEqual(expected(LOONGARCH64));
    const files = new TargetDescriptionFiles(LOONGARCH64);
    expect(files.get('target.xml')).toBe(
      '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0"><architecture>loongarch64</architecture>' +
        '<xi:include href="loongarch-base64.xml"/><xi:include href="loongarch-fpu.xml"/></target>',
    );
  });

  it('rejects register tables the stub could not serve consistently', () => {
    const base = RISCV64_DESCRIPTION;
    expect(() => new RegisterMap({ ...base, gPacketRegisters: 67 })).toThrow(/g packet covers register 66/);
    expect(() => new RegisterMap({ ...base, expedite: [9999] })).toThrow(/expedited register 9999/);
    const twice = { ...base, features: [...base.features, { name: 'x', file: 'x.xml', registers: [reg(5, 'dup', 64)] }] };
    expect(() => new RegisterMap(twice)).toThrow(/register number 5 used twice \(dup\)/);
    const odd = { ...base, features: [{ name: 'x', file: 'x.xml', registers: [reg(0, 'odd', 12)] }], gPacketRegisters: 1, expedite: [] };
    expect(() => new RegisterMap(odd)).toThrow(/odd has 12 bits/);
  });

  it('escapes XML metacharacters in names', () => {
    const files = new TargetDescriptionFiles({ ...RISCV64_DESCRIPTION, architecture: 'a<b&"c' });
    expect(files.get('target.xml')).toContain('<architecture>a&#60;b&#38;&#34;c</architecture>');
  });
});
