import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { UdpLinkError, UdpNetLink } from '../../src/devices/virtio/udp-net-link.js';
import type { VirtioNetBackend } from '../../src/devices/virtio/virtio-net-backend.js';
import { VirtualSwitch } from '../../src/devices/virtio/virtual-switch.js';
import { zoneWithMmio } from './mmio-driver.js';

const HDR = 12;
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const macs = {
  a: [0x52, 0x54, 0x00, 0x00, 0x00, 0x0a],
  b: [0x52, 0x54, 0x00, 0x00, 0x00, 0x0b],
  c: [0x52, 0x54, 0x00, 0x00, 0x00, 0x0c],
};

/** A zone whose virtio-net driver is up with `rxBuffers` receive buffers posted. */
function zoneNic(nic: VirtioNetBackend, rxBuffers = 4) {
  const { drv, irqLevels } = zoneWithMmio(nic);
  expect(drv.reg(8)).toBe(1);
  expect(drv.negotiate((f) => f) & 8).toBe(8);
  const mac = [0, 1, 2, 3, 4, 5].map((i) => drv.config(i, 1));
  const rx = drv.setupQueue(0, 16);
  const tx = drv.setupQueue(1, 16);
  drv.driverOk();
  const rxBufs: number[] = [];
  for (let i = 0; i < rxBuffers; i++) {
    const b = drv.alloc(HDR + 1514);
    rxBufs[drv.post(rx, [[b, HDR + 1514, true]])] = b;
  }
  return {
    mac,
    irqLevels,
    send(frame: Uint8Array): void {
      const b = drv.alloc(HDR + frame.length);
      drv.fill(b, new Uint8Array(HDR));
      drv.fill(b + HDR, frame);
      drv.post(tx, [[b, HDR, false], [b + HDR, frame.length, false]]);
      expect(drv.reap(tx).length).toBe(1);
    },
    /** Frames the device put in our receive buffers since last asked. */
    inbox(): Uint8Array[] {
      return drv.reap(rx).map(([id, len]) => drv.bytes(rxBufs[id]! + HDR, len - HDR));
    },
  };
}

