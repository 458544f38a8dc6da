/**
 * The QEMU virt boards generate their own device tree. Oracle: QEMU 7.2 itself. Our DTS, compiled
 * by dtc and decompiled again, must equal QEMU's dump decompiled by dtc, node for node and property
 * for property (same order, phandles, addresses, interrupts), except for /chosen's random seeds.
 */
import { describe, expect, it } from 'vitest';
import { virtAarch64Dts } from '../../boards/qemu-virt-aarch64/device-tree.js';
import { virtRiscv64Dts } from '../../boards/qemu-virt-riscv64/device-tree.js';
import { virtLoongarch64Dts } from '../../boards/ls3a5000-7a2000/device-tree.js';
import { BoardParameterError } from '../../boards/board-errors.js';
import { readFileSync } from 'node:fs';
import { compileDts } from '../../dtb/dts/compiler.js';
import type { DeviceTree } from '../../dtb/device-tree.js';
import { parseDtb } from '../../dtb/reader.js';
import { fixture } from '../helpers/fixtures.js';
import { dtcCompile, dtcDecompile, qemuDumpDtb, withoutRandomSeeds } from './dt-tools.js';

const MiB = 2 ** 20;

function ours(dts: string): string {
  return dtcDecompile(dtcCompile(dts));
}

function qemu(dtb: Uint8Array | string): string {
  return withoutRandomSeeds(dtcDecompile(dtb));
}

describe('generated QEMU virt device trees equal QEMU 7.2 dumps', () => {
  it('aarch64 GICv3 and GICv2, 4 CPUs, 1 GiB: the dumps scripts/fixtures.sh cached', () => {
    for (const gic of [3, 2] as const) {
      const dump = fixture(`qemu-dtb/qemu-virt-aarch64-gicv${gic}.dtb`);
      expect(ours(virtAarch64Dts('t', { gicVersion: gic, cpus: 4, memoryBytes: 1024 * MiB }))).toBe(qemu(dump));
    }
  });

  it('riscv64 and loongarch64, 4 CPUs, 1 GiB: the cached dumps', () => {
    expect(ours(virtRiscv64Dts('t', { cpus: 4, memoryBytes: 1024 * MiB }))).toBe(qemu(fixture('qemu-dtb/qemu-virt-riscv64.dtb')));
    expect(ours(virtLoongarch64Dts('t', { cpus: 4, memoryBytes: 1024 * MiB }))).toBe(qemu(fixture('qemu-dtb/qemu-virt-loongarch64.dtb')));
  });

  // Other shapes, dumped live: one CPU (no PSCI enable-method), a second MPIDR cluster, big RAM
  // moving riscv's 64-bit PCI window, GICv2's CPU mask in the PPI flags.
  const live: [string, () => string, string, string[]][] = [
    ['aarch64 GICv3 17 CPUs 3 GiB', () => virtAarch64Dts('t', { gicVersion: 3, cpus: 17, memoryBytes: 3072 * MiB }),
      'qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a53', '-smp', '17', '-m', '3G']],
    ['aarch64 GICv2 1 CPU 512 MiB', () => virtAarch64Dts('t', { gicVersion: 2, cpus: 1, memoryBytes: 512 * MiB }),
      'qemu-system-aarch64', ['-M', 'virt,gic-version=2', '-cpu', 'cortex-a53', '-smp', '1', '-m', '512M']],
    ['aarch64 GICv3 2 CPUs cortex-a72 2 GiB', () => virtAarch64Dts('t', { gicVersion: 3, cpus: 2, memoryBytes: 2048 * MiB, cpuModel: 'cortex-a72' }),
      'qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a72', '-smp', '2', '-m', '2G']],
    ['aarch64 GICv2 virtualization=on', () => virtAarch64Dts('t', { gicVersion: 2, cpus: 4, memoryBytes: 1024 * MiB, virtualization: true }),
      'qemu-system-aarch64', ['-M', 'virt,gic-version=2,virtualization=on', '-cpu', 'cortex-a53', '-smp', '4', '-m', '1G']],
    ['aarch64 GICv3 virtualization=on 3 CPUs', () => virtAarch64Dts('t', { gicVersion: 3, cpus: 3, memoryBytes: 2048 * MiB, virtualization: true }),
      'qemu-system-aarch64', ['-M', 'virt,gic-version=3,virtualization=on', '-cpu', 'cortex-a53', '-smp', '3', '-m', '2G']],
    ['riscv64 1 hart 16 GiB', () => virtRiscv64Dts('t', { cpus: 1, memoryBytes: 16384 * MiB }),
      'qemu-system-riscv64', ['-M', 'virt', '-smp', '1', '-m', '16G']],
    ['riscv64 8 harts 2 GiB', () => virtRiscv64Dts('t', { cpus: 8, memoryBytes: 2048 * MiB }),
      'qemu-system-riscv64', ['-M', 'virt', '-smp', '8', '-m', '2G']],
    ['riscv64 AIA (aplic-imsic, 1 guest file) 4 harts 2 GiB', () => virtRiscv64Dts('t', { cpus: 4, memoryBytes: 2048 * MiB, aia: 'aplic-imsic', aiaGuests: 1 }),
      'qemu-system-riscv64', ['-M', 'virt,aia=aplic-imsic,aia-guests=1', '-smp', '4', '-m', '2G']],
    ['riscv64 AIA 2 harts 3 guest files', () => virtRiscv64Dts('t', { cpus: 2, memoryBytes: 1024 * MiB, aia: 'aplic-imsic', aiaGuests: 3 }),
      'qemu-system-riscv64', ['-M', 'virt,aia=aplic-imsic,aia-guests=3', '-smp', '2', '-m', '1G']],
    ['loongarch64 2 CPUs 3 GiB', () => virtLoongarch64Dts('t', { cpus: 2, memoryBytes: 3072 * MiB }),
      'qemu-system-loongarch64', ['-M', 'virt', '-smp', '2', '-m', '3G']],
  ];
  for (const [name, generate, binary, args] of live) {
    it(`${name}: live QEMU dump`, () => {
      expect(ours(generate())).toBe(qemu(qemuDumpDtb(binary, args)));
    });
  }
});

