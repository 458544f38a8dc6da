/**
 * `hvisor board list [--json]` and `hvisor board show NAME [--dtb FILE] [--cpus N] [--memory SIZE]
 * [--virtualization] [--json|--dts|--zone-config N]`: the boards we know, and a board's memory, CPUs and devices
 * (address windows, interrupts as zone configs number them, and the bound model or "no model"),
 * built from its generated device tree or the DTB (or DTS source) given.
 */
import { readInputFileSync, DTB_FILE_MAX_BYTES } from '../../util/input-file.js';
import chalk from 'chalk';
import type { Argv, CommandModule } from 'yargs';
import { boardForDtb, boards, findBoard, unmodelledBoard, type BoardDescriptor, type ZoneConfigJson } from '../../../boards/index.js';
import type { DeviceTree } from '../../../dtb/device-tree.js';
import { parseDtb } from '../../../dtb/reader.js';
import { BoardNeedsDtbError, BoardParameterError } from '../../../boards/board-errors.js';
import { renderDts } from '../../../boards/dts-source.js';
import type { BoardParams } from '../../../boards/board-descriptor.js';
import { compileDtsFile } from '../../../dtb/dts/compiler.js';
import { writeDtb } from '../../../dtb/writer.js';
import { buildBoard } from '../../board/board-builder.js';
import { boardReport, type BoardReport, type DeviceReport } from '../../board/board-report.js';
import { loadPci } from '../launch.js';

interface ShowArgs {
  /** Optional with --dtb: the board is then the one that models the DTB's root compatible. */
  name?: string;
  force?: boolean;
  dtb?: string;
  cpus?: number;
  memory?: string;
  virtualization?: boolean;
  json?: boolean;
  dts?: boolean;
  zoneConfig?: number;
  pci?: string;
}

/** "2G", "512M", "64K", "0x40000000" or plain bytes. */
export function parseMemorySize(text: string, board: string): number {
  const m = /^(0x[0-9a-f]+|\d+)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (m === null) throw new BoardParameterError(board, 'memory', `"${text}" is not a size (e.g. 2G, 512M, 0x40000000)`);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * scale;
}

/** The data of `hvisor board show`: what --json prints and the text view renders. */
export function showBoard(args: Omit<ShowArgs, 'json' | 'dts' | 'zoneConfig'>): BoardReport & { pciFunctions?: string } {
  const dtb = args.dtb === undefined ? undefined : readBoardTree(args.dtb);
  const board = boardFor(args.name, dtb);
  const params: Partial<BoardParams> = {
    ...(args.cpus !== undefined ? { cpus: args.cpus } : {}),
    ...(args.memory !== undefined ? { memoryBytes: parseMemorySize(args.memory, board.name) } : {}),
    ...(args.virtualization !== undefined ? { virtualization: args.virtualization } : {}),
  };
  const build = buildBoard(board, { ...(dtb !== undefined ? { dtb } : {}), params, ...(args.force === true ? { force: true } : {}) });
  const report = boardReport(build, args.dtb ?? 'generated');
  if (args.pci === undefined) return report;
  const pci = loadPci(args.pci, build, board);
  try {
    return { ...report, pciFunctions: pci.describe() };
  } finally {
    pci.close();
  }
}

/**
 * The board named, or (no name, a DTB given) the board that models the DTB's root compatible, or
 * the stand-in that shows a DTB whose SoC no board models.
 */
function boardFor(name: string | undefined, dtb: Uint8Array | undefined): BoardDescriptor {
  if (name !== undefined) return findBoard(name);
  if (dtb === undefined) throw new BoardParameterError('(none)', 'name', 'is needed without --dtb (hvisor board list)');
  const tree = parseDtb(dtb);
  const compatibles = new Set([...tree.nodes()].flatMap((n) => n.compatible));
  return boardForDtb(tree.root.compatible, compatibles) ?? unmodelledBoard(dtbArch(tree), tree.root.compatible);
}

/** The CPU architecture a DTB describes, from its CPU nodes (aarch64 unless they say riscv or loongarch). */
function dtbArch(tree: DeviceTree): BoardDescriptor['arch'] {
  const cpus = tree.node('/cpus')?.children ?? [];
  if (cpus.some((c) => c.has('riscv,isa') || c.compatible.some((x) => x.startsWith('riscv')))) return 'riscv64';
  if (cpus.some((c) => c.compatible.some((x) => x.startsWith('loongarch') || x.startsWith('loongson')))) return 'loongarch64';
  return 'aarch64';
}

function boardZones(board: BoardDescriptor): ZoneConfigJson[] {
  return [...(board.rootZone !== undefined ? [board.rootZone] : []), ...board.exampleZones];
}

/** A DTB, or a DTS source (by its .dts extension) compiled with our DTS compiler. */
function readBoardTree(file: string): Uint8Array {
  return file.endsWith('.dts') ? writeDtb(compileDtsFile(file)) : readInputFileSync(file, { what: 'board DTB', maxBytes: DTB_FILE_MAX_BYTES });
}

