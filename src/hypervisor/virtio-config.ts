import { readFileSync } from 'node:fs';
import { ZoneConfigError } from './config-error.js';
import { JsonFields } from './json-fields.js';

/**
 * hvisor-tool's virtio daemon config (`hvisor virtio start FILE`): per zone, how zone0 sees the
 * zone's RAM and which virtio-mmio devices the daemon serves. Read unmodified; the virtio layer
 * (src/devices/virtio/) builds the device models from it.
 */
export type VirtioDeviceType = 'blk' | 'console' | 'net' | 'gpu' | 'scmi';

export interface VirtioDeviceConfig {
  readonly type: VirtioDeviceType;
  /** Guest-physical address of the virtio-mmio window in the served zone. */
  readonly addr: number;
  readonly len: number;
  readonly irq: number;
  readonly enabled: boolean;
  /** blk: the image file. */
  readonly img?: string;
  /** net: tap device name and MAC address. */
  readonly tap?: string;
  readonly mac?: readonly number[];
  /** gpu: display size. */
  readonly width?: number;
  readonly height?: number;
}

/** Where the served zone's RAM (zonex_ipa) appears in zone0 (zone0_ipa), for the daemon's DMA. */
export interface VirtioMemoryWindow {
  readonly zone0Ipa: number;
  readonly zonexIpa: number;
  readonly size: number;
}

export interface VirtioZoneConfig {
  readonly id: number;
  readonly memoryRegions: readonly VirtioMemoryWindow[];
  readonly devices: readonly VirtioDeviceConfig[];
}

export interface VirtioConfig {
  readonly source: string;
  readonly zones: readonly VirtioZoneConfig[];
}

const DEVICE_TYPES: readonly VirtioDeviceType[] = ['blk', 'console', 'net', 'gpu', 'scmi'];

export function loadVirtioConfig(path: string): VirtioConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ZoneConfigError(path, '', `cannot read the file (${(e as Error).message})`);
  }
  return parseVirtioConfig(text, path);
}

export function parseVirtioConfig(text: string, source: string): VirtioConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ZoneConfigError(source, '', `not valid JSON (${(e as Error).message})`);
  }
  const root = new JsonFields(source, '', json);
  return { source, zones: root.field('zones').items().map(parseZone) };
}

function parseZone(f: JsonFields): VirtioZoneConfig {
  const windows = f.optionalField('memory_region');
  return {
    id: f.field('id').num(32),
    memoryRegions: (windows?.items() ?? []).map((w) => ({
      zone0Ipa: w.field('zone0_ipa').num(),
      zonexIpa: w.field('zonex_ipa').num(),
      size: w.field('size').num(),
    })),
    devices: f.field('devices').items().map(parseDevice),
  };
}

function parseDevice(f: JsonFields): VirtioDeviceConfig {
  const typeField = f.field('type');
  const type = typeField.string() as VirtioDeviceType;
  if (!DEVICE_TYPES.includes(type)) typeField.fail(`one of ${DEVICE_TYPES.map((t) => `"${t}"`).join(', ')}, got "${type}"`);
  const statusField = f.optionalField('status');
  const status = statusField?.string() ?? 'enable';
  if (status !== 'enable' && status !== 'disable') statusField!.fail(`"enable" or "disable", got "${status}"`);
  const opt = (key: string) => (f.has(key) ? f.field(key) : undefined);
  const macField = opt('mac');
  const device: VirtioDeviceConfig = {
    type,
    addr: f.field('addr').num(),
    len: f.field('len').num(32),
    irq: f.field('irq').num(32),
    enabled: status === 'enable',
    ...(opt('img') && { img: opt('img')!.string() }),
    ...(opt('tap') && { tap: opt('tap')!.string() }),
    ...(macField && { mac: macField.items().map((b) => b.num(8)) }),
    ...(opt('width') && { width: opt('width')!.num(32) }),
    ...(opt('height') && { height: opt('height')!.num(32) }),
  };
  if (type === 'blk' && device.enabled && device.img === undefined) f.fail('a blk device needs "img" (its image file)');
  return device;
}
