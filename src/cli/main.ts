#!/usr/bin/env node
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import chalk from 'chalk';
import { boardCommand } from './commands/board.js';
import { dtbCommand } from './commands/dtb.js';
import { runCommand } from './commands/run.js';
import { symbolsCommand } from './commands/symbols.js';
import { zoneCommand } from './commands/zone.js';

// Output piped into `head` and the like: a closed pipe ends the program quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Each command lives in its own module under ./commands; this file only assembles them.
const commands: CommandModule<any, any>[] = [runCommand, zoneCommand, dtbCommand, boardCommand, symbolsCommand];

// hvisor-tool spells the zone id `-id 1` (`hvisor zone shutdown -id 1`); yargs would read it as -i -d.
const cli = yargs(hideBin(process.argv).map((a) => (a === '-id' ? '--id' : a)))
  .scriptName('hvisor')
  .usage('$0 <command> [options]\n\nA separation-kernel hypervisor on emulated boards, with one gdb stub per zone.')
  .strict()
  .demandCommand(1, 'Name a command; `hvisor --help` lists them.')
  .recommendCommands()
  .help()
  .version()
  .fail((message, error) => {
    // Our commands throw typed errors whose message names the problem and where: print it, no stack.
    const text = error instanceof Error ? error.message : message;
    console.error(chalk.red('error: ') + text + (error ? '' : chalk.dim('  (hvisor --help)')));
    process.exit(1);
  });
for (const command of commands) cli.command(command);
try {
  await cli.parseAsync();
} catch (error) {
  // Errors thrown inside async handlers do not reach .fail(): same treatment, message only.
  console.error(chalk.red('error: ') + (error instanceof Error ? error.message : String(error)));
  process.exit(1);
}
