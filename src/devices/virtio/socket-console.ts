import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ConsoleEndpoint } from './console-endpoint.js';
import { HvisorError } from '../../util/hvisor-error.js';

/** Guest output kept for the next client while nobody is connected (the boot log, typically). */
const BACKLOG = 64 * 1024;

export class ConsoleSocketError extends HvisorError {}

/**
 * A zone console served on a TCP port (loopback by default) or a Unix socket, one client at a
 * time, like `telnet localhost 4321` or `socat - UNIX-CONNECT:zone1.sock`. Output produced while
 * no client is attached is kept (bounded) and replayed to the next one; a second client is told
 * the console is busy and closed.
 */
export class SocketConsole implements ConsoleEndpoint {
  /** Resolves once the socket accepts connections; rejects with a ConsoleSocketError. */
  readonly listening: Promise<void>;
  /** The last socket error after listening, for the monitor. */
  lastError: string | undefined;
  private readonly server: Server;
  private client: Socket | undefined;
  private sink: ((bytes: Uint8Array) => void) | undefined;
  private backlog: Buffer[] = [];
  private backlogBytes = 0;

  static tcp(port: number, host = '127.0.0.1'): SocketConsole {
    return new SocketConsole({ port, host }, host);
  }

  static unix(path: string): SocketConsole {
    // listen() would say EACCES ("permission denied") for a folder that is not there.
    if (!existsSync(dirname(path))) throw new ConsoleSocketError(`console unix ${path}: folder ${dirname(path)} does not exist`);
    // A stale socket file from an earlier run would make listen fail; anything else is not ours.
    if (existsSync(path)) {
      if (!lstatSync(path).isSocket()) throw new ConsoleSocketError(`console socket path ${path} exists and is not a socket`);
      unlinkSync(path);
    }
    return new SocketConsole({ path }, undefined);
  }

  private constructor(
    private readonly where: { port: number; host: string } | { path: string },
    private readonly host: string | undefined,
  ) {
    this.server = createServer((socket) => this.accept(socket));
    const description = this.description;
    this.listening = new Promise((resolve, reject) => {
      // Before listening an error is the caller's (port in use); after, it is recorded, never fatal.
      this.server.on('error', (e) => {
        this.lastError = e.message;
        reject(new ConsoleSocketError(`console ${description}: ${e.message}`));
      });
      this.server.listen(where, () => resolve());
    });
  }

  /** "tcp 127.0.0.1:4321" (the port actually bound, once listening) or "unix /path". */
  get description(): string {
    if ('path' in this.where) return `unix ${this.where.path}`;
    return `tcp ${this.host}:${this.port ?? this.where.port}`;
  }

  /** The TCP port actually bound (useful with port 0), or undefined for a Unix socket. */
  get port(): number | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? (a as AddressInfo).port : undefined;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  write(bytes: Uint8Array): void {
    if (this.client !== undefined) {
      this.client.write(bytes);
      return;
    }
    this.backlog.push(Buffer.from(bytes));
    this.backlogBytes += bytes.length;
    while (this.backlogBytes > BACKLOG && this.backlog.length > 0) this.backlogBytes -= this.backlog.shift()!.length;
  }

  attach(sink: (bytes: Uint8Array) => void): void {
    this.sink = sink;
  }

  close(): Promise<void> {
    this.client?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.client !== undefined) {
      socket.end('console busy: another client is attached\r\n');
      return;
    }
    this.client = socket;
    socket.setNoDelay(true);
    for (const chunk of this.backlog) socket.write(chunk);
    this.backlog = [];
    this.backlogBytes = 0;
    socket.on('data', (chunk: Buffer) => this.sink?.(new Uint8Array(chunk)));
    const gone = (): void => {
      if (this.client === socket) this.client = undefined;
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }
}
