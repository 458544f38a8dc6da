/**
 * QEMU 7.2's `-machine virt` device tree for loongarch64 (Loongson-3A5000 with the LS7A bridge),
 * as DTS in the order of QEMU's dump. QEMU 7.2 describes little here: no memory node (memory
 * reaches firmware through fw_cfg), no interrupt properties on the UART or RTC, and only the
 * LS7A PCH-PIC as the root interrupt parent. Phandles: CPUs from the last (0x8000), then the PIC.
 */
import { BoardParameterError } from '../board-errors.js';
import type { BoardParams, RamRange } from '../board-descriptor.js';
import { cells, flag, node, renderDts, strings, u64Cells, type DtsNode } from '../dts-source.js';

const PHANDLE_BASE = 0x8000;
const MAX_CPUS = 4; // LOONGARCH_MAX_VCPUS in QEMU 7.2
const LOW_RAM_SIZE = 0x1000_0000;
const HIGH_RAM_BASE = 0x9000_0000;
const MIN_MEMORY = 2 ** 30; // QEMU 7.2 refuses less than 1 GiB
const MAX_MEMORY = 255 * 2 ** 30;

export function checkVirtLoongarch64Params(board: string, p: BoardParams): void {
  if (!Number.isInteger(p.cpus) || p.cpus < 1 || p.cpus > MAX_CPUS) {
    throw new BoardParameterError(board, 'cpus', `must be 1..${MAX_CPUS}, got ${p.cpus}`);
  }
  if (!Number.isSafeInteger(p.memoryBytes) || p.memoryBytes < MIN_MEMORY || p.memoryBytes % 0x10000 !== 0 || p.memoryBytes > MAX_MEMORY) {
    throw new BoardParameterError(board, 'memory', `must be a multiple of 64 KiB from 1 GiB to 255 GiB, got ${p.memoryBytes}`);
  }
}

/** QEMU 7.2's LoongArch RAM layout: the first 256 MiB at 0, the rest from 0x9000_0000. */
export function virtLoongarch64Ram(p: BoardParams): RamRange[] {
  return [
    { base: 0, size: LOW_RAM_SIZE },
    { base: HIGH_RAM_BASE, size: p.memoryBytes - LOW_RAM_SIZE },
  ];
}

/** The tree as DTS text. */
export function virtLoongarch64Dts(board: string, p: BoardParams): string {
  return renderDts(virtLoongarch64Tree(board, p));
}

export function virtLoongarch64Tree(board: string, p: BoardParams): DtsNode {
  checkVirtLoongarch64Params(board, p);
  const n = p.cpus;
  const cpuPhandle = (i: number): number => PHANDLE_BASE + n - 1 - i;
  const pic = PHANDLE_BASE + n;
  const reg64 = (base: number, size: number): number[] => [...u64Cells(base), ...u64Cells(size)];

  const cores: DtsNode[] = [];
  const cpuNodes: DtsNode[] = [];
  for (let i = 0; i < n; i++) {
    cores.push(node(`core${i}`, [cells('cpu', cpuPhandle(i))]));
    cpuNodes.push(
      node(`cpu@${i}`, [
        cells('phandle', cpuPhandle(i)),
        cells('reg', i),
        strings('compatible', 'loongarch,Loongson-3A5000'),
        strings('device_type', 'cpu'),
      ]),
    );
  }

  const root = node(
    '/',
    [cells('interrupt-parent', pic), cells('#size-cells', 2), cells('#address-cells', 2), strings('compatible', 'linux,dummy-loongson3')],
    [
      node('pcie@20000000', [
        cells(
          'ranges',
          ...[0x0100_0000, 0, 0x4000, ...u64Cells(0x1800_4000), ...u64Cells(0xc000)],
          ...[0x0200_0000, ...u64Cells(0x4000_0000), ...u64Cells(0x4000_0000), ...u64Cells(0x4000_0000)],
        ),
        cells('reg', ...reg64(0x2000_0000, 0x800_0000)),
        flag('dma-coherent'),
        cells('bus-range', 0, 0x7f),
        cells('linux,pci-domain', 0),
        cells('#size-cells', 2),
        cells('#address-cells', 3),
        strings('device_type', 'pci'),
        strings('compatible', 'pci-host-ecam-generic'),
      ]),
      node('platform-bus@16000000', [
        cells('interrupt-parent', pic),
        cells('ranges', 0, 0, 0x1600_0000, 0x200_0000),
        cells('#address-cells', 1),
        cells('#size-cells', 1),
        strings('compatible', 'qemu,platform', 'simple-bus'),
      ]),
      node('intc@10000000', [
        cells('phandle', pic),
        cells('reg', ...reg64(0x1000_0000, 0x100)),
        strings('compatible', 'loongarch,ls7a'),
        flag('ranges'),
        cells('#size-cells', 2),
        cells('#address-cells', 2),
        flag('interrupt-controller'),
        cells('#interrupt-cells', 3),
      ]),
      node('rtc@100d0100', [cells('reg', ...reg64(0x100d_0100, 0x100)), strings('compatible', 'loongson,ls7a-rtc')]),
      node('serial@1fe001e0', [
        cells('clock-frequency', 100_000_000),
        cells('reg', ...reg64(0x1fe0_01e0, 0x100)),
        strings('compatible', 'ns16550a'),
      ]),
      node('fw_cfg@1e020000', [flag('dma-coherent'), cells('reg', ...reg64(0x1e02_0000, 0x18)), strings('compatible', 'qemu,fw-cfg-mmio')]),
      node('cpus', [cells('#size-cells', 0), cells('#address-cells', 1)], [
        node('cpu-map', [], [node('socket0', [], cores)]),
        ...cpuNodes,
      ]),
      node('chosen', [strings('stdout-path', '/serial@1fe001e0')]),
    ],
  );
  return root;
}
