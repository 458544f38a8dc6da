import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { guestView } from '../helpers/guest-view.js';
import { SifiveTest } from '../../src/devices/platform/sifive-test.js';
import { Pl031 } from '../../src/devices/platform/pl031.js';
import { GoldfishRtc } from '../../src/devices/platform/goldfish-rtc.js';
import { tool } from '../helpers/fixtures.js';
import { qemuReplay, r, TestIrq, w } from './qtest.js';

/** QEMU's exit status after a guest write to the riscv virt test finisher (it exits by itself). */
function qemuFinisherExit(value: number): number | null {
  const res = spawnSync(
    tool('qemu-system-riscv64'),
    ['-M', 'virt', '-m', '128M', '-S', '-display', 'none', '-nodefaults', '-qtest', 'stdio', '-qtest-log', '/dev/null'],
    { input: `writel 0x100000 0x${value.toString(16)}\n`, encoding: 'utf8', timeout: 20_000 },
  );
  return res.status;
}

describe('sifive,test finisher', () => {
  it('powers off with the same exit code QEMU exits with (pass 0, fail with code), resets on 0x7777', () => {
    const events: string[] = [];
    const dev = guestView(new SifiveTest({ powerOff: (c) => events.push(`off ${c}`), reset: () => events.push('reset') }));
    for (const v of [0x5555, (42 << 16) | 0x3333]) {
      dev.write(0, 4, v);
      expect(events.pop()).toBe(`off ${qemuFinisherExit(v)}`);
    }
    dev.write(0, 4, 0x7777);
    expect(events.pop()).toBe('reset');
    dev.write(0, 2, 0x5555);
    dev.write(4, 4, 0x5555);
    dev.write(0, 4, 0x1234);
    expect(events).toEqual([]);
    expect(dev.read(0, 4)).toBe(0);
  });
});

describe('PL031 RTC', () => {
  it('counts host seconds, loads, matches and interrupts as rtc-pl031 expects', () => {
    let ns = 1_700_000_000n * 1_000_000_000n;
    const irq = new TestIrq();
    const rtc = new Pl031({ irq, wallClockNs: () => ns });
    expect(rtc.read(0x00, 4)).toBe(1_700_000_000);
    rtc.write(0x08, 4, 1000); // set the time
    expect(rtc.read(0x00, 4)).toBe(1000);
    ns += 3_000_000_000n;
    expect(rtc.read(0x00, 4)).toBe(1003);
    rtc.write(0x04, 4, 1005);
    rtc.write(0x10, 4, 1);
    ns += 1_000_000_000n;
    rtc.poll();
    expect(irq.level).toBe(false);
    ns += 1_500_000_000n;
    rtc.poll();
    expect(irq.level).toBe(true);
    expect(rtc.read(0x18, 4)).toBe(1);
    rtc.write(0x1c, 4, 1);
    expect(irq.level).toBe(false);
    expect(rtc.read(0x0e, 4)).toBe(0);
  });

  it("matches QEMU virt's PL031 (IDs, control, mask, match) and its clock agrees with the host's", async () => {
    const B = 0x9010000;
    const seq = [
      ...[0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map((o) => r(B + o)),
      r(B + 0x0c), r(B + 0x10), r(B + 0x14), r(B + 0x18), r(B + 0x04),
      w(B + 0x10, 0xff), r(B + 0x10), w(B + 0x04, 0x1234), r(B + 0x04), w(B + 0x0c, 0), r(B + 0x0c),
    ];
    const qemu = await qemuReplay('qemu-system-aarch64', ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '128M'], seq);
    const rtc = new Pl031({ irq: new TestIrq(), wallClockNs: () => BigInt(Date.now()) * 1_000_000n });
    const ours = seq.flatMap((a) => (a.op === 'r' ? [rtc.read(a.addr - B, a.size)] : (rtc.write(a.addr - B, a.size, a.value), [])));
    expect(ours).toEqual(qemu);
    const [qemuNow] = await qemuReplay('qemu-system-aarch64', ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '128M'], [r(B)]);
    expect(Math.abs(qemuNow! - rtc.read(0, 4))).toBeLessThanOrEqual(2);
  });
});

describe('goldfish RTC', () => {
  it('reads 64-bit ns time with TIME_LOW latching TIME_HIGH, sets time, fires the alarm once enabled', () => {
    let ns = 0x1_2345_6789n;
    const irq = new TestIrq();
    const rtc = new GoldfishRtc({ irq, wallClockNs: () => ns });
    expect(rtc.read(0x00, 4)).toBe(0x2345_6789);
    ns += 0x1_0000_0000n;
    expect(rtc.read(0x04, 4)).toBe(1); // latched at the TIME_LOW read
    rtc.write(0x04, 4, 0x10); // goldfish_rtc_set_time: high, then low
    rtc.write(0x00, 4, 0);
    expect(rtc.read(0x00, 4)).toBe(0);
    expect(rtc.read(0x04, 4)).toBe(0x10);
    rtc.write(0x0c, 4, 0x10);
    rtc.write(0x08, 4, 1000);
    rtc.write(0x10, 4, 1);
    expect(rtc.read(0x18, 4)).toBe(1);
    expect(rtc.nextDeadlineNs()).toBe(ns + 1000n);
    ns += 999n;
    rtc.poll();
    expect(irq.level).toBe(false);
    ns += 1n;
    rtc.poll();
    expect(irq.level).toBe(true);
    expect(rtc.read(0x18, 4)).toBe(0);
    rtc.write(0x1c, 4, 1);
    expect(irq.level).toBe(false);
    expect(rtc.read(0x2, 4)).toBe(0);
  });

  it("agrees with QEMU riscv virt's goldfish RTC: register resets and the host-clock time", async () => {
    const B = 0x101000;
    const seq = [r(B + 0x10), r(B + 0x18), r(B + 0x08), r(B + 0x0c), w(B + 0x10, 0xff), r(B + 0x10), r(B), r(B + 4)];
    const qemu = await qemuReplay('qemu-system-riscv64', ['-M', 'virt', '-m', '128M'], seq);
    const rtc = new GoldfishRtc({ irq: new TestIrq(), wallClockNs: () => BigInt(Date.now()) * 1_000_000n });
    const ours = seq.flatMap((a) => (a.op === 'r' ? [rtc.read(a.addr - B, a.size)] : (rtc.write(a.addr - B, a.size, a.value), [])));
    expect(ours.slice(0, 5)).toEqual(qemu.slice(0, 5));
    const t = (v: number[]) => (BigInt(v[6]!) << 32n) | BigInt(v[5]!);
    const diff = t(ours) - t(qemu);
    expect(diff < 0n ? -diff : diff).toBeLessThan(5_000_000_000n);
  });
});