/** `hvisor board list --json`. */
export function boardList(): { name: string; title: string; arch: string; hvisorPlatform: string; generatedDeviceTree: boolean; defaults: BoardParams }[] {
  return boards.map((b) => ({
    name: b.name,
    title: b.title,
    arch: b.arch,
    hvisorPlatform: b.hvisorPlatform,
    generatedDeviceTree: b.generateTree !== undefined,
    defaults: b.defaults,
  }));
}

export function listBoards(): string {
  const width = Math.max(...boards.map((b) => b.name.length));
  return boards
    .map((b) => {
      const dt = b.generateTree !== undefined ? chalk.green('generated DT') : chalk.yellow('needs --dtb');
      return `${chalk.bold(b.name.padEnd(width))}  ${chalk.cyan(b.arch.padEnd(11))} ${dt.padEnd(22)} ${b.title}`;
    })
    .join('\n');
}

const roleOrder: readonly DeviceReport['role'][] = ['interrupt-controller', 'timer', 'pci-host', 'virtio-slot', 'device', 'other'];
const roleTitle: Record<DeviceReport['role'], string> = {
  'interrupt-controller': 'Interrupt controllers (per-zone models)',
  timer: 'Timers (per-zone models)',
  'pci-host': 'PCI host bridges',
  'virtio-slot': 'virtio-mmio slots',
  device: 'Devices',
  other: 'Other nodes (no MMIO model needed)',
};

function sizeText(hexSize: string): string {
  let v = Number(hexSize);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}

function modelText(d: DeviceReport): string {
  if (d.model !== null) return chalk.green(d.model);
  if (d.role === 'interrupt-controller' || d.role === 'timer') return chalk.cyan(`per-zone${d.expectedModel ? ` (${d.expectedModel})` : ''}`);
  if (d.role === 'other') return chalk.dim('-');
  const expects = d.expectedModel === undefined ? '' : chalk.dim(` (expects ${d.expectedModel})`);
  const error = d.modelError === undefined ? '' : chalk.red(` ${d.modelError}`);
  return chalk.yellow('no model') + expects + error;
}

/** "33 (SPI 1), 34 (SPI 2)" for zone-numbered interrupts, then cascaded ones grouped by controller. */
function irqText(d: DeviceReport): string {
  const parts = d.irqs.filter((q) => q.number !== undefined).map((q) => `${q.number} ${chalk.dim(`(${q.source})`)}`);
  const cascaded = new Map<string, string[]>();
  for (const q of d.irqs.filter((x) => x.number === undefined)) {
    const at = q.source.lastIndexOf(' ');
    const controller = q.source.slice(0, at);
    cascaded.set(controller, [...(cascaded.get(controller) ?? []), q.source.slice(at + 1)]);
  }
  for (const [controller, lines] of cascaded) parts.push(chalk.dim(`${controller} ${lines.join('/')}`));
  return parts.length === 0 ? '' : ' irq ' + parts.join(', ');
}

export function renderBoard(r: BoardReport): string {
  const out: string[] = [];
  out.push(`${chalk.bold(r.board)} ${chalk.dim('—')} ${r.title}`);
  const dt = r.params === undefined ? r.deviceTree : `generated (${r.params.cpus} CPUs, ${sizeText('0x' + r.params.memoryBytes.toString(16))})`;
  out.push(`arch ${chalk.cyan(r.arch)} · hvisor platform ${r.hvisorPlatform} · device tree: ${dt}`);
  const irqs = r.interruptCount === undefined ? '' : ` · interrupt controller: ${r.interruptCount} interrupt numbers (0..${r.interruptCount - 1})`;
  out.push(`timer ${r.timerFrequency / 1e6} MHz${irqs}`);
  out.push('', chalk.bold(`Memory${r.memoryFromBoardFallback ? chalk.dim(' (board layout: the DTB has no /memory)') : ''}`));
  for (const m of r.memory) out.push(`  ${m.base.padStart(12)} .. ${('0x' + (Number(m.base) + Number(m.size)).toString(16)).padEnd(12)} ${sizeText(m.size)}`);
  out.push('', chalk.bold(`CPUs (${r.cpus.length})`));
  for (const c of r.cpus) out.push(`  cpu${String(c.id).padEnd(3)} hwid ${c.hwid.padEnd(6)} ${chalk.dim(c.path)}`);
  for (const role of roleOrder) {
    const devices = r.devices.filter((d) => d.role === role);
    if (devices.length === 0) continue;
    out.push('', chalk.bold(`${roleTitle[role]} (${devices.length})`));
    for (const d of devices) {
      const windows = d.windows.map((w) => `${w.name ? w.name + ' ' : ''}${w.base}+${w.size}`).join(', ') || chalk.dim('no MMIO');
      const irqs = irqText(d);
      out.push(`  ${d.path}  ${chalk.dim(d.compatible[0] ?? '')}`);
      out.push(`      ${windows}${irqs}  → ${modelText(d)}`);
      if (d.pci !== undefined) {
        const bus = d.pci.busRange === undefined ? '' : `buses ${d.pci.busRange[0]}..${d.pci.busRange[1]}  `;
        const wins = d.pci.windows.map((w) => `${w.space} ${w.cpuBase}+${w.size}${w.cpuBase === w.pciBase ? '' : ` (PCI ${w.pciBase})`}`).join(', ');
        out.push(`      ${chalk.dim(bus + wins)}`);
      }
    }
  }
  if (r.disabled.length > 0) {
    out.push('', chalk.bold(`Disabled nodes (${r.disabled.length})`));
    for (const d of r.disabled) out.push(`  ${chalk.dim(`${d.path}  ${d.compatible[0] ?? ''}  status "${d.status}"`)}`);
  }
  for (const z of [...(r.rootZone !== undefined ? [r.rootZone] : []), ...r.exampleZones]) {
    const title = z.zone_id === 0 ? 'Root zone (as hvisor compiles it)' : `Example zone ${z.zone_id} (hvisor's config)`;
    out.push('', chalk.bold(title) + chalk.dim(`  hvisor board show ${r.board} --zone-config ${z.zone_id}`));
    out.push(`  ${z.name}: cpus [${z.cpus.join(', ')}], interrupts [${z.interrupts.join(', ')}], entry ${z.entry_point}`);
    for (const m of z.memory_regions) out.push(`  ${m.type.padEnd(6)} ${m.physical_start} + ${m.size}`);
  }
  return out.join('\n');
}

