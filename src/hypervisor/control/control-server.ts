import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import type { Hypervisor } from '../lifecycle/hypervisor.js';
import { MAX_CONTROL_LINE, parseControlRequest, type ControlAddress, type ControlRequest, type ControlResponse } from './control-protocol.js';

/** Serves `hvisor zone list|start|shutdown|restart` for a running hypervisor. */
export class ControlServer {
  private readonly server: Server;

  private constructor(
    private readonly hv: Hypervisor,
    readonly address: ControlAddress,
  ) {
    this.server = createServer((socket) => this.serve(socket));
  }

  /** Listens on a Unix socket path (a stale socket file is replaced) or 127.0.0.1:port (0 = any). */
  static async listen(hv: Hypervisor, address: ControlAddress): Promise<ControlServer> {
    const s = new ControlServer(hv, address);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      if ('path' in address) {
        if (existsSync(address.path)) unlinkSync(address.path);
        s.server.listen(address.path, () => resolve());
      } else {
        s.server.listen(address.port, '127.0.0.1', () => resolve());
      }
    });
    return s;
  }

  /** The bound address (the real port when 0 was asked for). */
  get bound(): ControlAddress {
    const a = this.server.address();
    if (a !== null && typeof a === 'object') return { port: a.port };
    return this.address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line !== '') socket.write(JSON.stringify(this.handle(line)) + '\n');
      }
      if (buffered.length > MAX_CONTROL_LINE) {
        socket.end(JSON.stringify({ ok: false, error: `request longer than ${MAX_CONTROL_LINE} bytes` }) + '\n');
        buffered = '';
      }
    });
  }

  handle(line: string): ControlResponse {
    const request = parseControlRequest(line);
    if (typeof request === 'string') return { ok: false, error: request };
    try {
      const message = this.apply(request);
      return { ok: true, zones: this.hv.list(), ...(message && { message }) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  private apply(r: ControlRequest): string | undefined {
    switch (r.cmd) {
      case 'list':
        return undefined;
      case 'start': {
        const zone = this.hv.startZoneFile(r.file);
        return `zone ${zone.id} (${zone.name}) started`;
      }
      case 'shutdown':
        this.hv.shutdownZone(r.id);
        return `zone ${r.id} shut down`;
      case 'restart':
        this.hv.restartZone(r.id);
        return `zone ${r.id} restarted`;
    }
  }
}
