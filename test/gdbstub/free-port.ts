import { existsSync, lstatSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
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

/**
 * A Unix socket for `qemu-system-* -S -gdb`, in a private folder: no port another process can hold
 * or take between our pick and QEMU's bind, so gdb can only ever reach the QEMU this test started.
 * `ready()` waits for QEMU to create it (without connecting: QEMU serves one gdb).
 */
export function qemuGdbSocket(): { path: string; qemuArg: string; ready: (timeoutMs?: number) => Promise<void> } {
  const path = join(mkdtempSync(join(tmpdir(), 'qemu-gdb-')), 'gdb.sock');
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
