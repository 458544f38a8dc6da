import { RegisterBlock } from '../register-block.js';

/**
 * i.MX8MP Secure Non-Volatile Storage (`fsl,sec-v4.0-mon`, a syscon for snvs-rtc-lp and the power
 * key): LPCR's enable bits read back as written, which is the handshake rtc-snvs.c polls for; the
 * secure RTC counter (LPSRTCMR/LR) holds what software set (the RTC reads 1970 until set).
 */
export function imx8mpSnvs(size = 0x1_0000): RegisterBlock {
  return new RegisterBlock({ name: 'imx8mp-snvs', size });
}
