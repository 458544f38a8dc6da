import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { zstdDecompress, ZstdError } from '../../src/loader/zstd.js';
import { mulberry32 } from '../helpers/prng.js';

const prng = (seed: number) => { const r = mulberry32(seed); return () => Math.floor(r() * 2 ** 32); };

// The oracle is Debian's zstd (the host package scripts/fixtures.sh installs): whatever it writes, we must read back.
const dir = mkdtempSync(join(tmpdir(), 'zstd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compress(data: Uint8Array, ...flags: string[]): Uint8Array {
  const src = join(dir, 'in');
  writeFileSync(src, data);
  execFileSync('zstd', ['-q', '-f', ...flags, src, '-o', `${src}.zst`]);
  return readFileSync(`${src}.zst`);
}

const busybox = readFileSync('.fixtures/debian/bb-loong64/usr/bin/busybox');

describe('zstd decompression against the zstd tool', () => {
  for (const level of ['-1', '-3', '-9', '-19']) {
    it(`reads a LoongArch ELF compressed at ${level}`, () => {
      const data = busybox.subarray(0, 1_500_000);
      expect(Buffer.from(zstdDecompress(compress(data, level))).equals(data)).toBe(true);
    });
  }

  it('reads text, runs, incompressible data and the empty input, several frames in a row', () => {
    const rand = prng(7);
    const noise = Uint8Array.from({ length: 70_000 }, () => rand() & 0xff);
    const runs = new Uint8Array(300_000).fill(0x41);
    const text = new TextEncoder().encode('hello hello hello zstd '.repeat(5000));
    const small = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0x1f);
    for (const d of [noise, runs, text, small, new Uint8Array(0)]) {
      expect(Buffer.from(zstdDecompress(compress(d, '-19'))).equals(Buffer.from(d))).toBe(true);
    }
    const two = new Uint8Array([...compress(text), ...compress(noise, '--no-check')]);
    expect(Buffer.from(zstdDecompress(two)).equals(Buffer.concat([text, noise]))).toBe(true);
  });

  it('refuses damaged input with a ZstdError, never a crash or a hang', () => {
    const good = compress(busybox.subarray(0, 200_000), '-9');
    const rand = prng(11);
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const bad = good.slice(0, 2000 + (rand() % (good.length - 2000)));
      for (let k = 0; k < 4; k++) bad[12 + (rand() % (bad.length - 12))] ^= 1 << (rand() & 7);
      try {
        zstdDecompress(bad, 1 << 22);
      } catch (e) {
        expect(e).toBeInstanceOf(ZstdError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(150);
    expect(() => zstdDecompress(compress(new Uint8Array(300_000)), 1000)).toThrow(/exceeds 1000 bytes/);
  });
});
