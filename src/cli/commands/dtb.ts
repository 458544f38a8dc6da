/**
 * `hvisor dtb FILE [--dts|--json] [--out BLOB]`: reads a device tree blob (or compiles a DTS
 * source) and prints a summary, the DTS text `dtc -I dtb -O dts` would print, or a JSON view of
 * the tree; `--out` writes the blob (so a zone's .dts compiles to the .dtb hvisor loads).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import {
  compileDtsFile, DeviceTree, DtbError, parseDtb, printDts, readHeader, treeToJson, writeDtb,
} from '../../../dtb/index.js';

export type DtbOutput = 'summary' | 'dts' | 'json';

interface DtbArgs {
  file: string;
  dts?: boolean;
  json?: boolean;
  out?: string;
  pad?: number;
  include?: string[];
}

/** A blob starts with the FDT magic; anything else is taken as DTS source. */
function isBlob(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0xd0 && bytes[1] === 0x0d && bytes[2] === 0xfe && bytes[3] === 0xed;
}

/**
 * The blob of a .dtb file, or of a .dts file compiled (with /include/ relative to it and
 * `includeDirs`; through cpp first when it has #include or #define lines, as board sources do).
 */
export function loadBlob(file: string, bytes: Uint8Array, includeDirs: readonly string[] = []): Uint8Array {
  if (isBlob(bytes)) return bytes;
  return writeDtb(compileDtsFile(file, includeDirs, { cpp: 'auto' }));
}

function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}

function describeSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}

/** A short human summary: identity, memory, CPUs, interrupt controllers, console. */
export function summarize(tree: DeviceTree, blob: Uint8Array, name: string): string {
  const header = readHeader(blob);
  const lines: string[] = [];
  const nodes = [...tree.nodes()];
  lines.push(`${name}: DTB version ${header.version}, ${blob.length} bytes, ${nodes.length} nodes, boot CPU ${tree.bootCpuId}`);
  const model = tree.root.string('model');
  if (model !== undefined) lines.push(`model: ${model}`);
  lines.push(`compatible: ${tree.root.compatible.join(', ') || '(none)'}`);
  for (const n of nodes.filter((x) => x.string('device_type') === 'memory')) {
    for (const r of tree.cpuReg(n) ?? []) lines.push(`memory: ${hex(r.address)}..${hex(r.address + r.size - 1)} (${describeSize(r.size)}) ${n.path}`);
  }
  for (const r of tree.memoryReservations) lines.push(`reserved: ${hex(r.address)} size ${hex(r.size)}`);
  const cpus = nodes.filter((x) => x.string('device_type') === 'cpu');
  if (cpus.length > 0) {
    const kinds = [...new Set(cpus.map((c) => c.compatible[0] ?? '?'))].join(', ');
    const method = cpus[0]!.string('enable-method');
    lines.push(`cpus: ${cpus.length} × ${kinds}${method === undefined ? '' : ` (enable-method ${method})`}`);
  }
  for (const n of nodes.filter((x) => x.has('interrupt-controller'))) {
    if (n.parent?.string('device_type') === 'cpu') continue;
    const where = (tree.cpuReg(n) ?? []).map((r) => `${hex(r.address)}+${hex(r.size)}`).join(' ');
    lines.push(`interrupt controller: ${n.path} (${n.compatible[0] ?? 'no compatible'})${where === '' ? '' : ` at ${where}`}`);
  }
  const chosen = tree.chosen();
  if (chosen.stdoutPath !== undefined) {
    const resolved = chosen.stdout === undefined ? ' (unresolved)' : ` → ${chosen.stdout.node.path}`;
    lines.push(`stdout: ${chosen.stdoutPath}${resolved}`);
  }
  if (chosen.bootargs !== undefined) lines.push(`bootargs: ${chosen.bootargs}`);
  if (chosen.initrd !== undefined) lines.push(`initrd: ${hex(chosen.initrd.start)}..${hex(chosen.initrd.end)}`);
  return lines.join('\n') + '\n';
}

/** The text `hvisor dtb` prints for a blob. */
export function renderDtb(blob: Uint8Array, output: DtbOutput, name = 'dtb'): string {
  const tree = parseDtb(blob);
  if (output === 'dts') return printDts(tree);
  if (output === 'json') return JSON.stringify(treeToJson(tree), null, 2) + '\n';
  return summarize(tree, blob, name);
}

function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new DtbError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { path: file });
  }
}

export const dtbCommand: CommandModule<object, DtbArgs> = {
  command: 'dtb <file>',
  describe: 'Show a device tree blob: a summary, its DTS (as dtc prints it) or JSON',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'a .dtb file, or a .dts source to compile' })
      .option('dts', { type: 'boolean', describe: 'print DTS source, identical to `dtc -I dtb -O dts`' })
      .option('json', { type: 'boolean', describe: 'print the tree as JSON' })
      .option('out', { alias: 'o', type: 'string', describe: 'write the (compiled) blob to this file' })
      .option('pad', { type: 'number', describe: 'with --out: free bytes at the end of the blob (dtc -p)' })
      .option('include', { alias: 'i', type: 'string', array: true, describe: 'directory searched by /include/ and #include in DTS input' })
      .conflicts('dts', 'json'),
  handler: (args) => {
    const output: DtbOutput = args.dts === true ? 'dts' : args.json === true ? 'json' : 'summary';
    const blob = loadBlob(args.file, readInput(args.file), args.include ?? []);
    if (args.out !== undefined) {
      const padded = args.pad === undefined ? blob : writeDtb(parseDtb(blob), { padding: args.pad });
      try {
        writeFileSync(args.out, padded);
      } catch (e) {
        throw new DtbError(`cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { path: args.out });
      }
    }
    process.stdout.write(renderDtb(blob, output, args.file));
  },
};
