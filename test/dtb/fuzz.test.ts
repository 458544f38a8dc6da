import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeviceTree, DtbError, parseDtb, printDts, treeToJson, validateTree, writeDtb } from '../../dtb/index.js';
import { debianDtbPath, qemuDtb, QEMU_DTBS } from './dtb-fixtures.js';
import { randomInt, rng } from './random.js';

type Mutation = (blob: Uint8Array, next: () => number) => Uint8Array;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

const INTERESTING = [0, 1, 2, 3, 4, 9, 0x10, 0x28, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

const mutations: Record<string, Mutation> = {
  bitFlips(blob, next) {
    const out = blob.slice();
    for (let n = 1 + randomInt(next, 8); n > 0; n--) out[randomInt(next, out.length)]! ^= 1 << randomInt(next, 8);
    return out;
  },
  truncate(blob, next) {
    return blob.slice(0, randomInt(next, blob.length));
  },
  splice(blob, next) {
    // Copy a run of the blob over another place: duplicated tokens, names and lengths.
    const out = blob.slice();
    const len = Math.min(out.length, 1 + randomInt(next, 64));
    const from = randomInt(next, out.length - len);
    out.copyWithin(randomInt(next, out.length - len), from, from + len);
    return out;
  },
  headerField(blob, next) {
    const out = blob.slice();
    if (out.length < 40) return out;
    const field = randomInt(next, 10);
    const v = next() < 0.5 ? INTERESTING[randomInt(next, INTERESTING.length)]! : view(out).getUint32(field * 4) + randomInt(next, 64) - 32;
    view(out).setUint32(field * 4, v >>> 0);
    return out;
  },
  structWord(blob, next) {
    // Overwrite an aligned word of the structure block: tokens, lengths, name offsets.
    const out = blob.slice();
    if (out.length < 40) return out;
    const start = view(out).getUint32(8);
    const size = view(out).getUint32(36);
    const at = start + 4 * randomInt(next, Math.max(1, size / 4));
    if (at + 4 <= out.length) view(out).setUint32(at, INTERESTING[randomInt(next, INTERESTING.length)]!);
    return out;
  },
};

/** Everything a consumer might do with a parsed tree, each allowed only to succeed or throw DtbError. */
function exercise(tree: DeviceTree): void {
  const attempt = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof DtbError)) throw e;
    }
  };
  attempt(() => validateTree(tree));
  attempt(() => printDts(tree));
  attempt(() => writeDtb(tree));
  attempt(() => treeToJson(tree));
  attempt(() => tree.chosen());
  for (const node of tree.nodes()) {
    attempt(() => tree.cpuReg(node));
    attempt(() => tree.interrupts(node));
    attempt(() => tree.interruptMap(node));
    attempt(() => tree.ranges(node));
  }
}

