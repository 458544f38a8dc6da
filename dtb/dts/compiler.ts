/**
 * DTS → tree, with dtc's post-processing so the blob written from the result equals dtc's:
 * redundant `name` properties dropped, explicit phandles kept, referenced nodes given phandles
 * in first-reference order (a `phandle` property appended), path references inserted as
 * strings, /omit-if-no-ref/ nodes dropped when unreferenced, boot CPU guessed from /cpus.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DeviceTree } from '../device-tree.js';
import { DtbError } from '../errors.js';
import { DtNode, DtProperty } from '../node.js';
import { needsCpp, runCpp } from './cpp.js';
import { IrNode, IrProperty, type Reference } from './ir.js';
import { DtsParser, findNode } from './parser.js';
import { Source, type SourceFiles, type Where } from './source.js';

export interface CompileOptions {
  /** Name used in error messages and as the base for relative /include/ paths. */
  readonly file?: string;
  /** File access for /include/ and /incbin/ (none by default: a pure string compile). */
  readonly files?: SourceFiles;
}

/** /include/ and /incbin/ from disk: relative to the including file, then each include directory. */
export function diskFiles(includeDirs: readonly string[] = []): SourceFiles {
  return {
    read(name, includedFrom) {
      const candidates = isAbsolute(name) ? [name] : [join(dirname(resolve(includedFrom)), name), ...includeDirs.map((d) => join(d, name))];
      for (const c of candidates) {
        try {
          return { name: c, bytes: new Uint8Array(readFileSync(c)) };
        } catch {
          // try the next directory
        }
      }
      throw new Error(`not found in ${candidates.map((c) => dirname(c)).join(', ')}`);
    },
  };
}

const INVALID_PHANDLES = new Set([0, 0xffffffff]);

function cell(value: number[], offset: number): number {
  return ((value[offset]! << 24) | (value[offset + 1]! << 16) | (value[offset + 2]! << 8) | value[offset + 3]!) >>> 0;
}

class Compilation {
  private readonly used = new Map<number, IrNode>();
  private nextPhandle = 1;

  constructor(private readonly root: IrNode, private readonly src: Source) {}

  /** An error at the definition of `item` (or at the end of input when its place is unknown). */
  private at(item: { where: Where | undefined }, message: string): Error {
    return (item.where ?? this.src.here())(message);
  }

  run(): void {
    this.checkLabels();
    this.dropNameProperties();
    this.explicitPhandles();
    this.fixPhandleReferences();
    this.fixPathReferences();
    for (const n of [...this.root.walk()]) if (n.omitIfUnreferenced && !n.referenced && !n.deleted) n.delete();
  }

  private checkLabels(): void {
    const owner = new Map<string, IrNode | IrProperty>();
    for (const n of this.root.walk()) {
      const items: (IrNode | IrProperty)[] = [n, ...n.properties.filter((p) => !p.deleted)];
      for (const item of items) {
        for (const l of item.labels) {
          const other = owner.get(l);
          if (other !== undefined && other !== item) throw this.at(item, `duplicate label ${l} (on ${n.path})`);
          owner.set(l, item);
        }
      }
    }
  }

  /** A `name` property equal to the node's base name is redundant; dtc deletes it, and rejects a wrong one. */
  private dropNameProperties(): void {
    for (const n of this.root.walk()) {
      const p = n.liveProperty('name');
      if (p === undefined) continue;
      const expected = [...Buffer.from(n.baseName, 'latin1'), 0];
      if (p.value.length !== expected.length || p.value.some((b, i) => b !== expected[i])) {
        throw this.at(p, `${n.path}: "name" property is not the base node name`);
      }
      n.properties.splice(n.properties.indexOf(p), 1);
    }
  }

  private explicitPhandles(): void {
    for (const n of this.root.walk()) {
      for (const name of ['phandle', 'linux,phandle']) {
        const p = n.liveProperty(name);
        if (p === undefined) continue;
        if (p.value.length !== 4) throw this.at(p, `${n.path}: ${name} is not one cell`);
        // `phandle = <&self>` asks for an automatic value.
        if (p.references.length > 0) continue;
        const value = cell(p.value, 0);
        if (INVALID_PHANDLES.has(value)) throw this.at(p, `${n.path}: ${name} has invalid value 0x${value.toString(16)}`);
        if (n.phandle !== undefined && n.phandle !== value) throw this.at(p, `${n.path}: phandle and linux,phandle differ`);
        const other = this.used.get(value);
        if (other !== undefined && other !== n) throw this.at(p, `${n.path}: phandle 0x${value.toString(16)} is also used by ${other.path}`);
        n.phandle = value;
        this.used.set(value, n);
      }
    }
  }

