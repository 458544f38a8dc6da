/**
 * Device models bound by `compatible`. The board walks its DTB, and for each node asks
 * `findDeviceFactory(node.compatible)` (most specific string first wins); the factory builds one
 * MmioDevice for the node (Machine maps it at each of the node's windows).
 *
 * Interrupt controllers (GIC, PLIC) are not built here: they are per-zone models the hypervisor
 * constructs with the zone's interrupts and vCPUs (see gic/ and plic.ts). `deviceRole` tells the
 * board which nodes are such per-zone models, or need no model at all.
 */
import type { MmioDevice } from '../machine/mmio-device.js';
import { disconnectedIrq, type IrqLine } from '../machine/irq-line.js';
import { firstWindow, type DeviceNodeDescription, type DeviceServices } from './device-node.js';
import { nullCharBackend, type CharBackend } from './uart/char-backend.js';
import { CfiFlash } from './platform/cfi-flash.js';
import { FwCfg } from './platform/fw-cfg.js';
import { GoldfishRtc } from './platform/goldfish-rtc.js';
import { Ls7aRtc } from './platform/ls7a-rtc.js';
import { Pl031 } from './platform/pl031.js';
import { Pl061 } from './platform/pl061.js';
import { SifiveTest } from './platform/sifive-test.js';
import { DwApbUart } from './uart/dw-apb-uart.js';
import { ImxUart } from './uart/imx-uart.js';
import { Ns16550a } from './uart/ns16550a.js';
import { Xuartps } from './uart/xuartps.js';
import { Pl011 } from './uart/pl011.js';
import { imx8mpAnatop } from './soc/imx8mp/anatop.js';
import { imx8mpCcm } from './soc/imx8mp/ccm.js';
import { imx8mpGpc } from './soc/imx8mp/gpc.js';
import { imx8mpIomuxc } from './soc/imx8mp/iomuxc.js';
import { imx8mpIomuxcGpr } from './soc/imx8mp/iomuxc-gpr.js';
import { imx8mpOcotp } from './soc/imx8mp/ocotp.js';
import { imx8mpSnvs } from './soc/imx8mp/snvs.js';
import { nxpSysctr } from './soc/imx8mp/sysctr.js';
import { rk3568Cru } from './soc/rk3568/cru.js';
import { rk3568Grf, rk3568PmuGrf } from './soc/rk3568/grf.js';
import { rk3568Pmu } from './soc/rk3568/pmu.js';
import { rk3568PmuCru } from './soc/rk3568/pmucru.js';
import { rk3568Qos } from './soc/rk3568/qos.js';
import { ZynqmpFirmware } from './soc/zynqmp/eemi-firmware.js';
import { zynqmpDdrc } from './soc/zynqmp/ddrc.js';
import type { SmcService } from '../machine/smc-service.js';
import { ScmiSharedMemory } from './firmware/scmi/shared-memory.js';
import { createScmiSmcFirmware, emptyScmiFirmware, type ScmiFirmwareTables } from './firmware/scmi/smc-firmware.js';
import { rk3568ScmiFirmware } from './soc/rk3568/scmi-firmware.js';
import { rk3588ScmiFirmware } from './soc/rk3588/scmi-firmware.js';
import { rk3588Cru } from './soc/rk3588/cru.js';
import { rk3588Grf } from './soc/rk3588/grf.js';
import { rockchipGpioBank } from './soc/rk3588/gpio-bank.js';
import { rk3588Pmu } from './soc/rk3588/pmu.js';
import { rk3588Qos } from './soc/rk3588/qos.js';

export interface DeviceFactory {
  /** Model name, as in MmioDevice.name (e.g. "pl011"). */
  readonly model: string;
  /** The compatible strings it binds to. */
  readonly compatible: readonly string[];
  create(node: DeviceNodeDescription, services: DeviceServices): MmioDevice;
}

