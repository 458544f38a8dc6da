import { LevelIrq, type IrqLine } from '../../machine/irq-line.js';
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import {
  VIRTIO_F_RING_EVENT_IDX,
  VIRTIO_F_RING_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  type VirtioBackend,
  type VirtioTransportPort,
} from './virtio-backend.js';
import { VirtioStatus } from './virtio-status.js';
import { SplitVirtqueue, VirtqueueError, type VirtqueueMemory } from './virtqueue.js';

/** Register offsets of the virtio-mmio transport, version 2 (virtio 1.2 §4.2.2). */
export const MmioReg = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceId: 0x008,
  VendorId: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptAck: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  ShmSel: 0x0ac,
  ShmLenLow: 0x0b0,
  ShmLenHigh: 0x0b4,
  ShmBaseLow: 0x0b8,
  ShmBaseHigh: 0x0bc,
  QueueReset: 0x0c0,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

/** "virt" in little-endian ASCII. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** Subsystem vendor id we report: "HVTS" (any value is allowed; Linux only prints it). */
export const HVISOR_TS_VENDOR_ID = 0x53545648;
/** The window QEMU's virt boards give each slot (reg = <... 0x200>). */
export const VIRTIO_MMIO_WINDOW = 0x200;

/**
 * Bytes the chains of one slice of the owning zone may name (virtqueue.ts DESCRIPTOR_COST per
 * descriptor on top) before the rest waits for the zone's next slice: a driver listing the same
 * megabytes in chain after chain, or kicking in a loop, costs a bounded exit, not seconds of copying.
 */
export const SLICE_BYTES = 4 << 20;

const ISR_USED_BUFFER = 1;
const ISR_CONFIG_CHANGE = 2;

interface MmioQueue {
  num: number;
  ready: boolean;
  descLo: number;
  descHi: number;
  driverLo: number;
  driverHi: number;
  deviceLo: number;
  deviceHi: number;
  vq: SplitVirtqueue | undefined;
}

/**
 * A modern (version 2) virtio-mmio device: the register window Linux's virtio_mmio driver probes
 * from a `virtio,mmio` node, with the device behaviour delegated to a VirtioBackend shared with
 * virtio-pci. Rings live in the owning zone's RAM (`memory`); a driver mistake in a ring sets
 * DEVICE_NEEDS_RESET and a configuration-change interrupt instead of touching anything else.
 */
export class VirtioMmioDevice implements MmioDevice, VirtioTransportPort {
  readonly name: string;
  /** Why the device last entered DEVICE_NEEDS_RESET, for the monitor and tests. */
  lastError: string | undefined;
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private generation = 0;
  private readonly offered: bigint;
  private readonly queues: MmioQueue[];
  /** One callback per queue, made once so a kick allocates nothing. */
  private readonly usedCallbacks: (() => void)[];
  /** Queues whose last kick stopped at SLICE_BYTES with chains left (bit i = queue i). */
  private deferredQueues = 0;
  private readonly irq: LevelIrq;
  /** What this slice of the owning zone may still make the device do (refilled by `startSlice`). */
  private sliceBudget = SLICE_BYTES;

  constructor(
    readonly backend: VirtioBackend,
    readonly memory: VirtqueueMemory,
    irq: IrqLine,
    private readonly vendorId = HVISOR_TS_VENDOR_ID,
  ) {
    this.irq = new LevelIrq(irq);
    this.name = `virtio-mmio-${backend.name}`;
    this.offered = backend.features | VIRTIO_F_VERSION_1 | VIRTIO_F_RING_INDIRECT_DESC | VIRTIO_F_RING_EVENT_IDX;
    this.queues = Array.from({ length: backend.queueCount }, newQueue);
    this.usedCallbacks = this.queues.map((_, i) => () => this.used(i));
    backend.attach?.(this);
  }

  // ---- VirtioTransportPort ----

  queue(index: number): SplitVirtqueue | undefined {
    if ((this.status & (VirtioStatus.DriverOk | VirtioStatus.NeedsReset)) !== VirtioStatus.DriverOk) return undefined;
    return this.queues[index]?.vq;
  }

  used(_index: number): void {
    this.raise(ISR_USED_BUFFER);
  }

  configChanged(): void {
    this.generation = (this.generation + 1) >>> 0;
    this.raise(ISR_CONFIG_CHANGE);
  }

  fail(index: number, error: VirtqueueError): void {
    this.broken(`queue ${index}: ${error.message}`);
  }

