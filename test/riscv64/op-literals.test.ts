import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as opsModule from '../../src/arch/riscv64/ops.js';
import { REPO } from '../helpers/fixtures.js';

describe('riscv64 interpreter op literals', () => {
  it('every `N /* Name */` literal in the hot loop equals Op.Name', () => {
    const src = readFileSync(join(REPO, 'src/arch/riscv64/riscv64-cpu.ts'), 'utf8');
    const uses = [...src.matchAll(/\b(\d+) \/\* (\w+) \*\//g)];
    expect(uses.length).toBeGreaterThan(60);
    // Op is a const enum: tsc inlines it, the test runner keeps its object (read through the module).
    const ops = (opsModule as unknown as { Op: Record<string, number> }).Op;
    const wrong = uses.filter(([, n, name]) => ops[name!] !== Number(n)).map(([m]) => m);
    expect(wrong).toEqual([]);
  });
});
