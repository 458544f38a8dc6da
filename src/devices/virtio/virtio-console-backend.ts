import type { AccessSize } from '../../machine/mmio-device.js';
import type { ConsoleEndpoint } from './console-endpoint.js';
import type { VirtioBackend, VirtioTransportPort } from './virtio-backend.js';
import { SplitVirtqueue, VirtqueueError } from './virtqueue.js';

const F_SIZE = 1n << 0n;
const RX = 0;
const TX = 1;
/** Input kept while the guest has no receive buffer posted; beyond this it is dropped. */
const MAX_PENDING = 1 << 20;
/** The longest transmit chain taken (Linux's virtio_console writes at most 32 KiB per buffer). */
const MAX_TX_CHAIN = 64 * 1024;

/**
 * virtio-console (virtio 1.2 §5.3) with a single port (no MULTIPORT): receiveq0 carries host
 * input to the guest (Linux's hvc0), transmitq0 the guest's output to the endpoint.
 */
export class VirtioConsoleBackend implements VirtioBackend {
  readonly deviceId = 3;
  readonly name = 'console';
  readonly queueCount = 2;
  readonly queueMaxSize = 128;
  readonly pciClass = 0x078000; // communication controller, other
  readonly features = F_SIZE;
  /** Input bytes thrown away because the guest was not reading and the backlog was full. */
  droppedInput = 0;
  private readonly config = new Uint8Array(12);
  private port: VirtioTransportPort | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(
    readonly endpoint: ConsoleEndpoint,
    size: { cols: number; rows: number } = { cols: 80, rows: 25 },
  ) {
    const v = new DataView(this.config.buffer);
    v.setUint16(0, size.cols, true);
    v.setUint16(2, size.rows, true);
    v.setUint32(4, 1, true); // max_nr_ports (only meaningful with MULTIPORT)
    endpoint.attach((bytes) => this.input(bytes));
  }

  attach(port: VirtioTransportPort): void {
    this.port = port;
  }

  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size && offset + i < this.config.length; i++) v |= this.config[offset + i]! << (8 * i);
    return v >>> 0;
  }

  configWrite(): void {} // emerg_wr is not offered

  notify(queue: number, vq: SplitVirtqueue, used: () => void): void {
    if (queue === RX) {
      this.deliver(vq, used);
      return;
    }
    if (queue !== TX) return;
    let interrupt = false;
    for (let chain = vq.pop(); chain !== undefined; chain = vq.pop()) {
      // Linux sends at most 32 KiB per buffer; a longer chain is dropped, never copied.
      const bytes = SplitVirtqueue.readableLength(chain) <= MAX_TX_CHAIN ? vq.readAll(chain) : undefined;
      if (bytes !== undefined && bytes.length > 0) this.endpoint.write(bytes);
      interrupt = vq.push(chain.head, 0) || interrupt;
    }
    if (interrupt) used();
  }

  reset(): void {
    // Unread input belongs to the driver instance that is going away.
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Bytes from the endpoint: queue them and fill whatever receive buffers the guest has posted. */
  private input(bytes: Uint8Array): void {
    if (this.pendingBytes + bytes.length > MAX_PENDING) {
      this.droppedInput += bytes.length;
      return;
    }
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    const port = this.port;
    const vq = port?.queue(RX);
    if (port === undefined || vq === undefined) return;
    try {
      this.deliver(vq, () => port.used(RX));
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      port.fail(RX, e);
    }
  }

  private deliver(vq: SplitVirtqueue, used: () => void): void {
    let interrupt = false;
    while (this.pending.length > 0) {
      const chain = vq.pop();
      if (chain === undefined) break;
      const room = SplitVirtqueue.writableLength(chain);
      let filled = 0;
      while (filled < room && this.pending.length > 0) {
        const head = this.pending[0]!;
        const n = Math.min(room - filled, head.length);
        if (!vq.writeAt(chain, filled, head.subarray(0, n))) break;
        filled += n;
        this.pendingBytes -= n;
        if (n === head.length) this.pending.shift();
        else this.pending[0] = head.subarray(n);
      }
      interrupt = vq.push(chain.head, filled) || interrupt;
    }
    if (interrupt) used();
  }
}
