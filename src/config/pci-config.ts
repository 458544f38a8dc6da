import { JsonFields, loadJson, describe } from './json-fields.js';
import { parseBdf, type Bdf } from '../machine/bdf.js';

/**
 * The board's "physical" PCI functions and what backs them (`hvisor run --pci FILE`). hvisor itself
 * finds them by probing real hardware; an emulated board has to be told:
 *
 *   { "functions": [
 *       { "bdf": "00:01.0", "type": "virtio-blk", "img": "disk.img" },
 *       { "bdf": "00:02.0", "type": "virtio-net", "mac": "52:54:00:12:34:56", "switch": "lan0" },
 *       { "bdf": "00:03.0", "type": "nvme", "img": "nvme.img", "serial": "HVTS0001" } ] }
 *
 * A host bridge function (QEMU's gpex-root, 00:00.0) is always present and need not be listed.
 * Relative image paths resolve against the file's folder.
 */
export type PciFunctionSpec =
  | { readonly bdf: Bdf; readonly type: 'virtio-blk'; readonly img: string; readonly readOnly: boolean; readonly serial?: string }
  | { readonly bdf: Bdf; readonly type: 'virtio-net'; readonly mac: readonly number[]; readonly switch?: string }
  | { readonly bdf: Bdf; readonly type: 'nvme'; readonly img: string; readonly serial?: string };

export interface BoardPciConfig {
  readonly functions: readonly PciFunctionSpec[];
}

const TYPES = ['virtio-blk', 'virtio-net', 'nvme'] as const;

/** Reads and parses a `--pci` file. */
export function loadBoardPciConfig(file: string): BoardPciConfig {
  return parseBoardPciConfig(loadJson(file, 'PCI functions file'), file);
}

/** Parses the file's JSON; errors are ConfigErrors naming the file and the JSON path. */
export function parseBoardPciConfig(json: unknown, file: string): BoardPciConfig {
  const root = new JsonFields(file, '', json);
  const seen = new Map<Bdf, string>();
  const functions = root.field('functions').items().map((f): PciFunctionSpec => {
    const bdfField = f.field('bdf');
    let where: Bdf;
    try {
      where = typeof bdfField.value === 'string' && bdfField.value.includes(':') ? parseBdf(bdfField.value) : bdfField.num(16);
    } catch (e) {
      return bdfField.fail((e as Error).message);
    }
    if (where === 0) bdfField.fail('00:00.0 is the host bridge, which the board always has');
    const had = seen.get(where);
    if (had !== undefined) bdfField.fail(`${bdfField.value} is already ${had}`);
    seen.set(where, bdfField.path);
    const type = f.field('type').string();
    const serial = f.optionalField('serial')?.string();
    switch (type) {
      case 'virtio-blk':
        return { bdf: where, type, img: f.field('img').string(), readOnly: f.optionalField('read_only')?.boolean() ?? false, ...(serial !== undefined && { serial }) };
      case 'nvme':
        return { bdf: where, type, img: f.field('img').string(), ...(serial !== undefined && { serial }) };
      case 'virtio-net': {
        const macField = f.optionalField('mac');
        const mac = macField === undefined ? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56 + (where & 0x7f)] : parseMac(macField);
        const sw = f.optionalField('switch')?.string();
        return { bdf: where, type, mac, ...(sw !== undefined && { switch: sw }) };
      }
      default:
        return f.field('type').fail(`one of ${TYPES.map((t) => `"${t}"`).join(', ')}, got ${describe(type)}`);
    }
  });
  return { functions };
}

function parseMac(f: JsonFields): number[] {
  const text = f.string();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) f.fail(`a MAC address like "52:54:00:12:34:56", got ${describe(text)}`);
  return text.split(':').map((h) => parseInt(h, 16));
}
