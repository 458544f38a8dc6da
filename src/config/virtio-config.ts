import { readFileSync } from 'node:fs';

/**
 * The virtio device list of hvisor-tool's `virtio_cfg.json` ({"zones": [{"id", "memory_region",
 * "devices": [{"type", "addr", "len", "irq", ...}]}]}), read into typed specs. Our additions are
 * optional fields: console "tcp"/"unix", net "udp" (net "tap" names the board switch to join:
 * no tap device, no root), blk "readonly"/"serial", gpu "web" (a port for the framebuffer page).
 */

export class VirtioConfigError extends Error {
  constructor(readonly where: string, message: string) {
    super(`${where}: ${message}`);
  }
}

interface Common {
  readonly addr: number;
  readonly len: number;
  /** Interrupt number as hvisor zone configs write it (GIC: SPI + 32; PLIC: source). */
  readonly irq: number;
}

export type ConsoleEndpointSpec =
  | { readonly kind: 'terminal' }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export type NetLinkSpec =
  | { readonly kind: 'switch'; readonly name: string }
  | { readonly kind: 'udp'; readonly local: { address: string; port: number }; readonly peer: { address: string; port: number } };

export type VirtioDeviceSpec =
  | (Common & { readonly type: 'blk'; readonly img: string; readonly readOnly: boolean; readonly serial: string | undefined })
  | (Common & { readonly type: 'console'; readonly endpoint: ConsoleEndpointSpec })
  | (Common & { readonly type: 'net'; readonly mac: readonly number[]; readonly link: NetLinkSpec })
  | (Common & { readonly type: 'gpu'; readonly width: number; readonly height: number; readonly webPort: number | undefined });

export interface ZoneVirtioConfig {
  readonly zoneId: number;
  /** How zone0's view of the zone's RAM maps to the zone's own (hvisor's shared-memory trick). */
  readonly memoryRegions: readonly { zone0Ipa: number; zonexIpa: number; size: number }[];
  /** Enabled devices only ("status": "disable" ones are dropped). */
  readonly devices: readonly VirtioDeviceSpec[];
}

