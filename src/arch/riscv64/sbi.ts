import { Stops, systemOffStop, type RunResult, type VcpuHost } from '../cpu.js';

/** What the SBI implementation needs from the calling hart. */
export interface SbiHart {
  readonly host: VcpuHost;
  readonly index: number;
  /** The vCPU index of the zone's hart with physical hart id `hartId` (what a0 and hart masks name), or undefined. */
  vcpuOfHart(hartId: bigint): number | undefined;
  reg(n: number): bigint;
  setReg(n: number, value: bigint): void;
  /** Programs the supervisor timer (stimecmp) and clears a pending timer interrupt when it lies in the future. */
  setTimer(deadline: bigint): void;
  /** Local sfence.vma / fence.i on behalf of a remote fence naming this hart. */
  flushTranslations(): void;
  flushCode(): void;
  /** HSM hart_stop on the calling hart. */
  powerOff(): void;
  /**
   * HSM hart_suspend on the calling hart: it waits for an interrupt (pending and enabled in sie),
   * then carries on after the ecall (retentive) or starts at `resume` with a0 = its hart id,
   * a1 = `opaque`, satp = 0 and sstatus.SIE = 0 (non-retentive).
   */
  suspend(nonRetentive: boolean, resume: bigint, opaque: bigint): void;
}

export const SbiExtension = {
  Base: 0x10,
  Time: 0x54494d45,
  Ipi: 0x735049,
  Rfence: 0x52464e43,
  Hsm: 0x48534d,
  Srst: 0x53525354,
  Dbcn: 0x4442434e,
  LegacySetTimer: 0x00,
  LegacyPutchar: 0x01,
  LegacyGetchar: 0x02,
  LegacyShutdown: 0x08,
  /** hvisor's own extension for hvisor-tool hypercalls: a0 = code, a1/a2 = arguments. */
  Hvisor: 0x114514,
} as const;

const SBI_SUCCESS = 0n;
const SBI_ERR_FAILED = -1n;
const SBI_ERR_NOT_SUPPORTED = -2n;
const SBI_ERR_INVALID_PARAM = -3n;
const SBI_ERR_INVALID_ADDRESS = -5n;
const SBI_ERR_ALREADY_AVAILABLE = -6n;

/** SBI spec 2.0, implementation id of our own (not a registered one), version 1. */
const SPEC_VERSION = 0x02000000n;
export const IMPL_ID = 0x4856n; // "HV"
const IMPL_VERSION = 1n;

const SUPPORTED = new Set<number>([
  SbiExtension.Base, SbiExtension.Time, SbiExtension.Ipi, SbiExtension.Rfence, SbiExtension.Hsm, SbiExtension.Srst,
  SbiExtension.Dbcn, SbiExtension.LegacySetTimer, SbiExtension.LegacyPutchar, SbiExtension.LegacyGetchar,
  SbiExtension.LegacyShutdown, SbiExtension.Hvisor,
]);

/** Bytes one DBCN console_write takes (a Linux console line is far shorter). */
export const DBCN_MAX_WRITE = 4096;

const A0 = 10, A1 = 11, A2 = 12, A6 = 16, A7 = 17;
const MAX_HARTS = 64;

/** hart_get_status values: STARTED, STOPPED, SUSPENDED. */
const HSM_STATUS = { on: 0n, off: 1n, suspended: 4n } as const;

/** Whether S-mode code may run at guest-physical `addr`: the zone's RAM. */
function executable(host: VcpuHost, addr: bigint): boolean {
  return addr <= BigInt(Number.MAX_SAFE_INTEGER) && host.memory.find(Number(addr))?.kind === 'ram';
}

/**
 * vCPUs named by an SBI hart mask: bit i of `mask` is physical hart id base + i; base = -1 means every
 * hart of the zone. A hart id outside the zone yields undefined (SBI_ERR_INVALID_PARAM).
 */
function* hartsOf(hart: SbiHart, mask: bigint, base: bigint): Generator<number | undefined> {
  if (base === 0xffffffffffffffffn) {
    for (let v = 0; v < MAX_HARTS && hart.host.vcpuState(v) !== 'invalid'; v++) yield v;
    return;
  }
  for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) yield hart.vcpuOfHart(base + BigInt(bit));
}

function validMask(hart: SbiHart, mask: bigint, base: bigint): boolean {
  for (const v of hartsOf(hart, mask, base)) if (v === undefined) return false;
  return true;
}

/**
 * An `ecall` from S-mode: the hypervisor's SBI. Sets a0 (error) and a1 (value) and returns how the
 * vCPU must stop, or undefined to carry on after the ecall.
 */
