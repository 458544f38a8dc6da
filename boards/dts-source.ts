/**
 * A small builder for device-tree *source* text. The generated boards describe their tree as
 * nodes and properties in the exact order QEMU emits them, then render DTS that our DTS compiler
 * (or dtc) turns into a DTB. Phandles are explicit numbers, as QEMU allocates them, so the
 * compiled blob matches QEMU's dump property for property.
 */

/** One property: `name = value;`, or `name;` when `value` is undefined (a boolean property). */
export interface DtsProperty {
  readonly name: string;
  readonly value?: string;
}

export interface DtsNode {
  readonly name: string;
  readonly properties: readonly DtsProperty[];
  readonly children: readonly DtsNode[];
}

export function node(name: string, properties: readonly DtsProperty[], children: readonly DtsNode[] = []): DtsNode {
  return { name, properties, children };
}

/** `<0x.. 0x..>`: 32-bit cells. */
export function cells(name: string, ...values: readonly number[]): DtsProperty {
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name}: cell ${v} is not a u32`);
  }
  return { name, value: `<${values.map(hexCell).join(' ')}>` };
}

/** `"a", "b"`: one or more strings. */
export function strings(name: string, ...values: readonly string[]): DtsProperty {
  return { name, value: values.map((s) => JSON.stringify(s)).join(', ') };
}

/** A property with no value. */
export function flag(name: string): DtsProperty {
  return { name };
}

/** The high and low cells of a 64-bit number (for #address-cells/#size-cells = 2). */
export function u64Cells(value: number): [number, number] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a 64-bit address`);
  return [Math.floor(value / 2 ** 32), value % 2 ** 32];
}

function hexCell(v: number): string {
  return '0x' + v.toString(16);
}

/** Renders a whole tree as DTS text, root node first. */
export function renderDts(root: DtsNode): string {
  const out: string[] = ['/dts-v1/;', ''];
  renderNode(root, 0, out, true);
  return out.join('\n') + '\n';
}

function renderNode(n: DtsNode, depth: number, out: string[], isRoot = false): void {
  const pad = '\t'.repeat(depth);
  out.push(`${pad}${isRoot ? '/' : n.name} {`);
  for (const p of n.properties) out.push(`${pad}\t${p.name}${p.value === undefined ? '' : ` = ${p.value}`};`);
  for (const c of n.children) {
    out.push('');
    renderNode(c, depth + 1, out);
  }
  out.push(`${pad}};`);
}
