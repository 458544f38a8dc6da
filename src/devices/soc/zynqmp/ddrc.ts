import { RegisterBlock } from '../register-block.js';

/**
 * The Zynq MPSoC DDR memory controller's registers (`xlnx,zynqmp-ddrc-2.40a`, a Synopsys uMCTL2):
 * a register file reading back what was written. ECCCFG0 reads 0 (ECC off, as on the ZCU102's
 * non-ECC SODIMM), so Linux's synopsys_edac finds no ECC to report and leaves the controller alone.
 */
export function zynqmpDdrc(size = 0x3_0000): RegisterBlock {
  return new RegisterBlock({ name: 'zynqmp-ddrc', size });
}
