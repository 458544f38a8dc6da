import { JsonFields, describe, loadJson } from './json-fields.js';

/**
 * The virtio device list of hvisor-tool's `virtio_cfg.json` ({"zones": [{"id", "memory_region",
 * "devices": [{"type", "addr", "len", "irq", ...}]}]}), read into typed specs. Our additions are
 * optional fields: console "tcp"/"unix", net "udp" (net "tap" names the board switch to join:
 * no tap device, no root), blk "readonly"/"serial", gpu "web" (a port for the framebuffer page).
 */

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

/** Reads and parses a virtio_cfg.json file; an unreadable file or bad JSON is a ConfigError naming it. */
export function loadVirtioConfig(path: string): ZoneVirtioConfig[] {
  return parseVirtioConfig(loadJson(path, 'virtio config'), path);
}

/** Numbers are read as hvisor-tool's virtio daemon reads them (tools/virtio/virtio.c: parse_json_u64/u32/u8, json-fields.ts). */
export function parseVirtioConfig(json: unknown, source = 'virtio config'): ZoneVirtioConfig[] {
  const root = new JsonFields(source, '', json);
  return root.field('zones').items().map((zone) => {
    const zoneId = zone.field('id').num(32);
    const memoryRegions = (zone.optionalField('memory_region')?.items() ?? []).map((r) => ({
      zone0Ipa: r.field('zone0_ipa').num(),
      zonexIpa: r.field('zonex_ipa').num(),
      size: r.field('size').num(),
    }));
    const devices: VirtioDeviceSpec[] = [];
    // Addresses are the zone's own guest-physical ones: two zones may use the same slot address.
    const seenAddr = new Map<number, string>();
    for (const d of zone.field('devices').items()) {
      const spec = device(d);
      if (spec === undefined) continue;
      const clash = seenAddr.get(spec.addr);
      if (clash !== undefined) d.fail(`addr 0x${spec.addr.toString(16)} is already used by ${source}: ${clash}`);
      seenAddr.set(spec.addr, d.path);
      devices.push(spec);
    }
    return { zoneId, memoryRegions, devices };
  });
}

function device(d: JsonFields): VirtioDeviceSpec | undefined {
  const statusField = d.optionalField('status');
  const status = statusField?.value ?? 'enable';
  if (status !== 'enable' && status !== 'disable') statusField!.fail(`${describe(status)} is not "enable" or "disable"`);
  if (status === 'disable') return undefined;
  const lenField = d.optionalField('len');
  const common: Common = {
    addr: d.field('addr').num(),
    len: lenField?.num() ?? 0x200,
    irq: d.field('irq').num(32),
  };
  if (common.len < 0x100 + 0x40 || common.len % 0x100 !== 0) d.fail(`0x${common.len.toString(16)} is too small for a virtio-mmio window (0x200 is usual)`, 'len');
  const typeField = d.field('type');
  switch (typeField.value) {
    case 'blk': {
      const img = d.optionalField('img');
      if (img === undefined || img.value === '' || typeof img.value !== 'string') d.fail('a blk device needs the path of its image file', 'img');
      const serial = d.optionalField('serial');
      if (serial !== undefined && typeof serial.value !== 'string') serial.fail('must be a string');
      return { ...common, type: 'blk', img: img.string(), readOnly: d.optionalField('readonly')?.boolean() ?? false, serial: serial?.string() };
    }
    case 'console':
      return { ...common, type: 'console', endpoint: consoleEndpoint(d) };
    case 'net':
      return { ...common, type: 'net', mac: mac(d.field('mac')), link: netLink(d) };
    case 'gpu': {
      const width = d.optionalField('width')?.num(32) ?? 1024;
      const height = d.optionalField('height')?.num(32) ?? 768;
      if (width === 0 || height === 0 || width > 16384 || height > 16384) d.fail(`display ${width}x${height} is not between 1x1 and 16384x16384`);
      const web = d.optionalField('web');
      return { ...common, type: 'gpu', width, height, webPort: web === undefined ? undefined : port(web) };
    }
    case 'scmi':
      // hvisor-tool's SCMI device forwards to zone0's firmware interface, which an emulated board has not.
      return typeField.fail('"scmi" is not served by hvisor-ts (blk, console, net, gpu are); set its status to "disable"');
    default:
      return typeField.fail(`${describe(typeField.value)} is not one of blk, console, net, gpu`);
  }
}

function consoleEndpoint(d: JsonFields): ConsoleEndpointSpec {
  const tcp = d.optionalField('tcp');
  const unix = d.optionalField('unix');
  if (tcp !== undefined && unix !== undefined) d.fail('a console has one endpoint: "tcp" or "unix", not both');
  if (tcp !== undefined) {
    const [host, p] = hostPort(tcp);
    return { kind: 'tcp', host, port: p };
  }
  if (unix !== undefined) return { kind: 'unix', path: unix.nonEmptyString('a socket path') };
  return { kind: 'terminal' };
}

function netLink(d: JsonFields): NetLinkSpec {
  const udp = d.optionalField('udp');
  if (udp === undefined) return { kind: 'switch', name: d.optionalField('tap')?.string() ?? 'board' };
  const [la, lp] = hostPort(udp.field('local'));
  const [pa, pp] = hostPort(udp.field('peer'));
  return { kind: 'udp', local: { address: la, port: lp }, peer: { address: pa, port: pp } };
}

/** "127.0.0.1:4321", "4321" or 4321 (loopback). */
function hostPort(f: JsonFields): [string, number] {
  if (typeof f.value === 'number') return ['127.0.0.1', port(f)];
  if (typeof f.value !== 'string') f.fail('must be a port or "host:port"');
  const m = /^(?:(.+):)?(\d+)$/.exec(f.value);
  if (m === null) f.fail(`${describe(f.value)} is not a port or "host:port"`);
  return [m[1] ?? '127.0.0.1', port(new JsonFields(f.file, f.path, Number(m[2])))];
}

function port(f: JsonFields): number {
  const n = f.num(32);
  if (n > 65535) f.fail(`${n} is not a port number`);
  return n;
}

function mac(f: JsonFields): number[] {
  const bytes = f.items().map((b) => b.num(8));
  if (bytes.length !== 6) f.fail('must be six bytes');
  if ((bytes[0]! & 1) !== 0) f.fail('is a multicast address; a NIC needs a unicast MAC');
  return bytes;
}
