import type { Writable } from 'node:stream';

/** Bytes allowed to wait for a slow reader of the output stream (a pipe into `less`, a stalled ssh). */
export const OUTPUT_BACKLOG_BYTES = 1 << 20;

/**
 * A sink for a stream that may be read slowly: what the reader has not taken yet is held by Node
 * (pipes are asynchronous), so it is capped; text beyond the cap is dropped and counted, never
 * buffered, and once the stream drains one line says how much was lost. Zones keep running at
 * full speed whatever the reader does.
 */
export class BoundedOutput {
  private droppedBytes = 0;
  private totalDropped = 0;
  private waiting = false;

  constructor(
    private readonly stream: Pick<Writable, 'write' | 'writableLength' | 'once'> = process.stdout,
    private readonly cap = OUTPUT_BACKLOG_BYTES,
  ) {}

  readonly write = (text: string): void => {
    const backlog = this.stream.writableLength;
    if (this.droppedBytes > 0 && backlog === 0) this.resume();
    if (this.droppedBytes === 0 && (backlog === 0 || backlog + text.length <= this.cap)) {
      this.stream.write(text);
      return;
    }
    // Dropping from here until the reader catches up, so the output resumes at a clean point.
    const n = Buffer.byteLength(text);
    this.droppedBytes += n;
    this.totalDropped += n;
    if (!this.waiting) {
      this.waiting = true;
      this.stream.once('drain', () => {
        this.waiting = false;
        if (this.droppedBytes > 0) this.resume();
      });
    }
  };

  private resume(): void {
    const n = this.droppedBytes;
    this.droppedBytes = 0;
    this.stream.write(`\n[hvisor: ${n} bytes of output dropped: the reader did not keep up]\n`);
  }

  /** Bytes dropped since the start. */
  get dropped(): number {
    return this.totalDropped;
  }
}
