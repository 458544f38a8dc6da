/**
 * A JSON view of a tree for `hvisor dtb --json` and scripts: each property's value in the form
 * dtc would print it — a string or string list, an array of u32 cells, a hex byte string, or
 * `true` for an empty property.
 */
import type { DeviceTree } from './device-tree.js';
import { guessValueForm } from './dts-printer.js';
import type { DtNode } from './node.js';
import { decodeCells, decodeStrings } from './values.js';

export type JsonValue = true | string | string[] | number[] | { readonly bytes: string };

export interface JsonNode {
  readonly name: string;
  readonly path: string;
  readonly properties: Record<string, JsonValue>;
  readonly children: JsonNode[];
}

export interface JsonTree {
  readonly bootCpuId: number;
  /** Addresses and sizes as 0x-prefixed hex strings (64-bit values do not fit JSON numbers). */
  readonly memoryReservations: { readonly address: string; readonly size: string }[];
  readonly root: JsonNode;
}

export function valueToJson(value: Uint8Array): JsonValue {
  switch (guessValueForm(value)) {
    case 'empty':
      return true;
    case 'string': {
      const strings = decodeStrings(value)!;
      return strings.length === 1 ? strings[0]! : strings;
    }
    case 'cells':
      return decodeCells(value)!;
    case 'bytes':
      return { bytes: Buffer.from(value).toString('hex') };
  }
}

function nodeToJson(root: DtNode): JsonNode {
  // Built iteratively (pre-order), attaching each node to its parent's `children`.
  const made = new Map<DtNode, JsonNode>();
  for (const node of root.walk()) {
    const properties: Record<string, JsonValue> = Object.create(null);
    for (const p of node.properties) properties[p.name] = valueToJson(p.value);
    const json: JsonNode = { name: node.name === '' ? '/' : node.name, path: node.path, properties, children: [] };
    made.set(node, json);
    if (node !== root && node.parent !== undefined) made.get(node.parent)!.children.push(json);
  }
  return made.get(root)!;
}

export function treeToJson(tree: DeviceTree): JsonTree {
  return {
    bootCpuId: tree.bootCpuId,
    memoryReservations: tree.memoryReservations.map((r) => ({ address: '0x' + r.address.toString(16), size: '0x' + r.size.toString(16) })),
    root: nodeToJson(tree.root),
  };
}