/** The models this project ships; each model file exports its factory. */
const builtIn: readonly DeviceFactory[] = [
  {
    model: 'pl011',
    compatible: ['arm,pl011'],
    create: (node, services) => new Pl011({ backend: consoleFor(node, services), irq: irq(node, 0) }),
  },
  {
    model: 'ns16550a',
    compatible: ['ns16550a', 'ns16550', 'ns16450', 'ns8250'],
    create: (node, services) =>
      new Ns16550a({ backend: consoleFor(node, services), irq: irq(node, 0), regShift: node.regShift ?? 0 }),
  },
  {
    model: 'dw-apb-uart',
    compatible: ['snps,dw-apb-uart'],
    create: (node, services) =>
      new DwApbUart({ backend: consoleFor(node, services), irq: irq(node, 0), regShift: node.regShift ?? 2 }),
  },
  {
    model: 'imx-uart',
    compatible: ['fsl,imx8mp-uart', 'fsl,imx8mm-uart', 'fsl,imx8mq-uart', 'fsl,imx6q-uart', 'fsl,imx53-uart', 'fsl,imx21-uart'],
    create: (node, services) => new ImxUart({ backend: consoleFor(node, services), irq: irq(node, 0) }),
  },
  {
    model: 'xuartps',
    compatible: ['cdns,uart-r1p12', 'cdns,uart-r1p8', 'xlnx,xuartps', 'xlnx,zynqmp-uart'],
    create: (node, services) => new Xuartps({ backend: consoleFor(node, services), irq: irq(node, 0) }),
  },
  {
    model: 'sifive-test',
    compatible: ['sifive,test1', 'sifive,test0'],
    create: (_node, services) =>
      new SifiveTest({ powerOff: (code) => services.powerOff?.(code), reset: () => services.reset?.() }),
  },
  {
    model: 'pl031',
    compatible: ['arm,pl031'],
    create: (node, services) => new Pl031({ irq: irq(node, 0), wallClockNs: clockFor(services) }),
  },
  {
    model: 'pl061',
    compatible: ['arm,pl061'],
    create: (node) => new Pl061({ irq: irq(node, 0) }),
  },
  {
    model: 'goldfish-rtc',
    compatible: ['google,goldfish-rtc'],
    create: (node, services) => new GoldfishRtc({ irq: irq(node, 0), wallClockNs: clockFor(services) }),
  },
  {
    model: 'cfi-flash',
    compatible: ['cfi-flash'],
    // One model per node: a node with two banks (QEMU virt) sees the same storage in both.
    create: (node) => new CfiFlash({ size: firstWindow(node).size, bankWidth: cellValue(node, 'bank-width') ?? 4 }, node.path),
  },
  {
    model: 'fw-cfg',
    compatible: ['qemu,fw-cfg-mmio'],
    create: (_node, services) => new FwCfg({ cpus: services.cpus ?? 1 }),
  },
  { model: 'imx8mp-ccm', compatible: ['fsl,imx8mp-ccm'], create: (node) => imx8mpCcm(firstWindow(node).size) },
  { model: 'imx8mp-anatop', compatible: ['fsl,imx8mp-anatop'], create: (node) => imx8mpAnatop(firstWindow(node).size) },
  { model: 'imx8mp-gpc', compatible: ['fsl,imx8mp-gpc'], create: (node) => imx8mpGpc(firstWindow(node).size) },
  { model: 'imx8mp-iomuxc', compatible: ['fsl,imx8mp-iomuxc'], create: (node) => imx8mpIomuxc(firstWindow(node).size) },
  { model: 'imx8mp-iomuxc-gpr', compatible: ['fsl,imx8mp-iomuxc-gpr'], create: (node) => imx8mpIomuxcGpr(firstWindow(node).size) },
  { model: 'imx8mp-snvs', compatible: ['fsl,sec-v4.0-mon'], create: (node) => imx8mpSnvs(firstWindow(node).size) },
  { model: 'imx8mp-ocotp', compatible: ['fsl,imx8mp-ocotp'], create: (node) => imx8mpOcotp(firstWindow(node).size) },
  { model: 'nxp-sysctr', compatible: ['nxp,sysctr-timer'], create: (node) => nxpSysctr(firstWindow(node).size) },
  {
    model: 'rk3568-cru',
    compatible: ['rockchip,rk3568-cru'],
    create: (node, services) => rk3568Cru({ size: firstWindow(node).size, ...socLog(services), ...(services.reset ? { reset: () => services.reset?.() } : {}) }),
  },
  { model: 'rk3568-pmucru', compatible: ['rockchip,rk3568-pmucru'], create: (node, services) => rk3568PmuCru({ size: firstWindow(node).size, ...socLog(services) }) },
  { model: 'rk3568-grf', compatible: ['rockchip,rk3568-grf'], create: (node, services) => rk3568Grf({ size: firstWindow(node).size, ...socLog(services) }) },
  { model: 'rk3568-pmugrf', compatible: ['rockchip,rk3568-pmugrf'], create: (node, services) => rk3568PmuGrf({ size: firstWindow(node).size, ...socLog(services) }) },
  { model: 'rk3568-pmu', compatible: ['rockchip,rk3568-pmu'], create: (node, services) => rk3568Pmu({ size: firstWindow(node).size, ...socLog(services) }) },
  { model: 'rk3568-qos', compatible: ['rockchip,rk3568-qos'], create: (node, services) => rk3568Qos({ size: firstWindow(node).size, ...socLog(services) }) },
  { model: 'zynqmp-ddrc', compatible: ['xlnx,zynqmp-ddrc-2.40a'], create: (node) => zynqmpDdrc(firstWindow(node).size) },
  { model: 'scmi-shmem', compatible: ['arm,scmi-shmem'], create: (node) => new ScmiSharedMemory(firstWindow(node).size) },
  { model: 'rk3588-cru', compatible: ['rockchip,rk3588-cru'], create: (node, services) => rk3588Cru(firstWindow(node).size, socLog(services).log) },
  {
    model: 'rk3588-grf',
    compatible: ['pmugrf', 'sys-grf', 'vop-grf', 'vo0-grf', 'vo1-grf', 'usb-grf', 'php-grf', 'pipe-phy-grf', 'pcie3-phy-grf', 'usbdpphy-grf', 'usb2phy-grf', 'hdptxphy-grf', 'ioc'].map((b) => `rockchip,rk3588-${b}`),
    create: (node) => rk3588Grf(`rk3588-grf ${node.compatible[0]!.slice('rockchip,rk3588-'.length)}`, firstWindow(node).size),
  },
  { model: 'rk3588-pmu', compatible: ['rockchip,rk3588-pmu'], create: (node) => rk3588Pmu(firstWindow(node).size) },
  { model: 'rk3588-qos', compatible: ['rockchip,rk3588-qos'], create: (node) => rk3588Qos(firstWindow(node).size) },
  { model: 'rockchip-gpio', compatible: ['rockchip,gpio-bank'], create: (node) => rockchipGpioBank(firstWindow(node).size) },
  {
    model: 'ls7a-rtc',
    compatible: ['loongson,ls7a-rtc', 'loongson,ls2x-rtc'],
    create: (_node, services) => new Ls7aRtc({ wallClockNs: clockFor(services) }),
  },
];