/** An ARP request / reply shaped frame: dst, src, ethertype 0x0806, a 28-byte payload. */
function frame(dst: number[], src: number[], tag: number): Uint8Array {
  const f = new Uint8Array(42);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[13] = 0x06;
  f.fill(tag, 14);
  return f;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('virtio-net on the virtual switch (no root)', () => {
  it('floods broadcast, learns MACs, then forwards unicast to one port only', () => {
    const sw = new VirtualSwitch();
    const a = zoneNic(sw.nic('zone0', macs.a));
    const b = zoneNic(sw.nic('zone1', macs.b));
    const c = zoneNic(sw.nic('zone2', macs.c));
    expect(a.mac).toEqual(macs.a);
    // "Who has 10.0.0.2?" from A reaches B and C, not A itself.
    const request = frame(BROADCAST, macs.a, 1);
    a.send(request);
    expect(b.inbox()).toEqual([request]);
    expect(c.inbox()).toEqual([request]);
    expect(a.inbox()).toEqual([]);
    expect(sw.portOf(macs.a)).toBe('zone0');
    // B's reply is unicast to a learned MAC: only A sees it.
    const reply = frame(macs.a, macs.b, 2);
    b.send(reply);
    expect(a.inbox()).toEqual([reply]);
    expect(c.inbox()).toEqual([]);
    // Now both are learned: A → B skips C; unicast to an unknown MAC floods.
    a.send(frame(macs.b, macs.a, 3));
    expect(b.inbox().map((f) => f[14])).toEqual([3]);
    expect(c.inbox()).toEqual([]);
    a.send(frame([0x52, 0x54, 0, 0, 0, 0x99], macs.a, 4));
    expect(b.inbox().map((f) => f[14])).toEqual([4]);
    expect(c.inbox().map((f) => f[14])).toEqual([4]);
  });

  it('a NIC without posted buffers drops (counted) instead of blocking the switch; runts are dropped', () => {
    const sw = new VirtualSwitch();
    const nicB = sw.nic('zone1', macs.b);
    const a = zoneNic(sw.nic('zone0', macs.a));
    const b = zoneNic(nicB, 1);
    a.send(frame(BROADCAST, macs.a, 1));
    a.send(frame(BROADCAST, macs.a, 2));
    expect(b.inbox().map((f) => f[14])).toEqual([1]);
    expect(nicB.dropped).toBe(1);
    const port = sw.attach('probe', () => {});
    port.send(new Uint8Array(10));
    expect(port.stats.dropped).toBe(1);
  });
});

describe('virtio-net link status', () => {
  it('pulling the cable: status 0, a config interrupt with a new generation, frames lost both ways', () => {
    const sw = new VirtualSwitch();
    const nicA = sw.nic('zone0', macs.a);
    const a = zoneWithMmio(nicA);
    const b = zoneNic(sw.nic('zone1', macs.b));
    expect(a.drv.negotiate((f) => f) & 8).toBe(8);
    const tx = a.drv.setupQueue(1, 8);
    a.drv.driverOk();
    expect(a.drv.config(6, 2)).toBe(1);
    nicA.setLink(false);
    expect(a.drv.config(6, 2)).toBe(0);
    expect(a.drv.reg(0xfc)).toBe(1); // ConfigGeneration
    expect(a.drv.ackInterrupt()).toBe(2);
    const f = a.drv.alloc(12 + 42);
    a.drv.fill(f + 12, frame(BROADCAST, macs.a, 5));
    a.drv.post(tx, [[f, 54, false]]);
    expect(a.drv.reap(tx).length).toBe(1); // consumed...
    expect(b.inbox()).toEqual([]); // ...but never on the wire
    expect(nicA.receive(frame(macs.a, macs.b, 6))).toBe(false);
    nicA.setLink(true);
    expect(a.drv.config(6, 2)).toBe(1);
    expect(a.drv.reg(0xfc)).toBe(2);
  });
});

describe('virtio-net over UDP between two instances (loopback)', () => {
  it('two boards, each a switch with a NIC and a UDP uplink: frames cross both ways', async () => {
    const link1 = new UdpNetLink({ address: '127.0.0.1', port: 0 });
    const link2 = new UdpNetLink({ address: '127.0.0.1', port: 0 });
    await Promise.all([link1.ready, link2.ready]);
    link1.connectTo({ address: '127.0.0.1', port: link2.localPort });
    link2.connectTo({ address: '127.0.0.1', port: link1.localPort });
    const board1 = new VirtualSwitch();
    const board2 = new VirtualSwitch();
    const up1 = board1.attach('udp', (f) => link1.send(f));
    const up2 = board2.attach('udp', (f) => link2.send(f));
    link1.onFrame((f) => up1.send(f));
    link2.onFrame((f) => up2.send(f));
    const a = zoneNic(board1.nic('zone0', macs.a));
    const b = zoneNic(board2.nic('zone0', macs.b));

    const hello = frame(BROADCAST, macs.a, 7);
    a.send(hello);
    let got: Uint8Array[] = [];
    await until(() => (got = got.concat(b.inbox())).length === 1);
    expect(got).toEqual([hello]);
    const answer = frame(macs.a, macs.b, 8);
    b.send(answer);
    got = [];
    await until(() => (got = got.concat(a.inbox())).length === 1);
    expect(got).toEqual([answer]);
    expect(board2.portOf(macs.a)).toBe('udp');

    // A stranger's datagram aimed at link 2 is ignored.
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.send(frame(BROADCAST, macs.c, 9), link2.localPort, '127.0.0.1', () => r()));
    await until(() => link2.stats.ignored === 1);
    expect(b.inbox()).toEqual([]);
    stranger.close();
    await Promise.all([link1.close(), link2.close()]);
    a.send(frame(BROADCAST, macs.a, 10)); // after shutdown: dropped, no exception
    expect(link1.stats.sent).toBe(1);
  });

  it('binding a port in use is a typed error naming it', async () => {
    const first = new UdpNetLink({ address: '127.0.0.1', port: 0 });
    await first.ready;
    const clash = new UdpNetLink({ address: '127.0.0.1', port: first.localPort });
    await expect(clash.ready).rejects.toThrow(UdpLinkError);
    await first.close();
  });
});