  get negotiatedFeatures(): bigint {
    return (this.status & VirtioStatus.FeaturesOk) !== 0 ? this.driverFeatures : 0n;
  }

  get deviceStatus(): number {
    return this.status;
  }

  /** One line for `monitor virtio`: status bits, negotiated features, live queues, last error. */
  describe(): string {
    const bits = Object.entries(VirtioStatus).filter(([, b]) => (this.status & b) !== 0).map(([n]) => n);
    const queues = this.queues.map((q, i) => (q.ready ? `q${i}:${q.num}` : undefined)).filter((q) => q !== undefined);
    const parts = [
      `${this.name}: status 0x${this.status.toString(16)}${bits.length > 0 ? ` (${bits.join('|')})` : ''}`,
      `features 0x${this.negotiatedFeatures.toString(16)}`,
      `queues ${queues.length > 0 ? queues.join(' ') : 'none'}`,
    ];
    if ((this.interruptStatus) !== 0) parts.push(`interrupt pending 0x${this.interruptStatus.toString(16)}`);
    if (this.lastError !== undefined) parts.push(`broken: ${this.lastError}`);
    return parts.join(', ');
  }

  // ---- MmioDevice ----

  read(offset: number, size: AccessSize): number {
    if (offset >= MmioReg.Config) return this.backend.configRead(offset - MmioReg.Config, size) >>> 0;
    if (size !== 4 || (offset & 3) !== 0) return 0; // registers are 32-bit only
    return this.register(offset);
  }

