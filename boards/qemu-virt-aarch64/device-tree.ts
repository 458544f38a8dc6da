/**
 * QEMU 7.2's `-machine virt` device tree for aarch64 (no EL2/EL3, no secure world, highmem on),
 * written as DTS in the node and property order QEMU's libfdt calls leave in its dump: each new
 * property and subnode is inserted first, so QEMU's dump lists them in reverse creation order.
 * Phandles are the numbers QEMU allocates: the APB clock first (0x8000), then the CPUs from the
 * last to the first, then the GIC, its MSI frame (ITS or v2m) and the PL061.
 */
import { BoardParameterError } from '../board-errors.js';
import type { BoardParams } from '../board-descriptor.js';
import { cells, flag, node, renderDts, strings, u64Cells, type DtsNode } from '../dts-source.js';

export interface VirtAarch64Params extends BoardParams {
  readonly gicVersion: 2 | 3;
  /** QEMU's `-cpu` name; the CPU nodes say `arm,<cpuModel>`. */
  readonly cpuModel?: string;
}

const PHANDLE_BASE = 0x8000;
const RAM_BASE = 0x4000_0000;
/** Above 255 GiB QEMU moves the high ECAM and MMIO windows; we keep the fixed layout. */
const MAX_MEMORY = 255 * 2 ** 30;
const VIRTIO_SLOTS = 32;
const IRQ_LEVEL_HIGH = 4;
const IRQ_EDGE_RISING = 1;
const GIC_SPI = 0;
const GIC_PPI = 1;

/** MPIDR affinity QEMU gives CPU `index`: 16 CPUs per cluster with GICv3, 8 with GICv2. */
export function virtAarch64Mpidr(index: number, gicVersion: 2 | 3): number {
  const clusterSize = gicVersion === 3 ? 16 : 8;
  return (Math.floor(index / clusterSize) << 8) | index % clusterSize;
}

export function checkVirtAarch64Params(board: string, p: VirtAarch64Params): void {
  const maxCpus = p.gicVersion === 3 ? 123 : 8; // one GICv3 redistributor region; GICv2 targets 8 CPUs
  if (!Number.isInteger(p.cpus) || p.cpus < 1 || p.cpus > maxCpus) {
    throw new BoardParameterError(board, 'cpus', `must be 1..${maxCpus} with GICv${p.gicVersion}, got ${p.cpus}`);
  }
  if (!Number.isSafeInteger(p.memoryBytes) || p.memoryBytes <= 0 || p.memoryBytes % 0x10000 !== 0 || p.memoryBytes > MAX_MEMORY) {
    throw new BoardParameterError(board, 'memory', `must be a positive multiple of 64 KiB up to 255 GiB, got ${p.memoryBytes}`);
  }
}

/** The tree as DTS text. */
export function virtAarch64Dts(board: string, p: VirtAarch64Params): string {
  return renderDts(virtAarch64Tree(board, p));
}

