import yargs, { type Argv, type CommandModule } from 'yargs';
import { boardCommand } from './commands/board.js';
import { dtbCommand } from './commands/dtb.js';
import { runCommand } from './commands/run.js';
import { symbolsCommand } from './commands/symbols.js';
import { zoneCommand } from './commands/zone.js';
import { checkFlagShapes } from './flag-checks.js';

// Each command lives in its own module under ./commands; this file only assembles them.
const commands: CommandModule<any, any>[] = [runCommand, zoneCommand, dtbCommand, boardCommand, symbolsCommand];

/** The `hvisor` command line over `args` (main.ts adds how failures are printed; tests, that they throw). */
export function buildCli(args: readonly string[]): Argv {
  // hvisor-tool spells the zone id `-id 1` (`hvisor zone shutdown -id 1`); yargs would read it as -i -d.
  const cli = yargs(args.map((a) => (a === '-id' ? '--id' : a)))
    .scriptName('hvisor')
    .usage('$0 <command> [options]\n\nA separation-kernel hypervisor on emulated boards, with one gdb stub per zone.')
    .strict()
    .demandCommand(1, 'Name a command; `hvisor --help` lists them.')
    .recommendCommands()
    .middleware(checkFlagShapes as never, true)
    .help()
    .version();
  for (const command of commands) cli.command(command);
  return cli;
}
