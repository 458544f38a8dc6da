/**
 * The pending sources of an interrupt controller: a flag per source (what the pending registers
 * read) and, unordered, the list of the set ones, so that a claim or delivery scan touches only
 * pending sources (usually none or one) and setting or clearing one is O(1).
 */
export class PendingSet {
  /** 1 where the source is pending. */
  readonly flags: Uint8Array;
  /** The pending sources, unordered; the first `count` entries. */
  readonly list: Uint16Array;
  count = 0;
  /** Position + 1 of each source in `list`, 0 when not pending. */
  private readonly pos: Uint16Array;

  constructor(sources: number) {
    this.flags = new Uint8Array(sources);
    this.list = new Uint16Array(sources);
    this.pos = new Uint16Array(sources);
  }

  has(source: number): boolean {
    return this.flags[source] === 1;
  }

  /** Clearing moves the last pending source into the cleared one's slot of `list`. */
  set(source: number, on: boolean): void {
    if (on === (this.flags[source] === 1)) return;
    if (on) {
      this.flags[source] = 1;
      this.list[this.count++] = source;
      this.pos[source] = this.count;
    } else {
      this.flags[source] = 0;
      const i = this.pos[source]! - 1;
      const last = this.list[--this.count]!;
      this.list[i] = last;
      this.pos[last] = i + 1;
      this.pos[source] = 0;
    }
  }

  clear(): void {
    this.flags.fill(0);
    this.pos.fill(0);
    this.count = 0;
  }
}
