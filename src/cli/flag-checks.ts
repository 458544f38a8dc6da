import { HvisorError } from '../util/hvisor-error.js';
import type { Argv } from 'yargs';

/** A command line that cannot be honoured: one line naming the flag and what is wrong. */
export class UsageError extends HvisorError {}

/** Our commands' positional arguments (`zone shutdown ID`), named without dashes. */
const POSITIONALS = new Set(['id', 'file', 'name']);

/**
 * Checks every command's flags the same way before its handler runs, so a bad flag is one typed
 * line and never a JS message from deep inside ("text.trim is not a function"): a flag given twice
 * (yargs makes a list of it) unless it takes a list, and a number flag that is not a number.
 */
export function checkFlagShapes(argv: Record<string, unknown>, yargs: Argv): void {
  const options = (yargs as unknown as { getOptions(): { array: string[]; number: string[]; alias: Record<string, string[]> } }).getOptions();
  const lists = new Set(options.array);
  const numbers = new Set(options.number);
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || /[A-Z]/.test(key)) continue; // yargs' camel-case twins
    if (Array.isArray(value) && !lists.has(key)) {
      throw new UsageError(`--${key} given ${value.length} times (${value.map((v) => JSON.stringify(v)).join(', ')}): give it once`);
    }
    if (numbers.has(key) && typeof value === 'number' && Number.isNaN(value)) throw new UsageError(`${POSITIONALS.has(key) ? key.toUpperCase() : `--${key}`}: not a number`);
  }
}

/** An integer flag within [min, max], or a UsageError naming it. */
export function integerFlag(name: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name}: an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** Flags that make no sense together: the first one given of `a` with any given of `b`. */
export function exclusiveFlags(given: Record<string, unknown>, a: readonly string[], b: readonly string[], why: string): void {
  const x = a.find((k) => given[k] !== undefined);
  const y = b.find((k) => given[k] !== undefined && given[k] !== false);
  if (x !== undefined && y !== undefined) throw new UsageError(`--${x} and --${y} cannot be used together: ${why}`);
}