/** Reads and parses a virtio_cfg.json file; an unreadable file or bad JSON is a VirtioConfigError naming it. */
export function loadVirtioConfig(path: string): ZoneVirtioConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new VirtioConfigError(path, `cannot read the file (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new VirtioConfigError(path, `not valid JSON (${(e as Error).message})`);
  }
  return parseVirtioConfig(json, path);
}

export function parseVirtioConfig(json: unknown, source = 'virtio config'): ZoneVirtioConfig[] {
  const root = object(json, source);
  const zones = array(root['zones'], `${source}: zones`);
  return zones.map((z, i) => {
    const where = `${source}: zones[${i}]`;
    const zone = object(z, where);
    const zoneId = integer(zone['id'], `${where}.id`);
    const memoryRegions = zone['memory_region'] === undefined ? [] : array(zone['memory_region'], `${where}.memory_region`).map((m, j) => {
      const w = `${where}.memory_region[${j}]`;
      const r = object(m, w);
      return { zone0Ipa: integer(r['zone0_ipa'], `${w}.zone0_ipa`), zonexIpa: integer(r['zonex_ipa'], `${w}.zonex_ipa`), size: integer(r['size'], `${w}.size`) };
    });
    const devices: VirtioDeviceSpec[] = [];
    // Addresses are the zone's own guest-physical ones: two zones may use the same slot address.
    const seenAddr = new Map<number, string>();
    array(zone['devices'], `${where}.devices`).forEach((d, j) => {
      const w = `${where}.devices[${j}]`;
      const spec = device(object(d, w), w);
      if (spec === undefined) return;
      const clash = seenAddr.get(spec.addr);
      if (clash !== undefined) throw new VirtioConfigError(w, `addr 0x${spec.addr.toString(16)} is already used by ${clash}`);
      seenAddr.set(spec.addr, w);
      devices.push(spec);
    });
    return { zoneId, memoryRegions, devices };
  });
}

function device(d: Record<string, unknown>, where: string): VirtioDeviceSpec | undefined {
  const status = d['status'] ?? 'enable';
  if (status !== 'enable' && status !== 'disable') throw new VirtioConfigError(`${where}.status`, `"${String(status)}" is not "enable" or "disable"`);
  if (status === 'disable') return undefined;
  const common: Common = {
    addr: integer(d['addr'], `${where}.addr`),
    len: integer(d['len'] ?? 0x200, `${where}.len`),
    irq: integer(d['irq'], `${where}.irq`),
  };
  if (common.len < 0x100 + 0x40 || common.len % 0x100 !== 0) throw new VirtioConfigError(`${where}.len`, `0x${common.len.toString(16)} is too small for a virtio-mmio window (0x200 is usual)`);
  switch (d['type']) {
    case 'blk': {
      if (typeof d['img'] !== 'string' || d['img'] === '') throw new VirtioConfigError(`${where}.img`, 'a blk device needs the path of its image file');
      const readOnly = d['readonly'] ?? false;
      if (typeof readOnly !== 'boolean') throw new VirtioConfigError(`${where}.readonly`, 'must be true or false');
      const serial = d['serial'];
      if (serial !== undefined && typeof serial !== 'string') throw new VirtioConfigError(`${where}.serial`, 'must be a string');
      return { ...common, type: 'blk', img: d['img'], readOnly, serial };
    }
    case 'console':
      return { ...common, type: 'console', endpoint: consoleEndpoint(d, where) };
    case 'net':
      return { ...common, type: 'net', mac: mac(d['mac'], `${where}.mac`), link: netLink(d, where) };
    case 'gpu': {
      const width = integer(d['width'] ?? 1024, `${where}.width`);
      const height = integer(d['height'] ?? 768, `${where}.height`);
      if (width === 0 || height === 0 || width > 16384 || height > 16384) throw new VirtioConfigError(where, `display ${width}x${height} is not between 1x1 and 16384x16384`);
      const webPort = d['web'] === undefined ? undefined : port(d['web'], `${where}.web`);
      return { ...common, type: 'gpu', width, height, webPort };
    }
    case 'scmi':
      // hvisor-tool's SCMI device forwards to zone0's firmware interface, which an emulated board has not.
      throw new VirtioConfigError(`${where}.type`, '"scmi" is not served by hvisor-ts (blk, console, net, gpu are); set its status to "disable"');
    default:
      throw new VirtioConfigError(`${where}.type`, `"${String(d['type'])}" is not one of blk, console, net, gpu`);
  }
}

function consoleEndpoint(d: Record<string, unknown>, where: string): ConsoleEndpointSpec {
  if (d['tcp'] !== undefined && d['unix'] !== undefined) throw new VirtioConfigError(where, 'a console has one endpoint: "tcp" or "unix", not both');
  if (d['tcp'] !== undefined) {
    const [host, p] = hostPort(d['tcp'], `${where}.tcp`);
    return { kind: 'tcp', host, port: p };
  }
  if (d['unix'] !== undefined) {
    if (typeof d['unix'] !== 'string' || d['unix'] === '') throw new VirtioConfigError(`${where}.unix`, 'must be a socket path');
    return { kind: 'unix', path: d['unix'] };
  }
  return { kind: 'terminal' };
}

function netLink(d: Record<string, unknown>, where: string): NetLinkSpec {
  const udp = d['udp'];
  if (udp === undefined) {
    const tap = d['tap'] ?? 'board';
    if (typeof tap !== 'string') throw new VirtioConfigError(`${where}.tap`, 'must be a name');
    return { kind: 'switch', name: tap };
  }
  const u = object(udp, `${where}.udp`);
  const [la, lp] = hostPort(u['local'], `${where}.udp.local`);
  const [pa, pp] = hostPort(u['peer'], `${where}.udp.peer`);
  return { kind: 'udp', local: { address: la, port: lp }, peer: { address: pa, port: pp } };
}

/** "127.0.0.1:4321", "4321" or 4321 (loopback). */
function hostPort(v: unknown, where: string): [string, number] {
  if (typeof v === 'number') return ['127.0.0.1', port(v, where)];
  if (typeof v !== 'string') throw new VirtioConfigError(where, 'must be a port or "host:port"');
  const m = /^(?:(.+):)?(\d+)$/.exec(v);
  if (m === null) throw new VirtioConfigError(where, `"${v}" is not a port or "host:port"`);
  return [m[1] ?? '127.0.0.1', port(Number(m[2]), where)];
}

function port(v: unknown, where: string): number {
  const n = integer(v, where);
  if (n > 65535) throw new VirtioConfigError(where, `${n} is not a port number`);
  return n;
}

function mac(v: unknown, where: string): number[] {
  const bytes = array(v, where).map((b, i) => integer(b, `${where}[${i}]`));
  if (bytes.length !== 6 || bytes.some((b) => b > 255)) throw new VirtioConfigError(where, 'must be six bytes');
  if ((bytes[0]! & 1) !== 0) throw new VirtioConfigError(where, 'is a multicast address; a NIC needs a unicast MAC');
  return bytes;
}

/** An integer written as a JSON number or a "0x..." / decimal string, as hvisor configs do. */
function integer(v: unknown, where: string): number {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v.trim())) n = Number(v.trim());
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw new VirtioConfigError(where, `${JSON.stringify(v) ?? 'nothing'} is not a non-negative integer`);
  return n;
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VirtioConfigError(where, 'must be an object');
  return v as Record<string, unknown>;
}

function array(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new VirtioConfigError(where, 'must be an array');
  return v;
}
