import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';

/**
 * RK3568 Power Management Unit (`rockchip,rk3568-pmu`, the syscon Linux's rockchip pm-domains
 * driver drives): a domain powers down by setting its bit in PMU_PWR_GATE_SFTCON (0xa0) and its
 * PMU_PWR_GATE_STS bit (0x98) follows (1 = off); its bus interface idles by setting its bit in
 * PMU_BUS_IDLE_SFTCON0 (0x50) and BUS_IDLE_ACK (0x60) and BUS_IDLE_ST (0x68) follow. Both control
 * registers take the hiword write mask. The hardware completes each handshake at once, so the
 * driver's polls see the state it asked for. Every domain starts powered and active, as the boot
 * firmware leaves them. Other registers read back what is written.
 */
const BUS_IDLE_SFTCON0 = 0x50;
const BUS_IDLE_SFTCON1 = 0x54;
const BUS_IDLE_ACK = 0x60;
const BUS_IDLE_ST = 0x68;
const PWR_GATE_STS = 0x98;
const PWR_GATE_SFTCON = 0xa0;
/** The PMU's register file as the TRM lists it (0x000-0x1ff; power-off counters, wake-up and DDR controls among them). */
const REGISTER_END = 0x200;

export function rk3568Pmu(options: { readonly size?: number; readonly log?: (line: string) => void } = {}): RegisterBlock {
  let block: RegisterBlock | undefined;
  const held = (offset: number) => block?.held(offset) ?? 0;
  block = new RegisterBlock({
    name: 'rk3568-pmu',
    size: options.size ?? 0x1000,
    known: (offset) => offset < REGISTER_END,
    ...(options.log !== undefined ? { log: options.log } : {}),
    read: (offset, value) => {
      switch (offset) {
        case BUS_IDLE_ACK:
        case BUS_IDLE_ST:
          return held(BUS_IDLE_SFTCON0) | (held(BUS_IDLE_SFTCON1) << 16);
        case PWR_GATE_STS:
          return held(PWR_GATE_SFTCON);
        default:
          return value;
      }
    },
    write: (offset, value, old) => {
      switch (offset) {
        case BUS_IDLE_SFTCON0:
        case BUS_IDLE_SFTCON1:
        case PWR_GATE_SFTCON:
          return hiwordWrite(old, value);
        case BUS_IDLE_ACK:
        case BUS_IDLE_ST:
        case PWR_GATE_STS:
          return old; // status: read-only
        default:
          return value;
      }
    },
  });
  return block;
}
