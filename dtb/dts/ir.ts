import type { Where } from './source.js';

/**
 * The compiler's working tree. Like dtc's live tree it keeps deleted nodes and properties in
 * place (marked), because redefining them later revives them at their original position.
 */

/** A reference inside a property value, resolved once the whole source is read. */
export interface Reference {
  /** Byte offset in the value: a phandle cell to fill in, or where a path string is inserted. */
  offset: number;
  readonly kind: 'phandle' | 'path';
  /** A label, or a path starting with '/'. */
  readonly target: string;
  /** Source position for errors. */
  readonly where: Where;
}

export class IrProperty {
  deleted = false;
  readonly labels: string[] = [];
  /** Where it was (last) defined, for errors found after parsing. */
  where: Where | undefined;

  constructor(readonly name: string, public value: number[], public references: Reference[]) {}
}

export class IrNode {
  deleted = false;
  omitIfUnreferenced = false;
  referenced = false;
  phandle: number | undefined;
  parent: IrNode | undefined;
  /** Where it was first defined, for errors found after parsing. */
  where: Where | undefined;
  readonly labels: string[] = [];
  readonly properties: IrProperty[] = [];
  readonly children: IrNode[] = [];

  constructor(readonly name: string) {}

  get baseName(): string {
    const at = this.name.indexOf('@');
    return at < 0 ? this.name : this.name.slice(0, at);
  }

  get path(): string {
    if (this.parent === undefined) return '/';
    const parts: string[] = [];
    for (let n: IrNode | undefined = this; n?.parent !== undefined; n = n.parent) parts.push(n.name);
    return '/' + parts.reverse().join('/');
  }

  liveProperty(name: string): IrProperty | undefined {
    return this.properties.find((p) => !p.deleted && p.name === name);
  }

  liveChildren(): IrNode[] {
    return this.children.filter((c) => !c.deleted);
  }

  addChild(child: IrNode): void {
    child.parent = this;
    this.children.push(child);
  }

  /** Marks this node, its properties and its subtree deleted, and drops their labels (dtc's delete_node). */
  delete(): void {
    this.deleted = true;
    this.labels.length = 0;
    for (const p of this.properties) {
      p.deleted = true;
      p.labels.length = 0;
    }
    for (const c of this.children) c.delete();
  }

  /** Live nodes below and including this one, in source order (pre-order). */
  *walk(): Generator<IrNode> {
    const stack: IrNode[] = [this];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.deleted) continue;
      yield n;
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
  }
}

/**
 * Merges a newly parsed definition into an existing node as dtc's merge_nodes does: properties
 * replace in place (reviving deleted ones), new ones are appended; children merge by name.
 */
export function mergeNodes(old: IrNode, fresh: IrNode): void {
  old.deleted = false;
  for (const l of fresh.labels) if (!old.labels.includes(l)) old.labels.push(l);
  old.where ??= fresh.where;
  // dtc does not carry /omit-if-no-ref/ of a redefinition over to the node it merges into.
  for (const p of fresh.properties) {
    if (p.deleted) {
      for (const q of old.properties) if (q.name === p.name && !q.deleted) {
        q.deleted = true;
        q.labels.length = 0;
      }
      continue;
    }
    const existing = old.properties.find((q) => q.name === p.name);
    if (existing !== undefined) {
      for (const l of p.labels) if (!existing.labels.includes(l)) existing.labels.push(l);
      existing.value = p.value;
      existing.references = p.references;
      existing.where = p.where;
      existing.deleted = false;
    } else {
      old.properties.push(p);
    }
  }
  for (const c of fresh.children) {
    if (c.deleted) {
      for (const o of old.children) if (o.name === c.name && !o.deleted) o.delete();
      continue;
    }
    const existing = old.children.find((o) => o.name === c.name);
    if (existing !== undefined) mergeNodes(existing, c);
    else old.addChild(c);
  }
}
