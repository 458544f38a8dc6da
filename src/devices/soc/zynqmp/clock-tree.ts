/**
 * The Zynq MPSoC clock tree as the platform firmware (PMU firmware behind TF-A) describes it to
 * Linux's clk-zynqmp driver through EEMI queries, and the state its clock calls change. Each output
 * clock is a chain of topology nodes (mux → dividers → gate, or a PLL) whose names Linux builds
 * from the clock's name ("uart0_ref_mux", "uart0_ref_div1", ...), with a parent list of other
 * output clocks or of the external reference clocks the device tree supplies by name.
 *
 * Clock indexes 0..112 are the device tree's (include/dt-bindings/clock/xlnx-zynqmp-clk.h), so
 * `clocks = <&zynqmp_clk 56>` is uart0_ref; the external references follow them. Boot settings
 * are a ZCU102's after its boot firmware (psu_init): the PLLs from the 33.33 MHz PS reference
 * (IOPLL 1.5 GHz, RPLL 1 GHz, APLL 1.2 GHz, DPLL 1.067 GHz, VPLL 1.5 GHz) and the LPD clocks from
 * IOPLL (UART, I2C, LPD_LSBUS 100 MHz; SD 187.5 MHz; QSPI 125 MHz).
 */

/** Topology node types (Linux clk-zynqmp.h `enum topology_type`). */
export const enum NodeType {
  Invalid = 0,
  Mux = 1,
  Pll = 2,
  FixedFactor = 3,
  Div1 = 4,
  Div2 = 5,
  Gate = 6,
}

/** A parent entry: an output clock by its index, or an external reference (flag 5, named in the clock controller's clock-names). */
const PARENT_EXTERNAL = 5;
/** End of a parent list / topology in a 3-word response. */
export const NA_PARENT = 0xffff_ffff;

interface ClockDef {
  readonly name: string;
  /** External references carry no topology: Linux takes them from the device tree. */
  readonly external?: boolean;
  readonly nodes: readonly NodeType[];
  /** Parent clock indexes; an external one is encoded with PARENT_EXTERNAL by `parentWord`. */
  readonly parents: readonly number[];
  /** Boot mux selection, divisors (div1 | div2 << 16; a PLL's feedback divider) and gate state. */
  readonly parent?: number;
  readonly divider?: number;
}

// Indexes (device-tree binding numbers).
const IOPLL = 0, RPLL = 1, APLL = 2, DPLL = 3, VPLL = 4, DPLL_TO_LPD = 8, IOPLL_TO_FPD = 5;
/** The external references, after the binding's 113 indexes, in the order of the clock controller's clock-names. */
export const PSS_REF = 113;
const EXTERNAL_NAMES = ['pss_ref_clk', 'video_clk', 'pss_alt_ref_clk', 'aux_ref_clk', 'gt_crx_ref_clk'];

const pll = (name: string, fbdiv: number): ClockDef => ({ name, nodes: [NodeType.Pll], parents: [PSS_REF], parent: 0, divider: fbdiv });
const crossing = (name: string, from: number, div: number): ClockDef => ({ name, nodes: [NodeType.Div1], parents: [from], parent: 0, divider: div });
/** An LPD/FPD clock: 3-input mux, one divider, a gate. */
const bus = (name: string, parents: readonly number[], div: number): ClockDef =>
  ({ name, nodes: [NodeType.Mux, NodeType.Div1, NodeType.Gate], parents, parent: 0, divider: div | (1 << 16) });
/** A peripheral reference clock: 3-input mux, two cascaded dividers, a gate. */
const peripheral = (name: string, div0: number, div1 = 1): ClockDef =>
  ({ name, nodes: [NodeType.Mux, NodeType.Div1, NodeType.Div2, NodeType.Gate], parents: [IOPLL, RPLL, DPLL_TO_LPD], parent: 0, divider: div0 | (div1 << 16) });

