import { Socket, connect } from 'node:net';

/**
 * A small GDB remote-serial-protocol client for tests and lockstep runs: connect to any stub (ours,
 * `qemu-system-* -S -gdb tcp::PORT`), send packets, await replies, interrupt with Ctrl-C.
 * Payloads are "binary strings" (one char per byte, latin1); replies are un-escaped and RLE-expanded.
 */
export class RspError extends Error {}

export interface RspClientOptions {
  /** Milliseconds to wait for a reply before rejecting (default 5000). */
  readonly timeoutMs?: number;
  /** Log every packet sent and received to stderr. */
  readonly trace?: boolean;
}

interface Waiter {
  resolve(packet: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RspClient {
  private buffer = '';
  private readonly queue: string[] = [];
  private readonly waiters: Waiter[] = [];
  private noAck = false;
  private lastSent = '';
  private closed = false;
  /** Raw acknowledgement bytes seen ('+'/'-'), for tests of the ack layer. */
  readonly acks: string[] = [];
  /** `O` console-output packets received while waiting for a final reply (decoded text). */
  readonly consoleOutput: string[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly options: RspClientOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    socket.on('close', () => this.onClose(new RspError('connection closed')));
    socket.on('error', (e) => this.onClose(e));
  }

  /** `port` on `host`, or a Unix socket's path (`qemu -gdb unix:PATH,server=on,wait=off`). */
  static connect(port: number | string, host = '127.0.0.1', options: RspClientOptions = {}): Promise<RspClient> {
    return new Promise((resolve, reject) => {
      const socket = typeof port === 'string' ? connect({ path: port }) : connect({ port, host });
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new RspClient(socket, options));
      });
      socket.once('error', reject);
    });
  }

  /** Connects, retrying while the port refuses (a stub that is still starting, e.g. QEMU). */
  static async connectRetry(port: number | string, host = '127.0.0.1', options: RspClientOptions = {}, attempts = 50): Promise<RspClient> {
    for (let i = 0; ; i++) {
      try {
        return await RspClient.connect(port, host, options);
      } catch (e) {
        if (i >= attempts) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Frames and sends one packet: `$payload#cs` with `}`-escaping of `$ # } *`. */
  send(payload: string): void {
    const framed = frame(payload);
    this.lastSent = framed;
    if (this.options.trace) process.stderr.write(`rsp-> ${payload.slice(0, 200)}\n`);
    this.socket.write(framed, 'latin1');
  }

  /** Writes bytes as they are (malformed packets, bare acks). */
  sendRaw(bytes: string): void {
    this.socket.write(bytes, 'latin1');
  }

  /** Sends Ctrl-C (0x03) out of band. */
  interrupt(): void {
    this.socket.write(Buffer.from([3]));
  }

  /** The next packet from the stub (stop replies arrive this way after a resume). */
  next(timeoutMs = this.options.timeoutMs ?? 5000): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new RspError('connection closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new RspError(`no reply within ${timeoutMs} ms (last sent ${this.lastSent.slice(0, 80)})`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Sends a packet and returns the final reply; `O` console packets before it are collected
   * into consoleOutput (as gdb does for qRcmd).
   */
  async request(payload: string, timeoutMs?: number): Promise<string> {
    this.send(payload);
    for (;;) {
      const reply = await this.next(timeoutMs);
      if (reply.length > 1 && reply[0] === 'O' && reply !== 'OK' && /^O[0-9a-fA-F]+$/.test(reply)) {
        this.consoleOutput.push(Buffer.from(reply.slice(1), 'hex').toString('latin1'));
        continue;
      }
      return reply;
    }
  }

  /** Negotiates no-ack mode; later packets are neither acked nor expected to be. */
  async startNoAck(): Promise<boolean> {
    const reply = await this.request('QStartNoAckMode');
    if (reply === 'OK') this.noAck = true;
    return reply === 'OK';
  }

  /** `monitor <command>` through qRcmd: the console text and the final reply. */
  async monitor(command: string, timeoutMs?: number): Promise<{ output: string; reply: string }> {
    this.consoleOutput.length = 0;
    const reply = await this.request('qRcmd,' + Buffer.from(command, 'latin1').toString('hex'), timeoutMs);
    let output = this.consoleOutput.join('');
    if (reply !== 'OK' && reply !== '' && !/^E[0-9a-fA-F]{2}$/.test(reply) && /^[0-9a-fA-F]+$/.test(reply)) {
      output += Buffer.from(reply, 'hex').toString('latin1');
      return { output, reply: 'OK' };
    }
    return { output, reply };
  }

  /** Reads `length` bytes with `m`; throws on an error reply. */
  async readMemory(address: bigint, length: number): Promise<Uint8Array> {
    const reply = await this.request(`m${address.toString(16)},${length.toString(16)}`);
    if (/^E[0-9a-fA-F]{2}$/.test(reply)) throw new RspError(`m ${address.toString(16)}: ${reply}`);
    return Uint8Array.from(Buffer.from(reply, 'hex'));
  }

  /** One register by remote number as a little-endian byte string turned into a bigint. */
  async readRegister(regno: number): Promise<bigint> {
    const reply = await this.request(`p${regno.toString(16)}`);
    if (/^E[0-9a-fA-F]{2}$/.test(reply) || reply === '') throw new RspError(`p ${regno}: '${reply}'`);
    return littleEndianHexToBigint(reply);
  }

  /** The `g` registers of the selected thread as `width`-byte little-endian values (lockstep helper). */
  async readGRegisters(width = 8): Promise<bigint[]> {
    const reply = await this.request('g');
    if (/^E[0-9a-fA-F]{2}$/.test(reply) || reply.length % (2 * width) !== 0) throw new RspError(`g: '${reply.slice(0, 40)}'`);
    const out: bigint[] = [];
    for (let i = 0; i < reply.length; i += 2 * width) out.push(littleEndianHexToBigint(reply.slice(i, i + 2 * width)));
    return out;
  }

  /** Single-steps one thread (the others stay stopped) and returns the stop reply. */
  async step(thread = 1, timeoutMs?: number): Promise<string> {
    const reply = await this.request(`vCont;s:${thread.toString(16)}`, timeoutMs);
    if (!/^[TS][0-9a-fA-F]{2}/.test(reply)) throw new RspError(`step: '${reply.slice(0, 40)}'`);
    return reply;
  }

  /** Closes the connection (the stub sees a disconnect). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 500).unref();
    });
  }

  private onClose(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  private onData(text: string): void {
    this.buffer += text;
    for (;;) {
      // Acks and noise before a packet start.
      let i = 0;
      while (i < this.buffer.length && this.buffer[i] !== '$' && this.buffer[i] !== '%') {
        const c = this.buffer[i]!;
        if (c === '+' || c === '-') {
          this.acks.push(c);
          if (c === '-' && this.lastSent) this.socket.write(this.lastSent, 'latin1');
        }
        i++;
      }
      this.buffer = this.buffer.slice(i);
      const hash = this.buffer.indexOf('#');
      if (this.buffer.length === 0 || hash < 0 || this.buffer.length < hash + 3) return;
      const body = this.buffer.slice(1, hash);
      const sum = parseInt(this.buffer.slice(hash + 1, hash + 3), 16);
      this.buffer = this.buffer.slice(hash + 3);
      if (checksum(body) !== sum) {
        if (!this.noAck) this.socket.write('-');
        continue;
      }
      if (!this.noAck) this.socket.write('+');
      const payload = decodeBody(body);
      if (this.options.trace) process.stderr.write(`rsp<- ${payload.slice(0, 200)}\n`);
      const waiter = this.waiters.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.resolve(payload);
      } else {
        this.queue.push(payload);
      }
    }
  }
}

export function checksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
  return sum;
}

/** `$payload#cs` with the characters the protocol reserves escaped as `}` + (c ^ 0x20). */
export function frame(payload: string): string {
  let body = '';
  for (const c of payload) {
    if (c === '$' || c === '#' || c === '}' || c === '*') body += '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20);
    else body += c;
  }
  return `$${body}#${checksum(body).toString(16).padStart(2, '0')}`;
}

/**
 * Undoes the framing of a received body in one pass: `}x` is x ^ 0x20, and `c*N` repeats the last
 * byte (N - 29) more times (gdb's read_frame does the same).
 */
export function decodeBody(body: string): string {
  if (!body.includes('}') && !body.includes('*')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '}' && i + 1 < body.length) out += String.fromCharCode(body.charCodeAt(++i) ^ 0x20);
    else if (c === '*' && out.length > 0 && i + 1 < body.length) out += out[out.length - 1]!.repeat(body.charCodeAt(++i) - 29);
    else out += c;
  }
  return out;
}

export function littleEndianHexToBigint(hex: string): bigint {
  let v = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(hex.slice(i, i + 2), 16));
  return v;
}

export function bigintToLittleEndianHex(value: bigint, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += Number((value >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0');
  return out;
}
