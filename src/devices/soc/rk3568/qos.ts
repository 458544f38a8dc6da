import { RegisterBlock } from '../register-block.js';

/**
 * An RK3568 NoC QoS generator (`rockchip,rk3568-qos`, 32 bytes): PRIORITY (0x08), MODE (0x0c),
 * BANDWIDTH (0x10), SATURATION (0x14) and EXTCONTROL (0x18), plain registers that the pm-domains
 * driver saves before it powers a domain down and restores after power-up (its `pm_qos` phandles).
 */
export function rk3568Qos(options: { readonly size?: number; readonly log?: (line: string) => void } = {}): RegisterBlock {
  return new RegisterBlock({
    name: 'rk3568-qos',
    size: options.size ?? 0x20,
    known: (offset) => offset < 0x20,
    ...(options.log !== undefined ? { log: options.log } : {}),
  });
}
