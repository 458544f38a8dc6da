import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules, read from the imports of every source file (static, dynamic and type-only: a
 * type import is a dependency on the layer that owns the type).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_ROOTS = ['src', 'gdbstub', 'dtb', 'boards'];

interface Import {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of every source file, as repository paths (`.js` specifiers name `.ts` files). */
function readImports(): Import[] {
  const out: Import[] = [];
  for (const file of SOURCE_ROOTS.flatMap(sourceFiles)) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = relative(root, resolve(root, dirname(file), fileName)).replace(/\.js$/, '.ts');
      out.push({ from: file, to });
    }
  }
  return out;
}

const imports = readImports();

/** The layer a file belongs to: a top-level folder (dtb, gdbstub, boards) or a folder of src. */
function layerOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'src' ? `src/${parts[1]}` : parts[0]!;
}

const within = (file: string, folder: string) => file.startsWith(folder + '/');
const describeImport = (i: Import) => `${i.from} imports ${i.to}`;

/** Folders `folder` must never import from (besides itself). */
const forbidden: readonly { folder: string; mayNotImport: (to: string) => boolean; rule: string }[] = [
  { folder: 'dtb', mayNotImport: (to) => !within(to, 'dtb'), rule: 'dtb imports nothing of ours outside itself' },
  { folder: 'gdbstub', mayNotImport: (to) => !within(to, 'gdbstub'), rule: 'gdbstub imports nothing of ours outside itself (arches hand it their register tables)' },
  { folder: 'src/arch', mayNotImport: (to) => ['src/devices', 'src/hypervisor', 'src/cli'].some((f) => within(to, f)), rule: 'arch never imports devices, hypervisor or cli' },
  { folder: 'src/devices', mayNotImport: (to) => ['src/hypervisor', 'src/cli'].some((f) => within(to, f)), rule: 'devices never import hypervisor or cli' },
  { folder: 'src/hypervisor', mayNotImport: (to) => within(to, 'src/cli'), rule: 'hypervisor never imports cli' },
];

/** Edges folder -> folder (self-edges dropped), each with the imports that make it. */
function folderGraph(folderOf: (file: string) => string | undefined): Map<string, Map<string, Import[]>> {
  const graph = new Map<string, Map<string, Import[]>>();
  for (const i of imports) {
    const a = folderOf(i.from);
    const b = folderOf(i.to);
    if (a === undefined || b === undefined || a === b) continue;
    if (!graph.has(a)) graph.set(a, new Map());
    const edges = graph.get(a)!;
    if (!edges.has(b)) edges.set(b, []);
    edges.get(b)!.push(i);
  }
  return graph;
}

/** Every edge a -> b that lies on a cycle (b reaches a), with one import that makes it. */
function cycleEdges(graph: Map<string, Map<string, Import[]>>): string[] {
  const reaches = (from: string, to: string) => {
    const seen = new Set([from]);
    const stack = [from];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x === to) return true;
      for (const y of graph.get(x)?.keys() ?? []) if (!seen.has(y)) seen.add(y), stack.push(y);
    }
    return false;
  };
  const found: string[] = [];
  for (const [a, edges] of graph) {
    for (const [b, why] of edges) if (reaches(b, a)) found.push(`${a} -> ${b} (${describeImport(why[0]!)}) and ${b} reaches ${a} back`);
  }
  return found;
}

/** The subfolders of `parent` that hold source files (the parent's own files are not among them). */
function subfolderOf(parent: string): (file: string) => string | undefined {
  return (file) => {
    if (!within(file, parent)) return undefined;
    const rest = file.slice(parent.length + 1).split('/');
    return rest.length > 1 ? `${parent}/${rest[0]}` : undefined;
  };
}

describe('layer rules', () => {
  it('reads the imports it checks (the graph is not empty)', () => {
    expect(imports.length).toBeGreaterThan(500);
    expect(imports.some((i) => i.from === 'src/cli/launch.ts' && within(i.to, 'src/hypervisor'))).toBe(true);
    // Type-only and dynamic imports count too.
    expect(imports.some((i) => i.from === 'src/arch/cpu.ts' && i.to === 'src/machine/address-space.ts')).toBe(true);
  });

  for (const { folder, mayNotImport, rule } of forbidden) {
    it(rule, () => {
      const bad = imports.filter((i) => within(i.from, folder) && mayNotImport(i.to)).map(describeImport);
      expect(bad).toEqual([]);
    });
  }

  it('no import cycles between layers (src/* folders, dtb, gdbstub, boards)', () => {
    expect(cycleEdges(folderGraph(layerOf))).toEqual([]);
  });

  it('no import cycles between the sibling folders inside a folder (devices/pci and devices/virtio, hypervisor/zone and hypervisor/lifecycle, …)', () => {
    const parents = new Set<string>();
    for (const i of imports) {
      const parts = i.from.split('/');
      for (let n = 1; n < parts.length - 1; n++) parents.add(parts.slice(0, n).join('/'));
    }
    const found = [...parents].flatMap((p) => cycleEdges(folderGraph(subfolderOf(p))));
    expect(found).toEqual([]);
  });

  it('the cycle check finds a cycle when there is one', () => {
    const edge = (from: string, to: string): [string, Map<string, Import[]>] => [from, new Map([[to, [{ from: `${from}/a.ts`, to: `${to}/b.ts` }]]])];
    expect(cycleEdges(new Map([edge('x', 'y'), edge('y', 'z'), edge('z', 'x')]))).toHaveLength(3);
    expect(cycleEdges(new Map([edge('x', 'y'), edge('y', 'z')]))).toEqual([]);
  });
});

describe('zones name no arch', () => {
  it('src/hypervisor/zone/zone.ts reaches arch behaviour through ArchZoneOps (hvisor\'s arch/<arch>/zone.rs), not by arch name', () => {
    const zone = readFileSync(join(root, 'src/hypervisor/zone/zone.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(zone.match(/riscv|aarch64|loongarch/g) ?? []).toEqual([]);
  });
});
