import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../flag-checks.js';
import { findBoard } from '../../../boards/index.js';
import { buildBoard } from '../../board/board-builder.js';
import { defaultControlAddress, formatZoneList, zoneList, zoneRestart, zoneShutdown, zoneStart } from '../../hypervisor/control/control-client.js';
import type { ControlAddress } from '../../hypervisor/control/control-protocol.js';
import { loadZoneConfig } from '../../config/zone-config.js';
import { generateZoneDtb } from '../../hypervisor/lifecycle/zone-dtb.js';
import { deviceRamAsIo } from '../../hypervisor/lifecycle/device-ram.js';
import { DTB_FILE_MAX_BYTES, readInputFileSync } from '../../util/input-file.js';

interface ControlArgs {
  control?: string;
}

function address(args: ControlArgs): ControlAddress {
  return args.control !== undefined ? { path: args.control } : defaultControlAddress();
}

/** hvisor's zone ids are u32s; anything else is refused before a request is sent. */
function zoneId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new UsageError(`ID: a zone id (an integer from 0), got ${id}`);
  return id;
}

const withControl = (y: Argv) => y.option('control', { type: 'string', describe: 'control socket of the running `hvisor run`' });
/** The zone id: positional (`shutdown 1`) or hvisor-tool's `-id 1` (main.ts turns it into --id). */
const zoneIdArg = (y: Argv): Argv =>
  withControl(y)
    .positional('id', { type: 'number', describe: 'zone id' })
    .check((a) => {
      if (typeof a['id'] !== 'number' || !Number.isInteger(a['id'])) throw new Error('give the zone id: ID or -id ID (hvisor-tool spelling)');
      return true;
    }) as unknown as Argv;

/** `hvisor zone …`: hvisor-tool's zone commands against a running instance, and zone DTBs. */
export const zoneCommand: CommandModule<object, object> = {
  command: 'zone',
  describe: 'Manage the zones of a running `hvisor run` (list, start, shutdown, restart) or write a zone device tree',
  builder: (yargs: Argv) =>
    yargs
      .command('list', 'List the running zones', withControl, async (args: ControlArgs) => {
        process.stdout.write(formatZoneList((await zoneList(address(args))).zones));
      })
      .command('start <file>', 'Start a zone from its config (hvisor-tool JSON)', (y: Argv) => withControl(y).positional('file', { type: 'string', demandOption: true }), async (args: ControlArgs & { file: string }) => {
        console.log((await zoneStart(address(args), args.file)).message);
      })
      .command('shutdown [id]', `Shut a zone down (hvisor-tool's spelling works too: shutdown -id ID)`, zoneIdArg, async (a) => {
        const args = a as unknown as ControlArgs & { id: number };
        console.log((await zoneShutdown(address(args), zoneId(args.id))).message);
      })
      .command('restart [id]', `Restart a zone (hvisor-tool's spelling works too: restart -id ID)`, zoneIdArg, async (a) => {
        const args = a as unknown as ControlArgs & { id: number };
        console.log((await zoneRestart(address(args), zoneId(args.id))).message);
      })
      .command(
        'dtb <file>',
        'Write the device tree generated for a zone config (board DTB trimmed to the zone)',
        (y: Argv) =>
          y
            .positional('file', { type: 'string', demandOption: true })
            .option('board', { type: 'string', default: 'qemu-virt-riscv64', describe: 'board name' })
            .option('dtb', { type: 'string', describe: 'the board DTB (a vendor board\'s, or instead of the generated one)' })
            .option('force', { type: 'boolean', describe: 'use a DTB whose root compatible the board does not model' })
            .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'DTB file to write' }),
        (args: { file: string; board: string; dtb?: string; force?: boolean; out: string }) => {
          const boardDtb = args.dtb === undefined ? undefined : readInputFileSync(args.dtb, { what: 'board DTB', maxBytes: DTB_FILE_MAX_BYTES });
          const { machine } = buildBoard(findBoard(args.board), { ...(boardDtb !== undefined && { dtb: boardDtb }), ...(args.force === true && { force: true }) });
          const { config } = deviceRamAsIo(machine, loadZoneConfig(args.file));
          // As `hvisor run` does: /chosen names the initrd the config loads.
          const initrd = config.initrdFilepath === undefined ? undefined : statSync(resolve(dirname(config.source), config.initrdFilepath)).size;
          const dtb = generateZoneDtb(machine, config, initrd === undefined ? {} : { initrdSize: initrd });
          writeFileSync(args.out, dtb.blob);
          console.log(`${args.out}: ${dtb.blob.length} bytes; kept ${dtb.report.kept.length} nodes, removed ${dtb.report.removed.length}`);
        },
      )
      .demandCommand(1, 'zone list | start FILE | shutdown ID | restart ID | dtb FILE -o OUT'),
  handler: () => {},
};
