import type { AccessSize } from '../../machine/mmio-device.js';
import type { VirtioBackend, VirtioTransportPort } from './virtio-backend.js';
import type { SplitVirtqueue } from './virtqueue.js';

const F_MAC = 1n << 5n;
const F_STATUS = 1n << 16n;
const RX = 0;
const TX = 1;
/** struct virtio_net_hdr with num_buffers: always 12 bytes for VERSION_1 devices. */
const HDR = 12;

/**
 * virtio-net (virtio 1.2 §5.1) with one RX/TX queue pair and no offloads: frames the guest sends
 * go to `transmit`; `receive` hands frames to the guest. A stand-in until the virtio helper's net
 * backend (tap, user networking) lands behind the same VirtioBackend seam.
 */
export class VirtioNetBackend implements VirtioBackend {
  readonly deviceId = 1;
  readonly name = 'net';
  readonly queueCount = 2;
  readonly queueMaxSize = 256;
  readonly pciClass = 0x020000;
  readonly features = F_MAC | F_STATUS;
  private readonly config = new Uint8Array(8);
  private port: VirtioTransportPort | undefined;
  /** Frames that arrived while the guest had no receive buffer posted. */
  dropped = 0;

  constructor(
    mac: readonly number[],
    private readonly transmit: (frame: Uint8Array) => void,
  ) {
    if (mac.length !== 6 || mac.some((b) => !(b >= 0 && b <= 255))) throw new RangeError(`MAC ${mac.join(':')} is not 6 bytes`);
    this.config.set(mac);
    this.config[6] = 1; // link up
  }

  attach(port: VirtioTransportPort): void {
    this.port = port;
  }

  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size && offset + i < this.config.length; i++) v |= this.config[offset + i]! << (8 * i);
    return v >>> 0;
  }

  configWrite(): void {}

  notify(queue: number, vq: SplitVirtqueue, used: () => void): void {
    if (queue !== TX) return; // RX kicks only say buffers were posted
    let interrupt = false;
    for (let chain = vq.pop(); chain !== undefined; chain = vq.pop()) {
      const bytes = vq.readAll(chain);
      if (bytes !== undefined && bytes.length > HDR) this.transmit(bytes.slice(HDR));
      interrupt = vq.push(chain.head, 0) || interrupt;
    }
    if (interrupt) used();
  }

  /** Delivers a frame to the guest; false (and counted as dropped) when it has no buffer posted. */
  receive(frame: Uint8Array): boolean {
    const vq = this.port?.queue(RX);
    const chain = vq?.pop();
    if (vq === undefined || chain === undefined) {
      this.dropped++;
      return false;
    }
    const packet = new Uint8Array(HDR + frame.length);
    packet[10] = 1; // num_buffers
    packet.set(frame, HDR);
    const n = vq.writeAll(chain, packet);
    if (vq.push(chain.head, Math.max(n, 0))) this.port!.used(RX);
    return n === packet.length;
  }

  reset(): void {}
}
