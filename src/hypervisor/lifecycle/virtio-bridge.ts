import type { AddressSpace } from '../../machine/address-space.js';

/**
 * hvisor's `virtio_bridge` page: the rings between the hypervisor and zone0's virtio daemon
 * (hvisor-tool include/hvisor.h `struct virtio_bridge`; hvisor src/device/virtio_trampoline.rs). It
 * lives in zone0's RAM at the address zone0 names with hypercall 0 (HvVirtioInit). hvisor pushes a
 * request per trapped access of a nonroot zone to its virtio regions; the daemon answers
 * configuration accesses through cfg_values/cfg_flags of the requesting CPU and queue results
 * (interrupts to inject) through the result ring and hypercall 1 (HvVirtioInjectIrq).
 *
 * Layout (C, natural alignment, checked against gcc in the tests):
 *   u32 req_front, req_rear, res_front, res_rear;
 *   struct device_req { u64 src_cpu, address, size, value; u32 src_zone; u8 is_write, need_interrupt; u16 pad; } req_list[32];
 *   struct device_res { u32 target_zone, irq_id; } res_list[32];
 *   u64 cfg_flags[32], cfg_values[32], mmio_addrs[8]; u8 mmio_avail, need_wakeup;
 */
export const MAX_REQ = 32;
export const MAX_CPUS = 32;
const MAX_DEVS = 8;
const REQ_SIZE = 40;
const RES_SIZE = 8;
export const BRIDGE_LAYOUT = {
  reqFront: 0,
  reqRear: 4,
  resFront: 8,
  resRear: 12,
  reqList: 16,
  resList: 16 + MAX_REQ * REQ_SIZE,
  cfgFlags: 16 + MAX_REQ * REQ_SIZE + MAX_REQ * RES_SIZE,
  cfgValues: 16 + MAX_REQ * REQ_SIZE + MAX_REQ * RES_SIZE + 8 * MAX_CPUS,
  needWakeup: 16 + MAX_REQ * REQ_SIZE + MAX_REQ * RES_SIZE + 16 * MAX_CPUS + 8 * MAX_DEVS + 1,
  size: 16 + MAX_REQ * REQ_SIZE + MAX_REQ * RES_SIZE + 16 * MAX_CPUS + 8 * MAX_DEVS + 8,
} as const;

/** One trapped access, as hvisor's `HvisorDeviceReq` carries it. */
export interface BridgeRequest {
  /** The physical CPU waiting for the answer (indexes cfg_flags / cfg_values). */
  readonly srcCpu: number;
  /** Guest-physical address of the access. */
  readonly address: number;
  readonly size: number;
  readonly value: number;
  readonly srcZone: number;
  readonly isWrite: boolean;
  /** 1 for a queue notification: hvisor does not wait for an answer. */
  readonly needInterrupt: boolean;
}

const mask = MAX_REQ - 1;

/**
 * The hypervisor's side of the page. Every index zone0 wrote is masked to the ring size before use,
 * and each call does bounded work (at most one ring's worth of results).
 */
export class VirtioBridge {
  private base: number | undefined;

  /** `memory` is the board's physical address space (the page is host-physical, in zone0's RAM). */
  constructor(private readonly memory: AddressSpace) {}

  get address(): number | undefined {
    return this.base;
  }

  /** Counts attaches: a request made to an earlier daemon's page is never answered by a later one. */
  private attaches = 0;

  /** hypercall 0: the daemon's page (host-physical, page-aligned, inside zone0's RAM: the caller checks). */
  attach(paddr: number): void {
    this.base = paddr;
    this.attaches++;
  }

  /** Which daemon's page requests go to now (changes with every attach). */
  get generation(): number {
    return this.attaches;
  }

  detach(): void {
    this.base = undefined;
  }

  get enabled(): boolean {
    return this.base !== undefined;
  }

  private u(offset: number, size: 1 | 4 | 8): bigint {
    return this.memory.read(this.base! + offset, size) ?? 0n;
  }

  private set(offset: number, size: 1 | 4 | 8, value: bigint | number): void {
    this.memory.write(this.base! + offset, size, BigInt(value));
  }

  isFull(): boolean {
    const L = BRIDGE_LAYOUT;
    return ((Number(this.u(L.reqRear, 4)) + 1) & mask) === (Number(this.u(L.reqFront, 4)) & mask);
  }

  push(req: BridgeRequest): void {
    const L = BRIDGE_LAYOUT;
    const rear = Number(this.u(L.reqRear, 4)) & mask;
    const slot = L.reqList + rear * REQ_SIZE;
    this.set(slot, 8, req.srcCpu);
    this.set(slot + 8, 8, req.address);
    this.set(slot + 16, 8, req.size);
    this.set(slot + 24, 8, req.value >>> 0);
    this.set(slot + 32, 4, req.srcZone);
    this.set(slot + 36, 1, req.isWrite ? 1 : 0);
    this.set(slot + 37, 1, req.needInterrupt ? 1 : 0);
    this.set(L.reqRear, 4, (rear + 1) & mask);
  }

  /** The daemon said it sleeps (in epoll) and must be woken by the interrupt. */
  needWakeup(): boolean {
    return this.u(BRIDGE_LAYOUT.needWakeup, 1) === 1n;
  }

  cfgFlag(cpu: number): bigint {
    return this.u(BRIDGE_LAYOUT.cfgFlags + 8 * cpu, 8);
  }

  cfgValue(cpu: number): bigint {
    return this.u(BRIDGE_LAYOUT.cfgValues + 8 * cpu, 8);
  }

  /** hypercall 1: hands each queued result (zone, interrupt) to `inject` and frees its slot. */
  drainResults(inject: (zone: number, irq: number) => void): number {
    const L = BRIDGE_LAYOUT;
    let front = Number(this.u(L.resFront, 4)) & mask;
    const rear = Number(this.u(L.resRear, 4)) & mask;
    let n = 0;
    while (front !== rear && n < MAX_REQ) {
      const slot = L.resList + front * RES_SIZE;
      inject(Number(this.u(slot, 4)), Number(this.u(slot + 4, 4)));
      front = (front + 1) & mask;
      this.set(L.resFront, 4, front);
      n++;
    }
    return n;
  }
}
