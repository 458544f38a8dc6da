import { LifecycleError } from './lifecycle-error.js';
import { zoneRamBytes } from './zone-images.js';
import { ZONE_INFO_SIZE, decodeZoneConfig, readGuest, zoneConfigLayout } from '../../config/zone-config-binary.js';
import { BRIDGE_LAYOUT } from './virtio-bridge.js';
import type { Hypervisor } from './hypervisor.js';
import { Errno, errnoOf } from '../../util/hvisor-error.js';
import type { Zone, ZoneImage } from '../zone/zone.js';
import { CONFIG_NAME_MAXLEN } from '../../config/zone-config.js';

/** hvisor's hypercall numbers (syswonder/hvisor src/hypercall/mod.rs, hvisor-tool include/hvisor.h). */
export const HypercallCode = {
  VirtioInit: 0n,
  VirtioInjectIrq: 1n,
  ZoneStart: 2n,
  ZoneShutdown: 3n,
  ZoneList: 4n,
  IvcInfo: 5n,
  ConfigCheck: 6n,
  GetEcamBase: 9n,
  /** LoongArch's HVISOR_HC_CLEAR_INJECT_IRQ (hvisor-tool include/hvisor.h); 20 elsewhere. */
  ClearInjectIrqLoongarch: 11n,
  ClearInjectIrq: 20n,
} as const;

const PAGE = 0x1000;

const err = (errno: number) => BigInt.asUintN(64, BigInt(-errno));

/**
 * One hvisor hypercall from `caller` (HVC #0 on aarch64: x0 = code, x1/x2 = arguments; the hvisor
 * SBI extension on riscv64: a0 = code, a1/a2). Returns the result register: a value, or -errno.
 * Pointers are the caller's guest-physical addresses. Zone start and shutdown and the virtio bridge
 * (0, 1) are zone0's alone (EPERM), as in hvisor's src/hypercall/mod.rs.
 */
export function handleHypercall(hv: Hypervisor, caller: Zone, code: bigint, args: readonly bigint[]): bigint {
  const arg0 = args[0] ?? 0n;
  const arg1 = args[1] ?? 0n;
  const root = caller.id === 0;
  try {
    switch (code) {
      case HypercallCode.ZoneStart:
        if (!root) return refuse(caller, Errno.EPERM, 'zone start from a non-root zone');
        return zoneStart(hv, caller, arg0, arg1);
      case HypercallCode.ZoneShutdown:
        if (!root) return refuse(caller, Errno.EPERM, 'zone shutdown from a non-root zone');
        hv.shutdownZone(Number(BigInt.asUintN(32, arg0)));
        return 0n;
      case HypercallCode.ZoneList:
        return zoneList(hv, caller, arg0, arg1);
      case HypercallCode.ConfigCheck:
        return writeU64(caller, arg0, BigInt(hv.configVersion), 'config check');
      case HypercallCode.IvcInfo:
        return ivcInfo(hv, caller, arg0);
      case HypercallCode.VirtioInit:
        if (!root) return refuse(caller, Errno.EPERM, 'virtio init from a non-root zone');
        return virtioInit(hv, caller, arg0);
      case HypercallCode.VirtioInjectIrq:
        if (!root) return refuse(caller, Errno.EPERM, 'virtio interrupt injection from a non-root zone');
        return virtioInjectIrq(hv, caller);
      case HypercallCode.GetEcamBase: {
        const bus = caller.config.pciConfig[0];
        if (bus === undefined) return refuse(caller, Errno.ENODEV, `get ecam base: zone ${caller.id} has no pci_config`);
        return writeU64(caller, arg0, BigInt(bus.ecamBase), 'get ecam base');
      }
      case HypercallCode.ClearInjectIrqLoongarch:
      case HypercallCode.ClearInjectIrq:
        if (code === HypercallCode.ClearInjectIrqLoongarch && hv.machine.arch !== 'loongarch64') return unknown(caller, code);
        // hvisor drops interrupts still waiting in list registers; ours are delivered as edges already.
        return 0n;
      default:
        return unknown(caller, code);
    }
  } catch (e) {
    return refuse(caller, errnoOf(e), (e as Error).message);
  }
}

/** hvisor answers unknown codes with 0 and a warning. */
function unknown(caller: Zone, code: bigint): bigint {
  caller.log(`hypercall ${code} unsupported`);
  return 0n;
}

function writeU64(caller: Zone, gpa: bigint, value: bigint, what: string): bigint {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  if (caller.memory.writeDebug(Number(gpa), out) !== 8) return refuse(caller, Errno.EINVAL, `${what}: 0x${gpa.toString(16)} is not RAM`);
  return 0n;
}

/** hypercall 0: the daemon's virtio_bridge page (zone0 guest-physical, page-aligned, in its RAM). */
function virtioInit(hv: Hypervisor, caller: Zone, gpa: bigint): bigint {
  const at = Number(BigInt.asUintN(53, gpa));
  const ram = caller.config.memoryRegions.find((r) => r.type === 'ram' && at >= r.virtualStart && at + BRIDGE_LAYOUT.size <= r.virtualStart + r.size);
  if (gpa % BigInt(PAGE) !== 0n || ram === undefined) return refuse(caller, Errno.EINVAL, `virtio init: 0x${gpa.toString(16)} is not a page of zone 0's RAM`);
  hv.virtioBridge.attach(at - ram.virtualStart + ram.physicalStart);
  caller.log(`virtio bridge at 0x${at.toString(16)}: nonroot zones' virtio regions are served by zone 0's daemon`);
  return 0n;
}

