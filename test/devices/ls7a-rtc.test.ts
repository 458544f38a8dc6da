import { describe, expect, it } from 'vitest';
import { Ls7aRtc } from '../../src/devices/platform/ls7a-rtc.js';
import { qemuReplay, r, w } from './qtest.js';

const B = 0x100d0100;
const CTRL = 0x40, TOY_W0 = 0x24, TOY_W1 = 0x28, TOY_R0 = 0x2c, TOY_R1 = 0x30, RTC_W0 = 0x64, RTC_R0 = 0x68;

/** The calendar fields rtc-ls2x unpacks from TOY_READ0/1. */
function unpack(r0: number, r1: number) {
  return { year: 1900 + r1, month: (r0 >>> 26) & 0x3f, day: (r0 >>> 21) & 0x1f, hour: (r0 >>> 16) & 0x1f, min: (r0 >>> 10) & 0x3f, sec: (r0 >>> 4) & 0x3f };
}

describe('LS7A RTC', () => {
  it('reads the host time as TOY calendar fields once enabled, and keeps the time the guest sets', () => {
    let ns = BigInt(Date.UTC(2024, 1, 29, 23, 59, 58, 700)) * 1_000_000n;
    const rtc = new Ls7aRtc({ wallClockNs: () => ns });
    expect(rtc.read(TOY_R0, 4)).toBe(0); // TOY and oscillator off
    rtc.write(CTRL, 4, 0x2900);
    expect(unpack(rtc.read(TOY_R0, 4), rtc.read(TOY_R1, 4))).toEqual({ year: 2024, month: 2, day: 29, hour: 23, min: 59, sec: 58 });
    expect(rtc.read(TOY_R0, 4) & 0xf).toBe(7);
    ns += 1_500_000_000n; // across midnight into March
    expect(unpack(rtc.read(TOY_R0, 4), rtc.read(TOY_R1, 4))).toEqual({ year: 2024, month: 3, day: 1, hour: 0, min: 0, sec: 0 });
    // rtc-ls2x set_time: TOY_WRITE0 then TOY_WRITE1.
    rtc.write(TOY_W0, 4, (12 << 26) | (31 << 21) | (22 << 16) | (30 << 10) | (15 << 4));
    rtc.write(TOY_W1, 4, 99);
    expect(unpack(rtc.read(TOY_R0, 4), rtc.read(TOY_R1, 4))).toEqual({ year: 1999, month: 12, day: 31, hour: 22, min: 30, sec: 15 });
    ns += 60_000_000_000n;
    expect(unpack(rtc.read(TOY_R0, 4), rtc.read(TOY_R1, 4)).min).toBe(31);
    rtc.write(RTC_W0, 4, 1000);
    ns += 1_000_000_000n;
    expect(rtc.read(RTC_R0, 4)).toBe(1000 + 32768);
    expect(rtc.read(TOY_R0 + 1, 4)).toBe(0);
  });

  it("agrees with QEMU loongarch virt's LS7A RTC: control, written TOY values, and the host-clock calendar", async () => {
    const seq = [
      r(B + CTRL), r(B + TOY_R0), w(B + CTRL, 0x2900), r(B + CTRL), r(B + TOY_R0), r(B + TOY_R1),
      w(B + TOY_W0, 0x12345670), w(B + TOY_W1, 0x7b), r(B + TOY_R0), r(B + TOY_R1), w(B + CTRL, 0xffffffff), r(B + CTRL),
    ];
    const qemu = await qemuReplay('qemu-system-loongarch64', ['-M', 'virt', '-m', '1G'], seq);
    const rtc = new Ls7aRtc({ wallClockNs: () => BigInt(Date.now()) * 1_000_000n });
    const ours = seq.flatMap((a) => (a.op === 'r' ? [rtc.read(a.addr - B, 4)] : (rtc.write(a.addr - B, 4, a.value), [])));
    expect([ours[0], ours[1], ours[2]]).toEqual([qemu[0], qemu[1], qemu[2]]);
    const a = unpack(ours[3]!, ours[4]!);
    const b = unpack(qemu[3]!, qemu[4]!);
    expect({ ...a, sec: 0, min: 0 }).toEqual({ ...b, sec: 0, min: 0 });
    expect(Math.abs(a.min * 60 + a.sec - (b.min * 60 + b.sec)) % 3600).toBeLessThanOrEqual(3);
    expect(ours[5]! & ~0xf).toBe(qemu[5]! & ~0xf); // the value just written (tenths may tick)
    expect(ours.slice(6)).toEqual(qemu.slice(6));
  });
});
