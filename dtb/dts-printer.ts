/**
 * Prints a tree as DTS text exactly as Debian's `dtc -I dtb -O dts` (1.6.1) does: a blob carries
 * no type information, so each value's form is guessed from its bytes — a string list when it is
 * NUL-terminated printable text with no more NULs than other bytes, cells when its length is a
 * multiple of 4, bytes otherwise. No labels (dtc 1.6.1 prints none from a blob, even with
 * __symbols__), properties and nodes in blob order, except that a `name` property equal to the
 * node's base name is left out as dtc leaves it out (dtc refuses a wrong one; we print it).
 */
import type { DeviceTree } from './device-tree.js';
import type { DtNode, DtProperty } from './node.js';

export type ValueForm = 'empty' | 'string' | 'cells' | 'bytes';

/** C isprint() in the C locale. */
function isPrintable(b: number): boolean {
  return b >= 0x20 && b <= 0x7e;
}

/** dtc's isstring(): printable, NUL, or one of \a \b \t \n \v \f \r. */
function isStringByte(b: number): boolean {
  return isPrintable(b) || b === 0 || (b >= 7 && b <= 13);
}

/** The form dtc chooses for a value without type markers. */
export function guessValueForm(value: Uint8Array): ValueForm {
  const len = value.length;
  if (len === 0) return 'empty';
  let nul = 0;
  let notString = 0;
  for (let i = 0; i < len; i++) {
    const b = value[i]!;
    if (b === 0) nul++;
    else if (!isStringByte(b)) notString++;
  }
  if (value[len - 1] === 0 && notString === 0 && nul <= len - nul) return 'string';
  if (len % 4 === 0) return 'cells';
  return 'bytes';
}

const ESCAPES: Record<number, string> = {
  7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\', 0x22: '\\"', 0: '\\0',
};

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** The text after `name` for one property: `;` or ` = <value>;`. */
export function formatValue(value: Uint8Array): string {
  switch (guessValueForm(value)) {
    case 'empty':
      return ';';
    case 'string': {
      let s = '';
      for (let i = 0; i < value.length - 1; i++) {
        const b = value[i]!;
        const esc = ESCAPES[b];
        s += esc ?? (isPrintable(b) ? String.fromCharCode(b) : `\\x${hex(b, 2)}`);
      }
      return ` = "${s}";`;
    }
    case 'cells': {
      const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
      const cells: string[] = [];
      for (let i = 0; i < value.length; i += 4) cells.push('0x' + hex(view.getUint32(i), 2));
      return ` = <${cells.join(' ')}>;`;
    }
    case 'bytes':
      return ` = [${Array.from(value, (b) => hex(b, 2)).join(' ')}];`;
  }
}

/** dtc drops a `name` property equal to the node's base name (its name_properties check), even from a blob. */
function isRedundantName(node: DtNode, p: DtProperty): boolean {
  if (p.name !== 'name' || p.length !== node.baseName.length + 1) return false;
  const v = p.value;
  for (let i = 0; i < node.baseName.length; i++) if (v[i] !== (node.baseName.charCodeAt(i) & 0xff)) return false;
  return v[v.length - 1] === 0;
}

function formatProperty(p: DtProperty, indent: string): string {
  return `${indent}${p.name}${formatValue(p.value)}\n`;
}

/** The DTS text of a tree (iterative, so depth is bounded only by memory). */
export function printDts(tree: DeviceTree): string {
  const out: string[] = ['/dts-v1/;\n\n'];
  for (const r of tree.memoryReservations) {
    out.push(`/memreserve/\t0x${hex(Number(r.address >> 32n), 8)}${hex(Number(r.address & 0xffffffffn), 8)} ` +
      `0x${hex(Number(r.size >> 32n), 8)}${hex(Number(r.size & 0xffffffffn), 8)};\n`);
  }
  // Explicit stack of (node, depth, phase): phase 0 opens the node, phase 1 closes it.
  const stack: { node: DtNode; depth: number; open: boolean }[] = [{ node: tree.root, depth: 0, open: true }];
  while (stack.length > 0) {
    const { node, depth, open } = stack.pop()!;
    const indent = '\t'.repeat(depth);
    if (!open) {
      out.push(`${indent}};\n`);
      continue;
    }
    // dtc puts a blank line before every child node.
    out.push(depth === 0 ? '/ {\n' : `\n${indent}${node.name} {\n`);
    const inner = indent + '\t';
    for (const p of node.properties) if (!isRedundantName(node, p)) out.push(formatProperty(p, inner));
    stack.push({ node, depth, open: false });
    const children = node.children;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, depth: depth + 1, open: true });
  }
  return out.join('');
}
