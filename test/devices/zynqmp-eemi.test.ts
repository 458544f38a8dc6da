/**
 * The Zynq MPSoC EEMI firmware driven over its SMC ABI the way Linux's drivers call it: zynqmp.c's
 * version and feature checks, clk-zynqmp's clock enumeration (attributes, 16-byte names over the
 * whole answer, 3-word topology and parent responses) and a rate walk from pss_ref_clk,
 * pinctrl-zynqmp's function/group tables, and bad arguments answered with a status, never a throw.
 * The boot of Debian's kernel on it is test/linux/zcu102-zone0.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ZynqmpFirmware } from '../../src/devices/soc/zynqmp/eemi-firmware.js';

/** One EEMI call as zynqmp_pm_invoke_fn packs it; answer = the seven payload words Linux unpacks from x0..x3. */
function call(fw: ZynqmpFirmware, api: number, ...args: number[]): number[] {
  const a = [...args, 0, 0, 0, 0].map((v) => BigInt(v >>> 0));
  const regs = new BigUint64Array([0xc200_0000n | BigInt(api), a[0]! | (a[1]! << 32n), a[2]! | (a[3]! << 32n), 0n, 0n, 0n, 0n, 0n]);
  expect(fw.call(regs)).toBe(true);
  return [0, 1, 2, 3].flatMap((i) => [Number(regs[i]! & 0xffff_ffffn), Number(regs[i]! >> 32n)]).slice(0, 7);
}
const query = (fw: ZynqmpFirmware, qid: number, a1 = 0, a2 = 0) => call(fw, 35, qid, a1, a2);
const text = (words: number[]) => Buffer.from(new Uint32Array(words.slice(0, 4)).buffer).toString('latin1').replace(/\0.*$/s, '');

