import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { HvisorError } from './hvisor-error.js';

/**
 * Every file a user or a client names (zone configs, kernels, dtbs, initrds, virtio_cfg.json,
 * --pci files) is read through here: regular files only, at most `maxBytes`. The open itself
 * never blocks: O_NONBLOCK makes a FIFO open return at once (and its fstat refuses it), so a path
 * naming a FIFO, /dev/zero or a terminal is an error, not a frozen or exhausted hypervisor. A file
 * growing while it is read is read up to the size it had when opened.
 */
export interface InputLimit {
  /** What the file is, for messages: "zone config", "kernel_filepath". */
  readonly what: string;
  readonly maxBytes: number;
}

export class InputFileError extends HvisorError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Config files (JSON): hvisor-tool's largest are a few KiB. */
export const CONFIG_FILE_MAX_BYTES = 1 << 20;
/** A board device tree: Linux takes at most 2 MiB (arm64 booting.rst); a generous cap. */
export const DTB_FILE_MAX_BYTES = 16 << 20;

/** A file type's name for messages ("a FIFO", "a directory"). */
export function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

function check(path: string, s: Stats, limit: InputLimit): number {
  if (!s.isFile()) throw new InputFileError(path, `the ${limit.what} must be a regular file, but this is ${kindOf(s)}`);
  if (s.size > limit.maxBytes) throw new InputFileError(path, `the ${limit.what} is ${s.size} bytes, more than the ${limit.maxBytes} it may have`);
  return s.size;
}

function openError(path: string, limit: InputLimit, e: unknown): InputFileError {
  const code = (e as NodeJS.ErrnoException).code;
  return new InputFileError(path, `cannot read the ${limit.what} (${code ?? (e as Error).message})`);
}

/** Reads a regular file of at most `limit.maxBytes` (start-up, before any zone runs). */
export function readInputFileSync(path: string, limit: InputLimit): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (e) {
    throw openError(path, limit, e);
  }
  try {
    const size = check(path, fstatSync(fd), limit);
    const data = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, data, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? data : data.slice(0, done);
  } catch (e) {
    throw e instanceof InputFileError ? e : openError(path, limit, e);
  } finally {
    closeSync(fd);
  }
}

/** The same, read off the event loop (a zone started on a running instance): zones keep running meanwhile. */
export async function readInputFile(path: string, limit: InputLimit): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, FLAGS);
  } catch (e) {
    throw openError(path, limit, e);
  }
  try {
    const size = check(path, await handle.stat(), limit);
    const data = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(data, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? data : data.slice(0, done);
  } catch (e) {
    throw e instanceof InputFileError ? e : openError(path, limit, e);
  } finally {
    await handle.close();
  }
}

/** How the loaders read the files they are given (sync; a caller may hand them pre-read files). */
export type InputReader = (path: string, limit: InputLimit) => Uint8Array;

/** A text file (UTF-8) through readInputFileSync. */
export function readInputTextSync(path: string, limit: InputLimit): string {
  return new TextDecoder().decode(readInputFileSync(path, limit));
}
