import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { HvisorError } from '../../util/hvisor-error.js';

export class UdpLinkError extends HvisorError {}

export interface UdpEndpoint {
  readonly address: string;
  readonly port: number;
}

const MAX_FRAME = 65507;

/**
 * An Ethernet cable between two hvisor-ts instances: each frame is one UDP datagram to the peer
 * (QEMU's `-netdev dgram`/`socket,udp=` idea). Datagrams from anyone but the configured peer are
 * ignored. Bind to 127.0.0.1 unless the instances really are on different hosts.
 */
export class UdpNetLink {
  /** Resolves once bound; rejects with a UdpLinkError naming the address. */
  readonly ready: Promise<void>;
  readonly stats = { sent: 0, received: 0, ignored: 0 };
  /** The last socket error after binding (e.g. a send that failed), for the monitor. */
  lastError: string | undefined;
  private readonly socket: Socket;
  private deliver: ((frame: Uint8Array) => void) | undefined;
  private peer: UdpEndpoint | undefined;
  private closed = false;

  constructor(local: UdpEndpoint, peer?: UdpEndpoint) {
    this.peer = peer;
    this.socket = createSocket(local.address.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (msg: Buffer, from: RemoteInfo) => this.message(msg, from));
    this.ready = new Promise((resolve, reject) => {
      // Before binding an error is the caller's (port in use); after, it is recorded, never fatal.
      this.socket.on('error', (e) => {
        this.lastError = e.message;
        reject(new UdpLinkError(`udp link ${local.address}:${local.port}: ${e.message}`));
      });
      this.socket.bind(local.port, local.address, () => resolve());
    });
  }

  /** The local port actually bound (useful with port 0). */
  get localPort(): number {
    return this.socket.address().port;
  }

  /** Sets the other instance's address (when it was not known at construction). */
  connectTo(peer: UdpEndpoint): void {
    this.peer = peer;
  }

  /** Where received frames go (a switch port's `send`, or a NIC's `receive`). */
  onFrame(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.peer === undefined || frame.length > MAX_FRAME) return;
    this.stats.sent++;
    // The send completes later and callers reuse their buffer: hand the socket its own copy.
    this.socket.send(Buffer.from(frame), this.peer.port, this.peer.address, (e) => {
      if (e !== null) this.lastError = e.message;
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true; // a guest still transmitting after this is dropped, not an exception
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private message(msg: Buffer, from: RemoteInfo): void {
    const p = this.peer;
    if (p === undefined || from.port !== p.port || from.address !== p.address) {
      this.stats.ignored++;
      return;
    }
    this.stats.received++;
    this.deliver?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
  }
}
