import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConsoleEndpoint } from '../../src/devices/virtio/console-endpoint.js';
import { ConsoleSocketError, SocketConsole } from '../../src/devices/virtio/socket-console.js';
import { TerminalConsole } from '../../src/devices/virtio/terminal-console.js';
import { VirtioConsoleBackend } from '../../src/devices/virtio/virtio-console-backend.js';
import { zoneWithMmio, type DriverQueue, type VirtioMmioTestDriver } from './mmio-driver.js';

const tmp = mkdtempSync(join(tmpdir(), 'hvisor-vcon-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A guest with hvc0 up: RX buffers posted, TX ready, as Linux's virtio_console does at probe. */
function guestConsole(endpoint: ConsoleEndpoint) {
  const z = zoneWithMmio(new VirtioConsoleBackend(endpoint, { cols: 132, rows: 43 }));
  const { drv } = z;
  expect(drv.reg(8)).toBe(3);
  expect(drv.negotiate((f) => f) & 8).toBe(8);
  const rx = drv.setupQueue(0, 8);
  const tx = drv.setupQueue(1, 8);
  drv.driverOk();
  const rxBufs: number[] = [];
  const postRx = () => {
    const b = drv.alloc(64);
    rxBufs[drv.post(rx, [[b, 64, true]])] = b;
  };
  return { ...z, rx, tx, rxBufs, postRx };
}

function guestWrite(drv: VirtioMmioTestDriver, tx: DriverQueue, text: string): void {
  const b = drv.alloc(text.length);
  drv.fill(b, Buffer.from(text));
  drv.post(tx, [[b, text.length, false]]);
  expect(drv.reap(tx).length).toBe(1);
}

function guestRead(drv: VirtioMmioTestDriver, rx: DriverQueue, bufs: number[]): string {
  return drv.reap(rx).map(([id, len]) => Buffer.from(drv.bytes(bufs[id]!, len)).toString()).join('');
}

function received(socket: Socket, until: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(got)}`)), 5000);
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes(until)) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('virtio-console', () => {
  it('config carries the terminal size; output reaches a real TCP client, replaying what came before it connected', async () => {
    const endpoint = SocketConsole.tcp(0);
    await endpoint.listening;
    // Count the bytes the endpoint hands the device, to wait for them rather than for a time.
    let delivered = 0;
    const attach = endpoint.attach.bind(endpoint);
    endpoint.attach = (sink) => attach((bytes) => ((delivered += bytes.length), sink(bytes)));
    const { drv, tx, rx, rxBufs, postRx, irqLevels } = guestConsole(endpoint);
    expect([drv.config(0, 2), drv.config(2, 2)]).toEqual([132, 43]);
    guestWrite(drv, tx, 'boot log\r\n');
    const client = connect(endpoint.port!, '127.0.0.1');
    const early = received(client, 'login: ');
    await new Promise((r) => client.once('connect', r));
    await until(() => endpoint.connected);
    guestWrite(drv, tx, 'login: ');
    expect(await early).toBe('boot log\r\nlogin: ');

    // Keys typed before the guest posts buffers wait; then they fill them and interrupt.
    client.write('root\n');
    await until(() => delivered === 5);
    expect(irqLevels.filter((l) => l).length).toBe(1); // only the TX completions so far
    drv.ackInterrupt();
    postRx();
    expect(guestRead(drv, rx, rxBufs)).toBe('root\n');
    expect(drv.reg(0x60)).toBe(1);
    postRx();
    client.write('ls -l\n');
    await until(() => drv.r(rx.used + 2, 2) === 2);
    expect(guestRead(drv, rx, rxBufs)).toBe('ls -l\n');

    // A second client is turned away while the first is attached.
    const second = connect(endpoint.port!, '127.0.0.1');
    expect(await received(second, '\n')).toMatch(/console busy/);
    client.destroy();
    second.destroy();
    await endpoint.close();
  });

  it('serves a Unix socket too, replacing a stale socket file but refusing to clobber other files', async () => {
    const path = join(tmp, 'zone1.sock');
    const endpoint = SocketConsole.unix(path);
    await endpoint.listening;
    const { drv, tx, rx, rxBufs, postRx } = guestConsole(endpoint);
    const client = connect(path);
    await new Promise((r) => client.once('connect', r));
    await until(() => endpoint.connected);
    const out = received(client, '# ');
    guestWrite(drv, tx, '/ # ');
    expect(await out).toBe('/ # ');
    postRx();
    client.write('uname\n');
    await until(() => drv.r(rx.used + 2, 2) === 1);
    expect(guestRead(drv, rx, rxBufs)).toBe('uname\n');
    client.destroy();
    await endpoint.close();
    // The socket file left behind is replaced by the next run; a regular file is not touched.
    const again = SocketConsole.unix(path);
    await again.listening;
    await again.close();
    const plain = join(tmp, 'not-a-socket');
    writeFileSync(plain, 'data');
    expect(() => SocketConsole.unix(plain)).toThrow(ConsoleSocketError);
  });

  it('a TCP port already in use is a typed error naming the port', async () => {
    const first = SocketConsole.tcp(0);
    await first.listening;
    const clash = SocketConsole.tcp(first.port!);
    await expect(clash.listening).rejects.toThrow(new RegExp(`console tcp 127.0.0.1:${first.port}: .*EADDRINUSE`));
    await first.close();
  });

  it('the host terminal endpoint: guest output to stdout, stdin to the guest, long input split across buffers', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const term = new TerminalConsole(stdin, stdout);
    const { drv, tx, rx, rxBufs, postRx } = guestConsole(term);
    guestWrite(drv, tx, 'hello from zone1\n');
    expect(stdout.read()?.toString()).toBe('hello from zone1\n');
    postRx();
    postRx();
    stdin.write('x'.repeat(100));
    await until(() => drv.r(rx.used + 2, 2) === 2);
    const used = drv.reap(rx);
    expect(used.map((u) => u[1])).toEqual([64, 36]);
    expect(used.map(([id, len]) => Buffer.from(drv.bytes(rxBufs[id]!, len)).toString()).join('')).toBe('x'.repeat(100));
    await term.close();
  });

  it('terminal escapes: Ctrl-A x quits, Ctrl-A Ctrl-A is one Ctrl-A, Ctrl-A then a key sends both', async () => {
    const stdin = new PassThrough();
    let quits = 0;
    const term = new TerminalConsole(stdin, new PassThrough(), { onQuit: () => quits++ });
    const { drv, rx, rxBufs, postRx } = guestConsole(term);
    postRx();
    stdin.write('a\x01');
    stdin.write('x'); // the escape spans two reads
    await until(() => quits === 1);
    stdin.write('\x01\x01b\x01c');
    await until(() => drv.r(rx.used + 2, 2) === 1);
    expect([...Buffer.from(guestRead(drv, rx, rxBufs), 'latin1')]).toEqual([0x61]);
    postRx();
    await until(() => drv.r(rx.used + 2, 2) === 2);
    expect([...Buffer.from(guestRead(drv, rx, rxBufs), 'latin1')]).toEqual([0x01, 0x62, 0x01, 0x63]);
    expect(quits).toBe(1);
    await term.close();
  });
});
