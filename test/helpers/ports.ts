import { existsSync, lstatSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * A TCP or UDP port on 127.0.0.1 that was free a moment ago (the OS picked it). Tests use onFreePort;
 * a benchmark may use it bare (a lost race there fails one run, never a test).
 */
export function portFreeAMomentAgo(kind: 'tcp' | 'udp'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (kind === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        const port = socket.address().port;
        socket.close(() => resolve(port));
      });
      return;
    }
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const PORT_TAKEN = /EADDRINUSE|Address already in use/;

/**
 * Runs `use` with a port on 127.0.0.1 that something else (QEMU, our own endpoint) must bind later,
 * when the port cannot be held open until then. Another process may take it in between: `use` is
 * then tried again with a new port, so that race never fails a test; any other error is thrown.
 */
export async function onFreePort<T>(use: (port: number) => Promise<T>, kind: 'tcp' | 'udp' = 'tcp', attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await portFreeAMomentAgo(kind);
    try {
      return await use(port);
    } catch (e) {
      if (attempt >= attempts || !PORT_TAKEN.test(e instanceof Error ? e.message : String(e))) throw e;
    }
  }
}

/**
 * A Unix socket for `qemu-system-* -S -gdb`, in a private folder: no port another process can hold
 * or take between our pick and QEMU's bind, so gdb can only ever reach the QEMU this test started.
 * `ready()` waits for QEMU to create it (without connecting: QEMU serves one gdb). `parent` is where
 * the private folder goes (a gdb in a chroot needs it inside its root).
 */
export function qemuGdbSocket(parent = tmpdir()): { path: string; qemuArg: string; ready: (timeoutMs?: number) => Promise<void> } {
  const path = join(mkdtempSync(join(parent, 'qemu-gdb-')), 'gdb.sock');
  return {
    path,
    qemuArg: `unix:${path},server=on,wait=off`,
    async ready(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(path) || !lstatSync(path).isSocket()) {
        if (Date.now() > deadline) throw new Error(`QEMU did not create its gdb socket ${path} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/**
 * Waits until some process listens on 127.0.0.1:`port` (e.g. QEMU's -gdb socket), by reading the
 * kernel's socket table: connecting to probe would be a client QEMU reacts to.
 */
export async function waitForListener(port: number, timeoutMs = 10_000): Promise<void> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n');
    // Columns: sl local_address rem_address st …; LISTEN is state 0A.
    if (table.split('\n').some((l) => { const c = l.trim().split(/\s+/); return c[1]?.endsWith(`:${hexPort}`) && c[3] === '0A'; })) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