/** path → property name → value bytes (hex), for a node-by-node comparison with clear failures. */
function flatten(tree: DeviceTree): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const n of tree.nodes()) {
    const props = new Map<string, string>();
    for (const p of n.properties) if (!(n.path === '/chosen' && /^(rng|kaslr)-seed$/.test(p.name))) props.set(p.name, Buffer.from(p.value).toString('hex'));
    out.set(n.path, props);
  }
  return out;
}

describe('node by node, through our own DTS compiler and DTB reader', () => {
  const cases: [string, string, () => string][] = [
    ['aarch64 GICv3', 'qemu-virt-aarch64-gicv3.dtb', () => virtAarch64Dts('t', { gicVersion: 3, cpus: 4, memoryBytes: 1024 * MiB })],
    ['aarch64 GICv2', 'qemu-virt-aarch64-gicv2.dtb', () => virtAarch64Dts('t', { gicVersion: 2, cpus: 4, memoryBytes: 1024 * MiB })],
    ['riscv64', 'qemu-virt-riscv64.dtb', () => virtRiscv64Dts('t', { cpus: 4, memoryBytes: 1024 * MiB })],
    ['loongarch64', 'qemu-virt-loongarch64.dtb', () => virtLoongarch64Dts('t', { cpus: 4, memoryBytes: 1024 * MiB })],
  ];
  for (const [name, dump, generate] of cases) {
    it(`${name}: same nodes, same properties, same values as QEMU's dump`, () => {
      const qemuTree = flatten(parseDtb(readFileSync(fixture(`qemu-dtb/${dump}`))));
      const ourTree = flatten(compileDts(generate()));
      expect([...ourTree.keys()]).toEqual([...qemuTree.keys()]);
      for (const [path, props] of qemuTree) {
        expect([...ourTree.get(path)!.keys()], path).toEqual([...props.keys()]);
        for (const [prop, value] of props) expect(ourTree.get(path)!.get(prop), `${path}:${prop}`).toBe(value);
      }
    });
  }
});

describe('generator parameters QEMU would refuse are typed errors', () => {
  it('names the board and the parameter', () => {
    expect(() => virtAarch64Dts('qemu-virt-aarch64-gicv2', { gicVersion: 2, cpus: 9, memoryBytes: 1024 * MiB })).toThrow(BoardParameterError);
    expect(() => virtAarch64Dts('b', { gicVersion: 3, cpus: 0, memoryBytes: 1024 * MiB })).toThrow(/board b: cpus must be 1\.\.123/);
    expect(() => virtRiscv64Dts('b', { cpus: 2, memoryBytes: 1000 })).toThrow(/memory must be/);
    expect(() => virtLoongarch64Dts('b', { cpus: 5, memoryBytes: 1024 * MiB })).toThrow(/cpus must be 1\.\.4/);
    expect(() => virtRiscv64Dts('b', { cpus: 2, memoryBytes: 1024 * MiB, aiaGuests: 1 })).toThrow(/aia-guests .* needs aia=aplic-imsic/);
    expect(() => virtRiscv64Dts('b', { cpus: 2, memoryBytes: 1024 * MiB, aia: 'aplic-imsic', aiaGuests: 8 })).toThrow(/aia-guests must be 0\.\.7/);
    expect(() => virtLoongarch64Dts('b', { cpus: 1, memoryBytes: 512 * MiB })).toThrow(/from 1 GiB/);
    expect(() => virtAarch64Dts('b', { gicVersion: 3, cpus: 1.5, memoryBytes: 1024 * MiB })).toThrow(BoardParameterError);
  });
});
