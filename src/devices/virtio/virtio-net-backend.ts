import type { AccessSize } from '../../machine/mmio-device.js';
import type { VirtioBackend, VirtioTransportPort } from './virtio-backend.js';
import { SplitVirtqueue, VirtqueueError } from './virtqueue.js';

const F_MAC = 1n << 5n;
const F_STATUS = 1n << 16n;
const RX = 0;
const TX = 1;
/** struct virtio_net_hdr with num_buffers: always 12 bytes for VERSION_1 devices. */
const HDR = 12;
/** The largest frame a switch carries (no segmentation offloads are offered, so none is larger). */
export const MAX_FRAME = 65535;

/**
 * virtio-net (virtio 1.2 §5.1) with one RX/TX queue pair and no offloads: frames the guest sends
 * go to `transmit`; `receive` hands frames to the guest. What joins NICs together (the board's
 * virtual switch, a UDP tunnel to another instance) is a NetLink outside this class.
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
  private readonly rxHeader = new Uint8Array(HDR);
  /** The largest transmit chain a driver can build: a longer one is dropped, never copied. */
  private readonly txBuffer = new Uint8Array(HDR + MAX_FRAME);
  /** Frames that arrived while the guest had no receive buffer posted, and transmit chains too long to be a frame. */
  dropped = 0;

  constructor(
    mac: readonly number[],
    /** Gets each frame the guest sends; the bytes are valid only during the call. */
    private readonly transmit: (frame: Uint8Array) => void,
  ) {
    if (mac.length !== 6 || mac.some((b) => !(b >= 0 && b <= 255))) throw new RangeError(`MAC ${mac.join(':')} is not 6 bytes`);
    this.config.set(mac);
    this.config[6] = 1; // link up
  }

  attach(port: VirtioTransportPort): void {
    this.port = port;
  }

  /** Cable plugged or pulled: the status field changes and the driver gets a config interrupt. */
  setLink(up: boolean): void {
    if ((this.config[6] === 1) === up) return;
    this.config[6] = up ? 1 : 0;
    this.port?.configChanged();
  }

  get linkUp(): boolean {
    return this.config[6] === 1;
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
      const length = SplitVirtqueue.readableLength(chain);
      const bytes = this.txBuffer.subarray(0, Math.min(length, this.txBuffer.length));
      // With the cable pulled, frames are consumed and lost, as on a real NIC. The frame handed
      // on lives in a reused buffer: `transmit` must copy what it keeps beyond the call.
      if (length > this.txBuffer.length) this.dropped++;
      else if (length > HDR && this.linkUp && vq.readAt(chain, 0, bytes)) this.transmit(bytes.subarray(HDR));
      interrupt = vq.push(chain.head, 0) || interrupt;
    }
    if (interrupt) used();
  }

  /** Delivers a frame to the guest; false (and counted as dropped) when it has no buffer posted. */
  receive(frame: Uint8Array): boolean {
    const port = this.port;
    const vq = port?.queue(RX);
    if (port === undefined || vq === undefined || !this.linkUp) {
      this.dropped++;
      return false;
    }
    try {
      const chain = vq.pop();
      if (chain === undefined) {
        this.dropped++;
        return false;
      }
      this.rxHeader[10] = 1; // num_buffers
      const fits = vq.writeAt(chain, 0, this.rxHeader) && vq.writeAt(chain, HDR, frame);
      if (vq.push(chain.head, fits ? HDR + frame.length : 0)) port.used(RX);
      if (!fits) this.dropped++;
      return fits;
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      port.fail(RX, e);
      this.dropped++;
      return false;
    }
  }

  reset(): void {}
}
