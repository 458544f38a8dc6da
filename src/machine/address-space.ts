import { accepts, accessMasks, type AccessSize, type MmioDevice } from './mmio-device.js';
import type { Ram } from './ram.js';
import { HvisorError } from '../util/hvisor-error.js';

/** Guest RAM mapped at [base, base+size): guest address a lives at ram.u8[a - base + ramOffset]. */
export interface RamRegion {
  readonly kind: 'ram';
  readonly base: number;
  readonly size: number;
  readonly ram: Ram;
  readonly ramOffset: number;
  readonly name: string;
}

/** A device window: accesses call the model with offset a - base, those its access rule accepts. */
export interface MmioRegion {
  readonly kind: 'mmio';
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
  readonly name: string;
  /** The device's access rule (MmioDevice.accessRule) as masks, kept flat for the access path. */
  readonly sizeMask: number;
  readonly alignMask: number;
}

export type Region = RamRegion | MmioRegion;

export class OverlappingRegionError extends HvisorError {
  constructor(readonly added: Region, readonly existing: Region) {
    super(
      `region ${added.name} [${hex(added.base)}, ${hex(added.base + added.size)}) overlaps ` +
        `${existing.name} [${hex(existing.base)}, ${hex(existing.base + existing.size)})`,
    );
  }
}

/**
 * A physical (or, per zone, guest-physical = stage-2) address space: non-overlapping RAM and
 * MMIO regions. Addresses are JS numbers: every address space we model fits in 2^53.
 * Cores keep their own TLBs of RAM pages; this class is the slow path and the debugger's path.
 */
export class AddressSpace {
  private regions: Region[] = [];
  private last: Region | undefined;
  /** Accesses that reached a device model (read/write of an MMIO region): what exits a zone made. */
  deviceAccesses = 0;

  mapRam(base: number, size: number, ram: Ram, ramOffset = 0, name = 'ram'): RamRegion {
    if (ramOffset < 0 || ramOffset + size > ram.size) {
      throw new RangeError(`${name}: window ${hex(ramOffset)}+${hex(size)} exceeds its RAM block of ${hex(ram.size)}`);
    }
    const region: RamRegion = { kind: 'ram', base, size, ram, ramOffset, name };
    this.insert(region);
    return region;
  }

  mapMmio(base: number, size: number, device: MmioDevice, name = device.name): MmioRegion {
    const region: MmioRegion = { kind: 'mmio', base, size, device, name, ...accessMasks(device.accessRule) };
    this.insert(region);
    return region;
  }

  unmap(region: Region): void {
    this.regions = this.regions.filter((r) => r !== region);
    this.last = undefined;
  }

  list(): readonly Region[] {
    return this.regions;
  }