export function handleSbi(hart: SbiHart): RunResult | undefined {
  const eid = Number(hart.reg(A7) & 0xffffffffn);
  const fid = Number(hart.reg(A6) & 0xffffffffn);
  const a0 = hart.reg(A0), a1 = hart.reg(A1), a2 = hart.reg(A2);
  const host = hart.host;
  let error = SBI_SUCCESS;
  let value = 0n;
  let stop: RunResult | undefined;
  const ret = (e: bigint, v = 0n): void => { error = e; value = v; };
  switch (eid) {
    case SbiExtension.Base:
      if (fid === 0) value = SPEC_VERSION;
      else if (fid === 1) value = IMPL_ID;
      else if (fid === 2) value = IMPL_VERSION;
      else if (fid === 3) value = SUPPORTED.has(Number(a0 & 0xffffffffn)) && a0 < 0x100000000n ? 1n : 0n;
      else if (fid >= 4 && fid <= 6) value = 0n;
      else error = SBI_ERR_NOT_SUPPORTED;
      break;
    case SbiExtension.Time:
      if (fid === 0) hart.setTimer(a0);
      else error = SBI_ERR_NOT_SUPPORTED;
      break;
    case SbiExtension.LegacySetTimer:
      hart.setTimer(a0);
      hart.setReg(A0, 0n);
      return undefined;
    case SbiExtension.Ipi:
      if (fid !== 0) { error = SBI_ERR_NOT_SUPPORTED; break; }
      if (!validMask(hart, a0, a1)) { error = SBI_ERR_INVALID_PARAM; break; }
      for (const v of hartsOf(hart, a0, a1)) host.ipi(v!);
      break;
    case SbiExtension.Rfence:
      if (fid > 6) { error = SBI_ERR_NOT_SUPPORTED; break; }
      if (!validMask(hart, a0, a1)) { error = SBI_ERR_INVALID_PARAM; break; }
      for (const v of hartsOf(hart, a0, a1)) {
        if (v === hart.index) {
          if (fid === 0) hart.flushCode();
          else hart.flushTranslations();
        } else {
          host.remoteFence(v!);
        }
      }
      break;
    case SbiExtension.Hsm:
      switch (fid) {
        case 0: {
          const vcpu = hart.vcpuOfHart(a0);
          const r = vcpu === undefined ? 'invalid' : host.startVcpu(vcpu, a1, a2);
          ret(r === 'ok' ? SBI_SUCCESS : r === 'already-on' ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_INVALID_PARAM);
          break;
        }
        case 1:
          hart.powerOff();
          stop = Stops.off;
          break;
        case 2: {
          const vcpu = hart.vcpuOfHart(a0);
          const s = vcpu === undefined ? 'invalid' : host.vcpuState(vcpu);
          if (s === 'invalid') ret(SBI_ERR_INVALID_PARAM);
          else value = HSM_STATUS[s];
          break;
        }
        case 3: {
          const type = a0 & 0xffffffffn; // suspend_type is a uint32
          const nonRetentive = (type & 0x80000000n) !== 0n;
          if ((type & 0x7fffffffn) !== 0n) {
            // 0x1..0x0fffffff and 0x80000001..0x8fffffff are reserved; the platform-specific types are not offered.
            ret((type & 0x70000000n) === 0n ? SBI_ERR_INVALID_PARAM : SBI_ERR_NOT_SUPPORTED);
          } else if (nonRetentive && !executable(host, a1)) {
            ret(SBI_ERR_INVALID_ADDRESS);
          } else {
            hart.suspend(nonRetentive, a1, a2);
            stop = Stops.wait;
          }
          break;
        }
        default:
          ret(SBI_ERR_NOT_SUPPORTED);
      }
      break;
    case SbiExtension.Srst:
      if (fid !== 0) { ret(SBI_ERR_NOT_SUPPORTED); break; }
      // reset_type 0 shutdown, 1 cold, 2 warm reboot; reset_reason 0 none, 1 system failure, 2..0xdfffffff reserved.
      if (a0 > 2n || (a1 > 1n && a1 < 0xe0000000n) || a1 > 0xffffffffn) { ret(SBI_ERR_INVALID_PARAM); break; }
      stop = a0 === 0n ? systemOffStop(a1 === 0n ? 0 : 1) : Stops.systemReset;
      break;
    case SbiExtension.LegacyShutdown:
      return Stops.systemOff;
    case SbiExtension.Dbcn:
      if (fid === 0) {
        // console_write(num_bytes, base_lo, base_hi): guest-physical buffer. The spec lets it write
        // fewer bytes than asked (the caller writes the rest again), and the write ends the vCPU's
        // run: console output costs host time the instruction budget does not see.
        stop = Stops.yield;
        const addr = (a2 << 32n) | (a1 & 0xffffffffn);
        const n = Number(a0 > BigInt(DBCN_MAX_WRITE) ? BigInt(DBCN_MAX_WRITE) : a0);
        const bytes = addr < 2n ** 53n ? host.memory.readDebug(Number(addr), n) : new Uint8Array(0);
        if (bytes.length < n && n > 0) { ret(SBI_ERR_INVALID_PARAM); break; }
        host.consoleWrite(bytes);
        value = BigInt(bytes.length);
      } else if (fid === 1) {
        value = 0n; // console_read: no input is buffered for firmware reads
      } else if (fid === 2) {
        host.consoleWrite(Uint8Array.of(Number(a0 & 0xffn)));
      } else {
        error = SBI_ERR_NOT_SUPPORTED;
      }
      break;
    case SbiExtension.LegacyPutchar:
      host.consoleWrite(Uint8Array.of(Number(a0 & 0xffn)));
      hart.setReg(A0, 0n);
      return undefined;
    case SbiExtension.LegacyGetchar:
      hart.setReg(A0, 0xffffffffffffffffn);
      return undefined;
    case SbiExtension.Hvisor:
      value = host.hypercall(a0, [a1, a2]);
      break;
    default:
      error = SBI_ERR_NOT_SUPPORTED;
  }
  hart.setReg(A0, BigInt.asUintN(64, error));
  hart.setReg(A1, BigInt.asUintN(64, value));
  void SBI_ERR_FAILED;
  return stop;
}
