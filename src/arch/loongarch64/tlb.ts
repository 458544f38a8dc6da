/**
 * The LA464's software-refilled TLB (Reference Manual vol. 1, 5.4): an STLB of 256 sets × 8 ways
 * whose page size is CSR.STLBPS, and a 64-entry fully associative MTLB with a page size per entry;
 * index 0..2047 is the STLB (way × 256 + set), 2048..2111 the MTLB. Each entry maps an even/odd
 * pair of pages. Entries hold VPPN (VA[47:13]), PS, ASID, E and the two entry-low words.
 */
export const STLB_SETS = 256;
export const STLB_WAYS = 8;
export const STLB_SIZE = STLB_SETS * STLB_WAYS;
export const MTLB_SIZE = 64;
export const TLB_SIZE = STLB_SIZE + MTLB_SIZE;

const TWO32 = 4294967296;

/** TLB lookup results other than a hit (an entry index >= 0). */
export const TLB_MISS = -1;

export class LoongArchTlb {
  /** VA[47:13] of each entry (a number: 35 bits). */
  readonly vppn = new Float64Array(TLB_SIZE);
  readonly ps = new Uint8Array(TLB_SIZE);
  readonly asid = new Uint16Array(TLB_SIZE);
  readonly exists = new Uint8Array(TLB_SIZE);
  /** Entry-low words: lo[2i] for the even page, lo[2i + 1] for the odd one. */
  readonly lo = new BigUint64Array(TLB_SIZE * 2);
  /** The same as 32-bit halves, for permission checks without BigInt. */
  readonly lo32 = new Uint32Array(this.lo.buffer);
  /** Next way tlbfill replaces in each STLB set, and the next MTLB slot (round robin: deterministic). */
  private readonly nextWay = new Uint8Array(STLB_SETS);
  private nextMtlb = 0;

  reset(): void {
    this.exists.fill(0);
    this.vppn.fill(0);
    this.ps.fill(0);
    this.asid.fill(0);
    this.lo.fill(0n);
    this.nextWay.fill(0);
    this.nextMtlb = 0;
  }

  /** Whether entry i is global (G of its even half, as the LA464 keeps it). */
  global(i: number): boolean {
    return (this.lo32[i * 4]! & 0x40) !== 0;
  }

  /** The page size of entry i: its own for the MTLB, STLBPS for the STLB. */
  pageShift(i: number, stlbps: number): number {
    return i >= STLB_SIZE ? this.ps[i]! : stlbps;
  }

  private matches(i: number, va48: number, asid: number, ps: number): boolean {
    if (this.exists[i] === 0) return false;
    if (!this.global(i) && this.asid[i] !== asid) return false;
    return Math.floor(va48 / 2 ** (ps + 1)) === Math.floor(this.vppn[i]! / 2 ** (ps + 1 - 13));
  }

  /** The entry mapping `va48` (VA[47:0]) for `asid`, or TLB_MISS. */
  search(va48: number, asid: number, stlbps: number): number {
    const set = Math.floor(va48 / 2 ** (stlbps + 1)) % STLB_SETS;
    for (let way = 0; way < STLB_WAYS; way++) {
      const i = way * STLB_SETS + set;
      if (this.matches(i, va48, asid, stlbps)) return i;
    }
    for (let i = STLB_SIZE; i < TLB_SIZE; i++) if (this.matches(i, va48, asid, this.ps[i]!)) return i;
    return TLB_MISS;
  }

  /** Writes entry i (tlbwr/tlbfill); STLB entries keep no page size of their own. */
  write(i: number, vppn: number, ps: number, asid: number, lo0: bigint, lo1: bigint): void {
    this.exists[i] = 1;
    this.vppn[i] = vppn;
    this.ps[i] = i >= STLB_SIZE ? ps : 0;
    this.asid[i] = asid;
    this.lo[i * 2] = lo0;
    this.lo[i * 2 + 1] = lo1;
  }

  /** The slot tlbfill uses for a page of size `ps` at `va48`: the STLB when ps is STLBPS, else the MTLB. */
  fillIndex(va48: number, ps: number, stlbps: number): number {
    if (ps === stlbps) {
      const set = Math.floor(va48 / 2 ** (stlbps + 1)) % STLB_SETS;
      // Prefer a free way, else round robin.
      for (let way = 0; way < STLB_WAYS; way++) if (this.exists[way * STLB_SETS + set] === 0) return way * STLB_SETS + set;
      const way = this.nextWay[set]!;
      this.nextWay[set] = (way + 1) % STLB_WAYS;
      return way * STLB_SETS + set;
    }
    for (let i = STLB_SIZE; i < TLB_SIZE; i++) if (this.exists[i] === 0) return i;
    const i = STLB_SIZE + this.nextMtlb;
    this.nextMtlb = (this.nextMtlb + 1) % MTLB_SIZE;
    return i;
  }

  /**
   * tlbclr (all = false: non-global entries of `asid`) and tlbflush (all = true): one STLB set
   * (the one `index` names) or, for an MTLB index, the whole MTLB.
   */
  clear(index: number, asid: number, all: boolean): void {
    const drop = (i: number): void => {
      if (all || (!this.global(i) && this.asid[i] === asid)) this.exists[i] = 0;
    };
    if (index < STLB_SIZE) for (let way = 0; way < STLB_WAYS; way++) drop(way * STLB_SETS + (index % STLB_SETS));
    else if (index < TLB_SIZE) for (let i = STLB_SIZE; i < TLB_SIZE; i++) drop(i);
  }

  /** invtlb op, asid, va48: false for a reserved op (INE). */
  invalidate(op: number, asid: number, va48: number, stlbps: number): boolean {
    if (op > 6) return false;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.exists[i] === 0) continue;
      const g = this.global(i);
      const ps = this.pageShift(i, stlbps);
      const vaHit = (): boolean => Math.floor(va48 / 2 ** (ps + 1)) === Math.floor(this.vppn[i]! / 2 ** (ps + 1 - 13));
      let hit: boolean;
      switch (op) {
        case 0: case 1: hit = true; break;
        case 2: hit = g; break;
        case 3: hit = !g; break;
        case 4: hit = !g && this.asid[i] === asid; break;
        case 5: hit = !g && this.asid[i] === asid && vaHit(); break;
        default: hit = (g || this.asid[i] === asid) && vaHit(); break;
      }
      if (hit) this.exists[i] = 0;
    }
    return true;
  }
}

/** VA[47:0] of a virtual address given as 32-bit halves. */
export function va48Of(hi: number, lo: number): number {
  return (hi & 0xffff) * TWO32 + (lo >>> 0);
}