function showBuilder(y: Argv): Argv<ShowArgs> {
  return y
    .positional('name', { type: 'string', describe: 'board name (hvisor board list); with --dtb, optional: the board modelling the DTB\'s SoC' })
    .option('dtb', { type: 'string', describe: 'the board DTB (or .dts source) to use instead of the generated one' })
    .option('force', { type: 'boolean', describe: 'use a DTB whose root compatible the board does not model' })
    .option('cpus', { type: 'number', describe: 'CPUs of a generated tree (QEMU -smp)' })
    .option('memory', { type: 'string', describe: 'RAM of a generated tree, e.g. 2G (QEMU -m)' })
    .option('virtualization', { type: 'boolean', describe: 'aarch64 virt: the tree QEMU gives with virtualization=on (EL2, as hvisor runs it)' })
    .option('json', { type: 'boolean', describe: 'machine-readable output' })
    .option('dts', { type: 'boolean', describe: 'print the generated device tree source' })
    .option('pci', { type: 'string', describe: 'also list the PCI functions of a `hvisor run --pci` file on the board\'s host bridge' })
    .option('zone-config', { type: 'number', describe: 'print zone N\'s config (0 = root) as hvisor-tool JSON' })
    .conflicts('json', 'dts')
    .conflicts('zone-config', ['json', 'dts']);
}

function showHandler(args: ShowArgs): void {
  if (args.zoneConfig !== undefined) {
    const board = boardFor(args.name, undefined);
    const zone = boardZones(board).find((z) => z.zone_id === args.zoneConfig);
    if (zone === undefined) {
      const known = boardZones(board).map((z) => z.zone_id).join(', ');
      throw new BoardParameterError(board.name, 'zone-config', `${args.zoneConfig} is not one of its zones (${known})`);
    }
    console.log(JSON.stringify(zone, null, 4));
    return;
  }
  if (args.dts === true) {
    const board = boardFor(args.name, undefined);
    if (board.generateTree === undefined) throw new BoardNeedsDtbError(board.name, board.dtbHint ?? 'no hint');
    const memoryBytes = args.memory === undefined ? board.defaults.memoryBytes : parseMemorySize(args.memory, board.name);
    const virtualization = args.virtualization ?? board.defaults.virtualization;
    process.stdout.write(renderDts(board.generateTree({ cpus: args.cpus ?? board.defaults.cpus, memoryBytes, ...(virtualization !== undefined ? { virtualization } : {}) })));
    return;
  }
  const report = showBoard(args);
  console.log(args.json === true ? JSON.stringify(report, null, 2) : renderBoard(report));
  if (args.json !== true && report.pciFunctions !== undefined) console.log('\n' + chalk.bold('PCI functions') + '\n' + report.pciFunctions.trimEnd());
}

export const boardCommand: CommandModule<object, object> = {
  command: 'board',
  describe: 'List the boards, or show one: memory, CPUs, devices with addresses, IRQs and models',
  builder: (yargs: Argv) =>
    yargs
      .command(
        'list',
        'List the boards',
        (y: Argv) => y.option('json', { type: 'boolean', describe: 'machine-readable output' }),
        (args: { json?: boolean }) => {
          console.log(args.json === true ? JSON.stringify(boardList(), null, 2) : listBoards());
        },
      )
      .command('show [name]', 'Show a board built from its generated device tree or --dtb FILE', showBuilder, showHandler)
      .demandCommand(1, 'board list | board show [NAME] [--dtb FILE]'),
  handler: () => {},
};
