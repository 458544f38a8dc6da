import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';

/**
 * RK3588 PMU (`rockchip,rk3588-pmu`, the power controller's syscon): the power-domain handshake
 * Linux's pm_domains.c drives. Writes to PWR_CON (bit set = domain off), BUS_IDLE_REQ and MEM_PWR
 * (hiword-masked, two registers each) take effect at once, and the status registers the driver
 * polls follow them: PWR_STATUS (set = off), REPAIR_STATUS (set = on), CHAIN_STATUS (set = on),
 * MEM_STATUS (set = memory off), BUS_IDLE_ACK and BUS_IDLE_ST (set = idle as requested). Every
 * domain is on and no bus idle at reset, as the boot firmware leaves them.
 */
const PWR_CON = 0x14c; // and 0x150
const BUS_IDLE_REQ = 0x10c; // and 0x110
const MEM_PWR = 0x1a0; // and 0x1a4
const BUS_IDLE_ACK = 0x118;
const BUS_IDLE_ST = 0x120;
const PWR_STATUS = 0x180;
const CHAIN_STATUS = 0x1f0; // and 0x1f4
const MEM_STATUS = 0x1f8; // and 0x1fc
const REPAIR_STATUS = 0x290;

/**
 * Domains with repair and memory-chain status bits, as pm_domains.c's rk3588 table places them:
 * [PWR_CON register (0/1), its bit, REPAIR_STATUS bit, MEM register (0/1), its status bit].
 * The others (npu, vcodec, nvm) report through PWR_STATUS only.
 */
const DOMAINS: readonly (readonly [number, number, number | undefined, number | undefined, number | undefined])[] = [
  [0, 0, 1, undefined, undefined], // gpu
  ...Array.from({ length: 13 }, (_, i) => [0, 3 + i, 2 + i, 0, 11 + i] as const), // nputop .. isp1
  ...Array.from({ length: 8 }, (_, i) => [1, i, 15 + i, 0, 24 + i] as const), // rga31 .. pcie
  [1, 9, 23, 1, 1], // nvm0
  [1, 10, 24, 1, 2], // sdio
  [1, 11, 25, 1, 3], // usb
  [1, 13, 26, 1, 5], // sdmmc
];

/** Status the PMU reports: writes leave them alone. Other registers take masked writes and read back. */
const DERIVED = new Set([BUS_IDLE_ACK, BUS_IDLE_ST, PWR_STATUS, CHAIN_STATUS, CHAIN_STATUS + 4, MEM_STATUS, MEM_STATUS + 4, REPAIR_STATUS]);

export function rk3588Pmu(size = 0x400): RegisterBlock {
  const block: RegisterBlock = new RegisterBlock({
    name: 'rk3588-pmu',
    size,
    read: (offset, held) => {
      const off = (reg: number, bit: number) => (block.held(PWR_CON + 4 * reg) >>> bit) & 1;
      switch (offset) {
        case PWR_STATUS:
          return (block.held(PWR_CON) & 0xffff) | (block.held(PWR_CON + 4) << 16);
        case BUS_IDLE_ACK:
        case BUS_IDLE_ST:
          return (block.held(BUS_IDLE_REQ) & 0xffff) | (block.held(BUS_IDLE_REQ + 4) << 16);
        case REPAIR_STATUS: {
          let v = 0;
          for (const [reg, bit, repair] of DOMAINS) if (repair !== undefined && off(reg, bit) === 0) v |= 1 << repair;
          return v;
        }
        case CHAIN_STATUS:
        case CHAIN_STATUS + 4:
        case MEM_STATUS:
        case MEM_STATUS + 4: {
          const memReg = (offset - (offset >= MEM_STATUS ? MEM_STATUS : CHAIN_STATUS)) >> 2;
          let v = 0;
          for (const [reg, bit, , m, mBit] of DOMAINS) {
            if (m !== memReg || mBit === undefined) continue;
            const set = offset >= MEM_STATUS ? (block.held(MEM_PWR + 4 * m) >>> bit) & 1 : off(reg, bit) ^ 1;
            v |= set << mBit;
          }
          return v;
        }
        default:
          return held;
      }
    },
    write: (offset, value, held) => (DERIVED.has(offset) ? held : hiwordWrite(held, value)),
  });
  return block;
}
