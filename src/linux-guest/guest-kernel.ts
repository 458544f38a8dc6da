/**
 * A running Linux kernel seen from outside, through a zone's memory: its own symbols (kallsyms and
 * __ksymtab read from the image in guest RAM, so the addresses are the running, KASLR-shifted ones),
 * its BTF for structure layouts, and the text of vmcoreinfo for what neither names (`prb` where
 * kallsyms holds text only). Reads are bounded; a missing piece is an error naming it.
 */
import { Btf } from './btf.js';
import type { KernelSymbol } from './kallsyms.js';
import { readKernelSymbolsPaced } from './kernel-symbols.js';
import { HvisorError } from '../util/hvisor-error.js';

/** What the kernel view needs from a zone. */
export interface KernelMemory {
  /** Guest-physical bytes: the readable prefix. */
  readPhysical(address: number, length: number): Uint8Array;
  /** Kernel virtual bytes through a vCPU's current translation: the readable prefix. */
  readVirtual(address: bigint, length: number): Uint8Array;
  /** Guest-physical address of a kernel virtual one, if mapped. */
  translate(address: bigint): number | undefined;
  readonly ram: readonly { readonly base: number; readonly size: number }[];
  /** Where the kernel Image was loaded (guest-physical). */
  readonly kernelPhysical: number;
  /**
   * What the kernel file says (a running arm64 kernel has reused the page holding its boot header):
   * the arch, its size in the file, and what it occupies with bss (boot header image_size).
   */
  readonly arch: 'aarch64' | 'riscv64';
  readonly fileBytes: number;
  readonly imageBytes: number;
}

export class GuestKernelError extends HvisorError {}

/** Largest image copy (a distribution kernel's file is 30-60 MiB). */
const MAX_IMAGE = 256 << 20;
/** Bytes copied out of the zone between two pauses. */
const COPY_CHUNK = 4 << 20;
const VMCOREINFO_CHUNK = 8 << 20;

export class GuestKernel {
  private readonly byName = new Map<string, KernelSymbol>();

  private constructor(
    readonly memory: KernelMemory,
    readonly arch: 'aarch64' | 'riscv64',
    readonly symbols: readonly KernelSymbol[],
    readonly btf: Btf,
    /** The VMCOREINFO text, read when the symbols lack what it names (`prb`); '' when not needed or found. */
    readonly vmcoreinfo: string,
  ) {
    for (const s of symbols) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
  }

  /**
   * Reads the kernel out of `memory`: the image copied from its load address, kallsyms, __ksymtab,
   * BTF. `pause` between the steps lets the caller stay responsive (each step scans the image).
   */
  static async load(memory: KernelMemory, pause: () => Promise<void>): Promise<GuestKernel> {
    const size = Math.min(memory.fileBytes, MAX_IMAGE);
    const image = new Uint8Array(size);
    for (let at = 0; at < size; at += COPY_CHUNK) {
      const part = memory.readPhysical(memory.kernelPhysical + at, Math.min(COPY_CHUNK, size - at));
      image.set(part, at);
      if (part.length < Math.min(COPY_CHUNK, size - at)) {
        throw new GuestKernelError(`the kernel's memory at guest-physical 0x${(memory.kernelPhysical + at + part.length).toString(16)} is not readable`);
      }
      await pause();
    }
    const what = `kernel at guest-physical 0x${memory.kernelPhysical.toString(16)}`;
    const kernel = await readKernelSymbolsPaced(image, what, {
      arch: memory.arch,
      span: memory.imageBytes,
      imageOffsetOf: (address) => {
        const pa = memory.translate(address);
        return pa === undefined ? undefined : pa - memory.kernelPhysical;
      },
    }, pause);
    await pause();
    const btf = Btf.find(image, what);
    const needsVmcoreinfo = !kernel.symbols.some((s) => s.name === 'prb');
    return new GuestKernel(memory, memory.arch, kernel.symbols, btf, needsVmcoreinfo ? await findVmcoreinfo(memory, pause) : '');
  }

