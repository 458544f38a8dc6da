import type { AccessSize } from '../../machine/mmio-device.js';
import { CapId } from './capabilities.js';
import { PciFunction } from './pci-function.js';
import { VIRTIO_F_VERSION_1, type VirtioBackend, type VirtioTransportPort } from '../virtio/virtio-backend.js';
import { SplitVirtqueue, VirtqueueError, type VirtqueueMemory } from '../virtio/virtqueue.js';

/** virtio_pci_cap cfg_type values (virtio 1.2 §4.1.4). */
const CfgType = { Common: 1, Notify: 2, Isr: 3, Device: 4 } as const;

/** Layout of BAR 4, as QEMU lays out its modern virtio-pci devices: one 4 KiB page per structure. */
const COMMON = 0x0000;
const ISR = 0x1000;
const DEVICE = 0x2000;
const NOTIFY = 0x3000;
const NOTIFY_MULTIPLIER = 4;
const CONFIG_BAR = 4;
const MSIX_BAR = 1;
const NO_VECTOR = 0xffff;

const Status = { Acknowledge: 1, Driver: 2, DriverOk: 4, FeaturesOk: 8, NeedsReset: 64, Failed: 128 } as const;

interface QueueState {
  size: number;
  vector: number;
  enabled: boolean;
  desc: number;
  driver: number;
  device: number;
  vq: SplitVirtqueue | undefined;
}

/**
 * A modern (virtio 1.x, non-transitional) virtio-pci function: common, notify, ISR and device
 * configuration structures in BAR 4 found through vendor-specific capabilities, MSI-X in BAR 1,
 * INTx through the ISR when MSI-X is off. The device behaviour is the backend's.
 */
export class VirtioPciFunction extends PciFunction implements VirtioTransportPort {
  readonly name: string;
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private driverFeatures = 0n;
  private status = 0;
  private generation = 0;
  private queueSelect = 0;
  private configVector = NO_VECTOR;
  private isr = 0;
  private readonly queues: QueueState[];
  private readonly common = new Uint8Array(0x40);
  /** Driver errors that put the device in NEEDS_RESET (bad rings), for the monitor. */
  lastError: string | undefined;
  /** Ring and buffer accesses go through Bus Master Enable and the owning zone's memory. */
  private readonly busDma = {
    read: (addr: number, into: Uint8Array): boolean => this.dmaRead(addr, into),
    write: (addr: number, data: Uint8Array): boolean => this.dmaWrite(addr, data),
    checkRange: (addr: number, length: number): boolean => this.dmaCheck(addr, length),
  };

  constructor(readonly backend: VirtioBackend) {
    super(
      {
        vendorId: 0x1af4,
        deviceId: 0x1040 + backend.deviceId,
        classCode: backend.pciClass,
        revision: 1,
        subsystemVendorId: 0x1af4,
        subsystemId: 0x1100, // as QEMU's modern devices (any value >= 0x40 is allowed)
        interruptPin: 1,
      },
      [undefined, { kind: 'mem32', size: 0x1000 }, undefined, undefined, { kind: 'mem64', size: 0x4000, prefetchable: true }],
    );
    this.name = `virtio-${backend.name}-pci`;
    this.queues = Array.from({ length: backend.queueCount }, () => newQueue(backend.queueMaxSize));
    // Each structure owns a 4 KiB page, advertised as QEMU does (checked against it in the tests).
    this.addVirtioCap(CfgType.Common, COMMON, 0x1000);
    this.addVirtioCap(CfgType.Isr, ISR, 0x1000);
    this.addVirtioCap(CfgType.Device, DEVICE, 0x1000);
    this.addVirtioCap(CfgType.Notify, NOTIFY, 0x1000, NOTIFY_MULTIPLIER);
    // As QEMU's root-complex-integrated virtio functions on virt: no PM or PCIe capability; the
    // list (linked newest first) walks MSI-X, notify, device, ISR, common.
    this.messages.addMsix({ vectors: backend.queueCount + 1, bar: MSIX_BAR, tableOffset: 0, pbaOffset: 0x800 });
    this.config.markPowerOnState();
    backend.attach?.(this);
  }

  // ---- VirtioTransportPort ----
  get memory(): VirtqueueMemory {
    return this.busDma;
  }

  queue(index: number): SplitVirtqueue | undefined {
    return (this.status & Status.DriverOk) !== 0 ? this.queues[index]?.vq : undefined;
  }

