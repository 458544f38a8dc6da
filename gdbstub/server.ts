import { createServer, type Server, type Socket } from 'node:net';
import { PacketEncoder } from './packet.js';
import { GdbSession } from './session.js';
import type { GdbTarget } from './target.js';

export interface GdbServerOptions {
  readonly target: GdbTarget;
  /** TCP port; 0 lets the OS pick one (read it from `port` after listen()). */
  readonly port: number;
  /**
   * Bind address: loopback (127.0.0.1) unless asked otherwise, so only local users reach the stub.
   * On a shared host, where every local user could, give `unixSocket` instead.
   */
  readonly host?: string;
  /**
   * Serve on this Unix socket instead of TCP: `bind` puts the server there (the CLI's binder makes
   * it mode 0600, owner and root only); gdb connects with `target remote PATH`.
   */
  readonly unixSocket?: { readonly path: string; readonly bind: (server: Server) => Promise<void> };
  /** Shown in refusals and logs, e.g. "zone0". */
  readonly name?: string;
  readonly packetSize?: number;
  readonly log?: (line: string) => void;
}

/**
 * One zone's gdb port: one client at a time, a second one is told who holds the port and
 * disconnected; a client leaving (detach, kill, dropped connection) frees the port for the next.
 */
export class GdbServer {
  private readonly server: Server;
  private session: GdbSession | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  readonly host: string;
  readonly name: string;

  constructor(private readonly options: GdbServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.name = options.name ?? 'zone';
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Resolves once bound; rejects with the OS error (e.g. EADDRINUSE) naming the port. */
  listen(): Promise<void> {
    const unix = this.options.unixSocket;
    if (unix !== undefined) return unix.bind(this.server);
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) =>
        reject(new Error(`${this.name}: gdb stub cannot listen on ${this.host}:${this.options.port}: ${e.code ?? e.message}`));
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.host, () => {
        this.server.removeListener('error', onError);
        const address = this.server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
        resolve();
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** The Unix socket's path when serving on one. */
  get socketPath(): string | undefined {
    return this.options.unixSocket?.path;
  }

  /** What gdb's `target remote` takes: host:port, or the Unix socket's path. */
  get address(): string {
    if (this.options.unixSocket !== undefined) return this.options.unixSocket.path;
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** True while a gdb is attached. */
  get attached(): boolean {
    return this.session !== undefined;
  }

  /** Stops listening and drops any client (its breakpoints removed, the zone left running). */
  close(): Promise<void> {
    this.endSession();
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (e) => this.options.log?.(`${this.name}: gdb connection error: ${e.message}`));
    socket.setNoDelay(true);
    if (this.session) {
      this.refuse(socket);
      return;
    }
    let session: GdbSession;
    try {
      session = new GdbSession(
        this.options.target,
        {
          write: (bytes) => {
            if (!socket.destroyed) socket.write(bytes);
          },
          end: () => socket.end(),
        },
        { packetSize: this.options.packetSize, log: this.options.log },
      );
    } catch (e) {
      this.options.log?.(`${this.name}: cannot serve gdb: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    this.session = session;
    socket.on('data', (chunk: Buffer) => session.feed(chunk));
    socket.on('close', () => {
      if (this.session === session) this.endSession();
    });
  }

  private endSession(): void {
    this.session?.close();
    this.session = undefined;
  }

  /**
   * Answers the second client's first packet with an `E.` error text (gdb prints it), then
   * closes: clearer than a silent reset.
   */
  private refuse(socket: Socket): void {
    const message = `E.${this.name} already has a debugger attached on ${this.address}; detach it first`;
    const encoder = new PacketEncoder(256);
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      if (done || !chunk.includes(0x23 /* '#' */)) return;
      done = true;
      socket.write('+');
      socket.end(encoder.text(message));
    });
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}
