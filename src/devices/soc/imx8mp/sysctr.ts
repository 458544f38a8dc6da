import { RegisterBlock } from '../register-block.js';

/**
 * NXP system counter (`nxp,sysctr-timer`, i.MX8MP): the compare frame's registers read back what
 * timer-imx-sysctr.c writes. Linux's clock events come from the architected timer (at the DTB's
 * 8 MHz); this block's compare interrupt is not raised (not modelled yet).
 */
export function nxpSysctr(size = 0x2_0000): RegisterBlock {
  return new RegisterBlock({ name: 'nxp-sysctr', size });
}
