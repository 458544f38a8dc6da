/**
 * QEMU 7.2's `-machine virt` device tree for riscv64 (default `rv64` CPU, CLINT), with the PLIC
 * or with the AIA (`aia=aplic-imsic`: M- and S-level IMSICs and APLICs), as DTS in the order of
 * QEMU's dump. QEMU builds the harts from the last to the first, giving each hart then its
 * interrupt controller the next phandle (from 1), then the PLIC (or the M/S IMSICs and the M/S
 * APLICs) and the sifive,test syscon.
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

export interface VirtRiscv64Params extends BoardParams {
  /** QEMU's `aia=`: 'none' (the PLIC, QEMU's default) or 'aplic-imsic'. */
  readonly aia?: 'none' | 'aplic-imsic';
  /** QEMU's `aia-guests=`: guest interrupt files per hart in the S-level IMSIC. */
  readonly aiaGuests?: number;
}

const MAX_AIA_GUESTS = 7;
const IMSIC_HART_SIZE = 0x1000;
/** The APLICs are sized for QEMU's maximum hart count, like the PLIC. */
const APLIC_SIZE = 0x8000;
const IRQ_LEVEL_HIGH = 4;

export function checkVirtRiscv64Params(board: string, p: VirtRiscv64Params): void {
  if (!Number.isInteger(p.cpus) || p.cpus < 1 || p.cpus > MAX_CPUS) {
    throw new BoardParameterError(board, 'cpus', `must be 1..${MAX_CPUS}, got ${p.cpus}`);
  }
  if (!Number.isSafeInteger(p.memoryBytes) || p.memoryBytes <= 0 || p.memoryBytes % 0x10000 !== 0 || p.memoryBytes > MAX_MEMORY) {
    throw new BoardParameterError(board, 'memory', `must be a positive multiple of 64 KiB up to 255 GiB, got ${p.memoryBytes}`);
  }
  const guests = p.aiaGuests ?? 0;
  if (!Number.isInteger(guests) || guests < 0 || guests > MAX_AIA_GUESTS || (guests > 0 && p.aia !== 'aplic-imsic')) {
    throw new BoardParameterError(board, 'aia-guests', `must be 0..${MAX_AIA_GUESTS}, and needs aia=aplic-imsic, got ${guests}`);
  }
}

/** The tree as DTS text. */
export function virtRiscv64Dts(board: string, p: VirtRiscv64Params): string {
  return renderDts(virtRiscv64Tree(board, p));
}

