import { RegisterBlock } from '../register-block.js';

/**
 * i.MX8MP on-chip OTP controller (`fsl,imx8mp-ocotp`): fuse shadow registers read as zero (no
 * fuses blown: soc-imx8m.c reports revision and UID 0); HW_OCOTP_CTRL's BUSY and ERROR bits never set.
 */
export function imx8mpOcotp(size = 0x1_0000): RegisterBlock {
  return new RegisterBlock({ name: 'imx8mp-ocotp', size });
}
