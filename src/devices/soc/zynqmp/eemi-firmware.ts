import type { SmcService } from '../../../machine/smc-service.js';
import { CLOCK_COUNT, NA_PARENT, ZynqmpClockTree } from './clock-tree.js';
import { MIO_PINS, NA_GROUP, ZynqmpPinMux } from './pin-mux.js';

/**
 * The Zynq MPSoC platform-management firmware (`xlnx,zynqmp-firmware`, method "smc"): the EEMI API
 * that TF-A passes to the PMU firmware, as Linux's drivers/firmware/xilinx, clk-zynqmp,
 * pinctrl-zynqmp, zynqmp-pm-domains and reset-zynqmp call it. A call is SMC64 fast SiP function
 * 0xC200_0000 | api with 32-bit arguments packed two per register (x1 = arg0 | arg1 << 32, x2 =
 * arg2 | arg3 << 32, ...); the answer is a status word and payload words packed the same way from
 * x0 (x0 = status | payload1 << 32, x1 = payload2 | payload3 << 32). Name queries fill all four
 * words with the 16-byte name, status included, as the firmware does.
 */

/** PM API ids (Linux `enum pm_api_id`, TF-A's). */
const enum Api {
  GetApiVersion = 1,
  RegisterNotifier = 5,
  RequestNode = 13,
  ReleaseNode = 14,
  SetRequirement = 15,
  ResetAssert = 17,
  ResetGetStatus = 18,
  MmioWrite = 19,
  MmioRead = 20,
  InitFinalize = 21,
  GetChipId = 24,
  PinctrlRequest = 28,
  PinctrlRelease = 29,
  PinctrlGetFunction = 30,
  PinctrlSetFunction = 31,
  PinctrlConfigGet = 32,
  PinctrlConfigSet = 33,
  Ioctl = 34,
  QueryData = 35,
  ClockEnable = 36,
  ClockDisable = 37,
  ClockGetState = 38,
  ClockSetDivider = 39,
  ClockGetDivider = 40,
  ClockSetParent = 43,
  ClockGetParent = 44,
  FeatureCheck = 63,
  GetCallbackData = 0xa01,
  SetSuspendMode = 0xa02,
  GetTrustzoneVersion = 0xa03,
}

const enum Query {
  ClockName = 1,
  ClockTopology = 2,
  ClockParents = 4,
  ClockAttributes = 5,
  PinctrlNumPins = 6,
  PinctrlNumFunctions = 7,
  PinctrlNumFunctionGroups = 8,
  PinctrlFunctionName = 9,
  PinctrlFunctionGroups = 10,
  PinctrlPinGroups = 11,
  ClockNumClocks = 12,
  ClockMaxDivisor = 13,
}

const enum Ioctl {
  SetPllFracMode = 8,
  GetPllFracMode = 9,
  SetPllFracData = 10,
  GetPllFracData = 11,
  WriteGgs = 12,
  ReadGgs = 13,
  WritePggs = 14,
  ReadPggs = 15,
  SetBootHealthStatus = 17,
  RegisterSgi = 25,
}

/** Status words (TF-A `pm_ret_status`). */
const SUCCESS = 0;
const ERROR_ARGS = 1;
const NOT_SUPPORTED = 4;
const NO_FEATURE = 19;
const NO_ACCESS = 2002;
const INVALID_NODE = 2003;

/** Version words: major << 16 | minor. EEMI v1.1 (Linux needs >= 1.0), TF-A's PM trust-zone interface v1.0. */
const API_VERSION = 0x1_0001;
const TZ_VERSION = 0x1_0000;
/** ZU9EG (the ZCU102's device): IDCODE with family 0x23 in bits 27:21, PS silicon version 3. */
const IDCODE = 0x0473_8093;
const SILICON_VERSION = 3;

const SIP_FAST = 0xc200_0000; // SMC64 fast SiP call
const SIP_FAST32 = 0x8200_0000; // SMC32 form
const SIP_SVC_VERSION = 0x8200_ff03;

/** Power nodes (TF-A `pm_node_id`): 1 (APU) .. 76 (PMU). */
const NODE_FIRST = 1;
const NODE_LAST = 76;
/** Resets (Linux `enum zynqmp_pm_reset`): 1000 (PCIe config) .. 1119 (PS-PL 3). */
const RESET_FIRST = 1000;
const RESET_LAST = 1119;

