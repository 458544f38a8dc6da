/**
 * QEMU as the oracle for a single-port virtio console: QEMU's virtio-serial-device with a
 * virtconsole on a TCP chardev, and our console backend on a SocketConsole, both driven without
 * MULTIPORT (port 0 on queues 0/1, as Linux's hvc0 uses it). The same client traffic must produce
 * the same used entries and bytes on both.
 */
import { connect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmioReg } from '../../src/devices/virtio/virtio-mmio.js';
import { SocketConsole } from '../../src/devices/virtio/socket-console.js';
import { VirtioConsoleBackend } from '../../src/devices/virtio/virtio-console-backend.js';
import { zoneWithMmio } from './mmio-driver.js';
import { QEMU_LAST_SLOT, QtestSession } from './qtest-session.js';

const RAM = 0x4000_0000;
const INPUT = 'x'.repeat(70) + 'END\n'; // more than one 64-byte receive buffer
const OUTPUT = 'login: ';

function connected(where: number | string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = typeof where === 'string' ? connect(where) : connect(where, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function collect(socket: Socket): { text: () => string } {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return { text: () => text };
}

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await cond()).toBe(true);
}

interface Outcome {
  clientSaw: string;
  rxUsed: [number, number][];
  rxText: string;
}

async function runQemu(): Promise<Outcome> {
  // A Unix socket in a private folder: no port another process could take before QEMU binds it.
  const path = join(mkdtempSync(join(tmpdir(), 'qemu-console-')), 'console.sock');
  // virtio-serial-device puts virtio-mmio in the last slot; its virtconsole sits on the socket chardev.
  const q = new QtestSession([
    '-chardev', `socket,id=c0,path=${path},server=on,wait=off`,
    '-device', 'virtio-serial-device', '-device', 'virtconsole,chardev=c0',
  ]);
  const slot = QEMU_LAST_SLOT;
  // QEMU listens once it answers qtest.
  expect(await q.read(slot + MmioReg.DeviceId, 4)).toBe(3);
  const client = await connected(path);
  const seen = collect(client);
  try {
    await q.zero(RAM, 0x10000);
    await q.write(slot + MmioReg.Status, 4, 0);
    await q.write(slot + MmioReg.Status, 4, 3);
    await q.write(slot + MmioReg.DriverFeaturesSel, 4, 1);
    await q.write(slot + MmioReg.DriverFeatures, 4, 1);
    await q.write(slot + MmioReg.DriverFeaturesSel, 4, 0);
    await q.write(slot + MmioReg.DriverFeatures, 4, 0); // no MULTIPORT: one port on queues 0/1
    await q.write(slot + MmioReg.Status, 4, 0xb);
    for (const qi of [0, 1]) {
      const base = RAM + 0x1000 * qi;
      await q.write(slot + MmioReg.QueueSel, 4, qi);
      await q.write(slot + MmioReg.QueueNum, 4, 8);
      for (const [reg, at] of [[MmioReg.QueueDescLow, base], [MmioReg.QueueDriverLow, base + 0x100], [MmioReg.QueueDeviceLow, base + 0x200]] as const) {
        await q.write(slot + reg, 4, at);
        await q.write(slot + reg + 4, 4, 0);
      }
      await q.write(slot + MmioReg.QueueReady, 4, 1);
    }
    await q.write(slot + MmioReg.Status, 4, 0xf);
    // Guest output.
    await q.writeBytes(RAM + 0x8000, Buffer.from(OUTPUT));
    await q.write(RAM + 0x1000, 8, RAM + 0x8000);
    await q.write(RAM + 0x1008, 4, OUTPUT.length);
    await q.write(RAM + 0x100c, 2, 0);
    await q.write(RAM + 0x1104, 2, 0);
    await q.write(RAM + 0x1102, 2, 1);
    await q.write(slot + MmioReg.QueueNotify, 4, 1);
    await until(() => seen.text() === OUTPUT);
    expect(q.log).toBe(''); // QEMU saw nothing wrong with our rings
    // Two 64-byte receive buffers, then the client types.
    for (const i of [0, 1]) {
      await q.write(RAM + 16 * i, 8, RAM + 0x9000 + 0x100 * i);
      await q.write(RAM + 16 * i + 8, 4, 64);
      await q.write(RAM + 16 * i + 12, 2, 2);
      await q.write(RAM + 0x104 + 2 * i, 2, i);
    }
    await q.write(RAM + 0x102, 2, 2);
    await q.write(slot + MmioReg.QueueNotify, 4, 0);
    client.write(INPUT);
    await until(async () => (await q.read(RAM + 0x202, 2)) === 2);
    const rxUsed: [number, number][] = [];
    let rxText = '';
    for (const i of [0, 1]) {
      const id = await q.read(RAM + 0x204 + 8 * i, 4);
      const len = await q.read(RAM + 0x208 + 8 * i, 4);
      rxUsed.push([id, len]);
      rxText += Buffer.from(await q.readBytes(RAM + 0x9000 + 0x100 * id, len)).toString('latin1');
    }
    return { clientSaw: seen.text(), rxUsed, rxText };
  } finally {
    client.destroy();
    q.close();
  }
}

async function runOurs(): Promise<Outcome> {
  const endpoint = SocketConsole.tcp(0);
  await endpoint.listening;
  const { drv } = zoneWithMmio(new VirtioConsoleBackend(endpoint));
  const client = await connected(endpoint.port!);
  await until(() => endpoint.connected);
  const seen = collect(client);
  try {
    expect(drv.negotiate(() => 1n << 32n) & 8).toBe(8);
    const rx = drv.setupQueue(0, 8);
    const tx = drv.setupQueue(1, 8);
    drv.driverOk();
    const out = drv.alloc(OUTPUT.length);
    drv.fill(out, Buffer.from(OUTPUT));
    drv.post(tx, [[out, OUTPUT.length, false]]);
    await until(() => seen.text() === OUTPUT);
    const bufs = [drv.alloc(64), drv.alloc(64)];
    drv.post(rx, [[bufs[0]!, 64, true]], { kick: false });
    drv.post(rx, [[bufs[1]!, 64, true]]);
    client.write(INPUT);
    await until(() => drv.r(rx.used + 2, 2) === 2);
    const rxUsed = drv.reap(rx);
    const rxText = rxUsed.map(([id, len]) => Buffer.from(drv.bytes(bufs[id]!, len)).toString('latin1')).join('');
    return { clientSaw: seen.text(), rxUsed, rxText };
  } finally {
    client.destroy();
    await endpoint.close();
  }
}

describe('virtio console against QEMU 7.2 virtio-serial-device + virtconsole (qtest oracle)', () => {
  it('guest output reaches the TCP client; client input fills the receive buffers the same way', async () => {
    const qemu = await runQemu();
    const ours = await runOurs();
    expect(ours).toEqual(qemu);
    expect(qemu.rxText).toBe(INPUT);
    expect(qemu.rxUsed).toEqual([[0, 64], [1, INPUT.length - 64]]);
  });
});
