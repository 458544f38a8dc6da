/**
 * The RSP packet layer: `$body#cs` framing, checksums, `+`/`-` acknowledgements (and no-ack mode),
 * `}` escapes, run-length encoding of replies and Ctrl-C (0x03) between packets. Payloads cross this
 * layer as latin1 strings (one char per byte): cheap in V8 and binary-safe.
 */

const DOLLAR = 0x24;
const HASH = 0x23;
const ESCAPE = 0x7d;
const STAR = 0x2a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const CTRL_C = 0x03;

/** What the decoder reports; the session implements it. */
export interface PacketEvents {
  /** A complete packet with a valid checksum, escapes undone. */
  packet(payload: string): void;
  /** Ctrl-C outside a packet. */
  interrupt(): void;
  /** The peer asked for the last packet again (`-`). */
  nak(): void;
  /** A packet whose body exceeded the limit; it was acknowledged and dropped. */
  oversized(length: number): void;
}

const enum State {
  Idle,
  Body,
  Checksum1,
  Checksum2,
}

/** Incremental decoder of the byte stream gdb sends. Never throws on bad input. */
export class PacketDecoder {
  private state = State.Idle;
  private readonly body: Uint8Array;
  private length = 0;
  private bodyLength = 0;
  private sum = 0;
  private received = 0;
  private escaped = false;
  /** Acknowledgements this side writes back ('+' / '-'); off after QStartNoAckMode. */
  ackMode = true;
  /** Checksum failures seen (for tests and the `monitor` view). */
  checksumErrors = 0;

  constructor(
    private readonly events: PacketEvents,
    private readonly writeAck: (ack: '+' | '-') => void,
    readonly maxPacket: number,
  ) {
    this.body = new Uint8Array(maxPacket);
  }

  feed(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      switch (this.state) {
        case State.Idle:
          if (b === DOLLAR) {
            this.state = State.Body;
            this.length = 0;
            this.bodyLength = 0;
            this.sum = 0;
            this.escaped = false;
          } else if (b === CTRL_C) {
            this.events.interrupt();
          } else if (b === MINUS && this.ackMode) {
            // In no-ack mode there is nothing to retransmit: gdb still writes '-' when its wait for a
            // reply times out, and resending the previous reply then would put every later one out of step.
            this.events.nak();
          }
          // '+' and noise between packets are ignored.
          break;
        case State.Body:
          if (b === HASH) {
            this.state = State.Checksum1;
            break;
          }
          if (b === DOLLAR) {
            // A new packet start inside a body: the previous one was truncated; restart.
            this.length = 0;
            this.bodyLength = 0;
            this.sum = 0;
            this.escaped = false;
            break;
          }
          this.sum = (this.sum + b) & 0xff;
          this.bodyLength++;
          if (this.escaped) {
            this.escaped = false;
            this.store(b ^ 0x20);
          } else if (b === ESCAPE) {
            this.escaped = true;
          } else {
            this.store(b);
          }
          break;
        case State.Checksum1:
          this.received = hexValue(b) << 4;
          this.state = State.Checksum2;
          break;
        case State.Checksum2:
          this.received |= hexValue(b);
          this.state = State.Idle;
          this.finish();
          break;
      }
    }
  }

  private store(b: number): void {
    if (this.length < this.body.length) this.body[this.length] = b;
    this.length++;
  }

  private finish(): void {
    if (this.received !== this.sum) {
      this.checksumErrors++;
      if (this.ackMode) this.writeAck('-');
      return;
    }
    if (this.ackMode) this.writeAck('+');
    if (this.length > this.body.length) {
      this.events.oversized(this.length);
      return;
    }
    this.events.packet(latin1(this.body, this.length));
  }
}

/** Value of a hex digit, or 0x100 (never matches a checksum) for anything else. */
function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return 0x100;
}

function latin1(bytes: Uint8Array, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
}

/**
 * Frames replies into one reusable buffer: run-length encoding for text replies, `}` escapes for
 * binary ones (qXfer). Returns a fresh Buffer per packet because the socket keeps it until written.
 */
export class PacketEncoder {
  private out: Uint8Array;

  constructor(initialCapacity = 0x4000) {
    this.out = new Uint8Array(initialCapacity);
  }

  /** A text reply (hex, OK, stop replies): runs compressed as `c*N`. */
  text(payload: string): Buffer {
    this.reserve(payload.length);
    const out = this.out;
    out[0] = DOLLAR;
    let o = 1;
    let sum = 0;
    const n = payload.length;
    for (let i = 0; i < n; ) {
      const c = payload.charCodeAt(i);
      let run = 1;
      while (i + run < n && payload.charCodeAt(i + run) === c && run < 98) run++;
      out[o++] = c;
      sum += c;
      let repeat = run - 1;
      // `*` + count costs two bytes: only worth it for 3+ repeats. The count byte is repeat + 29
      // and must not be '#' or '$' (repeat 6, 7), so those runs are shortened.
      if (repeat >= 3) {
        while (repeat + 29 === HASH || repeat + 29 === DOLLAR) repeat--;
        out[o++] = STAR;
        out[o++] = repeat + 29;
        sum += STAR + repeat + 29;
        i += repeat + 1;
      } else {
        for (let k = 0; k < repeat; k++) {
          out[o++] = c;
          sum += c;
        }
        i += run;
      }
    }
    return this.finish(o, sum);
  }

  /** A reply carrying binary data: a text prefix (e.g. 'm') then escaped bytes, no RLE. */
  binary(prefix: string, data: Uint8Array | string): Buffer {
    const length = typeof data === 'string' ? data.length : data.length;
    this.reserve(prefix.length + 2 * length);
    const out = this.out;
    out[0] = DOLLAR;
    let o = 1;
    let sum = 0;
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i);
      out[o++] = c;
      sum += c;
    }
    for (let i = 0; i < length; i++) {
      const c = typeof data === 'string' ? data.charCodeAt(i) & 0xff : data[i]!;
      if (c === DOLLAR || c === HASH || c === ESCAPE || c === STAR) {
        out[o++] = ESCAPE;
        out[o++] = c ^ 0x20;
        sum += ESCAPE + (c ^ 0x20);
      } else {
        out[o++] = c;
        sum += c;
      }
    }
    return this.finish(o, sum);
  }

  private finish(o: number, sum: number): Buffer {
    const out = this.out;
    out[o++] = HASH;
    const cs = sum & 0xff;
    out[o++] = HEX_DIGITS.charCodeAt(cs >> 4);
    out[o++] = HEX_DIGITS.charCodeAt(cs & 15);
    return Buffer.from(out.subarray(0, o));
  }

  private reserve(payloadBytes: number): void {
    const need = payloadBytes + 4;
    if (this.out.length < need) this.out = new Uint8Array(Math.max(need, this.out.length * 2));
  }
}

const HEX_DIGITS = '0123456789abcdef';

export const ACK = Buffer.from([PLUS]);
export const NAK = Buffer.from([MINUS]);