/** APIs the feature check reports, with the version it reports (2: the query/ioctl masks follow). */
const FEATURES: ReadonlyMap<number, number> = new Map([
  ...[Api.GetApiVersion, Api.RegisterNotifier, Api.RequestNode, Api.ReleaseNode, Api.SetRequirement, Api.ResetAssert,
    Api.ResetGetStatus, Api.InitFinalize, Api.GetChipId, Api.PinctrlRequest, Api.PinctrlRelease, Api.PinctrlGetFunction,
    Api.PinctrlSetFunction, Api.PinctrlConfigGet, Api.PinctrlConfigSet, Api.ClockEnable, Api.ClockDisable,
    Api.ClockGetState, Api.ClockSetDivider, Api.ClockGetDivider, Api.ClockSetParent, Api.ClockGetParent,
    Api.GetCallbackData, Api.SetSuspendMode, Api.GetTrustzoneVersion].map((a): [number, number] => [a, 1]),
  [Api.Ioctl, 2],
  [Api.QueryData, 2],
  [Api.FeatureCheck, 2],
]);
const QUERY_MASK = [Query.ClockName, Query.ClockTopology, Query.ClockParents, Query.ClockAttributes, Query.PinctrlNumPins,
  Query.PinctrlNumFunctions, Query.PinctrlNumFunctionGroups, Query.PinctrlFunctionName, Query.PinctrlFunctionGroups,
  Query.PinctrlPinGroups, Query.ClockNumClocks, Query.ClockMaxDivisor].reduce((m, q) => m | (1 << q), 0) >>> 0;
const IOCTL_MASK = [Ioctl.SetPllFracMode, Ioctl.GetPllFracMode, Ioctl.SetPllFracData, Ioctl.GetPllFracData, Ioctl.WriteGgs,
  Ioctl.ReadGgs, Ioctl.WritePggs, Ioctl.ReadPggs, Ioctl.SetBootHealthStatus, Ioctl.RegisterSgi].reduce((m, q) => m | (1 << q), 0) >>> 0;

const word = (v: bigint, high: boolean) => Number(high ? (v >> 32n) & 0xffff_ffffn : v & 0xffff_ffffn);

export class ZynqmpFirmware implements SmcService {
  readonly name = 'zynqmp-eemi';
  readonly clocks = new ZynqmpClockTree();
  readonly pins = new ZynqmpPinMux();
  /** Nodes a master holds (PM_REQUEST_NODE) and resets held asserted. */
  private readonly requestedNodes = new Uint8Array(NODE_LAST + 1);
  private readonly assertedResets = new Uint8Array(RESET_LAST - RESET_FIRST + 1);
  /** Global (4) and persistent global (4) general storage registers. */
  private readonly ggs = new Uint32Array(4);
  private readonly pggs = new Uint32Array(4);
  /** The answer being built: status then payload words. */
  private readonly out = new Uint32Array(4);

  reset(): void {
    this.clocks.reset();
    this.pins.reset();
    this.requestedNodes.fill(0);
    this.assertedResets.fill(0);
    this.ggs.fill(0);
    this.pggs.fill(0);
  }

  call(regs: BigUint64Array): boolean {
    const fid = Number(regs[0]! & 0xffff_ffffn);
    if (fid === SIP_SVC_VERSION) {
      // SiP service v0.1: x0 = major, x1 = minor (not the pass-through interface of v0.2).
      regs[0] = 0n;
      regs[1] = 1n;
      return true;
    }
    const base = (fid & 0xffff_0000) >>> 0;
    if (base !== SIP_FAST && base !== SIP_FAST32) return false;
    const api = fid & 0xffff;
    const a = [word(regs[1]!, false), word(regs[1]!, true), word(regs[2]!, false), word(regs[2]!, true)] as const;
    this.out.fill(0);
    this.out[0] = this.dispatch(api, a[0], a[1], a[2], a[3]);
    return this.reply(regs, this.out);
  }

