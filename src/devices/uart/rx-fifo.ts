/**
 * A UART's receive FIFO: a fixed ring of entries (a byte, plus error flags above bit 7 where the
 * model keeps them). Each model decides when it counts as full (its trigger levels, or depth 1
 * with the FIFO off); the ring only refuses entries past its capacity.
 */
export class RxFifo {
  private readonly slots: Uint16Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.slots = new Uint16Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  clear(): void {
    this.head = this.count = 0;
  }

  /** Appends an entry; false (nothing stored) when the ring is full. */
  push(entry: number): boolean {
    if (this.count >= this.capacity) return false;
    this.slots[(this.head + this.count) % this.capacity] = entry;
    this.count++;
    return true;
  }

  /** Takes the oldest entry; 0 when empty. */
  shift(): number {
    if (this.count === 0) return 0;
    const entry = this.slots[this.head]!;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return entry;
  }
}
