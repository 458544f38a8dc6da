import type { AccessSize } from '../../machine/mmio-device.js';
import type { SplitVirtqueue, VirtqueueError, VirtqueueMemory } from './virtqueue.js';

/** VIRTIO_F_VERSION_1: modern devices only (both transports here are modern-only). */
export const VIRTIO_F_VERSION_1 = 1n << 32n;
export const VIRTIO_F_RING_INDIRECT_DESC = 1n << 28n;
export const VIRTIO_F_RING_EVENT_IDX = 1n << 29n;

/**
 * What a virtio transport needs from a device backend (blk, net, console, gpu). The seam between
 * the transports (virtio-mmio, virtio-pci) and the device models: every backend works on both.
 */
export interface VirtioBackend {
  /** Virtio device id: 1 net, 2 block, 3 console, 16 gpu. */
  readonly deviceId: number;
  readonly name: string;
  /** Feature bits offered (VERSION_1 is added by the transport). */
  readonly features: bigint;
  readonly queueCount: number;
  readonly queueMaxSize: number;
  /** PCI class code for the transport's configuration header. */
  readonly pciClass: number;
  configRead(offset: number, size: AccessSize): number;
  configWrite(offset: number, size: AccessSize, value: number): void;
  /** The driver kicked `queue`; process it and call `used(queue)` after pushing buffers. */
  notify(queue: number, vq: SplitVirtqueue, used: () => void): void;
  /** The driver accepted these features (FEATURES_OK). */
  negotiated?(features: bigint): void;
  /** Device reset (status written 0). */
  reset(): void;
  /** Called once by the transport, for backends that produce buffers on their own (net receive). */
  attach?(port: VirtioTransportPort): void;
}

/** The transport as a backend sees it outside `notify`. */
export interface VirtioTransportPort {
  /** The owning zone's memory as the device reaches it (gpu backing pages live outside the rings). */
  readonly memory: VirtqueueMemory;
  /** The queue when the driver has enabled it and DRIVER_OK is set, else undefined. */
  queue(index: number): SplitVirtqueue | undefined;
  /** Buffers were pushed on `index`: interrupt the driver (subject to its suppression flags). */
  used(index: number): void;
  /** The device configuration changed (e.g. link status). */
  configChanged(): void;
  /**
   * A ring the backend used on its own (outside `notify`, e.g. a frame arriving) is malformed:
   * the transport sets DEVICE_NEEDS_RESET, as it does when `notify` throws a VirtqueueError.
   */
  fail(index: number, error: VirtqueueError): void;
}