/** A one-cell (u32) property, or undefined. */
function cellValue(node: DeviceNodeDescription, name: string): number | undefined {
  const p = node.property?.(name);
  if (p === undefined || p.length < 4) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** The log option of an SoC block model, where the host gave one. */
function socLog(services: DeviceServices): { log?: (line: string) => void } {
  return services.log !== undefined ? { log: (line) => services.log?.(line) } : {};
}

function clockFor(services: DeviceServices): () => bigint {
  return services.wallClockNs ?? (() => BigInt(Date.now()) * 1_000_000n);
}

function consoleFor(node: DeviceNodeDescription, services: DeviceServices): CharBackend {
  return services.console?.(node.path) ?? nullCharBackend;
}

/** The node's n-th interrupt output, or a line to nowhere when the node has fewer. */
function irq(node: DeviceNodeDescription, n: number): IrqLine {
  return node.irqs[n] ?? disconnectedIrq;
}

/**
 * Firmware interfaces a node describes without MMIO (the platform's secure firmware, reached by
 * SMC): the board registers the service with the machine, which every zone's vCPUs reach.
 */
export interface SmcServiceFactory {
  readonly model: string;
  readonly compatible: readonly string[];
  create(node: DeviceNodeDescription, board: FirmwareContext): SmcService;
}

/** What a firmware service may ask of the board it runs on. */
export interface FirmwareContext {
  /** The DTB's root `compatible` (the SoC: firmware tables are per SoC). */
  readonly machineCompatible: readonly string[];
  /** The model mapped at a CPU-physical address (asked at run time: later nodes are built after this one). */
  modelAt(address: number): MmioDevice | undefined;
  /** Diagnostics a guest can trigger (bounded by the service). */
  log?(line: string): void;
}

/** SCMI tables by SoC compatible (the firmware on each SoC owns different clocks). */
const scmiTables: ReadonlyMap<string, ScmiFirmwareTables> = new Map([
  ['rockchip,rk3568', rk3568ScmiFirmware],
  ['rockchip,rk3588', rk3588ScmiFirmware],
]);

const smcServices: readonly SmcServiceFactory[] = [
  { model: 'zynqmp-eemi', compatible: ['xlnx,zynqmp-firmware'], create: () => new ZynqmpFirmware() },
  {
    model: 'scmi-smc',
    compatible: ['arm,scmi-smc'],
    create: (node, board) =>
      createScmiSmcFirmware(
        node,
        (a) => board.modelAt(a),
        board.machineCompatible.map((c) => scmiTables.get(c)).find((t) => t !== undefined) ?? emptyScmiFirmware,
        board.log !== undefined ? (line) => board.log?.(line) : undefined,
      ),
  },
];

/** The firmware-service factory for a node's compatible list, or undefined. */
export function findSmcServiceFactory(compatible: readonly string[]): SmcServiceFactory | undefined {
  return smcServices.find((f) => compatible.some((c) => f.compatible.includes(c)));
}

const factories = new Map<string, DeviceFactory>();
for (const f of builtIn) registerDevice(f);

/** Adds a factory for each of its compatible strings (later registrations replace earlier ones). */
export function registerDevice(factory: DeviceFactory): void {
  for (const c of factory.compatible) factories.set(c, factory);
}

/** The factory for the most specific compatible string we model, or undefined. */
export function findDeviceFactory(compatible: readonly string[]): DeviceFactory | undefined {
  for (const c of compatible) {
    const f = factories.get(c);
    if (f !== undefined) return f;
  }
  return undefined;
}

/** Builds the model for a node, or undefined when nothing binds (listed by the board, not fatal). */
export function createDevice(node: DeviceNodeDescription, services: DeviceServices = {}): MmioDevice | undefined {
  return findDeviceFactory(node.compatible)?.create(node, services);
}

/** Every registered compatible string and its model name (for `hvisor devices` listings). */
export function registeredCompatibles(): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [c, f] of factories) out.set(c, f.model);
  return out;
}

