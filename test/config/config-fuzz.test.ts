/**
 * Issue 18: mutated zone configs, virtio_cfg.json and --pci files. Each is parsed and, when it
 * parses, built into what `hvisor run` would make of it: the zone started on a real board's machine
 * (partition check, stage 2, the zone's interrupt controller, its vCPUs) and shut down again, the
 * virtio devices' specs, the PCI functions plugged into the board's host bridge. The only outcomes
 * allowed are a build or a typed, one-line HvisorError; never a JS error (TypeError, RangeError...),
 * a multi-line message, a crash or a hang (vitest's timeout). Seeded: every run draws the same inputs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { buildBoard, type BoardBuild } from '../../src/board/board-builder.js';
import { findBoardPciHost } from '../../src/board/board-pci-host.js';
import { parseBoardPciConfig } from '../../src/config/pci-config.js';
import { parseVirtioConfig } from '../../src/config/virtio-config.js';
import { parseJson } from '../../src/config/json-fields.js';
import { parseZoneConfig } from '../../src/config/zone-config.js';
import { BoardPci } from '../../src/devices/pci/board-pci.js';
import { BoardVirtio } from '../../src/devices/virtio/virtio-provider.js';
import { Hypervisor } from '../../src/hypervisor/lifecycle/hypervisor.js';
import { aarch64Factories, riscvFactories } from '../../src/hypervisor/zone/arch-factories.js';
import { HvisorError } from '../../src/util/hvisor-error.js';
import { REPO } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/prng.js';

const CONFIGS = join(REPO, 'test/hypervisor/configs');
const read = (file: string) => readFileSync(file, 'utf8');

/** Values at the edges of what the readers accept: types, signs, widths, hvisor-tool's number strings. */
const VALUES: unknown[] = [
  0, 1, -1, 31, 32, 1023, 1024, 65535, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e300, 0.5, NaN,
  '0', '0x0', '0x1000', '0xffffffff', '0xffffffffffffffff', '0x10000000000000000', '010', '09', '-1', '', ' 1', '1 ', '0x', 'abc',
  'v2', 'v3', 'ram', 'io', 'virtio', 'enable', 'disable', 'blk', 'net', 'console', 'gpu', 'virtio-blk', 'nvme', '00:01.0', 'ff:1f.7',
  'x'.repeat(5000), 'a\u0000b', 'z\u001b[2J', null, true, false, [], [0], [1, 2, 3], {}, { a: 1 },
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every (container, key) in the document, so a mutation can land anywhere. */
function slots(doc: Json): [Json[] | { [key: string]: Json }, string | number][] {
  const out: [Json[] | { [key: string]: Json }, string | number][] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach((c, i) => (out.push([v, i]), walk(c)));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) out.push([v, k]), walk(v[k]!);
  };
  walk(doc);
  return out;
}

/** A real config changed in 1-3 places (or its text cut or a byte changed). */
function mutate(text: string, next: () => number): string {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  if (next() < 0.05) return text.slice(0, Math.floor(next() * text.length));
  if (next() < 0.05) {
    const i = Math.floor(next() * text.length);
    return text.slice(0, i) + String.fromCharCode(Math.floor(next() * 128)) + text.slice(i + 1);
  }
  const doc = JSON.parse(text) as Json;
  for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
    const all = slots(doc);
    if (all.length === 0) break;
    const [container, key] = pick(all);
    const op = Math.floor(next() * 6);
    const target = container as Record<string | number, Json>;
    if (op === 0 && !Array.isArray(container)) delete target[key];
    else if (op === 1 && Array.isArray(container)) container.push(structuredClone(container[key as number]!));
    else if (op === 2) target[key] = structuredClone(pick(all)[0] as Json); // a subtree somewhere else
    else if (op === 3 && !Array.isArray(container)) target[`k${Math.floor(next() * 100)}`] = structuredClone(pick(VALUES)) as Json;
    else target[key] = structuredClone(pick(VALUES)) as Json;
  }
  return JSON.stringify(doc);
}

/** Runs `build`; a throw must be a typed, one-line HvisorError. Returns 'built' or the error's class. */
function outcome(what: string, input: string, build: () => void): string {
  try {
    build();
    return 'built';
  } catch (e) {
    // One line; a refused value is quoted short (a file's own path may be long).
    const ok = e instanceof HvisorError && !/[\n\r]/.test(e.message) && e.message.length < 5000 + 200;
    if (!ok) throw new Error(`${what}: ${(e as Error).name}: ${(e as Error).message.slice(0, 300)}\ninput: ${input.slice(0, 2000)}`);
    return e.name;
  }
}

