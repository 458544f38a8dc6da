/** `/aliases` and `/chosen`: what firmware hands the kernel (command line, console, initrd). */
import type { DeviceTree } from './device-tree.js';
import { DtbError } from './errors.js';
import type { DtNode } from './node.js';

export interface Chosen {
  readonly bootargs?: string;
  /** stdout-path as written, e.g. `serial0:115200n8`. */
  readonly stdoutPath?: string;
  /** The console node stdout-path resolves to (through an alias), and its `:options` suffix. */
  readonly stdout?: { readonly node: DtNode; readonly options?: string };
  /** linux,initrd-start / linux,initrd-end (32- or 64-bit values). */
  readonly initrd?: { readonly start: number; readonly end: number };
}

/** alias name → path string (as written in /aliases). */
export function aliases(tree: DeviceTree): Map<string, string> {
  const out = new Map<string, string>();
  const node = tree.root.child('aliases');
  if (node === undefined) return out;
  for (const p of node.properties) {
    if (p.name === 'name' || p.name === 'phandle' || p.name === 'linux,phandle') continue;
    const strings = p.value.length > 0 && p.value[p.value.length - 1] === 0 ? p.strings() : undefined;
    if (strings !== undefined && strings.length === 1) out.set(p.name, strings[0]!);
  }
  return out;
}

export function chosen(tree: DeviceTree): Chosen {
  const node = tree.root.child('chosen');
  if (node === undefined) return {};
  const result: { -readonly [K in keyof Chosen]: Chosen[K] } = {};
  const bootargs = node.string('bootargs');
  if (bootargs !== undefined) result.bootargs = bootargs;
  const stdoutPath = node.string('stdout-path') ?? node.string('linux,stdout-path');
  if (stdoutPath !== undefined) {
    result.stdoutPath = stdoutPath;
    const colon = stdoutPath.indexOf(':');
    const path = colon < 0 ? stdoutPath : stdoutPath.slice(0, colon);
    const target = tree.node(path);
    if (target !== undefined) {
      result.stdout = colon < 0 ? { node: target } : { node: target, options: stdoutPath.slice(colon + 1) };
    }
  }
  const start = node.property('linux,initrd-start');
  const end = node.property('linux,initrd-end');
  if (start !== undefined && end !== undefined) {
    const s = Number(start.uint());
    const e = Number(end.uint());
    if (e < s) throw new DtbError(`linux,initrd-end 0x${e.toString(16)} is below linux,initrd-start 0x${s.toString(16)}`, { path: node.path });
    result.initrd = { start: s, end: e };
  }
  return result;
}