  private reply(regs: BigUint64Array, w: ArrayLike<number>): true {
    regs[0] = BigInt(w[0]! >>> 0) | (BigInt(w[1]! >>> 0) << 32n);
    regs[1] = BigInt(w[2]! >>> 0) | (BigInt(w[3]! >>> 0) << 32n);
    regs[2] = 0n;
    regs[3] = 0n;
    return true;
  }

  /** Sets payload word `i` (1..3) and answers SUCCESS. */
  private ok(...payload: number[]): number {
    payload.forEach((v, i) => (this.out[i + 1] = v >>> 0));
    return SUCCESS;
  }

  private dispatch(api: number, a0: number, a1: number, a2: number, a3: number): number {
    switch (api) {
      case Api.GetApiVersion: return this.ok(API_VERSION);
      case Api.GetTrustzoneVersion: return this.ok(TZ_VERSION);
      case Api.GetChipId: return this.ok(IDCODE, SILICON_VERSION);
      case Api.FeatureCheck: {
        const version = FEATURES.get(a0);
        if (version === undefined) return NO_FEATURE;
        if (a0 === Api.QueryData) return this.ok(version, QUERY_MASK, 0);
        if (a0 === Api.Ioctl) return this.ok(version, IOCTL_MASK, 0);
        return this.ok(version);
      }
      case Api.RegisterNotifier:
      case Api.InitFinalize:
      case Api.SetSuspendMode:
        return SUCCESS;
      case Api.GetCallbackData: return this.ok(0, 0, 0);
      case Api.RequestNode:
      case Api.SetRequirement:
      case Api.ReleaseNode:
        if (a0 < NODE_FIRST || a0 > NODE_LAST) return INVALID_NODE;
        this.requestedNodes[a0] = api === Api.ReleaseNode ? 0 : 1;
        return SUCCESS;
      case Api.ResetAssert:
        // Action 0 releases, 1 asserts, 2 pulses (ends released).
        if (a0 < RESET_FIRST || a0 > RESET_LAST || a1 > 2) return ERROR_ARGS;
        this.assertedResets[a0 - RESET_FIRST] = a1 === 1 ? 1 : 0;
        return SUCCESS;
      case Api.ResetGetStatus:
        if (a0 < RESET_FIRST || a0 > RESET_LAST) return ERROR_ARGS;
        return this.ok(this.assertedResets[a0 - RESET_FIRST]!);
      case Api.MmioRead:
      case Api.MmioWrite:
        return NO_ACCESS; // register access goes through the zone's own mappings, not the firmware
      case Api.QueryData: return this.query(a0, a1, a2);
      case Api.Ioctl: return this.ioctl(a1, a2, a3);
      case Api.ClockEnable:
      case Api.ClockDisable:
        return this.clocks.setState(a0, api === Api.ClockEnable) ? SUCCESS : ERROR_ARGS;
      case Api.ClockGetState: return this.answer(this.clocks.getState(a0));
      case Api.ClockGetDivider: return this.answer(this.clocks.getDivider(a0));
      case Api.ClockSetDivider: return this.clocks.setDivider(a0, a1) ? SUCCESS : ERROR_ARGS;
      case Api.ClockGetParent: return this.answer(this.clocks.getParent(a0));
      case Api.ClockSetParent: return this.clocks.setParent(a0, a1) ? SUCCESS : ERROR_ARGS;
      case Api.PinctrlRequest: return this.pins.request(a0) ? SUCCESS : ERROR_ARGS;
      case Api.PinctrlRelease: return this.pins.release(a0) ? SUCCESS : ERROR_ARGS;
      case Api.PinctrlGetFunction: return this.answer(this.pins.getFunction(a0));
      case Api.PinctrlSetFunction: return this.pins.setFunction(a0, a1) ? SUCCESS : ERROR_ARGS;
      case Api.PinctrlConfigGet: return this.answer(this.pins.getConfig(a0, a1));
      case Api.PinctrlConfigSet: return this.pins.setConfig(a0, a1, a2) ? SUCCESS : ERROR_ARGS;
      default:
        return NO_FEATURE;
    }
  }

  private answer(value: number | undefined): number {
    return value === undefined ? ERROR_ARGS : this.ok(value);
  }

