/**
 * Reads the DTS text `dtc -I dtb -O dts` prints, independently of our dtb library, so the board
 * tests take their expected addresses and interrupts from dtc. Handles exactly dtc's output form:
 * one `name {`, `prop = value;`, `prop;` or `};` per line.
 */
export interface DtcNode {
  readonly name: string;
  readonly path: string;
  readonly parent: DtcNode | undefined;
  readonly props: Map<string, string>;
  readonly children: DtcNode[];
}

export function parseDtcText(text: string): DtcNode {
  let current: DtcNode | undefined;
  let root: DtcNode | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('/dts-v1/') || line.startsWith('/memreserve/')) continue;
    const open = /^(\S+) \{$/.exec(line);
    if (open !== null) {
      const name = open[1] === '/' ? '' : open[1]!;
      const path = current === undefined ? '/' : `${current.path === '/' ? '' : current.path}/${name}`;
      const node: DtcNode = { name, path, parent: current, props: new Map(), children: [] };
      if (current === undefined) root = node;
      else current.children.push(node);
      current = node;
      continue;
    }
    if (line === '};') {
      current = current?.parent;
      continue;
    }
    const prop = /^([^=\s]+)(?: = (.*))?;$/.exec(line);
    if (prop === null || current === undefined) throw new Error(`unexpected dtc line: ${line}`);
    current.props.set(prop[1]!, prop[2] ?? '');
  }
  if (root === undefined) throw new Error('no root node in dtc output');
  return root;
}

export function* walk(node: DtcNode): Generator<DtcNode> {
  yield node;
  for (const c of node.children) yield* walk(c);
}

/** `<0x1 0x2>` → [1, 2] (several `<...>` groups are concatenated). */
export function cellsOf(node: DtcNode, prop: string): number[] | undefined {
  const v = node.props.get(prop);
  if (v === undefined) return undefined;
  const out: number[] = [];
  for (const group of v.matchAll(/<([^>]*)>/g)) for (const c of group[1]!.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
  return out;
}

/** `"a\0b"` → ['a', 'b'] as dtc prints string lists. */
export function stringsOf(node: DtcNode, prop: string): string[] {
  const v = node.props.get(prop);
  if (v === undefined || !v.startsWith('"')) return [];
  return v.slice(1, -1).split('\\0');
}

export function compatibleOf(node: DtcNode): string[] {
  return stringsOf(node, 'compatible');
}

export function enabled(node: DtcNode): boolean {
  const s = stringsOf(node, 'status')[0];
  return s === undefined || s === 'okay' || s === 'ok';
}

function cellCount(node: DtcNode | undefined, prop: string, fallback: number): number {
  const c = node === undefined ? undefined : cellsOf(node, prop);
  return c?.[0] ?? fallback;
}

function combine(cells: readonly number[]): number {
  return cells.reduce((acc, c) => acc * 2 ** 32 + c, 0);
}

/** Translates an address on `bus`'s children's space up to the CPU; undefined if a bus has no ranges. */
function translate(bus: DtcNode, address: number): number | undefined {
  if (bus.parent === undefined) return address;
  const ranges = bus.props.get('ranges');
  if (ranges === undefined) return undefined;
  if (ranges === '') return translate(bus.parent, address);
  const cells = cellsOf(bus, 'ranges')!;
  const ca = cellCount(bus, '#address-cells', 2);
  const pa = cellCount(bus.parent, '#address-cells', 2);
  const sc = cellCount(bus, '#size-cells', 1);
  for (let i = 0; i < cells.length; i += ca + pa + sc) {
    const child = combine(cells.slice(i, i + ca));
    const parent = combine(cells.slice(i + ca, i + ca + pa));
    const size = combine(cells.slice(i + ca + pa, i + ca + pa + sc));
    if (address >= child && address < child + size) return translate(bus.parent, parent + (address - child));
  }
  return undefined;
}

/** The node's `reg` entries as CPU-physical {base, size}, the way the spec's translation reads them. */
export function cpuWindows(node: DtcNode): { base: number; size: number }[] {
  const bus = node.parent!;
  const ac = cellCount(bus, '#address-cells', 2);
  const sc = cellCount(bus, '#size-cells', 1);
  const reg = cellsOf(node, 'reg') ?? [];
  const out: { base: number; size: number }[] = [];
  for (let i = 0; i < reg.length; i += ac + sc) {
    const base = translate(bus, combine(reg.slice(i, i + ac)));
    if (base === undefined) return [];
    out.push({ base, size: combine(reg.slice(i + ac, i + ac + sc)) });
  }
  return out;
}

export function byPhandle(root: DtcNode, phandle: number): DtcNode | undefined {
  for (const n of walk(root)) if (cellsOf(n, 'phandle')?.[0] === phandle) return n;
  return undefined;
}
