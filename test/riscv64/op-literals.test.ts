import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as riscvOps from '../../src/arch/riscv64/ops.js';
import * as loongarchOps from '../../src/arch/loongarch64/ops.js';
import { REPO } from '../helpers/fixtures.js';

// The interpreters' hot loops name ops by number (`N /* Name */`): Op is a const enum that tsc
// inlines, but the test runner keeps its object, and a switch over property reads compares case by
// case instead of jumping (a Linux boot under vitest ran several times slower).
describe('interpreter op literals', () => {
  for (const [arch, file, opsModule, least] of [
    ['riscv64', 'src/arch/riscv64/riscv64-cpu.ts', riscvOps, 60],
    ['loongarch64', 'src/arch/loongarch64/loongarch64-cpu.ts', loongarchOps, 100],
  ] as const) {
    it(`${arch}: every \`N /* Name */\` literal in ${file} equals Op.Name`, () => {
      const src = readFileSync(join(REPO, file), 'utf8');
      const uses = [...src.matchAll(/\b(\d+) \/\* (\w+) \*\//g)];
      expect(uses.length).toBeGreaterThan(least);
      const ops = (opsModule as unknown as { Op: Record<string, number> }).Op;
      const wrong = uses.filter(([, n, name]) => ops[name!] !== Number(n)).map(([m]) => m);
      expect(wrong).toEqual([]);
    });
  }
});
