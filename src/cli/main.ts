#!/usr/bin/env node
import { buildCli } from './cli.js';
import { hideBin } from 'yargs/helpers';
import chalk from 'chalk';
import { printable } from '../util/printable.js';

// Output piped into `head` and the like: a closed pipe ends the program quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const cli = buildCli(hideBin(process.argv))
  .fail((message, error) => {
    // Our commands throw typed errors whose message names the problem and where: print it, no stack.
    const text = printable(error instanceof Error ? error.message : message);
    console.error(chalk.red('error: ') + text + (error ? '' : chalk.dim('  (hvisor --help)')));
    process.exit(1);
  });
try {
  await cli.parseAsync();
} catch (error) {
  // Errors thrown inside async handlers do not reach .fail(): same treatment, message only.
  console.error(chalk.red('error: ') + printable(error instanceof Error ? error.message : String(error)));
  process.exit(1);
}
