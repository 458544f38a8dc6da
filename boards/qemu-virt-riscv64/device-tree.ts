/**
 * QEMU 7.2's `-machine virt` device tree for riscv64 (PLIC + CLINT, no AIA, default `rv64` CPU),
 * as DTS in the order of QEMU's dump. QEMU builds the harts from the last to the first, giving
 * each hart then its interrupt controller the next phandle (from 1), then the PLIC and the
 * sifive,test syscon.
 */
import { BoardParameterError } from '../board-errors.js';
import type { BoardParams } from '../board-descriptor.js';
import { cells, flag, node, renderDts, strings, u64Cells, type DtsNode } from '../dts-source.js';

const RAM_BASE = 0x8000_0000;
const MAX_CPUS = 8; // one socket, as QEMU's default topology gives it
const MAX_MEMORY = 255 * 2 ** 30;
const VIRTIO_SLOTS = 8;
/** The 64-bit PCIe MMIO window is 16 GiB, placed at the first 16 GiB boundary above RAM. */
const HIGH_PCIE_MMIO_SIZE = 0x4_0000_0000;
const RISCV_ISA = 'rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc';
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;

export function checkVirtRiscv64Params(board: string, p: BoardParams): void {
  if (!Number.isInteger(p.cpus) || p.cpus < 1 || p.cpus > MAX_CPUS) {
    throw new BoardParameterError(board, 'cpus', `must be 1..${MAX_CPUS}, got ${p.cpus}`);
  }
  if (!Number.isSafeInteger(p.memoryBytes) || p.memoryBytes <= 0 || p.memoryBytes % 0x10000 !== 0 || p.memoryBytes > MAX_MEMORY) {
    throw new BoardParameterError(board, 'memory', `must be a positive multiple of 64 KiB up to 255 GiB, got ${p.memoryBytes}`);
  }
}

/** The tree as DTS text. */
export function virtRiscv64Dts(board: string, p: BoardParams): string {
  return renderDts(virtRiscv64Tree(board, p));
}