/** hypercall 1: each result the daemon queued injects its interrupt into its zone. */
function virtioInjectIrq(hv: Hypervisor, caller: Zone): bigint {
  if (!hv.virtioBridge.enabled) return refuse(caller, Errno.EINVAL, 'virtio inject irq before virtio init (hypercall 0)');
  hv.virtioBridge.drainResults((zoneId, irq) => {
    const zone = hv.zone(zoneId);
    if (zone === undefined) return; // shut down meanwhile: hvisor skips it too
    const input = zone.state === 'running' ? zone.irqchip?.input(irq) : undefined;
    if (input === undefined) caller.log(`virtio inject irq: interrupt ${irq} is not one of zone ${zoneId}'s: dropped`);
    else input.pulse();
  });
  return 0n;
}

function refuse(caller: Zone, errno: number, why: string): bigint {
  caller.log(`hypercall refused (-${errno}): ${why}`);
  return err(errno);
}

function zoneStart(hv: Hypervisor, caller: Zone, configGpa: bigint, size: bigint): bigint {
  const version = hv.configVersion;
  const layout = zoneConfigLayout(hv.machine.arch, version);
  if (size !== BigInt(layout.size)) {
    return refuse(caller, Errno.EINVAL, `zone start: config size should be ${layout.size} bytes (CONFIG_MAGIC_VERSION ${version}), but got ${size}`);
  }
  const bytes = readGuest(caller.memory, Number(configGpa), layout.size);
  if (bytes === undefined) return refuse(caller, Errno.EINVAL, `zone start: config at 0x${configGpa.toString(16)} is not in zone 0's RAM`);
  const { config, kernelSize, dtbSize } = decodeZoneConfig(bytes, hv.machine.arch, `hypercall from zone ${caller.id}`, version);
  // hvisor-tool's driver already copied the images to these physical addresses; keep a copy so
  // a restart can put them back.
  const images: ZoneImage[] = [];
  // An image must fit in the zone's RAM: a size beyond it is refused before anything is copied.
  const ramBytes = zoneRamBytes(config);
  const snapshot = (name: string, paddr: number, length: number) => {
    if (length === 0) return;
    if (length > ramBytes) throw new LifecycleError(Errno.EINVAL, `zone start: ${name} size 0x${length.toString(16)} is more than the zone's 0x${ramBytes.toString(16)} bytes of RAM`);
    const data = hv.machine.physical.readDebug(paddr, length);
    if (data.length !== length) throw new LifecycleError(Errno.EINVAL, `zone start: ${name} [0x${paddr.toString(16)}, +0x${length.toString(16)}) is not board RAM`);
    images.push({ name, paddr, data: data.slice() });
  };
  snapshot('kernel', config.kernelLoadPaddr, kernelSize);
  snapshot('dtb', config.dtbLoadPaddr, dtbSize);
  hv.startZone(config, images);
  return 0n;
}

function zoneList(hv: Hypervisor, caller: Zone, listGpa: bigint, count: bigint): bigint {
  if (listGpa === 0n) return refuse(caller, Errno.EINVAL, 'zone list: zones is null');
  const zones = hv.zones;
  const n = Math.min(Number(BigInt.asUintN(32, count)), zones.length);
  const out = new Uint8Array(n * ZONE_INFO_SIZE);
  const v = new DataView(out.buffer);
  zones.slice(0, n).forEach((z, i) => {
    const o = i * ZONE_INFO_SIZE;
    v.setUint32(o, z.id, true);
    v.setBigUint64(o + 8, z.config.cpus.reduce((m, c) => m | (1n << BigInt(c)), 0n), true);
    out.set(Buffer.from(z.name, 'utf8').subarray(0, CONFIG_NAME_MAXLEN), o + 16);
    v.setUint8(o + 48, z.state === 'crashed' ? 1 : 0);
  });
  if (caller.memory.writeDebug(Number(listGpa), out) !== out.length) return refuse(caller, Errno.EINVAL, `zone list: 0x${listGpa.toString(16)} is not RAM`);
  return BigInt(n);
}

/** hvisor's packed IvcInfo: u64 len, u64 ct_ipas[2], u64 shmem_ipas[2], u32 ivc_ids[2], u32 irqs[2]. */
export const IVC_INFO_SIZE = 56;

function ivcInfo(hv: Hypervisor, caller: Zone, gpa: bigint): bigint {
  const configs = hv.ivc.infoOf(caller.config);
  if (configs === undefined) return refuse(caller, Errno.ENODEV, `zone ${caller.id} has no ivc config`);
  const out = new Uint8Array(IVC_INFO_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(configs.length), true);
  configs.forEach((c, i) => {
    v.setBigUint64(8 + 8 * i, BigInt(c.controlTableIpa), true);
    v.setBigUint64(24 + 8 * i, BigInt(c.sharedMemIpa), true);
    v.setUint32(40 + 4 * i, c.ivcId, true);
    v.setUint32(48 + 4 * i, c.interruptNum, true);
  });
  if (caller.memory.writeDebug(Number(gpa), out) !== IVC_INFO_SIZE) return refuse(caller, Errno.EINVAL, `ivc info: 0x${gpa.toString(16)} is not RAM`);
  return 0n;
}