/**
 * How the board should treat a node:
 * - 'interrupt-controller': a per-zone emulated model built by the hypervisor (GIC, PLIC, ...);
 * - 'timer': the architected timer / CLINT, part of the core or of the hypervisor's SBI;
 * - 'no-model': described by the DTB but needs no MMIO model (syscon-poweroff/reboot act through
 *   the regmap device they point at; psci is a firmware interface);
 * - 'device': anything else (bound through the registry when a factory exists).
 */
export type DeviceRole = 'interrupt-controller' | 'timer' | 'no-model' | 'device';

const interruptControllers = new Set([
  'arm,gic-v3',
  'arm,gic-400',
  'arm,cortex-a15-gic',
  'arm,cortex-a9-gic',
  'arm,gic-v3-its',
  'arm,gic-v2m-frame',
  'sifive,plic-1.0.0',
  'riscv,plic0',
  'thead,c900-plic',
  'riscv,aplic',
  'riscv,imsics',
  'riscv,cpu-intc',
  'loongson,ls7a-pch-pic',
  'loongson,pch-pic-1.0',
  'loongson,pch-msi-1.0',
  'loongson,eiointc-1.0',
  'loongson,cpu-interrupt-controller',
  'loongarch,ls7a',
]);
const timers = new Set(['arm,armv8-timer', 'arm,armv7-timer', 'sifive,clint0', 'riscv,clint0']);
const noModel = new Set(['syscon-poweroff', 'syscon-reboot', 'arm,psci', 'arm,psci-0.2', 'arm,psci-1.0', 'gpio-keys', 'fixed-clock']);

export function deviceRole(compatible: readonly string[]): DeviceRole {
  for (const c of compatible) {
    if (interruptControllers.has(c)) return 'interrupt-controller';
    if (timers.has(c)) return 'timer';
    if (noModel.has(c)) return 'no-model';
  }
  return 'device';
}
