import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';

/**
 * An RK3588 general register file (`rockchip,rk3588-*-grf`, the IOC pin controller's registers, a
 * `syscon`): control registers with Rockchip's write mask that read back what was written, which
 * is what pinctrl-rockchip's iomux/pull/drive writes and the PHY and clock drivers' regmap updates
 * expect. Status registers read as zero (nothing to report).
 */
export function rk3588Grf(name: string, size: number): RegisterBlock {
  return new RegisterBlock({ name, size, write: (_offset, value, held) => hiwordWrite(held, value) });
}
