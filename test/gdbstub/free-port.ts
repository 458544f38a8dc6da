import { existsSync, readFileSync } from 'node:fs';
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
