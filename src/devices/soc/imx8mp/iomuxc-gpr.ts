import { RegisterBlock } from '../register-block.js';

/** i.MX8MP IOMUXC general-purpose registers (`fsl,imx8mp-iomuxc-gpr`, a syscon): read back what is written. */
export function imx8mpIomuxcGpr(size = 0x1_0000): RegisterBlock {
  return new RegisterBlock({ name: 'imx8mp-iomuxc-gpr', size });
}
