/**
 * A small builder for the generated boards' device trees. A board describes its tree as nodes
 * and typed properties in the exact order QEMU emits them, rendered as DTS text that our DTS
 * compiler (dtb/dts) or dtc compiles. Phandles are explicit numbers, as QEMU allocates them, so
 * the compiled blob matches QEMU's dump property for property.
 */

/** One property: u32 cells, a string list, or nothing (a boolean property such as `ranges;`). */
export interface DtsProperty {
  readonly name: string;
  readonly cells?: readonly number[];
  readonly strings?: readonly string[];
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
  return { name, cells: values };
}

/** `"a", "b"`: one or more strings. */
export function strings(name: string, ...values: readonly string[]): DtsProperty {
  return { name, strings: values };
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

function dtsValue(p: DtsProperty): string | undefined {
  if (p.cells !== undefined) return `<${p.cells.map((v) => '0x' + v.toString(16)).join(' ')}>`;
  if (p.strings !== undefined) return p.strings.map((s) => JSON.stringify(s)).join(', ');
  return undefined;
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
  for (const p of n.properties) {
    const value = dtsValue(p);
    out.push(`${pad}\t${p.name}${value === undefined ? '' : ` = ${value}`};`);
  }
  for (const c of n.children) {
    out.push('');
    renderNode(c, depth + 1, out);
  }
  out.push(`${pad}};`);
}