  /** The region holding `addr`, or undefined (a stage-2 fault for a zone). */
  find(addr: number): Region | undefined {
    const last = this.last;
    if (last !== undefined && addr >= last.base && addr - last.base < last.size) return last;
    const rs = this.regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = rs[mid]!;
      if (addr < r.base) hi = mid - 1;
      else if (addr - r.base >= r.size) lo = mid + 1;
      else {
        if (r.kind === 'ram') r.ram.commit(); // a bank's block is allocated when first reached
        return (this.last = r);
      }
    }
    return undefined;
  }

  /** A guest access of 1, 2, 4 or 8 bytes. Returns undefined when nothing is mapped there. */
  read(addr: number, size: AccessSize | 8): bigint | undefined {
    const r = this.find(addr);
    if (r === undefined || addr + size - r.base > r.size) return undefined;
    if (r.kind === 'ram') return readRamLE(r.ram.u8, addr - r.base + r.ramOffset, size);
    this.deviceAccesses++;
    const off = addr - r.base;
    if (size === 8) {
      const lo = accepts(r, off, 4) ? r.device.read(off, 4) >>> 0 : 0;
      const hi = accepts(r, off + 4, 4) ? r.device.read(off + 4, 4) >>> 0 : 0;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    return accepts(r, off, size) ? BigInt(r.device.read(off, size) >>> 0) : 0n;
  }

  /** A guest write. Returns false when nothing is mapped there. */
  write(addr: number, size: AccessSize | 8, value: bigint): boolean {
    const r = this.find(addr);
    if (r === undefined || addr + size - r.base > r.size) return false;
    if (r.kind === 'ram') {
      writeRamLE(r.ram.u8, addr - r.base + r.ramOffset, size, value);
      return true;
    }
    this.deviceAccesses++;
    const off = addr - r.base;
    if (size === 8) {
      if (accepts(r, off, 4)) r.device.write(off, 4, Number(value & 0xffffffffn));
      if (accepts(r, off + 4, 4)) r.device.write(off + 4, 4, Number((value >> 32n) & 0xffffffffn));
    } else if (accepts(r, off, size)) {
      r.device.write(off, size, Number(value & 0xffffffffn));
    }
    return true;
  }

  /**
   * The one region walk (vm-memory's try_access): `visit(region, offset, done, n)` gets each piece
   * of [addr, addr + length) in order, `n` bytes from `offset` inside `region`, `done` bytes in; it
   * returns how many it took (fewer than `n` stops the walk). Stops at the first unmapped byte.
   * Returns the bytes taken. DMA, virtqueues, the ITS and the debugger all reach memory through it.
   */
  walk(addr: number, length: number, visit: (region: Region, offset: number, done: number, n: number) => number): number {
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const r = this.find(a);
      if (r === undefined) break;
      const n = Math.min(length - done, r.base + r.size - a);
      const took = visit(r, a - r.base, done, n);
      done += took;
      if (took < n) break;
    }
    return done;
  }

  /**
   * Debugger read: copies as many bytes as are readable from `addr` on into a new array (RAM, and
   * device registers whose `peek` is side-effect free). A short result means the rest is unmapped.
   */
  readDebug(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const done = this.walk(addr, length, (r, offset, at, n) => {
      if (r.kind === 'ram') {
        out.set(r.ram.u8.subarray(offset + r.ramOffset, offset + r.ramOffset + n), at);
        return n;
      }
      let i = 0;
      for (; i < n; i++) {
        const v = r.device.peek === undefined ? undefined : accepts(r, offset + i, 1) ? r.device.peek(offset + i, 1) : 0;
        if (v === undefined) break;
        out[at + i] = v;
      }
      return i;
    });
    return out.subarray(0, done);
  }

  /** Debugger write to RAM only (never to devices). Returns the number of bytes written. */
  writeDebug(addr: number, data: Uint8Array): number {
    return this.walk(addr, data.length, (r, offset, at, n) => {
      if (r.kind !== 'ram') return 0;
      r.ram.u8.set(data.subarray(at, at + n), offset + r.ramOffset);
      return n;
    });
  }

  private insert(region: Region): void {
    if (region.size <= 0) throw new RangeError(`${region.name}: empty region`);
    for (const r of this.regions) {
      if (region.base < r.base + r.size && r.base < region.base + region.size) {
        throw new OverlappingRegionError(region, r);
      }
    }
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
    this.last = undefined;
  }
}

export function readRamLE(u8: Uint8Array, i: number, size: 1 | 2 | 4 | 8): bigint {
  // Whole 32-bit words rather than a BigInt shift per byte: page walks and exclusives come here.
  switch (size) {
    case 1: return BigInt(u8[i]!);
    case 2: return BigInt(u8[i]! | (u8[i + 1]! << 8));
    case 4: return BigInt(wordLE(u8, i));
    default: return (BigInt(wordLE(u8, i + 4)) << 32n) | BigInt(wordLE(u8, i));
  }
}

const wordLE = (u8: Uint8Array, i: number): number => (u8[i]! | (u8[i + 1]! << 8) | (u8[i + 2]! << 16) | (u8[i + 3]! << 24)) >>> 0;

export function writeRamLE(u8: Uint8Array, i: number, size: 1 | 2 | 4 | 8, value: bigint): void {
  const lo = Number(BigInt.asUintN(32, value));
  u8[i] = lo;
  if (size === 1) return;
  u8[i + 1] = lo >>> 8;
  if (size === 2) return;
  u8[i + 2] = lo >>> 16;
  u8[i + 3] = lo >>> 24;
  if (size === 4) return;
  const hi = Number(BigInt.asUintN(32, value >> 32n));
  u8[i + 4] = hi;
  u8[i + 5] = hi >>> 8;
  u8[i + 6] = hi >>> 16;
  u8[i + 7] = hi >>> 24;
}

export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
