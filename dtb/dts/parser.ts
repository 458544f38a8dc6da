/**
 * Recursive-descent parser for DTS (dtc's v1 syntax): headers, /memreserve/, nodes with labels,
 * property values (strings, <cells> with expressions and &references, /bits/, [bytes],
 * /incbin/, path references), node overrides by &label or &{/path}, /delete-node/,
 * /delete-property/ and /omit-if-no-ref/.
 */
import { MAX_DEPTH } from '../format.js';
import { parseExpression, parsePrimary } from './expression.js';
import { IrNode, IrProperty, mergeNodes, type Reference } from './ir.js';
import { LABEL_RE, type Source } from './source.js';

export interface ParsedSource {
  readonly root: IrNode;
  readonly reservations: { address: bigint; size: bigint }[];
}

const U64 = 0xffffffffffffffffn;
const LABEL_CHARS = /[a-zA-Z0-9_]*/y;
const PATH_CHARS = /[a-zA-Z0-9,._+*#?@\-/]*/y;
const HEX_CHARS = /[0-9a-fA-F]*/y;

export class DtsParser {
  private root: IrNode | undefined;
  private depth = 0;
  private readonly reservations: { address: bigint; size: bigint }[] = [];

  constructor(private readonly src: Source) {}

  parse(): ParsedSource {
    const src = this.src;
    if (!src.lookingAt('/dts-v1/')) throw src.error(`expected /dts-v1/; at the start, found ${src.describeNext()}`);
    while (src.eat('/dts-v1/')) {
      src.expect(';');
      if (src.lookingAt('/plugin/')) throw src.error('overlays (/plugin/) are not supported');
    }
    for (;;) {
      src.skip(); // first, so an /include/ here is entered before the position is taken
      const start = src.position;
      this.labels();
      if (!src.eat('/memreserve/')) {
        src.rewind(start);
        break;
      }
      const address = this.integer();
      const size = this.integer();
      src.expect(';');
      this.reservations.push({ address, size });
    }
    while (!src.atEnd()) this.topLevel();
    if (this.root === undefined) throw src.error('no root node (/ { ... };)');
    return { root: this.root, reservations: this.reservations };
  }

  /** A bare integer (memreserve operands): a literal or parenthesised expression. */
  private integer(): bigint {
    return parsePrimary(this.src);
  }

  private topLevel(): void {
    const src = this.src;
    if (src.eat('/delete-node/')) {
      const node = this.nodeReference();
      src.expect(';');
      node.delete();
      return;
    }
    if (src.eat('/omit-if-no-ref/')) {
      const node = this.nodeReference();
      src.expect(';');
      node.omitIfUnreferenced = true;
      return;
    }
    const labels = this.labels();
    src.skip();
    if (src.peek() === '/' && !src.lookingAt('/delete-') && !src.lookingAt('/omit-')) {
      const where = src.here();
      src.eat('/');
      const body = this.nodeBody('');
      body.where = where;
      body.labels.unshift(...labels);
      if (this.root === undefined) this.root = body;
      else mergeNodes(this.root, body);
      return;
    }
    if (src.peek() === '&') {
      if (this.root === undefined) throw src.error('a node reference before the root node is defined');
      const target = this.nodeReference();
      const body = this.nodeBody(target.name);
      body.labels.unshift(...labels);
      mergeNodes(target, body);
      return;
    }
    throw src.error(`expected '/ {', '&label {' or a directive, found ${src.describeNext()}`);
  }

  /** `&label` or `&{/path}` naming an existing node, resolved now (as dtc does for overrides). */
  private nodeReference(): IrNode {
    const src = this.src;
    const at = src.position;
    const target = this.referenceTarget();
    const node = this.root === undefined ? undefined : findNode(this.root, target);
    if (node === undefined) throw src.error(`label or path ${target} not found`, at);
    return node;
  }

  /** The text of a reference after '&': a label or a path in braces. */
  private referenceTarget(): string {
    const src = this.src;
    src.expect('&');
    if (src.peek() === '{') {
      src.eat('{');
      const path = src.run(PATH_CHARS);
      if (!path.startsWith('/')) throw src.error(`path reference &{${path}} must start with '/'`);
      src.expect('}');
      return path;
    }
    const label = src.run(LABEL_CHARS);
    if (!LABEL_RE.test(label)) throw src.error(`bad reference &${label}`);
    return label;
  }

  /** Zero or more `label:` prefixes. */
  private labels(): string[] {
    const src = this.src;
    const out: string[] = [];
    for (;;) {
      src.skip();
      const start = src.position;
      const name = src.run(LABEL_CHARS);
      if (name !== '' && LABEL_RE.test(name) && src.peek() === ':') {
        src.eat(':');
        out.push(name);
        continue;
      }
      src.rewind(start);
      return out;
    }
  }

  /** `{ properties subnodes };` */
  private nodeBody(name: string): IrNode {
    const src = this.src;
    if (this.depth >= MAX_DEPTH) throw src.error(`nodes nested deeper than ${MAX_DEPTH}`);
    this.depth++;
    try {
      return this.nodeBodyContents(name);
    } finally {
      this.depth--;
    }
  }

  private nodeBodyContents(name: string): IrNode {
    const src = this.src;
    const node = new IrNode(name);
    src.expect('{');
    let seenChild = false;
    for (;;) {
      if (src.eat('}')) break;
      if (src.eat('/delete-property/')) {
        const prop = this.name('property name');
        src.expect(';');
        if (seenChild) throw src.error('properties must precede subnodes');
        const p = new IrProperty(prop, [], []);
        p.deleted = true;
        node.properties.push(p);
        continue;
      }
      if (src.eat('/delete-node/')) {
        const child = new IrNode(this.name('node name'));
        src.expect(';');
        child.deleted = true;
        node.children.push(child);
        seenChild = true;
        continue;
      }
      const omit = src.eat('/omit-if-no-ref/');
      const labels = this.labels();
      src.skip();
      const at = src.position;
      const itemName = this.name('property or node name');
      if (src.eat('{')) {
        src.rewind(src.position - 1);
        if (itemName.includes('/')) throw src.error(`bad node name ${itemName}`, at);
        const child = this.nodeBody(itemName);
        child.where = src.here(at);
        child.labels.unshift(...labels);
        child.omitIfUnreferenced = omit;
        if (node.children.some((c) => !c.deleted && c.name === itemName)) throw src.error(`duplicate node name ${itemName}`, at);
        node.addChild(child);
        seenChild = true;
        continue;
      }
      if (omit) throw src.error('/omit-if-no-ref/ applies to nodes only', at);
      if (seenChild) throw src.error('properties must precede subnodes', at);
      if (itemName.includes('@')) throw src.error(`bad property name ${itemName}`, at);
      const prop = src.eat('=') ? this.value(itemName) : new IrProperty(itemName, [], []);
      prop.where = src.here(at);
      src.expect(';');
      prop.labels.push(...labels);
      if (node.properties.some((p) => !p.deleted && p.name === itemName)) throw src.error(`duplicate property ${itemName}`, at);
      node.properties.push(prop);
    }
    src.expect(';');
    return node;
  }

  private name(what: string): string {
    const src = this.src;
    src.skip();
    // A leading backslash lets a name look like a keyword (dtc's \name escape).
    if (src.peek() === '\\') src.eat('\\');
    const name = src.nameRun();
    if (name === '') throw src.error(`expected a ${what}, found ${src.describeNext()}`);
    return name;
  }

  /** A property value: comma-separated strings, cell arrays, byte strings, path references, /incbin/. */
  private value(name: string): IrProperty {
    const src = this.src;
    const bytes: number[] = [];
    const refs: Reference[] = [];
    for (;;) {
      this.labels();
      src.skip();
      const c = src.peek();
      if (c === '"') {
        bytes.push(...src.stringBytes(), 0);
      } else if (c === '<' || src.lookingAt('/bits/')) {
        this.cells(bytes, refs);
      } else if (c === '[') {
        this.byteString(bytes);
      } else if (c === '&') {
        const at = src.position;
        const target = this.referenceTarget();
        refs.push({ offset: bytes.length, kind: 'path', target, where: src.here(at) });
      } else if (src.eat('/incbin/')) {
        this.incbin(bytes);
      } else {
        throw src.error(`expected a property value for ${name}, found ${src.describeNext()}`);
      }
      this.labels();
      if (!src.eat(',')) break;
    }
    return new IrProperty(name, bytes, refs);
  }

  private cells(bytes: number[], refs: Reference[]): void {
    const src = this.src;
    let bits = 32;
    if (src.eat('/bits/')) {
      const at = src.position;
      const b = Number(this.integer());
      if (![8, 16, 32, 64].includes(b)) throw src.error(`/bits/ ${b}: only 8, 16, 32 or 64`, at);
      bits = b;
    }
    src.expect('<');
    const width = bits / 8;
    const mask = bits === 64 ? U64 : (1n << BigInt(bits)) - 1n;
    for (;;) {
      this.labels();
      src.skip();
      if (src.eat('>')) return;
      const at = src.position;
      let value: bigint;
      if (src.peek() === '&') {
        if (bits !== 32) throw src.error('references are only allowed in arrays with 32-bit elements', at);
        const target = this.referenceTarget();
        refs.push({ offset: bytes.length, kind: 'phandle', target, where: src.here(at) });
        value = 0xffffffffn;
      } else {
        value = parsePrimary(src);
        // Bits above the element must be all zero, or all one (a sign-extended negative value).
        if (value > mask && (value | mask) !== U64) throw src.error(`value out of range for a ${bits}-bit array element`, at);
        value &= mask;
      }
      if (width === 4) {
        const v = Number(value);
        bytes.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
      } else {
        for (let i = width - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
      }
    }
  }

  private byteString(bytes: number[]): void {
    const src = this.src;
    src.expect('[');
    for (;;) {
      this.labels();
      src.skip();
      if (src.eat(']')) return;
      const pair = src.run(HEX_CHARS);
      if (pair.length === 0 || pair.length % 2 !== 0) throw src.error(`byte string needs pairs of hex digits, found ${JSON.stringify(pair) || src.describeNext()}`);
      for (let i = 0; i < pair.length; i += 2) bytes.push(parseInt(pair.slice(i, i + 2), 16));
    }
  }

  private incbin(bytes: number[]): void {
    const src = this.src;
    src.expect('(');
    const name = String.fromCharCode(...src.stringBytes());
    const data = src.readBinary(name);
    let offset = 0n;
    let length = BigInt(data.length);
    if (src.eat(',')) {
      offset = parseExpression(src);
      src.expect(',');
      length = parseExpression(src);
    }
    src.expect(')');
    if (offset + length > BigInt(data.length)) throw src.error(`/incbin/ range runs past the ${data.length} bytes of ${name}`);
    for (const b of data.subarray(Number(offset), Number(offset + length))) bytes.push(b);
  }
}

/** A node by label (live labels only) or by absolute path (exact full names). */
export function findNode(root: IrNode, target: string): IrNode | undefined {
  if (!target.startsWith('/')) {
    for (const n of root.walk()) if (n.labels.includes(target)) return n;
    return undefined;
  }
  // Exact names only, as dtc's get_node_by_path: `&{/memory}` does not find memory@40000000.
  let node: IrNode | undefined = root;
  for (const part of target.split('/')) {
    if (part === '' || node === undefined) continue;
    node = node.liveChildren().find((c) => c.name === part);
  }
  return node;
}
