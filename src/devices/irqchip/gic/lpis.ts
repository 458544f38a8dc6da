/**
 * GICv3 LPIs (INTIDs 8192 and up) of one zone: their configuration bytes as cached from the
 * redistributors' property table in guest memory (priority + enable, refreshed on ITS INV/INVALL
 * and on mapping), and their pending state, each LPI pending on at most one vCPU. Pending LPIs
 * are kept in per-vCPU lists so the CPU interface scans only those.
 */
export const FIRST_LPI = 8192;

export class LpiTable {
  readonly count: number;
  /** Property byte per LPI: bits 7:2 priority, bit 0 enable. */
  readonly config: Uint8Array;
  /** vCPU on which each LPI is pending, or -1. */
  private readonly pendingOn: Int16Array;
  private readonly lists: Uint16Array[];
  private readonly counts: Uint16Array;
  private readonly pos: Uint16Array;
  /** GICR_CTLR.EnableLPIs per vCPU. */
  readonly enabledOn: Uint8Array;

  constructor(
    readonly vcpus: number,
    /** INTID bits (GICD_TYPER.IDbits + 1): LPIs are FIRST_LPI .. 2^idBits - 1. */
    idBits: number,
  ) {
    this.count = (1 << idBits) - FIRST_LPI;
    this.config = new Uint8Array(this.count);
    this.pendingOn = new Int16Array(this.count).fill(-1);
    this.lists = Array.from({ length: vcpus }, () => new Uint16Array(this.count));
    this.counts = new Uint16Array(vcpus);
    this.pos = new Uint16Array(this.count);
    this.enabledOn = new Uint8Array(vcpus);
  }

  has(intid: number): boolean {
    return intid >= FIRST_LPI && intid - FIRST_LPI < this.count;
  }

  priority(intid: number): number {
    return this.config[intid - FIRST_LPI]! & 0xfc;
  }

  setPending(cpu: number, intid: number): void {
    if (!this.has(intid) || cpu < 0 || cpu >= this.vcpus) return;
    const i = intid - FIRST_LPI;
    if (this.pendingOn[i] === cpu) return;
    if (this.pendingOn[i]! >= 0) this.clearPending(intid);
    this.pendingOn[i] = cpu;
    const list = this.lists[cpu]!;
    list[this.counts[cpu]!] = i;
    this.counts[cpu]!++;
    this.pos[i] = this.counts[cpu]!;
  }

  clearPending(intid: number): void {
    if (!this.has(intid)) return;
    const i = intid - FIRST_LPI;
    const cpu = this.pendingOn[i]!;
    if (cpu < 0) return;
    const list = this.lists[cpu]!;
    const at = this.pos[i]! - 1;
    const last = list[--this.counts[cpu]!]!;
    list[at] = last;
    this.pos[last] = at + 1;
    this.pos[i] = 0;
    this.pendingOn[i] = -1;
  }

  /** Moves a pending LPI to another vCPU (ITS MOVI / MOVALL). */
  move(intid: number, cpu: number): void {
    if (!this.has(intid) || this.pendingOn[intid - FIRST_LPI]! < 0) return;
    this.clearPending(intid);
    this.setPending(cpu, intid);
  }

  /** The vCPU `intid` is pending on, or -1. */
  pendingCpu(intid: number): number {
    return this.has(intid) ? this.pendingOn[intid - FIRST_LPI]! : -1;
  }

  isPending(intid: number): boolean {
    return this.has(intid) && this.pendingOn[intid - FIRST_LPI]! >= 0;
  }

  /** The highest-priority enabled pending LPI of `cpu` (lowest INTID on ties), or -1. */
  best(cpu: number): number {
    if (!this.enabledOn[cpu]) return -1;
    const list = this.lists[cpu]!;
    let best = -1;
    let bestPrio = 0x100;
    for (let k = 0; k < this.counts[cpu]!; k++) {
      const i = list[k]!;
      const c = this.config[i]!;
      if (!(c & 1)) continue;
      const p = c & 0xfc;
      if (p < bestPrio || (p === bestPrio && i < best)) {
        best = i;
        bestPrio = p;
      }
    }
    return best < 0 ? -1 : best + FIRST_LPI;
  }

  reset(): void {
    this.config.fill(0);
    this.pendingOn.fill(-1);
    this.counts.fill(0);
    this.pos.fill(0);
    this.enabledOn.fill(0);
  }
}
