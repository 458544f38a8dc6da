/**
 * The EL2/EL3 firmware role for HVC/SMC from the guest kernel: PSCI 1.1 and SMCCC 1.1 discovery,
 * as hvisor answers them (its src/arch/aarch64/trap.rs: PSCI_VERSION 1.1, MIGRATE_INFO_TYPE
 * "no trusted OS", CPU_SUSPEND as a standby that returns on wake-up), answered through the VcpuHost.
 * PSCI_FEATURES advertises exactly the calls implemented here. The hvisor hypercall immediate
 * (0x4856) is handled by the caller.
 */
import type { VcpuHost } from '../cpu.js';

export const PSCI_VERSION = 0x84000000n;
export const PSCI_CPU_SUSPEND = 0xc4000001n;
export const PSCI_CPU_OFF = 0x84000002n;
export const PSCI_CPU_ON = 0xc4000003n;
export const PSCI_AFFINITY_INFO = 0xc4000004n;
export const PSCI_MIGRATE_INFO_TYPE = 0x84000006n;
export const PSCI_SYSTEM_OFF = 0x84000008n;
export const PSCI_SYSTEM_RESET = 0x84000009n;
export const PSCI_FEATURES = 0x8400000an;
export const SMCCC_VERSION = 0x80000000n;
export const SMCCC_ARCH_FEATURES = 0x80000001n;

const SUCCESS = 0n;
const NOT_SUPPORTED = BigInt.asUintN(64, -1n);
const INVALID_PARAMETERS = BigInt.asUintN(64, -2n);
const ALREADY_ON = BigInt.asUintN(64, -4n);

/** PSCI 1.1 (major 1 in bits 31:16, minor 1). */
const VERSION_1_1 = 0x10001n;
/** MIGRATE_INFO_TYPE: no trusted OS, migration not required. */
const TOS_NOT_PRESENT_MP = 2n;
/** CPU_SUSPEND power_state, original format: StateID 15:0, StateType 16, PowerLevel 25:24, the rest zero. */
const POWER_STATE_LEVEL_OR_RESERVED = 0xfffe0000n;

/** What the call did to the calling vCPU besides setting x0; 'standby' = wait for an interrupt, then return. */
export type FirmwareOutcome = 'continue' | 'off' | 'system-off' | 'system-reset' | 'standby';

/** Normalises the SMC32 variants (0x84..) of the 64-bit calls to their SMC64 ids (0xC4..). */
function canonical(id: bigint): bigint {
  const w = id & 0xffffffffn;
  if (w === 0x84000001n || w === 0x84000003n || w === 0x84000004n || w === 0x84000005n) return w | 0x40000000n;
  return w;
}

/** The calls PSCI_FEATURES reports as implemented (canonical ids). */
const IMPLEMENTED: readonly bigint[] = [PSCI_VERSION, PSCI_CPU_SUSPEND, PSCI_CPU_OFF, PSCI_CPU_ON, PSCI_AFFINITY_INFO,
  PSCI_MIGRATE_INFO_TYPE, PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET, PSCI_FEATURES, SMCCC_VERSION];

export interface PsciCaller {
  readonly host: VcpuHost;
  /** vCPU index of the vCPU whose MPIDR is `mpidr`, or undefined. */
  vcpuOfMpidr(mpidr: bigint): number | undefined;
}

/** Handles one firmware call with arguments x0..x3; returns x0 and the outcome. */
export function firmwareCall(caller: PsciCaller, x: BigUint64Array): { x0: bigint; outcome: FirmwareOutcome } {
  const host = caller.host;
  const id = canonical(x[0]!);
  switch (id) {
    case PSCI_VERSION: return { x0: VERSION_1_1, outcome: 'continue' };
    case SMCCC_VERSION: return { x0: 0x10001n, outcome: 'continue' };
    case PSCI_MIGRATE_INFO_TYPE: return { x0: TOS_NOT_PRESENT_MP, outcome: 'continue' };
    case PSCI_CPU_OFF: return { x0: SUCCESS, outcome: 'off' };
    case PSCI_CPU_SUSPEND:
      // Every state is entered as standby (a power-down request may return SUCCESS, PSCI 5.4.2);
      // power levels above the core are not offered.
      if (x[1]! & POWER_STATE_LEVEL_OR_RESERVED) return { x0: INVALID_PARAMETERS, outcome: 'continue' };
      return { x0: SUCCESS, outcome: 'standby' };
    case PSCI_CPU_ON: {
      const vcpu = caller.vcpuOfMpidr(x[1]! & 0xff00ffffffn);
      if (vcpu === undefined) return { x0: INVALID_PARAMETERS, outcome: 'continue' };
      const r = host.startVcpu(vcpu, x[2]!, x[3]!);
      return { x0: r === 'ok' ? SUCCESS : r === 'already-on' ? ALREADY_ON : INVALID_PARAMETERS, outcome: 'continue' };
    }
    case PSCI_AFFINITY_INFO: {
      if (x[2]! !== 0n) return { x0: INVALID_PARAMETERS, outcome: 'continue' };
      const vcpu = caller.vcpuOfMpidr(x[1]! & 0xff00ffffffn);
      const state = vcpu === undefined ? 'invalid' : host.vcpuState(vcpu);
      return { x0: state === 'on' || state === 'suspended' ? 0n : state === 'off' ? 1n : INVALID_PARAMETERS, outcome: 'continue' };
    }
    case PSCI_SYSTEM_OFF:
      return { x0: SUCCESS, outcome: 'system-off' };
    case PSCI_SYSTEM_RESET:
      return { x0: SUCCESS, outcome: 'system-reset' };
    case PSCI_FEATURES: {
      // CPU_SUSPEND's flags are 0: original power_state format, platform-coordinated mode only.
      const f = x[1]! >> 32n === 0n ? canonical(x[1]!) : -1n;
      return { x0: IMPLEMENTED.includes(f) ? SUCCESS : NOT_SUPPORTED, outcome: 'continue' };
    }
    default:
      // SiP/OEM calls go to the board's firmware services (they write x0..x3 themselves).
      if (host.platformSmc?.(x)) return { x0: x[0]!, outcome: 'continue' };
      return { x0: NOT_SUPPORTED, outcome: 'continue' };
  }
}