  peek(offset: number, size: AccessSize): number | undefined {
    if (offset >= MmioReg.Config) return undefined; // a backend's config read may have effects
    const word = this.register(offset & ~3);
    const shift = 8 * (offset & 3);
    return size === 4 ? word : (word >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset >= MmioReg.Config) {
      this.backend.configWrite(offset - MmioReg.Config, size, value);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MmioReg.DeviceFeaturesSel:
        this.deviceFeaturesSel = value;
        return;
      case MmioReg.DriverFeatures:
        if ((this.status & VirtioStatus.FeaturesOk) !== 0 || this.driverFeaturesSel > 1) return;
        {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
        }
        return;
      case MmioReg.DriverFeaturesSel:
        this.driverFeaturesSel = value;
        return;
      case MmioReg.QueueSel:
        this.queueSel = value;
        return;
      case MmioReg.QueueNotify:
        this.kick(value & 0xffff);
        return;
      case MmioReg.InterruptAck:
        this.interruptStatus &= ~value;
        this.driveIrq();
        return;
      case MmioReg.Status:
        this.writeStatus(value & 0xff);
        return;
      case MmioReg.QueueReady:
        if (q !== undefined) this.setReady(q, (value & 1) === 1);
        return;
    }
    // Queue layout registers are frozen while the queue is live.
    if (q === undefined || q.ready) return;
    switch (offset) {
      case MmioReg.QueueNum: q.num = value; break;
      case MmioReg.QueueDescLow: q.descLo = value; break;
      case MmioReg.QueueDescHigh: q.descHi = value; break;
      case MmioReg.QueueDriverLow: q.driverLo = value; break;
      case MmioReg.QueueDriverHigh: q.driverHi = value; break;
      case MmioReg.QueueDeviceLow: q.deviceLo = value; break;
      case MmioReg.QueueDeviceHigh: q.deviceHi = value; break;
    }
  }

  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.lastError = undefined;
    this.deferredQueues = 0;
    this.sliceBudget = SLICE_BYTES;
    for (let i = 0; i < this.queues.length; i++) this.queues[i] = newQueue();
    this.driveIrq();
    this.backend.reset();
  }

  private register(offset: number): number {
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MmioReg.MagicValue: return VIRTIO_MMIO_MAGIC;
      case MmioReg.Version: return 2;
      case MmioReg.DeviceId: return this.backend.deviceId;
      case MmioReg.VendorId: return this.vendorId;
      case MmioReg.DeviceFeatures:
        return this.deviceFeaturesSel < 2 ? Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn) : 0;
      case MmioReg.QueueNumMax: return q === undefined ? 0 : this.backend.queueMaxSize;
      case MmioReg.QueueReady: return q?.ready === true ? 1 : 0;
      case MmioReg.InterruptStatus: return this.interruptStatus;
      case MmioReg.Status: return this.status;
      case MmioReg.ShmLenLow:
      case MmioReg.ShmLenHigh:
      case MmioReg.ShmBaseLow:
      case MmioReg.ShmBaseHigh:
        return 0xffff_ffff; // no shared memory regions: length ~0 means "none"
      case MmioReg.ConfigGeneration: return this.generation;
      default: return 0; // write-only registers (features, queue layout, notify, ack) read as 0, as on QEMU
    }
  }

  private setReady(q: MmioQueue, ready: boolean): void {
    if (!ready) {
      q.ready = false;
      q.vq = undefined;
      return;
    }
    if (q.ready) return;
    q.ready = true;
    const max = this.backend.queueMaxSize;
    if (q.num === 0 || q.num > max || (q.num & (q.num - 1)) !== 0) {
      this.broken(`queue ${this.queueSel}: size ${q.num} is not a power of two up to ${max}`);
      return;
    }
    const features = this.negotiatedFeatures;
    try {
      q.vq = new SplitVirtqueue(this.memory, q.num, q.descHi * 0x1_0000_0000 + q.descLo, q.driverHi * 0x1_0000_0000 + q.driverLo, q.deviceHi * 0x1_0000_0000 + q.deviceLo, {
        eventIdx: (features & VIRTIO_F_RING_EVENT_IDX) !== 0n,
        indirect: (features & VIRTIO_F_RING_INDIRECT_DESC) !== 0n,
      });
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      this.broken(`queue ${this.queueSel}: ${e.message}`);
    }
  }

  private kick(index: number): void {
    if ((this.status & (VirtioStatus.DriverOk | VirtioStatus.NeedsReset)) !== VirtioStatus.DriverOk) return;
    const vq = this.queues[index]?.vq;
    if (vq === undefined) return;
    if (this.sliceBudget <= 0) {
      // Spent for this slice: a kick in a loop costs nothing more; the zone's next slice goes on.
      if (index < 32) this.deferredQueues |= 1 << index;
      return;
    }
    vq.beginBatch(this.sliceBudget);
    try {
      this.backend.notify(index, vq, this.usedCallbacks[index]!);
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      this.broken(`queue ${index}: ${e.message}`);
    } finally {
      this.sliceBudget = vq.endBatch();
    }
    if (vq.deferred && index < 32) this.deferredQueues |= 1 << index;
  }

  /** Whether a kick left chains for the zone's next slice. */
  get hasDeferredWork(): boolean {
    return this.deferredQueues !== 0;
  }

  /** What this slice's kicks have cost so far (bytes named plus DESCRIPTOR_COST per descriptor). */
  get workThisSlice(): number {
    return SLICE_BYTES - this.sliceBudget;
  }

  /** A new slice of the owning zone: the budget is refilled and the queues left over go on. */
  startSlice(): void {
    this.sliceBudget = SLICE_BYTES;
    const queues = this.deferredQueues;
    if (queues === 0) return;
    this.deferredQueues = 0;
    for (let i = 0; queues >>> i !== 0; i++) if ((queues >>> i) & 1) this.kick(i);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    if ((v & VirtioStatus.FeaturesOk) !== 0 && (this.status & VirtioStatus.FeaturesOk) === 0) {
      // Accept only a subset of what we offered, and only modern drivers.
      const ok = (this.driverFeatures & ~this.offered) === 0n && (this.driverFeatures & VIRTIO_F_VERSION_1) !== 0n;
      if (ok) this.backend.negotiated?.(this.driverFeatures);
      else v &= ~VirtioStatus.FeaturesOk;
    }
    this.status = (v & ~VirtioStatus.NeedsReset) | (this.status & VirtioStatus.NeedsReset);
  }

  private broken(reason: string): void {
    this.lastError = reason;
    if ((this.status & VirtioStatus.NeedsReset) !== 0) return;
    this.status |= VirtioStatus.NeedsReset;
    // The spec asks for a configuration-change notification when NEEDS_RESET is set after DRIVER_OK.
    if ((this.status & VirtioStatus.DriverOk) !== 0) this.configChanged();
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.driveIrq();
  }

  /** The line is high while any InterruptStatus bit is set; only changes reach the controller. */
  private driveIrq(): void {
    this.irq.set(this.interruptStatus !== 0);
  }
}

function newQueue(): MmioQueue {
  return { num: 0, ready: false, descLo: 0, descHi: 0, driverLo: 0, driverHi: 0, deviceLo: 0, deviceHi: 0, vq: undefined };
}