  used(index: number): void {
    const q = this.queues[index];
    if (q === undefined) return;
    this.interrupt(q.vector, 1);
  }

  configChanged(): void {
    this.generation = (this.generation + 1) & 0xff;
    this.interrupt(this.configVector, 2);
  }

  fail(index: number, error: VirtqueueError): void {
    this.lastError = `queue ${index}: ${error.message}`;
    this.status |= Status.NeedsReset;
    this.configChanged();
  }

  // ---- BARs ----
  protected readBar(bar: number, offset: number, size: AccessSize): number {
    if (bar !== CONFIG_BAR) return 0;
    if (offset < ISR) return offset + size <= 0x40 ? this.readCommon(offset, size) : 0;
    if (offset < DEVICE) {
      if (offset !== ISR) return 0;
      // Reading the ISR acknowledges it and lowers INTx.
      const v = this.isr;
      this.isr = 0;
      this.setIntx(false);
      return v;
    }
    if (offset < NOTIFY) return this.backend.configRead(offset - DEVICE, size);
    return 0;
  }

  protected writeBar(bar: number, offset: number, size: AccessSize, value: number): void {
    if (bar !== CONFIG_BAR) return;
    if (offset < ISR) {
      if (offset + size <= 0x40) this.writeCommon(offset, size, value);
    } else if (offset >= DEVICE && offset < NOTIFY) {
      this.backend.configWrite(offset - DEVICE, size, value);
    } else if (offset >= NOTIFY && offset < NOTIFY + this.queues.length * NOTIFY_MULTIPLIER) {
      this.kick((offset - NOTIFY) / NOTIFY_MULTIPLIER);
    }
  }

  peekIsr(): number {
    return this.isr;
  }

  protected resetDevice(): void {
    this.resetTransport();
  }

  private kick(index: number): void {
    if (!Number.isInteger(index) || (this.status & Status.DriverOk) === 0 || (this.status & Status.NeedsReset) !== 0) return;
    const q = this.queues[index];
    if (q?.vq === undefined) return;
    try {
      this.backend.notify(index, q.vq, () => this.used(index));
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      // A malformed ring is the driver's bug: flag NEEDS_RESET, as the spec allows, and stop.
      this.lastError = `queue ${index}: ${e.message}`;
      this.status |= Status.NeedsReset;
      this.configChanged();
    }
  }

  private interrupt(vector: number, isrBit: number): void {
    if (this.messages.msixEnabled) {
      if (vector !== NO_VECTOR) this.signal(vector);
      return;
    }
    this.isr |= isrBit;
    this.setIntx(true);
  }

  private snapshotCommon(): Uint8Array {
    const c = this.common;
    const q = this.queues[this.queueSelect];
    const features = this.deviceFeatures();
    put(c, 0x00, 4, this.deviceFeatureSelect);
    put(c, 0x04, 4, this.deviceFeatureSelect < 2 ? Number((features >> BigInt(32 * this.deviceFeatureSelect)) & 0xffff_ffffn) : 0);
    put(c, 0x08, 4, this.driverFeatureSelect);
    put(c, 0x0c, 4, this.driverFeatureSelect < 2 ? Number((this.driverFeatures >> BigInt(32 * this.driverFeatureSelect)) & 0xffff_ffffn) : 0);
    put(c, 0x10, 2, this.configVector);
    put(c, 0x12, 2, this.queues.length);
    put(c, 0x14, 1, this.status);
    put(c, 0x15, 1, this.generation);
    put(c, 0x16, 2, this.queueSelect);
    put(c, 0x18, 2, q?.size ?? 0);
    put(c, 0x1a, 2, q?.vector ?? NO_VECTOR);
    put(c, 0x1c, 2, q?.enabled === true ? 1 : 0);
    put(c, 0x1e, 2, q === undefined ? 0 : this.queueSelect);
    for (const [at, v] of [[0x20, q?.desc ?? 0], [0x28, q?.driver ?? 0], [0x30, q?.device ?? 0]] as const) {
      put(c, at, 4, v % 0x1_0000_0000);
      put(c, at + 4, 4, Math.floor(v / 0x1_0000_0000));
    }
    put(c, 0x38, 8, 0);
    return c;
  }

  private readCommon(offset: number, size: AccessSize): number {
    const c = this.snapshotCommon();
    let v = 0;
    for (let i = 0; i < size; i++) v |= c[offset + i]! << (8 * i);
    return v >>> 0;
  }

