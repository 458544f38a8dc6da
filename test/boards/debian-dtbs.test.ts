/**
 * `hvisor board show --dtb FILE` on every DTB of Debian's arm64 kernel package (577 in 6.1): none
 * crashes; each is shown on the board that models its SoC (by root compatible) or, when no board
 * does, says so and still lists what the DTB holds. Memory is checked against dtc's reading of the
 * same DTB (7 of them have banks above 4 GiB: Juno, J721S2).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boards } from '../../boards/index.js';
import { renderBoard, showBoard } from '../../src/cli/commands/board.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { dtcDecompile } from './dt-tools.js';
import { compatibleOf, cpuWindows, enabled, parseDtcText, walk } from './dtc-text.js';

const hex = (n: number): string => '0x' + n.toString(16);

function dtbsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? dtbsUnder(p) : p.endsWith('.dtb') ? [p] : [];
  });
}

describe("board show on every DTB of Debian's arm64 kernel package", () => {
  it('shows all of them: the modelling board or "no board models", memory as dtc reads it', () => {
    const dir = fixtureMatching('debian/arm64-6.1/usr/lib', /^linux-image-/);
    const files = dtbsUnder(dir).sort();
    expect(files.length).toBeGreaterThanOrEqual(577);
    const shownOn = new Map<string, number>();
    let above4G = 0;
    for (const file of files) {
      const name = file.slice(dir.length + 1);
      const report = showBoard({ dtb: file });
      expect(renderBoard(report), name).toContain(report.title);
      const root = parseDtcText(dtcDecompile(file));
      const rootCompatible = compatibleOf(root);
      const modelling = boards.find((b) => b.rootCompatible.some((c) => rootCompatible.includes(c)));
      if (modelling === undefined) {
        expect(report.board, name).toBe('unmodelled');
        expect(report.title, name).toContain(`no board models ${rootCompatible.at(-1)}`);
        expect(report.rootZone, name).toBeUndefined();
      } else {
        expect(report.board, name).toBe(modelling.name);
      }
      shownOn.set(report.board, (shownOn.get(report.board) ?? 0) + 1);
      const memory = [...walk(root)]
        .filter((n) => n.props.get('device_type') === '"memory"' && enabled(n))
        .flatMap(cpuWindows)
        .filter((m) => m.size > 0)
        .sort((a, b) => a.base - b.base);
      // A DTB without /memory (Rockchip's: U-Boot adds it) gets the modelling board's layout.
      if (report.memoryFromBoardFallback) expect(memory, name).toEqual([]);
      else expect(report.memory, name).toEqual(memory.map((m) => ({ base: hex(m.base), size: hex(m.size) })));
      if (memory.some((m) => m.base + m.size > 2 ** 32)) above4G++;
    }
    expect(shownOn.get('imx8mp-evk')).toBeGreaterThanOrEqual(10);
    expect(shownOn.get('zcu102')).toBeGreaterThanOrEqual(6);
    expect(above4G).toBeGreaterThanOrEqual(7);
  }, 300_000);

  it("trixie's 6.12 package too (1023 DTBs, RK3588's among them): none fails", () => {
    const dir = fixture('dtbs-arm64-6.12');
    const shownOn = new Map<string, number>();
    for (const file of dtbsUnder(dir)) {
      const report = showBoard({ dtb: file });
      shownOn.set(report.board, (shownOn.get(report.board) ?? 0) + 1);
    }
    expect([...shownOn.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1000);
    expect(shownOn.get('rk3588')).toBeGreaterThanOrEqual(10);
  }, 300_000);
});
