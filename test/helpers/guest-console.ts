/**
 * A guest's console as the Linux-in-a-zone tests see it: text collected from `launch()`'s per-zone
 * output (colour codes and the zone prefix stripped), waiting for patterns, and typing commands.
 */

/** Polls `predicate` until it holds; on timeout the error shows the end of the console. */
export async function until(predicate: () => boolean, what: string, ms: number, text: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; console ends with:\n${text().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class GuestConsole {
  private raw = '';

  /** `prefix` is the zone name launch() puts before each line; `type` sends bytes to the guest's UART. */
  constructor(
    private readonly prefix: string,
    private readonly typeBytes: (bytes: Uint8Array) => void = () => {
      throw new Error('this console cannot be typed on');
    },
  ) {}

  /** Feed for launch()'s `output` option (or a socket's data). */
  readonly append = (text: string): void => {
    this.raw += text;
  };

  /** Everything printed so far, without colour codes and zone prefixes. */
  text(): string {
    const escaped = this.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return this.raw.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(new RegExp(`^${escaped}\\s*│ ?`, 'gm'), '');
  }

  async waitFor(pattern: RegExp, what: string, ms: number, from = 0): Promise<string> {
    await until(() => pattern.test(this.text().slice(from)), what, ms, () => this.text());
    return this.text().slice(from);
  }

  type(text: string): void {
    this.typeBytes(new TextEncoder().encode(text));
  }

  /** Types `command` and a newline; resolves with the output once `done` matches it. */
  async run(command: string, done: RegExp, ms = 60_000): Promise<string> {
    const from = this.text().length;
    this.type(`${command}\n`);
    return this.waitFor(done, command, ms, from);
  }
}

/** The per-CPU counts (first `cpus` columns) of the /proc/interrupts row whose text matches `row`. */
export function interruptCounts(table: string, row: RegExp, cpus: number): number[] {
  const line = table.split('\n').find((l) => row.test(l));
  if (line === undefined) throw new Error(`no ${row} row in:\n${table}`);
  return line.split(':')[1]!.trim().split(/\s+/).slice(0, cpus).map(Number);
}
