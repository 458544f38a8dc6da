import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileDts, compileDtsFile, DtbError, DtsError, parseDtb, printDts, writeDtb } from '../../dtb/index.js';
import { tool } from '../helpers/fixtures.js';
import { allDebianDtbs, debianDtbPath, dtcBatch, dtcCompile, dtcDts, NAMED_DEBIAN_DTBS, QEMU_DTBS, qemuDtbPath } from './dtb-fixtures.js';
import { randomDts } from './random-dts.js';
import { randomInt, rng } from './random.js';

const SOURCES = join(dirname(fileURLToPath(import.meta.url)), 'dts');

/** dtc's blob for a file on disk (so /include/ resolves as for ours). */
const dtcFile = (file: string): Buffer => execFileSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', file]);

/** Equal bytes, or a failure that shows the two trees' DTS difference. */
function expectSameBlob(ours: Uint8Array, dtc: Uint8Array, what: string): void {
  if (Buffer.from(ours).equals(Buffer.from(dtc))) return;
  expect(printDts(parseDtb(ours)), what).toBe(printDts(parseDtb(dtc)));
  expect(Buffer.from(ours).toString('hex'), `${what}: trees equal but header/strings differ`).toBe(Buffer.from(dtc).toString('hex'));
}

describe('DTS compiler gives the blob dtc gives', () => {
  it('for a zone device tree and a source using every feature (labels, overrides, deletes, includes, expressions)', () => {
    for (const name of ['zone1-linux-aarch64.dts', 'features.dts']) {
      const file = join(SOURCES, name);
      expectSameBlob(writeDtb(compileDtsFile(file)), dtcFile(file), name);
    }
  });

  it('for the DTS dtc decompiles from QEMU virt and the named board DTBs', () => {
    const files = [...QEMU_DTBS.map(qemuDtbPath), ...NAMED_DEBIAN_DTBS.map(debianDtbPath)];
    for (const file of files) {
      const source = dtcDts(file);
      expectSameBlob(writeDtb(compileDts(source, { file })), dtcCompile(source), file);
    }
  });

  it('for the decompiled DTS of every 16th Debian DTB', () => {
    const files = allDebianDtbs().filter((_, i) => i % 16 === 3);
    const sources = dtcBatch(files, ['-I', 'dtb', '-O', 'dts'], 'dts');
    const blobs = dtcBatch(sources, ['-I', 'dts', '-O', 'dtb'], 'dtb');
    files.forEach((file, i) => {
      const source = readFileSync(sources[i]!, 'latin1');
      expectSameBlob(writeDtb(compileDts(source, { file })), readFileSync(blobs[i]!), file);
    });
  }, 120_000);

  it('evaluates 600 random integer expressions as dtc does', () => {
    const next = rng(0xe4e4);
    const literal = (): string => {
      const v = randomInt(next, 6) === 0 ? Math.floor(next() * 2 ** 32) : randomInt(next, 70);
      switch (randomInt(next, 5)) {
        case 0: return `0x${v.toString(16)}`;
        case 1: return v === 0 ? '0' : `0${v.toString(8)}`;
        case 2: return `'${String.fromCharCode(0x41 + (v % 26))}'`;
        default: return String(v);
      }
    };
    const expr = (depth: number): string => {
      if (depth === 0 || next() < 0.25) return literal();
      const r = randomInt(next, 24);
      if (r < 3) return `${['-', '~', '!'][r]}(${expr(depth - 1)})`;
      if (r === 3) return `(${expr(depth - 1)} ? ${expr(depth - 1)} : ${expr(depth - 1)})`;
      const ops = ['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^', '&&', '||', '<', '>', '<=', '>=', '==', '!='];
      const op = ops[randomInt(next, ops.length)]!;
      // Divisors are forced non-zero; shift counts stay below 80 to cover the >= 64 rule.
      const right = op === '/' || op === '%' ? `((${expr(depth - 1)}) | 1)` : op === '<<' || op === '>>' ? String(randomInt(next, 80)) : expr(depth - 1);
      return next() < 0.5 ? `(${expr(depth - 1)} ${op} ${right})` : `${expr(depth - 1)} ${op} ${right}`;
    };
    const lines = Array.from({ length: 600 }, (_, i) => `\te${i} = /bits/ 64 <(${expr(4)})>;`);
    const source = `/dts-v1/;\n/ {\n${lines.join('\n')}\n};\n`;
    expectSameBlob(writeDtb(compileDts(source)), dtcCompile(source), 'expressions');
  });
});