const DEFINED: ReadonlyMap<number, ClockDef> = new Map<number, ClockDef>([
  [IOPLL, pll('iopll', 45)],
  [RPLL, pll('rpll', 30)],
  [APLL, pll('apll', 36)],
  [DPLL, pll('dpll', 32)],
  [VPLL, pll('vpll', 45)],
  [IOPLL_TO_FPD, crossing('iopll_to_fpd', IOPLL, 3)],
  [6, crossing('rpll_to_fpd', RPLL, 3)],
  [7, crossing('apll_to_lpd', APLL, 3)],
  [DPLL_TO_LPD, crossing('dpll_to_lpd', DPLL, 3)],
  [9, crossing('vpll_to_lpd', VPLL, 3)],
  [10, { name: 'acpu', nodes: [NodeType.Mux, NodeType.Div1], parents: [APLL, DPLL, VPLL], parent: 0, divider: 1 }],
  [19, bus('gdma_ref', [APLL, VPLL, DPLL], 2)],
  [20, bus('dpdma_ref', [APLL, VPLL, DPLL], 2)],
  [27, bus('topsw_main', [APLL, VPLL, DPLL], 2)],
  [28, bus('topsw_lsbus', [APLL, IOPLL_TO_FPD, DPLL], 5)],
  [30, bus('lpd_switch', [RPLL, IOPLL, DPLL_TO_LPD], 3)],
  [31, bus('lpd_lsbus', [RPLL, IOPLL, DPLL_TO_LPD], 10)],
  [42, bus('iou_switch', [RPLL, IOPLL, DPLL_TO_LPD], 4)],
  [53, peripheral('qspi_ref', 12)],
  [54, peripheral('sdio0_ref', 8)],
  [55, peripheral('sdio1_ref', 8)],
  [56, peripheral('uart0_ref', 15)],
  [57, peripheral('uart1_ref', 15)],
  [58, peripheral('spi0_ref', 7)],
  [59, peripheral('spi1_ref', 7)],
  [61, peripheral('i2c0_ref', 15)],
  [62, peripheral('i2c1_ref', 15)],
  [63, peripheral('can0_ref', 15)],
  [64, peripheral('can1_ref', 15)],
  [68, bus('adma_ref', [RPLL, IOPLL, DPLL_TO_LPD], 3)],
  [69, { name: 'timestamp_ref', nodes: [NodeType.Mux, NodeType.Div1, NodeType.Gate], parents: [IOPLL, RPLL, DPLL_TO_LPD, PSS_REF], parent: 0, divider: 15 | (1 << 16) }],
  ...EXTERNAL_NAMES.map((name, i): [number, ClockDef] => [PSS_REF + i, { name, external: true, nodes: [], parents: [] }]),
]);

export const CLOCK_COUNT = PSS_REF + EXTERNAL_NAMES.length;

/** Bit 0 of the attributes: valid; bit 2: an external clock. */
const ATTR_VALID = 1;
const ATTR_EXTERNAL = 1 << 2;
/** Divisor fields are 6 bits in the CRL/CRF clock-control registers. */
const MAX_DIVISOR = 63;
/** SETDIVIDER's "leave this field as it is" value. */
const KEEP = 0xffff;

export class ZynqmpClockTree {
  private readonly parentSel = new Uint8Array(CLOCK_COUNT);
  private readonly divider = new Uint32Array(CLOCK_COUNT);
  private readonly enabled = new Uint8Array(CLOCK_COUNT);
  private readonly fracMode = new Uint8Array(CLOCK_COUNT);
  private readonly fracData = new Uint32Array(CLOCK_COUNT);

  constructor() {
    this.reset();
  }

  reset(): void {
    for (let id = 0; id < CLOCK_COUNT; id++) {
      const c = DEFINED.get(id);
      this.parentSel[id] = c?.parent ?? 0;
      this.divider[id] = c?.divider ?? 0;
      // The boot firmware leaves every configured clock running; Linux gates the unused ones.
      this.enabled[id] = c !== undefined ? 1 : 0;
      this.fracMode[id] = 0;
      this.fracData[id] = 0;
    }
  }

  private def(id: number): ClockDef | undefined {
    return DEFINED.get(id);
  }

  /** Whether `id` names a clock the firmware has (output or external). */
  valid(id: number): boolean {
    return DEFINED.has(id);
  }

