/**
 * A board firmware service reached by SMC (or HVC) from a guest kernel: the SMCCC calls a platform's
 * secure firmware answers besides PSCI (Zynq MPSoC's EEMI power-management API, a Rockchip SCMI
 * doorbell). Board-wide, as the secure firmware is: every zone's vCPUs reach the same instance.
 * Neither arch nor device specific; the aarch64 firmware role forwards the calls it does not know.
 */
export interface SmcService {
  /** Model name, as `board show` lists it. */
  readonly name: string;
  /**
   * Handles the call whose SMCCC function id and arguments are in `regs` (x0..x7), writing its
   * results into `regs` (x0..x3) in place. False: not this service's function id (nothing written).
   */
  call(regs: BigUint64Array): boolean;
}
