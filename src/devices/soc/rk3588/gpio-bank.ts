import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';

/**
 * A Rockchip GPIO bank, version 2 (`rockchip,gpio-bank` on RK3588): data, direction, interrupt
 * enable/mask/type/polarity and debounce registers in low/high 16-pin halves with the write mask;
 * VER_ID names the version gpio-rockchip picks its register layout by. No pin is driven from
 * outside: inputs (EXT_PORT) read low and no interrupt is raised.
 */
const VER_ID = 0x78;
const GPIO_TYPE_V2_1 = 0x0101_157c;
/** EOI and the status/input registers (0x50..0x7c) are not masked writes. */
const FIRST_PLAIN = 0x50;

export function rockchipGpioBank(size = 0x100): RegisterBlock {
  return new RegisterBlock({
    name: 'rockchip-gpio',
    size,
    resets: new Map([[VER_ID, GPIO_TYPE_V2_1]]),
    write: (offset, value, held) => (offset === VER_ID ? held : offset >= FIRST_PLAIN ? held : hiwordWrite(held, value)),
  });
}
