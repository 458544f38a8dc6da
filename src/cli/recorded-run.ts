import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LaunchOptions } from './launch.js';
import { CONFIG_FILE_MAX_BYTES, InputFileError, readInputFileSync } from '../util/input-file.js';
import { ReplayLogError } from '../hypervisor/replay/replay-log.js';

/** How a recorded run was launched (DIR/run.json): what `hvisor run --replay DIR` launches again. */
type RecordedLaunch = Pick<LaunchOptions, 'board' | 'dtb' | 'params' | 'force' | 'zones' | 'bringUp' | 'virtio' | 'pci' | 'configVersion'> & {
  readonly instructionsPerSecond?: number;
  /** LaunchOptions.kaslrSeed in decimal (JSON has no 64-bit integers). */
  readonly kaslrSeed?: string;
};

const RUN_FORMAT = 'hvisor-ts run 1';

export function writeRecordedRun(dir: string, options: LaunchOptions): void {
  const abs = (f: string | undefined) => (f === undefined ? undefined : resolve(f));
  const run: RecordedLaunch & { format: string } = {
    format: RUN_FORMAT,
    board: options.board,
    ...(options.dtb !== undefined && { dtb: abs(options.dtb)! }),
    ...(options.params !== undefined && { params: options.params }),
    ...(options.force === true && { force: true }),
    zones: options.zones.map((z) => resolve(z)),
    ...(options.bringUp !== undefined && {
      bringUp: { kernel: resolve(options.bringUp.kernel), ...(options.bringUp.initrd !== undefined && { initrd: resolve(options.bringUp.initrd) }), ...(options.bringUp.append !== undefined && { append: options.bringUp.append }) },
    }),
    ...(options.virtio !== undefined && { virtio: abs(options.virtio)! }),
    ...(options.pci !== undefined && { pci: abs(options.pci)! }),
    ...(options.configVersion !== undefined && { configVersion: options.configVersion }),
    ...(options.time?.instructionsPerSecond !== undefined && { instructionsPerSecond: options.time.instructionsPerSecond }),
    ...(options.kaslrSeed !== undefined && { kaslrSeed: options.kaslrSeed.toString() }),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run, null, 2) + '\n', { mode: 0o600 });
}

/** The launch options of the run recorded in `dir` (its board, zones and files, named as they were then). */
export function readRecordedRun(dir: string): Omit<LaunchOptions, 'gdbBasePort'> {
  const file = join(dir, 'run.json');
  let run: Record<string, unknown>;
  try {
    run = JSON.parse(new TextDecoder().decode(readInputFileSync(file, { what: 'recorded run', maxBytes: CONFIG_FILE_MAX_BYTES }))) as Record<string, unknown>;
  } catch (e) {
    throw new ReplayLogError(e instanceof InputFileError ? e.message : `${file}: not JSON (${(e as Error).message})`);
  }
  if (typeof run !== 'object' || run === null || run['format'] !== RUN_FORMAT) throw new ReplayLogError(`${file}: not a ${RUN_FORMAT} description`);
  if (typeof run['board'] !== 'string' || !Array.isArray(run['zones']) || !run['zones'].every((z) => typeof z === 'string')) {
    throw new ReplayLogError(`${file}: "board" (a string) and "zones" (file names) are required`);
  }
  const { format: _format, instructionsPerSecond, kaslrSeed, ...launch } = run as RecordedLaunch & { format: string };
  if (kaslrSeed !== undefined && !/^\d{1,20}$/.test(kaslrSeed)) throw new ReplayLogError(`${file}: "kaslrSeed": a decimal number, got ${JSON.stringify(kaslrSeed)}`);
  return {
    ...launch,
    ...(instructionsPerSecond !== undefined && { time: { instructionsPerSecond } }),
    ...(kaslrSeed !== undefined && { kaslrSeed: BigInt(kaslrSeed) }),
  };
}