  private writeCommon(offset: number, size: AccessSize, value: number): void {
    const c = this.snapshotCommon();
    for (let i = 0; i < size; i++) c[offset + i] = value >>> (8 * i);
    const touched = (at: number, len: number): boolean => offset < at + len && at < offset + size;
    const q = this.queues[this.queueSelect];
    if (touched(0x00, 4)) this.deviceFeatureSelect = get(c, 0x00, 4);
    if (touched(0x08, 4)) this.driverFeatureSelect = get(c, 0x08, 4);
    if (touched(0x0c, 4) && this.driverFeatureSelect < 2 && (this.status & Status.FeaturesOk) === 0) {
      const shift = BigInt(32 * this.driverFeatureSelect);
      this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(get(c, 0x0c, 4)) << shift);
    }
    if (touched(0x10, 2)) this.configVector = this.validVector(get(c, 0x10, 2));
    if (touched(0x14, 1)) this.writeStatus(get(c, 0x14, 1));
    if (touched(0x16, 2)) this.queueSelect = get(c, 0x16, 2);
    if (q === undefined || q.enabled) return; // queue registers are frozen once enabled
    if (touched(0x18, 2)) {
      const n = get(c, 0x18, 2);
      // Split queues need a power-of-two size no larger than the maximum.
      if (n > 0 && n <= this.backend.queueMaxSize && (n & (n - 1)) === 0) q.size = n;
    }
    if (touched(0x1a, 2)) q.vector = this.validVector(get(c, 0x1a, 2));
    if (touched(0x20, 8)) q.desc = get(c, 0x24, 4) * 0x1_0000_0000 + get(c, 0x20, 4);
    if (touched(0x28, 8)) q.driver = get(c, 0x2c, 4) * 0x1_0000_0000 + get(c, 0x28, 4);
    if (touched(0x30, 8)) q.device = get(c, 0x34, 4) * 0x1_0000_0000 + get(c, 0x30, 4);
    if (touched(0x1c, 2) && (get(c, 0x1c, 2) & 1) === 1) {
      q.enabled = true;
      q.vq = new SplitVirtqueue(this.busDma, q.size, q.desc, q.driver, q.device);
    }
  }

  /** A vector beyond the MSI-X table reads back as NO_VECTOR, telling the driver it was refused. */
  private validVector(v: number): number {
    return v < this.messages.msixVectorCount ? v : NO_VECTOR;
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.resetTransport();
      return;
    }
    if ((v & Status.FeaturesOk) !== 0 && (this.status & Status.FeaturesOk) === 0) {
      const offered = this.deviceFeatures();
      const ok = (this.driverFeatures & ~offered) === 0n && (this.driverFeatures & VIRTIO_F_VERSION_1) !== 0n;
      if (!ok) v &= ~Status.FeaturesOk;
      else this.backend.negotiated?.(this.driverFeatures);
    }
    this.status = (v & ~Status.NeedsReset) | (this.status & Status.NeedsReset);
  }

  private deviceFeatures(): bigint {
    return this.backend.features | VIRTIO_F_VERSION_1;
  }

  private resetTransport(): void {
    this.status = 0;
    this.driverFeatures = 0n;
    this.deviceFeatureSelect = 0;
    this.driverFeatureSelect = 0;
    this.queueSelect = 0;
    this.configVector = NO_VECTOR;
    this.isr = 0;
    this.lastError = undefined;
    for (let i = 0; i < this.queues.length; i++) this.queues[i] = newQueue(this.backend.queueMaxSize);
    this.setIntx(false);
    this.backend.reset();
  }

  private addVirtioCap(type: number, offset: number, length: number, multiplier?: number): void {
    const len = multiplier === undefined ? 16 : 20;
    const at = this.config.addCapability(CapId.VendorSpecific, len);
    this.config.set8(at + 2, len);
    this.config.set8(at + 3, type);
    this.config.set8(at + 4, CONFIG_BAR);
    this.config.set32(at + 8, offset);
    this.config.set32(at + 12, length);
    if (multiplier !== undefined) this.config.set32(at + 16, multiplier);
  }
}

function newQueue(max: number): QueueState {
  return { size: max, vector: NO_VECTOR, enabled: false, desc: 0, driver: 0, device: 0, vq: undefined };
}

function put(c: Uint8Array, at: number, size: number, v: number): void {
  for (let i = 0; i < size; i++) c[at + i] = i < 4 ? v >>> (8 * i) : 0;
}

function get(c: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v |= c[at + i]! << (8 * i);
  return v >>> 0;
}
