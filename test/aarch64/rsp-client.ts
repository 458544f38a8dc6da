/** A minimal GDB remote-serial-protocol client (acks on), enough to drive QEMU's gdbstub step by step. */
import { Socket, createConnection } from 'node:net';

export class RspClient {
  private buffer = '';
  private waiters: ((packet: string) => void)[] = [];
  private readonly packets: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.receive(chunk));
  }

  static connect(port: number, attempts = 100): Promise<RspClient> {
    return new Promise((resolve, reject) => {
      const tryOnce = (left: number): void => {
        const s = createConnection({ host: '127.0.0.1', port });
        s.once('connect', () => resolve(new RspClient(s)));
        s.once('error', (e) => {
          s.destroy();
          if (left <= 0) reject(e);
          else setTimeout(() => tryOnce(left - 1), 50);
        });
      };
      tryOnce(attempts);
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      while (this.buffer.startsWith('+') || this.buffer.startsWith('-')) this.buffer = this.buffer.slice(1);
      const start = this.buffer.indexOf('$');
      if (start < 0) return;
      const hash = this.buffer.indexOf('#', start);
      if (hash < 0 || this.buffer.length < hash + 3) return;
      const payload = this.buffer.slice(start + 1, hash);
      this.buffer = this.buffer.slice(hash + 3);
      this.socket.write('+');
      const w = this.waiters.shift();
      if (w) w(payload);
      else this.packets.push(payload);
    }
  }

  request(payload: string): Promise<string> {
    let sum = 0;
    for (let i = 0; i < payload.length; i++) sum = (sum + payload.charCodeAt(i)) & 0xff;
    this.socket.write(`$${payload}#${sum.toString(16).padStart(2, '0')}`);
    const queued = this.packets.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}