  private query(qid: number, arg1: number, arg2: number): number {
    const clocks = this.clocks;
    switch (qid) {
      case Query.ClockNumClocks: return this.ok(CLOCK_COUNT);
      case Query.ClockAttributes:
        if (arg1 >= CLOCK_COUNT) return ERROR_ARGS;
        return this.ok(clocks.attributes(arg1));
      case Query.ClockName:
        this.name16(clocks.name(arg1));
        return this.out[0]!;
      case Query.ClockTopology:
        if (!clocks.valid(arg1)) return ERROR_ARGS;
        return this.ok(clocks.topology(arg1, arg2), clocks.topology(arg1, arg2 + 1), clocks.topology(arg1, arg2 + 2));
      case Query.ClockParents:
        if (!clocks.valid(arg1)) return ERROR_ARGS;
        return this.ok(...[0, 1, 2].map((i) => (arg2 > 0xffff ? NA_PARENT : clocks.parentWord(arg1, arg2 + i))));
      case Query.ClockMaxDivisor: return this.answer(clocks.maxDivisor(arg1));
      case Query.PinctrlNumPins: return this.ok(MIO_PINS);
      case Query.PinctrlNumFunctions: return this.ok(this.pins.functionCount);
      case Query.PinctrlNumFunctionGroups: return this.answer(this.pins.groupCount(arg1));
      case Query.PinctrlFunctionName: {
        const name = this.pins.functionName(arg1);
        if (name === undefined) return ERROR_ARGS;
        this.name16(name);
        return this.out[0]!;
      }
      case Query.PinctrlFunctionGroups:
        if (this.pins.functionName(arg1) === undefined) return ERROR_ARGS;
        return this.groups((i) => this.pins.functionGroup(arg1, arg2 + i), arg2);
      case Query.PinctrlPinGroups:
        if (arg1 >= MIO_PINS) return ERROR_ARGS;
        return this.groups((i) => this.pins.pinGroup(arg1, arg2 + i), arg2);
      default:
        return NOT_SUPPORTED;
    }
  }

  /** Six 16-bit group ids in payload words 1..3, NA_GROUP after the last. */
  private groups(at: (i: number) => number, index: number): number {
    const g = (i: number) => (index > 0xffff ? NA_GROUP : at(i));
    return this.ok(g(0) | (g(1) << 16), g(2) | (g(3) << 16), g(4) | (g(5) << 16));
  }

  /** A name of up to 15 characters, NUL-padded, over all four answer words (status included). */
  private name16(name: string): void {
    const bytes = new Uint8Array(16);
    for (let i = 0; i < Math.min(name.length, 15); i++) bytes[i] = name.charCodeAt(i) & 0x7f;
    const w = new DataView(bytes.buffer);
    for (let i = 0; i < 4; i++) this.out[i] = w.getUint32(i * 4, true);
  }

  private ioctl(id: number, arg: number, value: number): number {
    const clocks = this.clocks;
    switch (id) {
      case Ioctl.GetPllFracMode: return clocks.isPll(arg) ? this.ok(clocks.pllMode(arg)) : ERROR_ARGS;
      case Ioctl.SetPllFracMode: return clocks.setPllMode(arg, value) ? SUCCESS : ERROR_ARGS;
      case Ioctl.GetPllFracData: return clocks.isPll(arg) ? this.ok(clocks.pllFraction(arg)) : ERROR_ARGS;
      case Ioctl.SetPllFracData: return clocks.setPllFraction(arg, value) ? SUCCESS : ERROR_ARGS;
      case Ioctl.ReadGgs: return arg < 4 ? this.ok(this.ggs[arg]!) : ERROR_ARGS;
      case Ioctl.WriteGgs:
        if (arg >= 4) return ERROR_ARGS;
        this.ggs[arg] = value;
        return SUCCESS;
      case Ioctl.ReadPggs: return arg < 4 ? this.ok(this.pggs[arg]!) : ERROR_ARGS;
      case Ioctl.WritePggs:
        if (arg >= 4) return ERROR_ARGS;
        this.pggs[arg] = value;
        return SUCCESS;
      case Ioctl.SetBootHealthStatus:
      case Ioctl.RegisterSgi:
        return SUCCESS;
      default:
        return NOT_SUPPORTED;
    }
  }
}