  /** A symbol's running address: kallsyms/__ksymtab, then vmcoreinfo's SYMBOL(name). */
  symbol(name: string): bigint {
    const s = this.byName.get(name);
    if (s !== undefined) return s.address;
    const v = this.vmcoreinfo.match(new RegExp(`^SYMBOL\\(${name}\\)=([0-9a-f]+)$`, 'm'));
    if (v !== null) return BigInt('0x' + v[1]);
    throw new GuestKernelError(`the kernel's symbols do not name ${name} (kallsyms without CONFIG_KALLSYMS_ALL keeps text only)`);
  }

  hasSymbol(name: string): boolean {
    try {
      this.symbol(name);
      return true;
    } catch {
      return false;
    }
  }

  read(address: bigint, length: number): Uint8Array {
    const bytes = this.memory.readVirtual(address, length);
    if (bytes.length < length) throw new GuestKernelError(`kernel memory at 0x${(address + BigInt(bytes.length)).toString(16)} is not mapped`);
    return bytes;
  }

  u64(address: bigint): bigint {
    return new DataView(this.read(address, 8).buffer).getBigUint64(0, true);
  }

  u32(address: bigint): number {
    return new DataView(this.read(address, 4).buffer).getUint32(0, true);
  }

  /** A NUL-terminated string of at most `max` bytes. */
  string(address: bigint, max: number): string {
    const b = this.read(address, max);
    const end = b.indexOf(0);
    return new TextDecoder().decode(b.subarray(0, end < 0 ? max : end));
  }

  offset(struct: string, path: string): bigint {
    return BigInt(this.btf.member(struct, path).offset);
  }

  /** The first of `paths` that `struct` has (members move between kernel versions). */
  offsetOfAny(struct: string, ...paths: string[]): bigint {
    for (const p of paths) {
      const o = this.btf.offsetOf(struct, p);
      if (o !== undefined) return BigInt(o);
    }
    throw new GuestKernelError(`BTF: struct ${struct} has none of ${paths.join(', ')}`);
  }

  /**
   * The address of per-CPU variable `name` for the CPU whose per-CPU offset is `cpuOffset`: its
   * offset in .data..percpu (BTF) from __per_cpu_start (a symbol, or derived from any per-CPU
   * variable the symbols name).
   */
  percpu(name: string, cpuOffset: bigint): bigint {
    const vars = this.btf.percpuVariables();
    const off = vars.get(name);
    if (off === undefined) throw new GuestKernelError(`BTF names no per-CPU variable ${name}`);
    return this.perCpuStart(vars) + BigInt(off) + cpuOffset;
  }

  private perCpuStartCache: bigint | undefined;
  private perCpuStart(vars: Map<string, number>): bigint {
    if (this.perCpuStartCache !== undefined) return this.perCpuStartCache;
    let start = this.byName.get('__per_cpu_start')?.address;
    if (start === undefined) {
      for (const [name, off] of vars) {
        const s = this.byName.get(name);
        if (s !== undefined) {
          start = s.address - BigInt(off);
          break;
        }
      }
    }
    if (start === undefined) throw new GuestKernelError('cannot place the per-CPU area: no per-CPU variable is named by the symbols');
    return (this.perCpuStartCache = start);
  }
}

/**
 * The VMCOREINFO text the kernel keeps for crash dumps ("OSRELEASE=…\nPAGESIZE=…\nSYMBOL(prb)=…"),
 * found in RAM by its first line; it names symbols kallsyms may lack. '' when absent.
 */
async function findVmcoreinfo(memory: KernelMemory, pause: () => Promise<void>): Promise<string> {
  const marker = Buffer.from('OSRELEASE=');
  for (const r of memory.ram) {
    for (let at = r.base; at < r.base + r.size; at += VMCOREINFO_CHUNK) {
      const chunk = Buffer.from(memory.readPhysical(at, Math.min(VMCOREINFO_CHUNK + 4096, r.base + r.size - at)));
      for (let hit = chunk.indexOf(marker); hit >= 0; hit = chunk.indexOf(marker, hit + 1)) {
        const end = chunk.indexOf(0, hit);
        const text = chunk.toString('latin1', hit, end < 0 ? Math.min(chunk.length, hit + 4096) : end);
        if (/\nSYMBOL\(/.test(text) && /\nPAGESIZE=/.test(text)) return text;
      }
      await pause();
    }
  }
  return '';
}