describe('fuzzing the reader with mutated real DTBs', () => {
  it('either parses or throws DtbError, never anything else, never slowly', () => {
    const seeds = [...QEMU_DTBS.map(qemuDtb), new Uint8Array(readFileSync(debianDtbPath('xilinx/zynqmp-zcu102-rev1.0.dtb')))];
    const next = rng(20260401);
    const names = Object.keys(mutations);
    const outcome = { parsed: 0, rejected: 0 };
    let slowest = 0;
    for (let i = 0; i < 6000; i++) {
      const seed = seeds[i % seeds.length]!;
      const name = names[randomInt(next, names.length)]!;
      let blob = mutations[name]!(seed, next);
      if (next() < 0.3) blob = mutations[names[randomInt(next, names.length)]!]!(blob, next);
      const started = performance.now();
      let tree: DeviceTree | undefined;
      try {
        tree = parseDtb(blob);
        outcome.parsed++;
      } catch (e) {
        if (!(e instanceof DtbError)) throw new Error(`mutation ${i} (${name}) threw ${String(e)}`);
        expect(e.offset !== undefined || e.path !== undefined, e.message).toBe(true);
        outcome.rejected++;
      }
      if (tree !== undefined && i % 3 === 0) exercise(tree);
      slowest = Math.max(slowest, performance.now() - started);
    }
    // Both outcomes must be common, or the mutations are not reaching the interesting code.
    expect(outcome.parsed).toBeGreaterThan(500);
    expect(outcome.rejected).toBeGreaterThan(500);
    expect(slowest).toBeLessThan(1000);
  });

  it('names the offset of specific malformations', () => {
    const good = qemuDtb('qemu-virt-riscv64');
    const edit = (f: (v: DataView, b: Uint8Array) => void): Uint8Array => {
      const b = good.slice();
      f(view(b), b);
      return b;
    };
    const structAt = view(good).getUint32(8);
    const cases: [Uint8Array, RegExp][] = [
      [edit((v) => v.setUint32(0, 0xdeadbeef)), /offset 0x0: bad magic 0xdeadbeef/],
      [edit((v) => v.setUint32(20, 15)), /offset 0x14: unsupported version 15/],
      [edit((v) => v.setUint32(24, 18)), /last compatible version 18/],
      [edit((v) => v.setUint32(4, good.length + 1)), /totalsize \d+ exceeds/],
      [edit((v) => v.setUint32(8, good.length + 8)), /structure offset \d+ is outside the blob/],
      [edit((v) => v.setUint32(8, structAt + 2)), /structure offset \d+ is not 4-byte aligned/],
      [edit((v) => v.setUint32(32, 0xffff)), /strings block .* runs past totalsize/],
      [edit((v) => v.setUint32(16, 41)), /memory reservation offset 41 is not 8-byte aligned/],
      [edit((v) => v.setUint32(structAt, 7)), new RegExp(`offset 0x${structAt.toString(16)}: bad token 0x7`)],
      [edit((v) => v.setUint32(structAt, 3)), /property outside any node/],
      [good.slice(0, good.length - 100), /totalsize \d+ exceeds/],
    ];
    for (const [blob, message] of cases) expect(() => parseDtb(blob)).toThrow(message);
  });

  it('rejects unterminated names, runaway property lengths, unbalanced nodes and trailing tokens', () => {
    // A hand-built minimal blob: header, empty reservation map, one root with one property.
    const build = (struct: number[], strings = 'p\0'): Uint8Array => {
      const structBytes = new Uint8Array(struct.length * 4);
      struct.forEach((w, i) => view(structBytes).setUint32(i * 4, w));
      const total = 40 + 16 + structBytes.length + strings.length;
      const b = new Uint8Array(total);
      [0xd00dfeed, total, 56, 56 + structBytes.length, 40, 17, 16, 0, strings.length, structBytes.length].forEach((w, i) => view(b).setUint32(i * 4, w));
      b.set(structBytes, 56);
      b.set(Buffer.from(strings, 'latin1'), 56 + structBytes.length);
      return b;
    };
    const root = [1, 0];
    expect(parseDtb(build([...root, 3, 4, 0, 0x01020304, 2, 9])).root.u32('p')).toBe(0x01020304);
    expect(() => parseDtb(build([...root, 3, 0x7ffffff0, 0, 2, 9]))).toThrow(/offset 0x44: property p value of 2147483632 bytes runs past/);
    expect(() => parseDtb(build([...root, 3, 4, 99, 0, 2, 9]))).toThrow(/property name offset 99 is outside/);
    expect(() => parseDtb(build([...root, 3, 4, 0, 0, 2, 9], 'pp'))).toThrow(/property name at strings offset 0 is not NUL-terminated/);
    expect(() => parseDtb(build([...root, 1, 0x61616161, 0x61616161]))).toThrow(/node name is not NUL-terminated/);
    expect(() => parseDtb(build([...root, 9]))).toThrow(/end of structure inside an open node/);
    expect(() => parseDtb(build([...root, 2, 2, 9]))).toThrow(/token 0x2 after the root node closed/);
    expect(() => parseDtb(build([...root, 2, 1, 0, 2, 9]))).toThrow(/token 0x1 after the root node closed/);
    expect(() => parseDtb(build([...root, 3, 0, 0, 3, 0, 0, 2, 9]))).toThrow(/\/ at offset 0x4c: duplicate property p/);
    expect(() => parseDtb(build([9]))).toThrow(/no root node/);
    expect(() => parseDtb(build([...root, 1, 0x61000000, 2, 1, 0x61000000, 2, 2, 9]))).toThrow(/\/ at offset 0x50: duplicate node name a/);
    const deep: number[] = [...root];
    for (let i = 0; i < 600; i++) deep.push(1, 0x61000000);
    expect(() => parseDtb(build([...deep, 9]))).toThrow(/nested deeper than 512/);
  });
});