describe('DTS compiler with the C preprocessor', () => {
  const include = join(SOURCES, 'include');

  it('compiles a kernel-style board (#include, #define, function-like macros) to the blob cpp | dtc gives', () => {
    const file = join(SOURCES, 'cpp-board.dts');
    const preprocessed = execFileSync(tool('cpp'), ['-nostdinc', '-undef', '-D__DTS__', '-x', 'assembler-with-cpp', '-E', '-I', include, file], { encoding: 'latin1' });
    const tree = compileDtsFile(file, [include], { cpp: 'auto' });
    expectSameBlob(writeDtb(tree), dtcCompile(preprocessed), 'cpp-board.dts');
    expect(tree.requireNode('/timer').cells('interrupts')).toEqual([1, 13, 0xf04]);
    expect(tree.chosen().stdout?.node.path).toBe('/serial@9000000');
    expect(() => compileDtsFile(file, [include])).toThrow(/cpp-board.dts:4:1: #include needs the C preprocessor/);
  });

  it('names the original file and line of an error, through cpp line markers', () => {
    expect(() => compileDtsFile(join(SOURCES, 'cpp-broken.dts'), [], { cpp: 'always' }))
      // The line is the original one; cpp collapses leading tabs, so the column is approximate.
      .toThrow(/cpp-broken\.dtsi:4:\d+: reference to non-existent node or label nowhere/);
    expect(() => compileDtsFile(join(SOURCES, 'cpp-board.dts'), [], { cpp: 'always' })).toThrow(/cpp: .*test-irq\.h/);
  });
});

describe('DTS compiler results through the tree API', () => {
  it('gives a zone tree whose references, chosen and interrupts resolve', () => {
    const t = compileDtsFile(join(SOURCES, 'zone1-linux-aarch64.dts'));
    expect(t.memoryReservations).toEqual([{ address: 0x50000000n, size: 0x10000n }]);
    expect(t.bootCpuId).toBe(2);
    const chosen = t.chosen();
    expect(chosen.stdout?.node.path).toBe('/pl011@9000000');
    expect(chosen.initrd).toEqual({ start: 0x58000000, end: 0x58200000 });
    const uart = t.requireNode('serial0');
    expect(t.interrupts(uart).map((i) => [i.controller.path, i.cells])).toEqual([['/interrupt-controller@8000000', [0, 1, 4]]]);
    expect(t.nodeByPhandle(uart.cells('clocks')![0]!)?.path).toBe('/clock');
  });
});

describe('DTS compiler errors', () => {
  const bad: [string, string, RegExp][] = [
    ['missing header', '/ { };', /<dts>:1:1: expected \/dts-v1\/;/],
    ['undefined label', '/dts-v1/;\n/ {\n\tp = <&nowhere>;\n};', /<dts>:3:7: reference to non-existent node or label nowhere/],
    ['path without unit address', '/dts-v1/;\n/ { memory@0 { }; };\n&{/memory} { };', /<dts>:3:1: label or path \/memory not found/],
    ['override of unknown label', '/dts-v1/;\n/ { };\n&nowhere { };', /<dts>:3:1: label or path nowhere not found/],
    ['duplicate label', '/dts-v1/;\n/ { l: a { };\n l: b { }; };', /<dts>:3:5: duplicate label l \(on \/b\)/],
    ['value out of range', '/dts-v1/;\n/ { p = <0x100000000>; };', /<dts>:2:10: value out of range for a 32-bit array element/],
    ['byte out of range', '/dts-v1/;\n/ { p = /bits/ 8 <256>; };', /value out of range for a 8-bit array element/],
    ['property after node', '/dts-v1/;\n/ { n { }; p = <1>; };', /properties must precede subnodes/],
    ['duplicate property', '/dts-v1/;\n/ { p = <1>; p = <2>; };', /duplicate property p/],
    ['duplicate node', '/dts-v1/;\n/ { n { }; n { }; };', /duplicate node name n/],
    ['unterminated string', '/dts-v1/;\n/ { p = "abc; };', /<dts>:2:9: unterminated string/],
    ['unterminated comment', '/dts-v1/;\n/* x', /unterminated comment/],
    ['bad bits', '/dts-v1/;\n/ { p = /bits/ 12 <1>; };', /\/bits\/ 12: only 8, 16, 32 or 64/],
    ['reference in 64-bit cells', '/dts-v1/;\n/ { p = /bits/ 64 <&a>; a: n { }; };', /references are only allowed in arrays with 32-bit elements/],
    ['division by zero', '/dts-v1/;\n/ { p = <(1 / 0)>; };', /division by zero/],
    ['missing semicolon', '/dts-v1/;\n/ { p = <1> };', /expected ';'/],
    ['odd byte string', '/dts-v1/;\n/ { p = [123]; };', /pairs of hex digits/],
    ['char literal', "/dts-v1/;\n/ { p = <'ab'>; };", /character literal has 2 characters/],
    ['wrong name property', '/dts-v1/;\n/ { n { name = "m"; }; };', /<dts>:2:9: \/n: "name" property is not the base node name/],
    ['duplicate phandle', '/dts-v1/;\n/ { a { phandle = <1>; };\n b { phandle = <1>; }; };', /<dts>:3:6: \/b: phandle 0x1 is also used by \/a/],
  ];

  it('rejects what dtc rejects, with a DtsError naming file:line:column', () => {
    for (const [what, source, message] of bad) {
      const dtc = spawnSync(tool('dtc'), ['-q', '-I', 'dts', '-O', 'dtb', '-o', '/dev/null', '-'], { input: source });
      expect(dtc.status, `dtc accepted: ${what}`).not.toBe(0);
      let error: unknown;
      try {
        compileDts(source);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(DtsError);
      expect(error, what).toBeInstanceOf(DtbError);
      expect((error as Error).message, what).toMatch(message);
    }
  });

  it('bounds nesting (where dtc would recurse on) with a DtsError, not a stack overflow', () => {
    const deep: [string, RegExp][] = [
      [`/dts-v1/;\n/ { p = <${'('.repeat(5000)}1${')'.repeat(5000)}>; };`, /expression nested deeper than 256/],
      [`/dts-v1/;\n/ { p = <(${'-'.repeat(5000)}1)>; };`, /expression nested deeper than 256/],
      [`/dts-v1/;\n/ { ${'a { '.repeat(3000)}${'}; '.repeat(3000)} };`, /nodes nested deeper than 512/],
    ];
    for (const [source, message] of deep) expect(() => compileDts(source)).toThrow(message);
    expect(() => compileDts(`/dts-v1/;\n/ { p = <${'('.repeat(200)}7${')'.repeat(200)}>; };`)).not.toThrow();
  });

  it('names the included file and line of an error inside an /include/', () => {
    const files = {
      read: (name: string) => ({ name, bytes: Buffer.from('/ {\n\tp = <&missing>;\n};\n') }),
    };
    expect(() => compileDts('/dts-v1/;\n/include/ "inc.dtsi"\n/ { q = <1>; };\n', { file: 'main.dts', files }))
      .toThrow(/^inc\.dtsi:2:7: reference to non-existent node or label missing$/);
  });

  it('needs file access for /include/', () => {
    expect(() => compileDts('/dts-v1/;\n/include/ "x.dtsi"\n/ { };')).toThrow(/no file access was given/);
    expect(() => compileDtsFile(join(SOURCES, 'missing-include.dts'))).toThrow(DtbError);
  });

  it('never throws anything but DtsError on garbled sources', () => {
    const base = readFileSync(join(SOURCES, 'zone1-linux-aarch64.dts'), 'latin1');
    const next = rng(77);
    const alphabet = '{}<>[]();,="&/@:-#\\\'0x1a \n';
    for (let i = 0; i < 1500; i++) {
      const chars = base.split('');
      for (let k = 1 + randomInt(next, 4); k > 0; k--) {
        const at = randomInt(next, chars.length);
        if (next() < 0.5) chars[at] = alphabet[randomInt(next, alphabet.length)]!;
        else chars.splice(at, 1 + randomInt(next, 20));
      }
      try {
        writeDtb(compileDts(chars.join('')));
      } catch (e) {
        if (!(e instanceof DtsError)) throw new Error(`garble ${i} threw ${String(e)}`);
      }
    }
  });
});

describe('DTS compiler against dtc on random sources', () => {
  it('agrees with dtc on 200 random trees with overrides, deletions and references: same blob, or both reject', () => {
    const next = rng(0xd75);
    const dir = mkdtempSync(join(tmpdir(), 'random-dts-'));
    const sources = Array.from({ length: 200 }, () => randomDts(next));
    sources.forEach((s, i) => writeFileSync(join(dir, `${i}.dts`), s));
    execFileSync('bash', ['-c', `for i in $(seq 0 ${sources.length - 1}); do "${tool('dtc')}" -q -I dts -O dtb -o "${dir}/$i.dtb" "${dir}/$i.dts" 2>/dev/null || touch "${dir}/$i.rejected"; done`]);
    const outcomes = { same: 0, bothRejected: 0 };
    sources.forEach((source, i) => {
      const dtcRejected = existsSync(join(dir, `${i}.rejected`));
      let ours: Uint8Array | undefined;
      let error: unknown;
      try {
        ours = writeDtb(compileDts(source, { file: `${i}.dts` }));
      } catch (e) {
        error = e;
      }
      if (dtcRejected) {
        expect(error, `dtc rejects ${i}.dts, we accept it:\n${source}`).toBeInstanceOf(DtsError);
        outcomes.bothRejected++;
      } else {
        expect(error, `dtc accepts ${i}.dts:\n${source}`).toBeUndefined();
        expectSameBlob(ours!, readFileSync(join(dir, `${i}.dtb`)), `${i}.dts:\n${source}`);
        outcomes.same++;
      }
    });
    expect(outcomes.same).toBeGreaterThan(100);
    expect(outcomes.bothRejected).toBeGreaterThan(10);
    // ~4 s idle (200 dtc runs); room for a loaded runner.
  }, 120_000);
});
