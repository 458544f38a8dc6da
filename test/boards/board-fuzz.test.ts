/**
 * Bad device trees never crash the board builder: random edits of the properties it reads (reg,
 * ranges, interrupts, cell counts, status, memory, clocks...) in real DTBs either build a board or
 * fail with a typed error naming the node, each within a few seconds even on a loaded machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBoard } from '../../boards/index.js';
import { DtbError } from '../../dtb/errors.js';
import { parseDtb } from '../../dtb/reader.js';
import { writeDtb } from '../../dtb/writer.js';
import { OverlappingRegionError } from '../../src/machine/address-space.js';
import { BoardDtbMismatchError } from '../../boards/board-errors.js';
import { BoardRamError, buildBoard } from '../../src/board/board-builder.js';
import { fixture, fixtureMatching } from '../helpers/fixtures.js';
import { randomInt, rng } from '../dtb/random.js';

const PROPS = ['reg', 'ranges', 'interrupts', 'interrupts-extended', 'interrupt-parent', '#address-cells', '#size-cells',
  '#interrupt-cells', 'interrupt-map', 'interrupt-map-mask', 'status', 'device_type', 'clocks', 'clock-frequency', 'compatible',
  'bus-range', 'phandle', 'reg-names'];
const STRINGS = ['okay', 'disabled', 'memory', 'cpu', 'pci', 'simple-bus', 'virtio,mmio', 'arm,pl011', 'ns16550a', ''];

function mutated(blob: Uint8Array, next: () => number): Uint8Array {
  const tree = parseDtb(blob);
  const nodes = [...tree.nodes()];
  for (let k = 0; k < 1 + randomInt(next, 3); k++) {
    const node = nodes[randomInt(next, nodes.length)]!;
    const name = PROPS[randomInt(next, PROPS.length)]!;
    const kind = randomInt(next, 4);
    if (kind === 0) node.removeProperty(name);
    else if (kind === 1) node.setProperty(name, STRINGS[randomInt(next, STRINGS.length)]!);
    else {
      const cells: number[] = [];
      for (let i = randomInt(next, 9); i > 0; i--) {
        const pick = randomInt(next, 6);
        cells.push(pick === 0 ? 0 : pick === 1 ? 0xffffffff : pick === 2 ? randomInt(next, 4) : pick === 3 ? 0x8000 + randomInt(next, 8) : randomInt(next, 2 ** 32));
      }
      node.setProperty(name, cells);
    }
  }
  return writeDtb(tree);
}

describe('board builder on mutated real DTBs', () => {
  const vendor = fixtureMatching('debian/arm64-6.1/usr/lib', /^linux-image-/);
  const inputs: [string, string][] = [
    ['qemu-virt-aarch64', fixture('qemu-dtb/qemu-virt-aarch64-gicv3.dtb')],
    ['qemu-virt-riscv64', fixture('qemu-dtb/qemu-virt-riscv64.dtb')],
    ['ls3a5000-7a2000', fixture('qemu-dtb/qemu-virt-loongarch64.dtb')],
    ['zcu102', join(vendor, 'xilinx/zynqmp-zcu102-rev1.0.dtb')],
  ];
  for (const [name, file] of inputs) {
    it(`${name}: 100 mutations build or fail with a typed error`, () => {
      const blob = readFileSync(file);
      const next = rng(0x5eed + name.length);
      let built = 0;
      for (let i = 0; i < 100; i++) {
        const input = mutated(blob, next);
        const started = Date.now();
        try {
          buildBoard(findBoard(name), { dtb: input });
          built++;
        } catch (e) {
          const typed = e instanceof DtbError || e instanceof OverlappingRegionError || e instanceof BoardRamError || e instanceof BoardDtbMismatchError;
          if (!typed) throw new Error(`mutation ${i}: untyped ${(e as Error).name}: ${(e as Error).message}`);
          expect((e as Error).message).toMatch(/\//); // names a node path
        }
        expect(Date.now() - started, `mutation ${i} took too long`).toBeLessThan(5_000);
      }
      expect(built).toBeGreaterThan(0);
    });
  }
});