function tally(outcomes: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) t[o] = (t[o] ?? 0) + 1;
  return t;
}

describe('fuzz: 10,000+ mutated configs give a board or a typed one-line error', () => {
  const aarch64 = buildBoard(findBoard('qemu-virt-aarch64'));
  const riscv64 = buildBoard(findBoard('qemu-virt-riscv64'));

  /** Starts the zone as `hvisor run` would (no images: nothing to run) and shuts it down again. */
  const startOn = (build: BoardBuild, config: ReturnType<typeof parseZoneConfig>) => {
    const factories = build.board.arch === 'riscv64' ? riscvFactories(97) : aarch64Factories('gicv3');
    const hv = new Hypervisor({ machine: build.machine, ...factories, timerFrequency: 1_000_000, log: () => {} });
    const zone = hv.startZone(config, []);
    if (zone.id !== 0) hv.shutdownZone(zone.id);
  };

  it('zone configs: 6,000 mutations of hvisor-tool\'s own (aarch64 on qemu-virt-aarch64, riscv64 on qemu-virt-riscv64)', () => {
    const seeds: [string, BoardBuild][] = [
      ['qemu-aarch64-zone0.json', aarch64], ['qemu-aarch64-zone1_linux.json', aarch64], ['qemu-aarch64-zone1_linux_with_pci.json', aarch64],
      ['qemu-aarch64-zone1_ruxos_display.json', aarch64], ['qemu-riscv64-zone0.json', riscv64], ['qemu-riscv64-linux2.json', riscv64],
    ];
    const next = mulberry32(0x18_0009);
    const outcomes: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const [file, build] = seeds[i % seeds.length]!;
      const input = mutate(read(join(CONFIGS, file)), next);
      outcomes.push(outcome(`zone config #${i} (${file})`, input, () => startOn(build, parseZoneConfig(input, file))));
    }
    const t = tally(outcomes);
    // Not vacuous: some mutations still build, and both the parser and the board refuse others.
    expect(t['built']).toBeGreaterThan(100);
    expect(t['ConfigError']).toBeGreaterThan(100);
    expect(Object.keys(t).length).toBeGreaterThan(3);
  }, 600_000);

  it('virtio_cfg.json: 2,000 mutations', () => {
    const seed = read(join(CONFIGS, 'qemu-aarch64-virtio_cfg.json'));
    const next = mulberry32(0x18_0019);
    const outcomes: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const input = mutate(seed, next);
      outcomes.push(outcome(`virtio config #${i}`, input, () => {
        new BoardVirtio(parseVirtioConfig(parseJson(input, 'virtio_cfg.json'), 'virtio_cfg.json'), tmpdir());
      }));
    }
    const t = tally(outcomes);
    expect(t['built']).toBeGreaterThan(100);
    expect(t['ConfigError']).toBeGreaterThan(100);
  }, 600_000);

  it('--pci files: 2,000 mutations, each plugged into qemu-virt-aarch64\'s host bridge and unplugged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pci-fuzz-'));
    writeFileSync(join(dir, 'blk.img'), new Uint8Array(4096));
    writeFileSync(join(dir, 'nvme.img'), new Uint8Array(4096));
    const seed = JSON.stringify({
      functions: [
        { bdf: '00:01.0', type: 'virtio-blk', img: 'blk.img' },
        { bdf: '00:02.0', type: 'virtio-net', mac: '52:54:00:00:00:02' },
        { bdf: '00:03.0', type: 'nvme', img: 'nvme.img' },
      ],
    });
    const host = findBoardPciHost(aarch64)!;
    const next = mulberry32(0x18_0029);
    const outcomes: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const input = mutate(seed, next);
      outcomes.push(outcome(`--pci file #${i}`, input, () => {
        new BoardPci(host, parseBoardPciConfig(parseJson(input, 'pci.json'), 'pci.json'), dir).close();
      }));
    }
    const t = tally(outcomes);
    expect(t['built']).toBeGreaterThan(100);
    expect(t['ConfigError']).toBeGreaterThan(100);
  }, 600_000);
});
