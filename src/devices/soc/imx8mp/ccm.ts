import { RegisterBlock } from '../register-block.js';

/**
 * i.MX8MP Clock Control Module (`fsl,imx8mp-ccm`, 64 KiB): CCM_TARGET_ROOTn (mux, pre/post dividers,
 * enable), CCM_CCGRn gates and the rest read back what Linux's clk-imx8mp.c writes, with the i.MX
 * SET/CLR/TOG aliases. Roots reset to mux 0 (the 24 MHz oscillator) undivided, so a root's rate is
 * what the driver computes from the registers it programmed. Gates reset to 3 (on in every mode),
 * as the boot ROM leaves the console's clocks running.
 */
export function imx8mpCcm(size = 0x1_0000): RegisterBlock {
  const resets = new Map<number, number>();
  for (let gate = 0; gate < 192; gate++) resets.set(0x4000 + 16 * gate, 3);
  return new RegisterBlock({ name: 'imx8mp-ccm', size, resets, setClearToggle: true });
}
