import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import type { MemoryRegionConfig } from '../../config/zone-config.js';
import type { ZoneDeviceWindow } from '../stage2/stage2.js';
import type { Zone } from '../zone/zone.js';
import { MAX_CPUS, type VirtioBridge } from './virtio-bridge.js';

/** virtio-mmio QueueNotify: hvisor compares the offset inside the `virtio` region with it. */
const QUEUE_NOTIFY = 0x50;

interface Pending {
  readonly offset: number;
  readonly write: boolean;
  readonly flag: bigint;
  /** The bridge generation the request went to. */
  readonly generation: number;
}

/** What the trampoline needs from the hypervisor around it. */
export interface TrampolineHost {
  readonly bridge: VirtioBridge;
  /** Raise hvisor's IRQ_WAKEUP_VIRTIO_DEVICE in zone0 (the daemon sleeps in epoll). */
  wakeDaemon(): void;
}

/**
 * hvisor's virtio trampoline for one `virtio` region of a nonroot zone, as a device window: each access
 * becomes a request in the bridge's ring (hvisor src/device/virtio_trampoline.rs `mmio_virtio_handler`),
 * zone0's daemon is woken if it sleeps, and the vCPU waits inside the access until the daemon bumps
 * its cfg_flags entry; a read then returns cfg_values. A queue notification does not wait. While it
 * waits the vCPU takes no interrupt, as on hvisor, where it spins at EL2; halting zone0 leaves it there.
 */
export class VirtioTrampoline implements MmioDevice {
  readonly name = 'virtio trampoline to zone0';
  /** The access each vCPU waits in (vCPU index → request), made again when it runs next. */
  private readonly pending = new Map<number, Pending>();
  private warnedDisabled = false;

  constructor(
    private readonly zone: () => Zone,
    private readonly region: MemoryRegionConfig,
    private readonly host: TrampolineHost,
  ) {}

  read(offset: number, size: AccessSize): number {
    return this.access(offset, size, false, 0);
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.access(offset, size, true, value);
  }

  reset(): void {
    this.pending.clear();
  }

  private access(offset: number, size: AccessSize, write: boolean, value: number): number {
    const zone = this.zone();
    const vcpu = zone.accessingVcpu;
    if (vcpu === undefined) return 0;
    const bridge = this.host.bridge;
    const address = this.region.virtualStart + offset;
    if (!bridge.enabled) {
      // zone0 restarted while this access waited: it waits on for zone0's next daemon.
      if (this.pending.has(vcpu.index)) return zone.stallAccess(() => bridge.enabled);
      // hvisor panics here; we let the guest see no device and say why once.
      if (!this.warnedDisabled) zone.log(`virtio access at 0x${address.toString(16)} before zone0's virtio daemon set up the bridge (hypercall 0): reads as 0`);
      this.warnedDisabled = true;
      return 0;
    }
    const cpu = vcpu.physicalId;
    if (cpu >= MAX_CPUS) {
      zone.log(`virtio access from CPU ${cpu}: hvisor's bridge has answers for CPUs 0-${MAX_CPUS - 1} only; reads as 0`);
      return 0;
    }
    const waiting = this.pending.get(vcpu.index);
    if (waiting !== undefined) {
      // An answer comes only from the daemon the request went to: after zone0 restarted, ask its next one.
      if (waiting.offset === offset && waiting.write === write && waiting.generation === bridge.generation) {
        if (bridge.cfgFlag(cpu) === waiting.flag) return zone.stallAccess(() => !bridge.enabled || bridge.cfgFlag(cpu) !== waiting.flag);
        this.pending.delete(vcpu.index);
        return write ? 0 : Number(bridge.cfgValue(cpu) & ((1n << BigInt(8 * size)) - 1n));
      }
      this.pending.delete(vcpu.index); // the vCPU went elsewhere (reset), or its daemon is gone: the answer is no longer awaited
    }
    if (bridge.isFull()) return zone.stallAccess(() => !bridge.enabled || !bridge.isFull());
    const needInterrupt = offset === QUEUE_NOTIFY;
    const flag = bridge.cfgFlag(cpu);
    bridge.push({ srcCpu: cpu, address, size, value, srcZone: zone.id, isWrite: write, needInterrupt });
    if (bridge.needWakeup()) this.host.wakeDaemon();
    if (needInterrupt) return 0;
    this.pending.set(vcpu.index, { offset, write, flag, generation: bridge.generation });
    return zone.stallAccess(() => !bridge.enabled || bridge.cfgFlag(cpu) !== flag);
  }
}

/** The trampoline windows of a zone: one per `virtio` memory region, covering all of it. */
export function trampolineWindows(zone: () => Zone, regions: readonly MemoryRegionConfig[], host: TrampolineHost): ZoneDeviceWindow[] {
  return regions
    .filter((r) => r.type === 'virtio')
    .map((r) => ({ base: r.virtualStart, size: r.size, device: new VirtioTrampoline(zone, r, host), name: `virtio@${r.virtualStart.toString(16)} (zone0's daemon)` }));
}

/**
 * hvisor's IRQ_WAKEUP_VIRTIO_DEVICE of its QEMU virt platforms (board.rs of platform/aarch64/qemu-gicv3 and its riscv64 peers): the interrupt
 * that wakes zone0's daemon, named by the `hvisor_virtio_device` node of zone0's device tree.
 */
export function virtioWakeIrq(arch: string): number | undefined {
  if (arch === 'aarch64') return 32 + 0x20;
  if (arch === 'riscv64') return 0x20;
  return undefined;
}
