import { RegisterBlock } from '../register-block.js';

/** i.MX8MP IOMUX controller (`fsl,imx8mp-iomuxc`): pad mux and pad control registers read back what pinctrl-imx writes. */
export function imx8mpIomuxc(size = 0x1_0000): RegisterBlock {
  return new RegisterBlock({ name: 'imx8mp-iomuxc', size });
}
