/**
 * The Loongson extended I/O interrupt controller (EIOINTC) as a per-zone model of what Linux's
 * irq-loongson-eiointc drives over IOCSR: 256 vectors with ENABLE and BOUNCE bitmaps, IPMAP (one
 * byte per group of 32 vectors: which CPU interrupt pin, IP0..IP7, the group raises), ROUTE (one byte
 * per vector: bits 0-3 a core map, bits 4-7 the node) and a per-core ISR that the core reads at
 * 0x1800 and clears by writing ones. An input going high latches its vector into the ISR of the core
 * it is routed to (when enabled); going low clears it, as QEMU's model does. A core's pin n is high
 * while any enabled vector of a group mapped to it is in its ISR: it drives CPU line 2 + n (HWIn).
 */

export const EIOINTC_NODEMAP = 0x14a0;
export const EIOINTC_IPMAP = 0x14c0;
export const EIOINTC_ENABLE = 0x1600;
export const EIOINTC_BOUNCE = 0x1680;
export const EIOINTC_ISR = 0x1800;
export const EIOINTC_ROUTE = 0x1c00;
const VECTORS = 256;

export interface LoongsonEiointcOptions {
  readonly vcpus: number;
  /** vCPU `vcpu`'s CPU interrupt line `line` (2..9 = HWI0..HWI7). */
  readonly output: (vcpu: number, line: number, level: boolean) => void;
  /** The vCPU a route byte's core (physical core number) names, or undefined when the zone has none. */
  readonly vcpuOfCore: (core: number) => number | undefined;
}

export class LoongsonEiointc {
  private readonly nodemap = new Uint8Array(0x20);
  private readonly ipmap = new Uint8Array(8);
  private readonly enable = new Uint8Array(VECTORS / 8);
  private readonly bounce = new Uint8Array(VECTORS / 8);
  private readonly route = new Uint8Array(VECTORS);
  private readonly input = new Uint8Array(VECTORS);
  private readonly isr: Uint8Array[];
  private readonly lines: Uint8Array[];

  constructor(private readonly options: LoongsonEiointcOptions) {
    this.isr = Array.from({ length: options.vcpus }, () => new Uint8Array(VECTORS / 8));
    this.lines = Array.from({ length: options.vcpus }, () => new Uint8Array(8));
  }

  reset(): void {
    for (const a of [this.nodemap, this.ipmap, this.enable, this.bounce, this.route, ...this.isr]) a.fill(0);
    for (let v = 0; v < this.isr.length; v++) this.update(v);
  }

  /** A vector's input (from the PCH-PIC or PCH-MSI). */
  setInput(vector: number, level: boolean): void {
    if (vector < 0 || vector >= VECTORS) return;
    this.input[vector] = level ? 1 : 0;
    const byte = vector >> 3;
    const bit = 1 << (vector & 7);
    if (level) {
      if (!(this.enable[byte]! & bit)) return;
      const v = this.targetOf(vector);
      this.isr[v]![byte]! |= bit;
      this.update(v);
    } else {
      for (let v = 0; v < this.isr.length; v++) {
        if (this.isr[v]![byte]! & bit) {
          this.isr[v]![byte]! &= ~bit;
          this.update(v);
        }
      }
    }
  }

  private targetOf(vector: number): number {
    const map = this.route[vector]! & 0xf;
    const core = map === 0 ? 0 : 31 - Math.clz32(map & -map);
    return this.options.vcpuOfCore(core) ?? 0;
  }

  private pinOf(group: number): number {
    const m = this.ipmap[group]! & 0xff;
    return m === 0 ? 0 : 31 - Math.clz32(m & -m);
  }

  private update(vcpu: number): void {
    const levels = [0, 0, 0, 0, 0, 0, 0, 0];
    const isr = this.isr[vcpu]!;
    for (let group = 0; group < 8; group++) {
      let any = 0;
      for (let k = 0; k < 4; k++) any |= isr[group * 4 + k]! & this.enable[group * 4 + k]!;
      if (any) levels[this.pinOf(group)] = 1;
    }
    const lines = this.lines[vcpu]!;
    for (let pin = 0; pin < 8; pin++) {
      if (lines[pin] === levels[pin]) continue;
      lines[pin] = levels[pin]!;
      this.options.output(vcpu, 2 + pin, levels[pin] === 1);
    }
  }

  private region(address: number): [Uint8Array, number] | undefined {
    if (address >= EIOINTC_NODEMAP && address < EIOINTC_NODEMAP + 0x20) return [this.nodemap, address - EIOINTC_NODEMAP];
    if (address >= EIOINTC_IPMAP && address < EIOINTC_IPMAP + 8) return [this.ipmap, address - EIOINTC_IPMAP];
    if (address >= EIOINTC_ENABLE && address < EIOINTC_ENABLE + 0x20) return [this.enable, address - EIOINTC_ENABLE];
    if (address >= EIOINTC_BOUNCE && address < EIOINTC_BOUNCE + 0x20) return [this.bounce, address - EIOINTC_BOUNCE];
    if (address >= EIOINTC_ROUTE && address < EIOINTC_ROUTE + VECTORS) return [this.route, address - EIOINTC_ROUTE];
    return undefined;
  }

  /** An IOCSR read by vCPU `vcpu`; undefined outside the controller's registers. */
  read(vcpu: number, address: number, size: number): bigint | undefined {
    if (address >= EIOINTC_ISR && address < EIOINTC_ISR + 0x20) return readBytes(this.isr[vcpu]!, address - EIOINTC_ISR, size);
    const r = this.region(address);
    return r === undefined ? undefined : readBytes(r[0], r[1], size);
  }

  write(vcpu: number, address: number, size: number, value: bigint): boolean {
    if (address >= EIOINTC_ISR && address < EIOINTC_ISR + 0x20) {
      const isr = this.isr[vcpu]!;
      const first = address - EIOINTC_ISR;
      for (let k = 0; k < size && first + k < isr.length; k++) isr[first + k]! &= ~Number((value >> BigInt(8 * k)) & 0xffn);
      this.update(vcpu);
      return true;
    }
    const r = this.region(address);
    if (r === undefined) return false;
    const [arr, first] = r;
    const before = arr === this.enable ? this.enable.slice() : undefined;
    for (let k = 0; k < size && first + k < arr.length; k++) arr[first + k] = Number((value >> BigInt(8 * k)) & 0xffn);
    if (before !== undefined) {
      // Newly enabled vectors whose input is high pend now; disabled ones leave every ISR.
      for (let vec = first * 8; vec < Math.min(VECTORS, (first + size) * 8); vec++) {
        const byte = vec >> 3;
        const bit = 1 << (vec & 7);
        const was = before[byte]! & bit;
        const now = this.enable[byte]! & bit;
        if (!was && now && this.input[vec]) this.isr[this.targetOf(vec)]![byte]! |= bit;
        if (was && !now) for (const isr of this.isr) isr[byte]! &= ~bit;
      }
    }
    for (let v = 0; v < this.isr.length; v++) this.update(v);
    return true;
  }

  describe(): string {
    const hex = (a: Uint8Array) => [...a].reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
    return `eiointc: enable ${hex(this.enable)}\n` + this.isr.map((isr, v) => `  vcpu ${v} isr ${hex(isr)}\n`).join('');
  }
}

function readBytes(arr: Uint8Array, first: number, size: number): bigint {
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(arr[first + k] ?? 0);
  return v;
}
