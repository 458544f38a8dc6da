import { PartitionError } from './partition-check.js';
import { ZONE_INFO_SIZE, BinaryConfigError, CONFIG_MAGIC_VERSION, decodeZoneConfig, readGuest, zoneConfigLayout } from '../../config/zone-config-binary.js';
import type { Hypervisor } from './hypervisor.js';
import { Errno, LifecycleError } from './lifecycle-error.js';
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
  ClearInjectIrq: 20n,
} as const;

const err = (errno: number) => BigInt.asUintN(64, BigInt(-errno));

/**
 * One hvisor hypercall from `caller` (HVC #0 on aarch64: x0 = code, x1/x2 = arguments; the hvisor
 * SBI extension on riscv64: a0 = code, a1/a2). Returns the result register: a value, or -errno.
 * Pointers are the caller's guest-physical addresses. Zone management is zone0's alone (EPERM).
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
      case HypercallCode.ConfigCheck: {
        const out = new Uint8Array(8);
        new DataView(out.buffer).setBigUint64(0, CONFIG_MAGIC_VERSION, true);
        if (caller.memory.writeDebug(Number(arg0), out) !== 8) return refuse(caller, Errno.EINVAL, `config check: 0x${arg0.toString(16)} is not RAM`);
        return 0n;
      }
      case HypercallCode.IvcInfo:
        return ivcInfo(hv, caller, arg0);
      case HypercallCode.VirtioInit:
      case HypercallCode.VirtioInjectIrq:
      case HypercallCode.ClearInjectIrq:
        // Our virtio backends run inside the hypervisor: the zone0 daemon's shared region is unused.
        caller.log(`hypercall ${code}: virtio devices are served in-process; nothing to do`);
        return 0n;
      default:
        caller.log(`hypercall ${code} unsupported`);
        return 0n; // hvisor answers unknown codes with 0 and a warning
    }
  } catch (e) {
    if (e instanceof LifecycleError) return refuse(caller, e.errno, e.message);
    if (e instanceof PartitionError || e instanceof BinaryConfigError) return refuse(caller, Errno.EINVAL, e.message);
    return refuse(caller, Errno.EINVAL, (e as Error).message);
  }
}

function refuse(caller: Zone, errno: number, why: string): bigint {
  caller.log(`hypercall refused (-${errno}): ${why}`);
  return err(errno);
}

function zoneStart(hv: Hypervisor, caller: Zone, configGpa: bigint, size: bigint): bigint {
  const layout = zoneConfigLayout(hv.machine.arch);
  if (size !== BigInt(layout.size)) return refuse(caller, Errno.EINVAL, `zone start: config size should be ${layout.size} bytes, but got ${size}`);
  const bytes = readGuest(caller.memory, Number(configGpa), layout.size);
  if (bytes === undefined) return refuse(caller, Errno.EINVAL, `zone start: config at 0x${configGpa.toString(16)} is not in zone 0's RAM`);
  const { config, kernelSize, dtbSize } = decodeZoneConfig(bytes, hv.machine.arch, `hypercall from zone ${caller.id}`);
  // hvisor-tool's driver already copied the images to these physical addresses; keep a copy so
  // a restart can put them back.
  const images: ZoneImage[] = [];
  const snapshot = (name: string, paddr: number, length: number) => {
    if (length === 0) return;
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