export function virtRiscv64Tree(board: string, p: VirtRiscv64Params): DtsNode {
  checkVirtRiscv64Params(board, p);
  const n = p.cpus;
  const cpuPhandle = (i: number): number => 2 * (n - 1 - i) + 1;
  const intcPhandle = (i: number): number => cpuPhandle(i) + 1;
  const aia = p.aia === 'aplic-imsic';
  const plic = 2 * n + 1;
  const [imsicM, imsicS, aplicM, aplicS] = [2 * n + 1, 2 * n + 2, 2 * n + 3, 2 * n + 4];
  const test = aia ? 2 * n + 5 : 2 * n + 2;
  const irqParent = aia ? aplicS : plic;
  // A PLIC specifier is the source; an APLIC's adds the trigger.
  const irq = (source: number): number[] => (aia ? [source, IRQ_LEVEL_HIGH] : [source]);
  const guestBits = Math.ceil(Math.log2((p.aiaGuests ?? 0) + 1));
  const reg64 = (base: number, size: number): number[] => [...u64Cells(base), ...u64Cells(size)];
  const ramEnd = RAM_BASE + p.memoryBytes;
  const highMmio = Math.ceil(ramEnd / HIGH_PCIE_MMIO_SIZE) * HIGH_PCIE_MMIO_SIZE;

  const cpuNodes: DtsNode[] = [];
  const cores: DtsNode[] = [];
  const plicTargets: number[] = [];
  const clintTargets: number[] = [];
  const imsicMTargets: number[] = [];
  const imsicSTargets: number[] = [];
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
          strings('riscv,isa', aia ? RISCV_ISA.replace('_sstc', '_smaia_ssaia_sstc') : RISCV_ISA),
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
    imsicMTargets.push(intcPhandle(i), IRQ_M_EXT);
    imsicSTargets.push(intcPhandle(i), IRQ_S_EXT);
  }

  // INTx of slot s, pin p (1..4) goes to PLIC source 32 + (s + p - 1) mod 4.
  const intMap: number[] = [];
  for (let slot = 0; slot < 4; slot++) {
    for (let pin = 1; pin <= 4; pin++) intMap.push(slot << 11, 0, 0, pin, irqParent, ...irq(0x20 + ((slot + pin - 1) % 4)));
  }

  const virtio: DtsNode[] = [];
  for (let i = VIRTIO_SLOTS - 1; i >= 0; i--) {
    const base = 0x1000_1000 + i * 0x1000;
    virtio.push(
      node(`virtio_mmio@${base.toString(16)}`, [
        cells('interrupts', ...irq(i + 1)),
        cells('interrupt-parent', irqParent),
        cells('reg', ...reg64(base, 0x1000)),
        strings('compatible', 'virtio,mmio'),
      ]),
    );
  }

  const plicNode = node('plic@c000000', [
    cells('phandle', plic),
    cells('riscv,ndev', 0x60),
    cells('reg', ...reg64(0xc00_0000, 0x60_0000)),
    cells('interrupts-extended', ...plicTargets),
    flag('interrupt-controller'),
    strings('compatible', 'sifive,plic-1.0.0', 'riscv,plic0'),
    cells('#address-cells', 0),
    cells('#interrupt-cells', 1),
  ]);
  const imsic = (phandle: number, base: number, targets: number[], bits: number): DtsNode =>
    node(`imsics@${base.toString(16)}`, [
      cells('phandle', phandle),
      ...(bits > 0 ? [cells('riscv,guest-index-bits', bits)] : []),
      cells('riscv,ipi-id', 1),
      cells('riscv,num-ids', 0xff),
      cells('reg', ...reg64(base, n * (IMSIC_HART_SIZE << bits))),
      cells('interrupts-extended', ...targets),
      flag('msi-controller'),
      flag('interrupt-controller'),
      cells('#interrupt-cells', 0),
      strings('compatible', 'riscv,imsics'),
    ]);
  // The M-level APLIC delegates every source to the S-level one, which signals through the S IMSIC.
  const aiaNodes = (): DtsNode[] => [
    node('aplic@d000000', [
      cells('phandle', aplicS),
      cells('riscv,num-sources', 0x60),
      cells('reg', ...reg64(0xd00_0000, APLIC_SIZE)),
      cells('msi-parent', imsicS),
      flag('interrupt-controller'),
      cells('#interrupt-cells', 2),
      strings('compatible', 'riscv,aplic'),
    ]),
    node('aplic@c000000', [
      cells('phandle', aplicM),
      cells('riscv,delegate', aplicS, 1, 0x60),
      cells('riscv,children', aplicS),
      cells('riscv,num-sources', 0x60),
      cells('reg', ...reg64(0xc00_0000, APLIC_SIZE)),
      cells('msi-parent', imsicM),
      flag('interrupt-controller'),
      cells('#interrupt-cells', 2),
      strings('compatible', 'riscv,aplic'),
    ]),
    imsic(imsicS, 0x2800_0000, imsicSTargets, guestBits),
    imsic(imsicM, 0x2400_0000, imsicMTargets, 0),
  ];

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
        cells('interrupt-parent', irqParent),
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
          cells('interrupts', ...irq(0x0b)),
          cells('interrupt-parent', irqParent),
          cells('reg', ...reg64(0x10_1000, 0x1000)),
          strings('compatible', 'google,goldfish-rtc'),
        ]),
        node('serial@10000000', [
          cells('interrupts', ...irq(0x0a)),
          cells('interrupt-parent', irqParent),
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
          ...(aia ? [cells('msi-parent', imsicS)] : []),
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
        ...(aia ? aiaNodes() : [plicNode]),
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