  private phandleOf(node: IrNode): number {
    if (node.phandle !== undefined) return node.phandle;
    while (this.used.has(this.nextPhandle)) this.nextPhandle++;
    const value = this.nextPhandle;
    node.phandle = value;
    this.used.set(value, node);
    if (node.liveProperty('phandle') === undefined) {
      const bytes = [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
      node.properties.push(new IrProperty('phandle', bytes, []));
    }
    return value;
  }

  private labelIndex: Map<string, IrNode> | undefined;

  /** A reference's node: labels through an index built once (references are many), paths by walking. */
  private resolve(ref: Reference): IrNode {
    if (this.labelIndex === undefined) {
      this.labelIndex = new Map();
      for (const n of this.root.walk()) for (const l of n.labels) if (!this.labelIndex.has(l)) this.labelIndex.set(l, n);
    }
    const node = ref.target.startsWith('/') ? findNode(this.root, ref.target) : this.labelIndex.get(ref.target);
    if (node === undefined) throw ref.where(`reference to non-existent node or label ${ref.target}`);
    return node;
  }

  private fixPhandleReferences(): void {
    for (const n of this.root.walk()) {
      for (const p of n.properties) {
        if (p.deleted) continue;
        for (const ref of p.references) {
          if (ref.kind !== 'phandle') continue;
          const target = this.resolve(ref);
          const value = this.phandleOf(target);
          p.value.splice(ref.offset, 4, (value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
          markReferenced(target);
        }
      }
    }
  }

  private fixPathReferences(): void {
    for (const n of this.root.walk()) {
      for (const p of n.properties) {
        if (p.deleted) continue;
        let shift = 0;
        for (const ref of [...p.references].sort((a, b) => a.offset - b.offset)) {
          if (ref.kind !== 'path') continue;
          const target = this.resolve(ref);
          const path = [...Buffer.from(target.path, 'latin1'), 0];
          p.value.splice(ref.offset + shift, 0, ...path);
          shift += path.length;
          markReferenced(target);
        }
      }
    }
  }
}

/** Only the node itself: a referenced parent keeps no unreferenced /omit-if-no-ref/ child (as dtc). */
function markReferenced(node: IrNode): void {
  node.referenced = true;
}

/** dtc's guess: the `reg` of the first child of /cpus when it is one cell, else 0. */
function guessBootCpu(root: IrNode): number {
  const cpus = findNode(root, '/cpus');
  const first = cpus?.children[0];
  const reg = first?.liveProperty('reg');
  return reg !== undefined && reg.value.length === 4 ? cell(reg.value, 0) : 0;
}

function toTree(root: IrNode, reservations: { address: bigint; size: bigint }[], bootCpuId: number): DeviceTree {
  const made = new Map<IrNode, DtNode>();
  for (const n of root.walk()) {
    const node = n === root ? new DtNode('') : new DtNode(n.name);
    for (const p of n.properties) if (!p.deleted) node.appendProperty(new DtProperty(p.name, Uint8Array.from(p.value)));
    made.set(n, node);
    if (n !== root) made.get(n.parent!)!.appendChild(node);
  }
  return new DeviceTree(made.get(root)!, reservations, bootCpuId);
}

/** Compiles DTS source text to a tree (write it with writeDtb). Errors are DtsError (a DtbError) naming file:line:column. */
export function compileDts(text: string, options: CompileOptions = {}): DeviceTree {
  const src = new Source(text, options.file ?? '<dts>', options.files);
  const parsed = new DtsParser(src).parse();
  const bootCpu = guessBootCpu(parsed.root);
  new Compilation(parsed.root, src).run();
  return toTree(parsed.root, parsed.reservations, bootCpu);
}

export interface FileCompileOptions {
  /**
   * Run the C preprocessor first: 'never' (default), 'always', or 'auto' when the source has
   * `#include`/`#define`/`#if` lines.
   */
  readonly cpp?: 'never' | 'always' | 'auto';
}

/** Compiles a .dts file from disk, with /include/ (and cpp's #include) relative to it and to `includeDirs`. */
export function compileDtsFile(file: string, includeDirs: readonly string[] = [], options: FileCompileOptions = {}): DeviceTree {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    throw new DtbError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { path: file });
  }
  const cpp = options.cpp ?? 'never';
  if (cpp === 'always' || (cpp === 'auto' && needsCpp(text))) text = runCpp(file, includeDirs);
  return compileDts(text, { file, files: diskFiles(includeDirs) });
}