describe('Zynq MPSoC EEMI firmware', () => {
  it('answers the version, trust-zone and feature checks zynqmp_firmware_probe makes, and leaves other SiP/PSCI ids alone', () => {
    const fw = new ZynqmpFirmware();
    expect(call(fw, 63, 63).slice(0, 2)).toEqual([0, 2]); // PM_FEATURE_CHECK of itself: v2
    expect(call(fw, 1).slice(0, 2)).toEqual([0, 0x1_0001]); // PM_GET_API_VERSION v1.1
    expect(call(fw, 0xa03).slice(0, 2)).toEqual([0, 0x1_0000]); // trust zone v1.0
    expect(call(fw, 24)[1]! >>> 21 & 0x7f).toBe(0x23); // chip id: Zynq MPSoC family
    expect(call(fw, 63, 22)[0]).toBe(19); // FPGA load: no feature
    expect(fw.call(new BigUint64Array([0x8400_0000n, 0n, 0n, 0n]))).toBe(false); // PSCI_VERSION is not ours
  });

  it('enumerates clocks as clk-zynqmp does and walks uart0_ref to 45/15 of pss_ref_clk', () => {
    const fw = new ZynqmpFirmware();
    const count = query(fw, 12)[1]!;
    const byName = new Map<string, number>();
    for (let id = 0; id < count; id++) {
      if ((query(fw, 5, id)[1]! & 1) === 0) continue;
      byName.set(text(query(fw, 1, id)), id);
    }
    expect(byName.get('uart0_ref')).toBe(56); // the DT binding's UART0_REF
    expect(byName.get('lpd_lsbus')).toBe(31);
    expect(query(fw, 5, byName.get('pss_ref_clk')!)[1]! & 4).toBe(4); // external

    // Three nodes per answer: index 0 and 3, as zynqmp_clock_get_topology asks.
    const topology = (id: number) => [0, 3].flatMap((i) => query(fw, 2, id, i).slice(1, 4)).map((w) => w & 0xf).filter((t) => t !== 0);
    const parents = (id: number) => query(fw, 4, id, 0).slice(1, 4).filter((w) => w !== 0xffff_ffff);
    expect(topology(56)).toEqual([1, 4, 5, 6]); // mux, div1, div2, gate
    const pssRef = 33_333_333;
    const rate = (id: number): number => {
      const ps = parents(id);
      if (ps.length === 0) return pssRef;
      const sel = topology(id).includes(1) ? call(fw, 44, id)[1]! : 0;
      const p = ps[sel]!;
      const parentRate = p >>> 16 === 5 ? pssRef : rate(p & 0xffff);
      const div = call(fw, 40, id)[1]!;
      if (topology(id).includes(2)) return parentRate * div; // PLL: feedback divider
      return topology(id).includes(5) ? Math.ceil(Math.ceil(parentRate / (div & 0xffff)) / (div >>> 16)) : Math.ceil(parentRate / (div & 0xffff));
    };
    expect(rate(56)).toBe(Math.ceil((pssRef * 45) / 15));

    // The gate follows enable/disable; a divider change keeps the field given as 0xffff.
    call(fw, 37, 56);
    expect(call(fw, 38, 56)[1]).toBe(0);
    call(fw, 36, 56);
    expect(call(fw, 38, 56)[1]).toBe(1);
    expect(call(fw, 39, 56, 10 | (0xffff << 16))[0]).toBe(0);
    expect(call(fw, 40, 56)[1]).toBe(10 | (1 << 16));
  });

  it('describes uart0_4_grp on MIO18/19 as pinctrl-zynqmp builds group names, and takes the mux and pad calls', () => {
    const fw = new ZynqmpFirmware();
    const nfuncs = query(fw, 7)[1]!;
    const names = Array.from({ length: nfuncs }, (_, f) => text(query(fw, 9, f)));
    const uart0 = names.indexOf('uart0');
    expect(uart0).toBeGreaterThanOrEqual(0);
    const groupsOf = (f: number) => query(fw, 10, f, 0).slice(1, 4).flatMap((w) => [w & 0xffff, w >>> 16]);
    const group4 = query(fw, 10, uart0, 3).slice(1, 4).flatMap((w) => [w & 0xffff, w >>> 16])[1]!; // index 4
    expect(group4).toBe(groupsOf(uart0)[4]);
    const pinGroups = (pin: number) => query(fw, 11, pin, 0).slice(1, 4).flatMap((w) => [w & 0xffff, w >>> 16]).filter((g) => g !== 0xffff);
    expect(pinGroups(18)).toContain(group4);
    expect(pinGroups(19)).toContain(group4);
    expect(call(fw, 31, 18, uart0)[0]).toBe(0); // set function
    expect(call(fw, 30, 18)[1]).toBe(uart0);
    expect(call(fw, 31, 0, uart0)[0]).not.toBe(0); // MIO0 carries no uart0 group
    expect(call(fw, 32, 18, 5)[1]).toBe(1); // IO standard LVCMOS18, as the DTB's power-source
    expect(call(fw, 33, 18, 5, 0)[0]).not.toBe(0); // read-only
  });

  it('answers out-of-range clocks, pins, nodes, resets and queries with a status', () => {
    const fw = new ZynqmpFirmware();
    for (const [api, ...args] of [[40, 0xffff_ffff], [36, 500], [39, 56, 0], [43, 56, 9], [28, 78], [31, 77, 999], [13, 0], [13, 77], [17, 999, 1], [17, 1000, 3], [35, 99], [35, 2, 9999], [34, 0, 9, 56], [34, 0, 13, 4]]) {
      const [status] = call(fw, api!, ...args);
      expect(status, `api ${api} ${args.join(',')}`).not.toBe(0);
    }
    expect(query(fw, 2, 56, 0xffff_fff0).slice(1, 4)).toEqual([0, 0, 0]); // past the topology's end
    expect(query(fw, 11, 18, 0xffff_fff0).slice(1, 4)).toEqual([0xffff_ffff, 0xffff_ffff, 0xffff_ffff]);
  });
});
