import { createServer, type Server, type Socket } from 'node:net';
import { listenPrivate } from '../../util/private-socket.js';
import type { Hypervisor } from '../lifecycle/hypervisor.js';
import { prefetchZoneFiles } from '../lifecycle/zone-images.js';
import { MAX_CONTROL_LINE, parseControlRequest, type ControlAddress, type ControlRequest, type ControlResponse } from './control-protocol.js';
import { Errno, errnoOf } from '../../util/hvisor-error.js';

/** Replies waiting for a client that does not read them: past this the client is dropped. */
export const MAX_REPLY_BACKLOG = 256 * 1024;
/** Clients connected at once; more are refused (each holds a descriptor). */
export const MAX_CONTROL_CLIENTS = 32;
/** A client silent this long is disconnected. */
const IDLE_MS = 60_000;

/**
 * Serves `hvisor zone list|start|shutdown|restart` for a running hypervisor over a Unix socket that
 * only its owner's uid and root can connect to (mode 0600; see listenPrivate for why a socket file
 * and how). Never unlinks anything but a stale socket; refuses a path a live instance serves.
 */
export class ControlServer {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();

  private constructor(
    private readonly hv: Hypervisor,
    readonly address: ControlAddress,
    /**
     * Told of each lifecycle command just before it takes effect (a recording notes it); throwing
     * refuses the command (a replay's zones follow their log).
     */
    private readonly lifecycle?: (request: Exclude<ControlRequest, { cmd: 'list' }>) => void,
  ) {
    this.server = createServer((socket) => this.serve(socket));
    this.server.maxConnections = MAX_CONTROL_CLIENTS;
  }

  static async listen(hv: Hypervisor, address: ControlAddress, lifecycle?: (request: Exclude<ControlRequest, { cmd: 'list' }>) => void): Promise<ControlServer> {
    const s = new ControlServer(hv, address, lifecycle);
    await listenPrivate(s.server, address.path, 'control socket');
    return s;
  }

  get bound(): ControlAddress {
    return this.address;
  }

  close(): Promise<void> {
    for (const c of this.clients) c.destroy();
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
    if (typeof request === 'string') return { ok: false, error: request, errno: Errno.EINVAL };
    if (request.cmd === 'start') {
      return prefetchZoneFiles(request.file).then(
        async (read): Promise<ControlResponse> => {
          try {
            this.lifecycle?.(request);
            const zone = this.hv.startZoneFile(request.file, read);
            // A device endpoint that cannot be set up (a port in use) refuses the start.
            await this.hv.ready(zone);
            return { ok: true, zones: this.hv.list(), message: `zone ${zone.id} (${zone.name}) started` };
          } catch (e) {
            return refusal(e);
          }
        },
        refusal,
      );
    }
    return this.answer(() => this.apply(request));
  }

  private answer(act: () => string | undefined): ControlResponse {
    try {
      const message = act();
      return { ok: true, zones: this.hv.list(), ...(message && { message }) };
    } catch (e) {
      return refusal(e);
    }
  }

  private apply(r: Exclude<ControlRequest, { cmd: 'start' }>): string | undefined {
    switch (r.cmd) {
      case 'list':
        return undefined;
      case 'shutdown':
        if (r.id !== 0 && this.hv.zone(r.id) !== undefined) this.lifecycle?.(r);
        this.hv.shutdownZone(r.id);
        return `zone ${r.id} shut down`;
      case 'restart':
        if (this.hv.zone(r.id) !== undefined) this.lifecycle?.(r);
        this.hv.restartZone(r.id);
        return `zone ${r.id} restarted`;
    }
  }
}

/** A refused request: the error's message and its errno (HvisorError's, EINVAL for the rest). */
function refusal(e: unknown): ControlResponse {
  return { ok: false, error: (e as Error).message, errno: errnoOf(e) };
}
