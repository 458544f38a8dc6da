/**
 * The bare-metal conformance programs (programs/*.c): built with Debian's cross gcc, run under QEMU
 * (the oracle, UART to a file) and in hvisor-ts zones through launch(); both give "label value" lines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { launch, type RunEnd } from '../../src/cli/launch.js';
import { REPO, tool } from '../helpers/fixtures.js';

export const PROGRAMS = join(REPO, 'test', 'conformance', 'programs');

export interface Build {
  readonly arch: 'aarch64' | 'riscv64';
  readonly sources: readonly string[];
  readonly loadAddress: number;
}

/** Compiles and links the program's sources at `loadAddress`; returns the ELF's path. */
export function buildConformanceProgram(name: string, build: Build): string {
  const dir = mkdtempSync(join(tmpdir(), `conformance-${name}-`));
  const elf = join(dir, `${name}.elf`);
  const archFlags = build.arch === 'aarch64' ? ['-mgeneral-regs-only'] : ['-march=rv64imac_zicsr_zifencei', '-mabi=lp64', '-mcmodel=medany'];
  execFileSync(tool(`${build.arch}-linux-gnu-gcc`), [
    '-ffreestanding', '-nostdlib', '-nostartfiles', '-static', '-fno-pic', '-O2', '-Wall', '-Wextra', '-Werror', '-Wno-main', ...archFlags,
    '-T', join(PROGRAMS, 'link.ld'), `-Wl,--defsym=LOAD_ADDR=0x${build.loadAddress.toString(16)}`, '-Wl,--build-id=none', '-Wl,--no-warn-rwx-segments',
    '-o', elf, ...build.sources.map((s) => join(PROGRAMS, s)),
  ]);
  return elf;
}

/** The program's lines from its banner to END. */
export function reportLines(text: string): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  const start = lines.findIndex((l) => l.startsWith('conformance: '));
  const end = lines.indexOf('END');
  return start < 0 || end < start ? lines : lines.slice(start, end + 1);
}

/** Runs `qemu-system-<arch> args... -kernel elf` to its power-off; returns the UART's text. */
export function runQemu(arch: 'aarch64' | 'riscv64', args: readonly string[], elf: string): string {
  const serial = join(mkdtempSync(join(tmpdir(), 'conformance-qemu-')), 'serial.txt');
  writeFileSync(serial, '');
  const q = spawnSync(tool(`qemu-system-${arch}`), [...args, '-display', 'none', '-monitor', 'none', '-nic', 'none', '-no-reboot',
    '-serial', `file:${serial}`, '-kernel', elf], { encoding: 'utf8', timeout: 60_000 });
  const text = readFileSync(serial, 'utf8');
  if (q.status !== 0) throw new Error(`qemu-system-${arch}: status ${q.status} ${q.signal ?? ''} ${q.error?.message ?? ''}\n${q.stderr}\n${text}`);
  return text;
}

/**
 * Runs zone configs (objects, written to files beside each other) on `board` until every zone has
 * stopped; returns each zone's console text (the program's own lines) and how the run ended.
 */
export async function runZones(board: string, configs: readonly object[]): Promise<{ consoles: Map<string, string>; end: RunEnd; log: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-zones-'));
  const files = configs.map((c, i) => {
    const f = join(dir, `zone${i}.json`);
    writeFileSync(f, JSON.stringify(c));
    return f;
  });
  let out = '';
  const log: string[] = [];
  const instance = await launch({ board, zones: files, gdbBasePort: false, output: (t) => (out += t), log: (l) => log.push(l) });
  try {
    const end = await instance.stopped;
    instance.consoles.flush();
    const consoles = new Map<string, string>();
    for (const line of out.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
      const m = /^(.{12}) │ (.*)$/.exec(line);
      if (m === null) continue;
      const zone = m[1]!.trim();
      consoles.set(zone, (consoles.get(zone) ?? '') + m[2]! + '\n');
    }
    return { consoles, end, log };
  } finally {
    await instance.close();
  }
}

export interface Conformance {
  readonly arch: 'aarch64' | 'riscv64';
  /** programs/<program>.c, linked after programs/<arch>-start.S. */
  readonly program: string;
  readonly loadAddress: number;
  /** qemu-system-<arch> machine options. */
  readonly qemu: readonly string[];
  readonly board: string;
  /** The zone config that runs the program's ELF (its name is the console to read). */
  readonly zone: (elf: string) => { name: string };
  /** QEMU's own answers that must be there (the checks are not vacuous). */
  readonly qemuSays: readonly string[];
  /**
   * Lines whose value the specification leaves to the implementation, or where QEMU 7.2 departs from
   * it: label → our value. Every other line must be QEMU's.
   */
  readonly oursWhereQemuDiffers?: Readonly<Record<string, string>>;
}

/** Runs the program under QEMU and in a zone; the zone's lines must be QEMU's (but the listed ones); returns how the run ended. */
export async function expectSameAsQemu(c: Conformance): Promise<RunEnd> {
  const elf = buildConformanceProgram(c.program, { arch: c.arch, sources: [`${c.arch}-start.S`, `${c.program}.c`], loadAddress: c.loadAddress });
  const qemu = reportLines(runQemu(c.arch, c.qemu, elf));
  expect(qemu.at(-1)).toBe('END');
  for (const line of c.qemuSays) expect(qemu).toContain(line);
  const zone = c.zone(elf);
  const { consoles, end, log } = await runZones(c.board, [zone]);
  const ours = reportLines(consoles.get(zone.name) ?? '');
  const differs = c.oursWhereQemuDiffers ?? {};
  const label = (line: string) => line.slice(0, line.lastIndexOf(' '));
  const listed = (line: string) => Object.hasOwn(differs, label(line));
  expect(ours.filter(listed)).toEqual(Object.entries(differs).map(([k, v]) => `${k} ${v}`));
  expect(ours.filter((l) => !listed(l)), log.join('\n')).toEqual(qemu.filter((l) => !listed(l)));
  return end;
}
