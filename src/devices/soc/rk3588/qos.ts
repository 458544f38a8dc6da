import { RegisterBlock } from '../register-block.js';

/**
 * An RK3588 NoC QoS generator (`rockchip,rk3588-qos`, a syscon): priority, mode, bandwidth,
 * saturation and ext-control registers that read back what is written, which is what pm_domains.c
 * saves before a domain powers off and writes back after it powers on.
 */
export function rk3588Qos(size = 0x20): RegisterBlock {
  return new RegisterBlock({ name: 'rk3588-qos', size });
}
