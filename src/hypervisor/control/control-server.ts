import { createServer, connect, type Server, type Socket } from 'node:net';
import { chmodSync, linkSync, lstatSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Hypervisor } from '../lifecycle/hypervisor.js';
import { prefetchZoneFiles } from '../lifecycle/zone-images.js';
import { MAX_CONTROL_LINE, parseControlRequest, type ControlAddress, type ControlRequest, type ControlResponse } from './control-protocol.js';

/** Replies waiting for a client that does not read them: past this the client is dropped. */
export const MAX_REPLY_BACKLOG = 256 * 1024;
/** Clients connected at once; more are refused (each holds a descriptor). */
export const MAX_CONTROL_CLIENTS = 32;
/** A client silent this long is disconnected. */
const IDLE_MS = 60_000;

/** The control socket cannot be set up at the path asked for. */
export class ControlSocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlSocketError';
  }
}

/**
 * Serves `hvisor zone list|start|shutdown|restart` for a running hypervisor over a Unix socket.
 *
 * Who may connect: the owner's uid and root. Node 20 has no SO_PEERCRED without a native addon, so
 * the kernel checks it for us through the socket file: connecting to a Unix socket needs write
 * permission on it, and ours is mode 0600 from the moment it has its name. It is bound inside a
 * fresh 0700 directory, chmod-ed there, then hard-linked to the path asked for (link() fails if
 * anything exists there, so nothing is ever replaced), so no other user can reach it in between.
 * An abstract socket would have no permissions at all, and TCP on 127.0.0.1 is open to every local
 * user: neither is offered.
 *
 * At the path: nothing, or a stale socket (no one answers: removed), is fine; a live server (a
 * second instance) or anything that is not a socket (a regular file, a folder) is refused.
 */
export class ControlServer {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();
  /** The inode of our socket at `address.path`, so close() removes only ours. */
  private inode = -1;

  private constructor(
    private readonly hv: Hypervisor,
    readonly address: ControlAddress,
  ) {
    this.server = createServer((socket) => this.serve(socket));
    this.server.maxConnections = MAX_CONTROL_CLIENTS;
  }

  static async listen(hv: Hypervisor, address: ControlAddress): Promise<ControlServer> {
    const s = new ControlServer(hv, address);
    await claimPath(address.path);
    const privateDir = mkdtempSync(join(dirname(address.path), `.${basename(address.path)}-`));
    const bindPath = join(privateDir, 's');
    try {
      await new Promise<void>((resolve, reject) => {
        s.server.once('error', reject);
        s.server.listen(bindPath, () => {
          s.server.removeListener('error', reject);
          resolve();
        });
      });
      chmodSync(bindPath, 0o600);
      try {
        linkSync(bindPath, address.path);
      } catch (e) {
        throw new ControlSocketError(`${address.path}: cannot create the control socket (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; another instance may have just taken it)`);
      }
      s.inode = statSync(address.path).ino;
    } catch (e) {
      s.server.close();
      throw e instanceof ControlSocketError ? e : new ControlSocketError(`${address.path}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
    return s;
  }

  get bound(): ControlAddress {
    return this.address;
  }

  close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    try {
      if (statSync(this.address.path).ino === this.inode) unlinkSync(this.address.path);
    } catch {
      // already gone
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * One client: requests are answered in order, one at a time (a `start` reads its files off the
   * event loop, and the client's input waits meanwhile); replies a client does not read are
   * bounded by MAX_REPLY_BACKLOG.
   */
  private serve(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.setEncoding('utf8');
    let buffered = '';
    let busy = false;
    const reply = (response: ControlResponse) => {
      if (socket.destroyed) return;
      socket.write(JSON.stringify(response) + '\n');
      if (socket.writableLength > MAX_REPLY_BACKLOG) socket.destroy();
    };
    const pump = () => {
      while (!busy && !socket.destroyed) {
        const nl = buffered.indexOf('\n');
        if (nl < 0) break;
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        const answer = this.handle(line);
        if (!(answer instanceof Promise)) {
          reply(answer);
          continue;
        }
        busy = true;
        socket.pause();
        void answer.then((a) => {
          busy = false;
          reply(a);
          socket.resume();
          pump();
        });
      }
      if (buffered.length > MAX_CONTROL_LINE) {
        socket.end(JSON.stringify({ ok: false, error: `request longer than ${MAX_CONTROL_LINE} bytes` }) + '\n');
        buffered = '';
      }
    };
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      pump();
    });
  }

  /** The answer to one request line (a promise for `start`, which reads files). */
  handle(line: string): ControlResponse | Promise<ControlResponse> {
    const request = parseControlRequest(line);
    if (typeof request === 'string') return { ok: false, error: request };
    if (request.cmd === 'start') {
      return prefetchZoneFiles(request.file).then(
        (read) => this.answer(() => {
          const zone = this.hv.startZoneFile(request.file, read);
          return `zone ${zone.id} (${zone.name}) started`;
        }),
        (e: Error) => ({ ok: false, error: e.message }),
      );
    }
    return this.answer(() => this.apply(request));
  }

  private answer(act: () => string | undefined): ControlResponse {
    try {
      const message = act();
      return { ok: true, zones: this.hv.list(), ...(message && { message }) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  private apply(r: Exclude<ControlRequest, { cmd: 'start' }>): string | undefined {
    switch (r.cmd) {
      case 'list':
        return undefined;
      case 'shutdown':
        this.hv.shutdownZone(r.id);
        return `zone ${r.id} shut down`;
      case 'restart':
        this.hv.restartZone(r.id);
        return `zone ${r.id} restarted`;
    }
  }
}

/**
 * Makes `path` free for a new socket: nothing there, or a stale socket (removed). A live server
 * or anything that is not a socket is refused; nothing else is ever unlinked.
 */
async function claimPath(path: string): Promise<void> {
  let kind: 'socket' | 'other';
  try {
    kind = lstatSync(path).isSocket() ? 'socket' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ControlSocketError(`${path}: cannot use it as the control socket (${(e as NodeJS.ErrnoException).code})`);
  }
  if (kind === 'other') throw new ControlSocketError(`${path}: exists and is not a socket; not removing it (give another --control path)`);
  const answer = await new Promise<string>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve('live');
    });
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  if (answer === 'ECONNREFUSED') {
    unlinkSync(path);
    return;
  }
  if (answer === 'live') throw new ControlSocketError(`${path}: another hvisor is running with this control socket (stop it, or give another --control path)`);
  throw new ControlSocketError(`${path}: a socket that cannot be probed (${answer}); not removing it (give another --control path)`);
}