  attributes(id: number): number {
    const c = this.def(id);
    if (c === undefined) return 0;
    return ATTR_VALID | (c.external ? ATTR_EXTERNAL : 0);
  }

  name(id: number): string {
    return this.def(id)?.name ?? '';
  }

  /** Topology node words from `index` on (0 past the last): type | flags << 8 | type flags << 24. */
  topology(id: number, index: number): number {
    const c = this.def(id);
    return c?.nodes[index] ?? NodeType.Invalid;
  }

  /** Parent words from `index` on: index | flag << 16, NA_PARENT past the last. */
  parentWord(id: number, index: number): number {
    const p = this.def(id)?.parents[index];
    if (p === undefined) return NA_PARENT;
    return this.def(p)?.external ? (p | (PARENT_EXTERNAL << 16)) >>> 0 : p;
  }

  maxDivisor(id: number): number | undefined {
    const c = this.def(id);
    return c !== undefined && (c.nodes.includes(NodeType.Div1) || c.nodes.includes(NodeType.Div2)) ? MAX_DIVISOR : undefined;
  }

  private has(id: number, type: NodeType): boolean {
    return this.def(id)?.nodes.includes(type) ?? false;
  }

  /** PM_CLOCK_GETPARENT: the mux selection; undefined for a clock without a mux. */
  getParent(id: number): number | undefined {
    return this.has(id, NodeType.Mux) ? this.parentSel[id] : undefined;
  }

  setParent(id: number, index: number): boolean {
    const c = this.def(id);
    if (c === undefined || !c.nodes.includes(NodeType.Mux) || index >= c.parents.length) return false;
    this.parentSel[id] = index;
    return true;
  }

  /** PM_CLOCK_GETDIVIDER: div1 | div2 << 16, or a PLL's feedback divider. */
  getDivider(id: number): number | undefined {
    const c = this.def(id);
    if (c === undefined || c.external || !(c.nodes.includes(NodeType.Div1) || c.nodes.includes(NodeType.Pll))) return undefined;
    return this.divider[id];
  }

  /** PM_CLOCK_SETDIVIDER: a field of 0xffff is left unchanged; a PLL takes its feedback divider (25..125). */
  setDivider(id: number, value: number): boolean {
    const c = this.def(id);
    if (c === undefined || c.external) return false;
    if (c.nodes.includes(NodeType.Pll)) {
      if (value < 25 || value > 125) return false;
      this.divider[id] = value;
      return true;
    }
    if (!c.nodes.includes(NodeType.Div1)) return false;
    const lo = value & 0xffff;
    const hi = value >>> 16;
    if ((lo !== KEEP && (lo === 0 || lo > MAX_DIVISOR)) || (hi !== KEEP && (hi === 0 || hi > MAX_DIVISOR))) return false;
    if (hi !== KEEP && !c.nodes.includes(NodeType.Div2)) return false;
    const cur = this.divider[id]!;
    this.divider[id] = ((lo === KEEP ? cur & 0xffff : lo) | ((hi === KEEP ? cur >>> 16 : hi) << 16)) >>> 0;
    return true;
  }

  getState(id: number): number | undefined {
    const c = this.def(id);
    return c === undefined || c.external ? undefined : this.enabled[id];
  }

  setState(id: number, on: boolean): boolean {
    const c = this.def(id);
    if (c === undefined || c.external) return false;
    this.enabled[id] = on ? 1 : 0;
    return true;
  }

  isPll(id: number): boolean {
    return this.has(id, NodeType.Pll);
  }

  pllMode(id: number): number {
    return this.fracMode[id]!;
  }

  setPllMode(id: number, mode: number): boolean {
    if (!this.isPll(id) || mode > 1) return false;
    this.fracMode[id] = mode;
    return true;
  }

  pllFraction(id: number): number {
    return this.fracData[id]!;
  }

  setPllFraction(id: number, data: number): boolean {
    if (!this.isPll(id) || data > 0xffff) return false;
    this.fracData[id] = data;
    return true;
  }
}
