import { RegisterBlock } from '../register-block.js';

/**
 * i.MX8MP General Power Controller (`fsl,imx8mp-gpc`): power-up and power-down requests
 * (GPC_PU_PGC_SW_PUP_REQ 0xd8, _PDN_REQ 0xe4) complete at once, so Linux's gpcv2.c sees the request
 * bits clear when it polls; the other registers (PGC control, CPU mapping) read back what is written.
 */
const PUP_REQ = 0xd8;
const PDN_REQ = 0xe4;

export function imx8mpGpc(size = 0x1_0000): RegisterBlock {
  return new RegisterBlock({ name: 'imx8mp-gpc', size, write: (offset, value) => (offset === PUP_REQ || offset === PDN_REQ ? 0 : value) });
}