export function virtAarch64Tree(board: string, p: VirtAarch64Params): DtsNode {
  checkVirtAarch64Params(board, p);
  const n = p.cpus;
  const clock = PHANDLE_BASE;
  const cpuPhandle = (i: number): number => PHANDLE_BASE + n - i;
  const gic = PHANDLE_BASE + n + 1;
  const msi = gic + 1;
  const gpio = gic + 2;
  // GICv2 PPIs carry a CPU target mask in bits 8..15 of the flags cell.
  const ppiFlags = p.gicVersion === 3 ? IRQ_LEVEL_HIGH : (((1 << n) - 1) << 8) | IRQ_LEVEL_HIGH;
  const reg64 = (base: number, size: number): number[] => [...u64Cells(base), ...u64Cells(size)];
  const cpuCompatible = `arm,${p.cpuModel ?? 'cortex-a53'}`;
  // virtualization=on (EL2, as hvisor runs QEMU): PSCI moves to SMC, the GIC gains its maintenance
  // interrupt and, for GICv2, the GICH/GICV frames.
  const el2 = p.virtualization === true;
  const maintenance = el2 ? [cells('interrupts', GIC_PPI, 9, IRQ_LEVEL_HIGH)] : [];

  const virtio: DtsNode[] = [];
  for (let i = 0; i < VIRTIO_SLOTS; i++) {
    const base = 0x0a00_0000 + i * 0x200;
    virtio.push(
      node(`virtio_mmio@${base.toString(16)}`, [
        flag('dma-coherent'),
        cells('interrupts', GIC_SPI, 16 + i, IRQ_EDGE_RISING),
        cells('reg', ...reg64(base, 0x200)),
        strings('compatible', 'virtio,mmio'),
      ]),
    );
  }

  // INTx of slot s, pin p (1..4) goes to SPI 3 + (s + p - 1) mod 4: QEMU's swizzle.
  const intMap: number[] = [];
  for (let slot = 0; slot < 4; slot++) {
    for (let pin = 1; pin <= 4; pin++) {
      intMap.push(slot << 11, 0, 0, pin, gic, 0, 0, GIC_SPI, 3 + ((slot + pin - 1) % 4), IRQ_LEVEL_HIGH);
    }
  }

  const gicNode =
    p.gicVersion === 3
      ? node(
          'intc@8000000',
          [
            cells('phandle', gic),
            ...maintenance,
            cells('reg', ...reg64(0x0800_0000, 0x1_0000), ...reg64(0x080a_0000, 0xf6_0000)),
            cells('#redistributor-regions', 1),
            strings('compatible', 'arm,gic-v3'),
            flag('ranges'),
            cells('#size-cells', 2),
            cells('#address-cells', 2),
            flag('interrupt-controller'),
            cells('#interrupt-cells', 3),
          ],
          [
            node('its@8080000', [
              cells('phandle', msi),
              cells('reg', ...reg64(0x0808_0000, 0x2_0000)),
              cells('#msi-cells', 1),
              flag('msi-controller'),
              strings('compatible', 'arm,gic-v3-its'),
            ]),
          ],
        )
      : node(
          'intc@8000000',
          [
            cells('phandle', gic),
            ...maintenance,
            cells(
              'reg',
              ...reg64(0x0800_0000, 0x1_0000),
              ...reg64(0x0801_0000, 0x1_0000),
              ...(el2 ? [...reg64(0x0803_0000, 0x1_0000), ...reg64(0x0804_0000, 0x1_0000)] : []),
            ),
            strings('compatible', 'arm,cortex-a15-gic'),
            flag('ranges'),
            cells('#size-cells', 2),
            cells('#address-cells', 2),
            flag('interrupt-controller'),
            cells('#interrupt-cells', 3),
          ],
          [
            node('v2m@8020000', [
              cells('phandle', msi),
              cells('reg', ...reg64(0x0802_0000, 0x1000)),
              flag('msi-controller'),
              strings('compatible', 'arm,gic-v2m-frame'),
            ]),
          ],
        );

  const cores: DtsNode[] = [];
  const cpuNodes: DtsNode[] = [];
  for (let i = 0; i < n; i++) {
    cores.push(node(`core${i}`, [cells('cpu', cpuPhandle(i))]));
    cpuNodes.push(
      node(`cpu@${i}`, [
        cells('phandle', cpuPhandle(i)),
        cells('reg', virtAarch64Mpidr(i, p.gicVersion)),
        // QEMU names PSCI as the enable method only when there are secondaries to start.
        ...(n > 1 ? [strings('enable-method', 'psci')] : []),
        strings('compatible', cpuCompatible),
        strings('device_type', 'cpu'),
      ]),
    );
  }

  const root = node(
    '/',
    [
      cells('interrupt-parent', gic),
      strings('model', 'linux,dummy-virt'),
      cells('#size-cells', 2),
      cells('#address-cells', 2),
      strings('compatible', 'linux,dummy-virt'),
    ],
    [
      node('psci', [
        cells('migrate', 0xc400_0005),
        cells('cpu_on', 0xc400_0003),
        cells('cpu_off', 0x8400_0002),
        cells('cpu_suspend', 0xc400_0001),
        strings('method', el2 ? 'smc' : 'hvc'),
        strings('compatible', 'arm,psci-1.0', 'arm,psci-0.2', 'arm,psci'),
      ]),
      node(`memory@${RAM_BASE.toString(16)}`, [cells('reg', ...reg64(RAM_BASE, p.memoryBytes)), strings('device_type', 'memory')]),
      node('platform-bus@c000000', [
        cells('interrupt-parent', gic),
        cells('ranges', 0, 0, 0x0c00_0000, 0x0200_0000),
        cells('#address-cells', 1),
        cells('#size-cells', 1),
        strings('compatible', 'qemu,platform', 'simple-bus'),
      ]),
      node('fw-cfg@9020000', [flag('dma-coherent'), cells('reg', ...reg64(0x0902_0000, 0x18)), strings('compatible', 'qemu,fw-cfg-mmio')]),
      ...virtio,
      node('gpio-keys', [strings('compatible', 'gpio-keys')], [
        node('poweroff', [cells('gpios', gpio, 3, 0), cells('linux,code', 0x74), strings('label', 'GPIO Key Poweroff')]),
      ]),
      node('pl061@9030000', [
        cells('phandle', gpio),
        strings('clock-names', 'apb_pclk'),
        cells('clocks', clock),
        cells('interrupts', GIC_SPI, 7, IRQ_LEVEL_HIGH),
        flag('gpio-controller'),
        cells('#gpio-cells', 2),
        strings('compatible', 'arm,pl061', 'arm,primecell'),
        cells('reg', ...reg64(0x0903_0000, 0x1000)),
      ]),
      node('pcie@10000000', [
        cells('interrupt-map-mask', 0x1800, 0, 0, 7),
        cells('interrupt-map', ...intMap),
        cells('#interrupt-cells', 1),
        cells(
          'ranges',
          ...[0x0100_0000, 0, 0, ...u64Cells(0x3eff_0000), ...u64Cells(0x1_0000)],
          ...[0x0200_0000, ...u64Cells(0x1000_0000), ...u64Cells(0x1000_0000), ...u64Cells(0x2eff_0000)],
          ...[0x0300_0000, ...u64Cells(0x80_0000_0000), ...u64Cells(0x80_0000_0000), ...u64Cells(0x80_0000_0000)],
        ),
        cells('reg', ...reg64(0x40_1000_0000, 0x1000_0000)),
        cells('msi-map', 0, msi, 0, 0x1_0000),
        flag('dma-coherent'),
        cells('bus-range', 0, 0xff),
        cells('linux,pci-domain', 0),
        cells('#size-cells', 2),
        cells('#address-cells', 3),
        strings('device_type', 'pci'),
        strings('compatible', 'pci-host-ecam-generic'),
      ]),
      node('pl031@9010000', [
        strings('clock-names', 'apb_pclk'),
        cells('clocks', clock),
        cells('interrupts', GIC_SPI, 2, IRQ_LEVEL_HIGH),
        cells('reg', ...reg64(0x0901_0000, 0x1000)),
        strings('compatible', 'arm,pl031', 'arm,primecell'),
      ]),
      node('pl011@9000000', [
        strings('clock-names', 'uartclk', 'apb_pclk'),
        cells('clocks', clock, clock),
        cells('interrupts', GIC_SPI, 1, IRQ_LEVEL_HIGH),
        cells('reg', ...reg64(0x0900_0000, 0x1000)),
        strings('compatible', 'arm,pl011', 'arm,primecell'),
      ]),
      node('pmu', [cells('interrupts', GIC_PPI, 7, ppiFlags), strings('compatible', 'arm,armv8-pmuv3')]),
      gicNode,
      node('flash@0', [
        cells('bank-width', 4),
        cells('reg', ...reg64(0, 0x400_0000), ...reg64(0x400_0000, 0x400_0000)),
        strings('compatible', 'cfi-flash'),
      ]),
      node('cpus', [cells('#size-cells', 0), cells('#address-cells', 1)], [
        node('cpu-map', [], [node('socket0', [], [node('cluster0', [], cores)])]),
        ...cpuNodes,
      ]),
      node('timer', [
        // secure physical, non-secure physical, virtual, hypervisor: PPIs 13, 14, 11, 10
        cells('interrupts', GIC_PPI, 13, ppiFlags, GIC_PPI, 14, ppiFlags, GIC_PPI, 11, ppiFlags, GIC_PPI, 10, ppiFlags),
        flag('always-on'),
        strings('compatible', 'arm,armv8-timer', 'arm,armv7-timer'),
      ]),
      node('apb-pclk', [
        cells('phandle', clock),
        strings('clock-output-names', 'clk24mhz'),
        cells('clock-frequency', 24_000_000),
        cells('#clock-cells', 0),
        strings('compatible', 'fixed-clock'),
      ]),
      node('chosen', [strings('stdout-path', '/pl011@9000000')]),
    ],
  );
  return root;
}
