/** Reads QEMU's own device trees through Debian's dtc (the oracle for what virt's PCI host looks like). */
import { execFileSync } from 'node:child_process';
import { fixture, tool } from '../helpers/fixtures.js';

/** The cells of each property of the first node whose name starts with `nodePrefix`, as dtc prints them. */
export function dtNodeCells(dtbRelative: string, nodePrefix: string): Map<string, number[]> {
  const dts = execFileSync(tool('dtc'), ['-q', '-I', 'dtb', '-O', 'dts', fixture(dtbRelative)], { encoding: 'utf8' });
  const lines = dts.split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith(nodePrefix) && l.trim().endsWith('{'));
  if (start < 0) throw new Error(`${dtbRelative}: no node ${nodePrefix}`);
  const props = new Map<string, number[]>();
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '};') break;
    const m = /^([#\w,-]+) = <([^>]*)>;$/.exec(l);
    if (m !== null) props.set(m[1]!, m[2]!.trim().split(/\s+/).map((c) => parseInt(c, 16)));
  }
  return props;
}

export function cells(props: Map<string, number[]>, name: string): number[] {
  const v = props.get(name);
  if (v === undefined) throw new Error(`property ${name} missing`);
  return v;
}