export function virtRiscv64Tree(board: string, p: BoardParams): DtsNode {
  checkVirtRiscv64Params(board, p);
  const n = p.cpus;
  const cpuPhandle = (i: number): number => 2 * (n - 1 - i) + 1;
  const intcPhandle = (i: number): number => cpuPhandle(i) + 1;
  const plic = 2 * n + 1;
  const test = plic + 1;
  const reg64 = (base: number, size: number): number[] => [...u64Cells(base), ...u64Cells(size)];
  const ramEnd = RAM_BASE + p.memoryBytes;
  const highMmio = Math.ceil(ramEnd / HIGH_PCIE_MMIO_SIZE) * HIGH_PCIE_MMIO_SIZE;

  const cpuNodes: DtsNode[] = [];
  const cores: DtsNode[] = [];
  const plicTargets: number[] = [];
  const clintTargets: number[] = [];
  for (let i = 0; i < n; i++) {
    cpuNodes.push(
      node(
        `cpu@${i}`,
        [
          cells('phandle', cpuPhandle(i)),
          strings('device_type', 'cpu'),
          cells('reg', i),
          strings('status', 'okay'),
          strings('compatible', 'riscv'),
          strings('riscv,isa', RISCV_ISA),
          strings('mmu-type', 'riscv,sv48'),
        ],
        [
          node('interrupt-controller', [
            cells('#interrupt-cells', 1),
            flag('interrupt-controller'),
            strings('compatible', 'riscv,cpu-intc'),
            cells('phandle', intcPhandle(i)),
          ]),
        ],
      ),
    );
    cores.push(node(`core${i}`, [cells('cpu', cpuPhandle(i))]));
    plicTargets.push(intcPhandle(i), IRQ_M_EXT, intcPhandle(i), IRQ_S_EXT);
    clintTargets.push(intcPhandle(i), IRQ_M_SOFT, intcPhandle(i), IRQ_M_TIMER);
  }

  // INTx of slot s, pin p (1..4) goes to PLIC source 32 + (s + p - 1) mod 4.
  const intMap: number[] = [];
  for (let slot = 0; slot < 4; slot++) {
    for (let pin = 1; pin <= 4; pin++) intMap.push(slot << 11, 0, 0, pin, plic, 0x20 + ((slot + pin - 1) % 4));
  }

  const virtio: DtsNode[] = [];
  for (let i = VIRTIO_SLOTS - 1; i >= 0; i--) {
    const base = 0x1000_1000 + i * 0x1000;
    virtio.push(
      node(`virtio_mmio@${base.toString(16)}`, [
        cells('interrupts', i + 1),
        cells('interrupt-parent', plic),
        cells('reg', ...reg64(base, 0x1000)),
        strings('compatible', 'virtio,mmio'),
      ]),
    );
  }

  const root = node(
    '/',
    [cells('#address-cells', 2), cells('#size-cells', 2), strings('compatible', 'riscv-virtio'), strings('model', 'riscv-virtio,qemu')],
    [
      node('pmu', [
        cells(
          'riscv,event-to-mhpmcounters',
          ...[0x01, 0x01, 0x7fff9, 0x02, 0x02, 0x7fffc, 0x10019, 0x10019, 0x7fff8, 0x1001b, 0x1001b, 0x7fff8],
          ...[0x10021, 0x10021, 0x7fff8, 0, 0, 0, 0, 0],
        ),
        strings('compatible', 'riscv,pmu'),
      ]),
      node('fw-cfg@10100000', [flag('dma-coherent'), cells('reg', ...reg64(0x1010_0000, 0x18)), strings('compatible', 'qemu,fw-cfg-mmio')]),
      node('flash@20000000', [
        cells('bank-width', 4),
        cells('reg', ...reg64(0x2000_0000, 0x200_0000), ...reg64(0x2200_0000, 0x200_0000)),
        strings('compatible', 'cfi-flash'),
      ]),
      node('chosen', [strings('stdout-path', '/soc/serial@10000000')]),
      node('poweroff', [cells('value', 0x5555), cells('offset', 0), cells('regmap', test), strings('compatible', 'syscon-poweroff')]),
      node('reboot', [cells('value', 0x7777), cells('offset', 0), cells('regmap', test), strings('compatible', 'syscon-reboot')]),
      node('platform-bus@4000000', [
        cells('interrupt-parent', plic),
        cells('ranges', 0, 0, 0x400_0000, 0x200_0000),
        cells('#address-cells', 1),
        cells('#size-cells', 1),
        strings('compatible', 'qemu,platform', 'simple-bus'),
      ]),
      node(`memory@${RAM_BASE.toString(16)}`, [strings('device_type', 'memory'), cells('reg', ...reg64(RAM_BASE, p.memoryBytes))]),
      node('cpus', [cells('#address-cells', 1), cells('#size-cells', 0), cells('timebase-frequency', 10_000_000)], [
        ...cpuNodes,
        node('cpu-map', [], [node('cluster0', [], cores)]),
      ]),
      node('soc', [cells('#address-cells', 2), cells('#size-cells', 2), strings('compatible', 'simple-bus'), flag('ranges')], [
        node('rtc@101000', [
          cells('interrupts', 0x0b),
          cells('interrupt-parent', plic),
          cells('reg', ...reg64(0x10_1000, 0x1000)),
          strings('compatible', 'google,goldfish-rtc'),
        ]),
        node('serial@10000000', [
          cells('interrupts', 0x0a),
          cells('interrupt-parent', plic),
          cells('clock-frequency', 3_686_400),
          cells('reg', ...reg64(0x1000_0000, 0x100)),
          strings('compatible', 'ns16550a'),
        ]),
        node('test@100000', [
          cells('phandle', test),
          cells('reg', ...reg64(0x10_0000, 0x1000)),
          strings('compatible', 'sifive,test1', 'sifive,test0', 'syscon'),
        ]),
        node('pci@30000000', [
          cells('interrupt-map-mask', 0x1800, 0, 0, 7),
          cells('interrupt-map', ...intMap),
          cells(
            'ranges',
            ...[0x0100_0000, 0, 0, ...u64Cells(0x300_0000), ...u64Cells(0x1_0000)],
            ...[0x0200_0000, ...u64Cells(0x4000_0000), ...u64Cells(0x4000_0000), ...u64Cells(0x4000_0000)],
            ...[0x0300_0000, ...u64Cells(highMmio), ...u64Cells(highMmio), ...u64Cells(HIGH_PCIE_MMIO_SIZE)],
          ),
          cells('reg', ...reg64(0x3000_0000, 0x1000_0000)),
          flag('dma-coherent'),
          cells('bus-range', 0, 0xff),
          cells('linux,pci-domain', 0),
          strings('device_type', 'pci'),
          strings('compatible', 'pci-host-ecam-generic'),
          cells('#size-cells', 2),
          cells('#interrupt-cells', 1),
          cells('#address-cells', 3),
        ]),
        ...virtio,
        node('plic@c000000', [
          cells('phandle', plic),
          cells('riscv,ndev', 0x60),
          cells('reg', ...reg64(0xc00_0000, 0x60_0000)),
          cells('interrupts-extended', ...plicTargets),
          flag('interrupt-controller'),
          strings('compatible', 'sifive,plic-1.0.0', 'riscv,plic0'),
          cells('#address-cells', 0),
          cells('#interrupt-cells', 1),
        ]),
        node('clint@2000000', [
          cells('interrupts-extended', ...clintTargets),
          cells('reg', ...reg64(0x200_0000, 0x1_0000)),
          strings('compatible', 'sifive,clint0', 'riscv,clint0'),
        ]),
      ]),
    ],
  );
  return root;
}
