import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { HvisorError } from '../../util/hvisor-error.js';
import { kindOf } from '../../util/input-file.js';

/**
 * A disk image as a block device model sees it: byte-addressed, whole-sector transfers. virtio-blk
 * (on either transport) and NVMe use only this shape.
 */
export interface BlockImage {
  readonly byteLength: number;
  readonly readOnly: boolean;
  /** Reads into `into` from byte `offset`; false on an I/O error or a range past the end. */
  read(offset: number, into: Uint8Array): boolean;
  write(offset: number, data: Uint8Array): boolean;
  flush(): boolean;
}

export class BlockImageError extends HvisorError {}

/** An image file opened for synchronous positioned I/O (the emulator thread owns it). */
export class FileBlockImage implements BlockImage {
  readonly byteLength: number;
  /** fsyncs that succeeded: a guest's FLUSH reached the disk (tests and `monitor virtio`). */
  flushes = 0;
  private fd: number | undefined;

  constructor(readonly path: string, readonly readOnly = false) {
    let stats;
    try {
      // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused below).
      this.fd = openSync(path, (readOnly ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NONBLOCK | constants.O_NOCTTY);
      stats = fstatSync(this.fd);
    } catch (e) {
      if (this.fd !== undefined) this.close();
      throw new BlockImageError(`cannot open disk image ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (!stats.isFile()) {
      this.close();
      throw new BlockImageError(`disk image ${path} must be a regular file, but this is ${kindOf(stats)}`);
    }
    this.byteLength = stats.size;
    if (this.byteLength % 512 !== 0) {
      this.close();
      throw new BlockImageError(`disk image ${path} is ${this.byteLength} bytes, not a whole number of 512-byte sectors`);
    }
  }

  read(offset: number, into: Uint8Array): boolean {
    if (this.fd === undefined || offset < 0 || offset + into.length > this.byteLength) return false;
    try {
      let done = 0;
      while (done < into.length) {
        const n = readSync(this.fd, into, done, into.length - done, offset + done);
        if (n <= 0) return false;
        done += n;
      }
      return true;
    } catch {
      return false;
    }
  }

  write(offset: number, data: Uint8Array): boolean {
    if (this.fd === undefined || this.readOnly || offset < 0 || offset + data.length > this.byteLength) return false;
    try {
      let done = 0;
      while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
      return true;
    } catch {
      return false;
    }
  }

  flush(): boolean {
    if (this.fd === undefined) return false;
    try {
      if (!this.readOnly) {
        fsyncSync(this.fd);
        this.flushes++;
      }
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** An image in memory (tests, scratch disks). */
export class MemoryBlockImage implements BlockImage {
  readonly bytes: Uint8Array;
  flushes = 0;
  constructor(sizeOrBytes: number | Uint8Array, readonly readOnly = false) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
    if (this.bytes.length % 512 !== 0) throw new BlockImageError(`memory image of ${this.bytes.length} bytes is not whole sectors`);
  }
  get byteLength(): number {
    return this.bytes.length;
  }
  read(offset: number, into: Uint8Array): boolean {
    if (offset < 0 || offset + into.length > this.bytes.length) return false;
    into.set(this.bytes.subarray(offset, offset + into.length));
    return true;
  }
  write(offset: number, data: Uint8Array): boolean {
    if (this.readOnly || offset < 0 || offset + data.length > this.bytes.length) return false;
    this.bytes.set(data, offset);
    return true;
  }
  flush(): boolean {
    this.flushes++;
    return true;
  }
}
