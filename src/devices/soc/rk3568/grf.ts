import { RegisterBlock } from '../register-block.js';
import { hiwordWrite } from '../rockchip-hiword.js';

/**
 * RK3568 General Register Files, the syscons Linux's pinctrl-rockchip, io-domain and clock drivers
 * reach through regmap: the GRF (`rockchip,rk3568-grf`: GPIO1..4 iomux, pulls, drive strengths,
 * SoC and VO/VI controls) and the PMUGRF (`rockchip,rk3568-pmugrf`: GPIO0's iomux and pads, the IO
 * domains' voltage selects). Control registers take the hiword write mask; pinctrl's
 * regmap_update_bits reads before it writes and relies on the high half reading 0.
 * GRF_SOC_STATUS0 (0x580) reports every PLL locked (bits by Linux's lock_shift: APLL 0, DPLL 1,
 * CPLL 2, GPLL 3, PPLL 4, NPLL 5, VPLL 6, HPLL 7), the older lock path some PLL types use.
 */
const GRF_SOC_STATUS0 = 0x580;
const GRF_STATUS_END = 0x590;
const ALL_PLLS_LOCKED = 0xff;

/** GRF: pads and iomux 0x000-0x3ff, SoC/VO/VI controls and status 0x500-0x5ff, MAC and USB controls 0x800-0x9ff. */
function grfKnown(offset: number): boolean {
  return offset < 0x400 || (offset >= 0x500 && offset < 0x600) || (offset >= 0x800 && offset < 0xa00);
}

/** PMUGRF: GPIO0 iomux, pads, IO voltage selects and SoC controls, 0x000-0x3ff. */
function pmuGrfKnown(offset: number): boolean {
  return offset < 0x400;
}

export function rk3568Grf(options: { readonly size?: number; readonly log?: (line: string) => void } = {}): RegisterBlock {
  return new RegisterBlock({
    name: 'rk3568-grf',
    size: options.size ?? 0x1_0000,
    known: grfKnown,
    ...(options.log !== undefined ? { log: options.log } : {}),
    read: (offset, held) => (offset === GRF_SOC_STATUS0 ? ALL_PLLS_LOCKED : held),
    // Status registers are read-only; the control registers are masked; unknown ones plain.
    write: (offset, value, held) =>
      offset >= GRF_SOC_STATUS0 && offset < GRF_STATUS_END ? held : grfKnown(offset) ? hiwordWrite(held, value) : value,
  });
}

export function rk3568PmuGrf(options: { readonly size?: number; readonly log?: (line: string) => void } = {}): RegisterBlock {
  return new RegisterBlock({
    name: 'rk3568-pmugrf',
    size: options.size ?? 0x1_0000,
    known: pmuGrfKnown,
    ...(options.log !== undefined ? { log: options.log } : {}),
    write: (offset, value, held) => (pmuGrfKnown(offset) ? hiwordWrite(held, value) : value),
  });
}
