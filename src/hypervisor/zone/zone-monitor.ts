import { isAbsolute, resolve, dirname } from 'node:path';
import { statSync } from 'node:fs';
import { readInputFileSync } from '../../util/input-file.js';
import { GuestKernel, type KernelMemory } from '../../linux-guest/guest-kernel.js';
import { checkLinuxCommand, LINUX_HELP, runLinuxCommand, UsageError, type VcpuRegisters } from '../../linux-guest/linux-commands.js';
import { kernelArch, readKernelSymbolsPaced } from '../../linux-guest/kernel-symbols.js';
import type { Zone } from './zone.js';

const HELP =
  'zone                  this zone: id, name, CPUs, state, stage-2 faults, crash report\n' +
  'regs                  every vCPU: privilege level, state, pc\n' +
  'tlb                   every vCPU: where its pc translates (guest-virtual → guest-physical)\n' +
  'devices               the stage-2 map: RAM, passed-through and emulated devices, holes\n' +
  'mtree                 the stage-2 map with host-physical addresses of RAM and passed-through devices\n' +
  'translate VA [VCPU]   VA through each vCPU\'s (or one vCPU\'s) current stage 1, then stage 2\n' +
  'xp ADDR [LEN]         guest-physical memory, hex and ASCII (LEN bytes, default 64, at most 4096)\n' +
  'irq                   the zone\'s interrupt controller: enabled, pending, active, priority, routing\n' +
  'pci                   this zone\'s PCI functions (its virtual ECAM): ids, BARs, INTx, capabilities\n' +
  'reset                 restart this zone (images reloaded), halted\n' +
  'sstep [halted|run] [noirq|irq] [timer|notimer] [sleep|nosleep]\n' +
  '                      how a vCPU single-steps: the others stay halted (default) or run; pending\n' +
  '                      interrupts wait (default) or are taken; time counts the stepped instructions\n' +
  '                      (default) or stands still; a step over wfi moves time to the vCPU\'s next timer\n' +
  '                      deadline (default) or not\n' +
  'snapshot save NAME    keep the halted zone\'s vCPUs, RAM and models; snapshot load NAME puts them back\n' +
  'snapshot list|delete NAME  snapshots kept, and how many single steps reverse-stepi can undo\n' +
  LINUX_HELP;

const hex = (n: number | bigint) => '0x' + n.toString(16);

const STEP_WORDS: readonly string[] = ['halted', 'run', 'irq', 'noirq', 'timer', 'notimer', 'sleep', 'nosleep'];

/** Lets timers and sockets run between the steps of reading a kernel (the gdb stub's keep-alives). */
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A monitor argument: hex with 0x, or decimal. */
function parseAddress(text: string | undefined, usage: string): bigint {
  if (text === undefined || !/^(0x[0-9a-f]{1,16}|[0-9]{1,20})$/i.test(text)) throw new UsageError(`usage: ${usage} (numbers as 0x... or decimal)`);
  const v = BigInt(text);
  if (v >= 1n << 64n) throw new UsageError(`${text} does not fit 64 bits`);
  return v;
}

/** The zone's `monitor …` commands (the stub itself handles `help` headers and `phys on|off`). */
export class ZoneMonitor {
  private kernel: GuestKernel | undefined;
  private linkStext: bigint | undefined | null = null;

  constructor(private readonly zone: Zone) {}

  run(command: string): string | Promise<string> {
    const [word, ...rest] = command.trim().split(/\s+/);
    const takes = (max: number) => {
      if (rest.length > max) throw new UsageError(`${word} takes ${max === 0 ? 'no arguments' : `at most ${max} argument`} (got "${rest.join(' ')}")`);
    };
    try {
      if (word === 'translate' || word === 'xp' || word === 'sstep' || word === 'snapshot') takes(word === 'sstep' ? 4 : 2);
      else if (word !== 'linux') takes(0);
      return this.command(word, rest);
    } catch (e) {
      if (e instanceof UsageError) return `${e.message}\n`;
      throw e;
    }
  }

  private command(word: string | undefined, rest: string[]): string | Promise<string> {
    switch (word) {
      case 'help':
        return HELP;
      case 'zone':
        return this.describeZone();
      case 'regs':
        return this.zone.cpus.map((c) => `vcpu${c.index} (cpu ${c.physicalId}): pc ${hex(c.pc)} ${this.zone.threads()[c.index]!.extra}\n`).join('');
      case 'tlb':
        return this.zone.cpus
          .map((c) => {
            const pa = c.debugTranslate(c.pc, 'x');
            return `vcpu${c.index}: pc ${hex(c.pc)} -> ${pa === undefined ? 'not mapped' : `guest-physical ${hex(pa)}`}\n`;
          })
          .join('');
      case 'devices':
        return this.describeDevices();
      case 'pci':
        return this.describePci();
      case 'linux':
        return this.linux(rest);
      case 'snapshot':
        if (this.zone.history === undefined) return `snapshot: zone ${this.zone.id}'s cores keep no snapshot state\n`;
        if (!this.zone.halted && rest[0] !== 'list' && rest[0] !== undefined) return 'snapshot: halt the zone first (Ctrl-C)\n';
        return this.zone.history.monitor(rest);
      case 'mtree':
        return this.describeMtree();
      case 'translate':
        return this.translate(rest);
      case 'xp':
        return this.examinePhysical(rest);
      case 'irq':
        return this.zone.irqchip?.describe?.() ?? `zone ${this.zone.id} has no interrupt controller model\n`;
      case 'reset':
        this.kernel = undefined;
        this.zone.resetHalted();
        return `zone ${this.zone.id} reset; halted at its entry point\n`;
      case 'sstep':
        return this.singleStep(rest);
      default:
        return `unknown monitor command "${word ?? ''}"; monitor help lists them\n`;
    }
  }

  /** `sstep [halted|run] [noirq|irq] [timer|notimer] [sleep|nosleep]`: set any of them, then say what a step does. */
  private singleStep(words: readonly string[]): string {
    const bad = words.find((w) => !STEP_WORDS.includes(w));
    if (bad !== undefined) return `sstep: unknown setting "${bad}"; usage: sstep [halted|run] [noirq|irq] [timer|notimer] [sleep|nosleep]\n`;
    const zone = this.zone;
    for (const w of words) {
      if (w === 'halted' || w === 'run') zone.stepPolicy = w;
      else if (w === 'irq' || w === 'noirq') zone.interruptsInSteps = w === 'irq';
      else if (w === 'timer' || w === 'notimer') zone.stepFlags.timer = w === 'timer';
      else zone.stepFlags.sleep = w === 'sleep';
    }
    return (
      `while a vCPU single-steps, the others ${zone.stepPolicy === 'halted' ? 'stay halted' : 'run'}; ` +
      `pending interrupts ${zone.interruptsInSteps ? 'are taken' : 'wait'} (${zone.interruptsInSteps ? 'irq' : 'noirq'}); ` +
      `time ${zone.stepFlags.timer ? 'counts the stepped instructions' : 'stands still'} (${zone.stepFlags.timer ? 'timer' : 'notimer'}); ` +
      `a step over wfi ${zone.stepFlags.sleep ? 'moves time to the vCPU\'s next timer deadline' : 'leaves time where it is'} (${zone.stepFlags.sleep ? 'sleep' : 'nosleep'})\n`
    );
  }

  /**
   * `linux …`: the kernel read out of the zone's memory. Reading it the first time is a second or more
   * of scanning: a promise, pausing between steps (the gdb stub keeps gdb waiting). Cached; read
   * again once if a command fails on the cached view (the zone may have rebooted).
   */
  private linux(words: string[]): string | Promise<string> {
    checkLinuxCommand(words);
    const run = (kernel: GuestKernel) =>
      runLinuxCommand(words, { kernel, vcpus: this.vcpuRegisters(), linkStext: this.linkStext ?? undefined, kernelFile: this.kernelFile() });
    const cached = this.kernel;
    if (cached !== undefined && (words[0] !== 'kaslr' || this.linkStext !== null)) {
      try {
        return run(cached);
      } catch {
        this.kernel = undefined;
      }
    }
    return (async () => {
      const kernel = cached ?? (await this.loadKernel());
      if (words[0] === 'kaslr' && this.linkStext === null) this.linkStext = await this.kernelFileStext();
      return run(kernel);
    })();
  }

  private async loadKernel(): Promise<GuestKernel> {
    const zone = this.zone;
    const thread = () => (zone.cpus.find((c) => c.powered) ?? zone.cpus[0]!).index + 1;
    const file = this.kernelFileHeader();
    const memory: KernelMemory = {
      readPhysical: (address, length) => zone.readMemory(1, BigInt(address), length, true),
      readVirtual: (address, length) => zone.readMemory(thread(), address, length, false),
      translate: (address) => zone.cpus[thread() - 1]!.debugTranslate(address, 'r'),
      ram: zone.memory.list().filter((r) => r.kind === 'ram').map((r) => ({ base: r.base, size: r.size })),
      kernelPhysical: zone.guestAddressOf(zone.config.kernelLoadPaddr) ?? zone.config.kernelLoadPaddr,
      ...file,
    };
    this.kernel = await GuestKernel.load(memory, pause);
    return this.kernel;
  }

  /** The kernel file's arch, size and image_size (its boot header), which a running kernel may have overwritten. */
  private kernelFileHeader(): { arch: 'aarch64' | 'riscv64'; fileBytes: number; imageBytes: number } {
    const path = this.kernelFile();
    let size: number;
    let header: Uint8Array;
    try {
      size = statSync(path).size;
      header = readInputFileSync(path, { what: 'kernel_filepath', maxBytes: 512 << 20 }).subarray(0, 64);
    } catch (e) {
      throw new Error(`linux: the zone's kernel file ${path} cannot be read (${(e as Error).message})`);
    }
    const arch = kernelArch(header, path);
    if (arch === 'loongarch64') throw new Error(`linux: reading a running LoongArch kernel is not supported yet (hvisor symbols ${path} lists its symbols)`);
    const declared = Number(new DataView(header.buffer, header.byteOffset).getBigUint64(16, true));
    return { arch, fileBytes: size, imageBytes: declared > size && declared < 1 << 30 ? declared : size };
  }

  /** Each vCPU's registers by gdb name, for `linux current`. */
  private vcpuRegisters(): VcpuRegisters[] {
    const regno = new Map<string, number>();
    for (const f of this.zone.description.features) for (const r of f.registers) regno.set(r.name, r.regno);
    return this.zone.cpus.map((c) => ({
      index: c.index,
      register: (name: string) => {
        const n = regno.get(name);
        const bytes = n === undefined ? undefined : c.readRegister(n);
        if (bytes === undefined) return undefined;
        let v = 0n;
        for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
        return v;
      },
    }));
  }

  private kernelFile(): string {
    const f = this.zone.config.kernelFilepath;
    return isAbsolute(f) ? f : resolve(dirname(this.zone.config.source), f);
  }

  /** _stext as linked, from the zone's kernel file, for the KASLR offset (undefined if unreadable). */
  private async kernelFileStext(): Promise<bigint | undefined> {
    try {
      const image = readInputFileSync(this.kernelFile(), { what: 'kernel_filepath', maxBytes: 512 << 20 });
      const kernel = await readKernelSymbolsPaced(image, this.kernelFile(), {}, pause);
      return kernel.symbols.find((s) => s.name === '_stext')?.address;
    } catch {
      return undefined;
    }
  }

  private translate(args: string[]): string {
    const va = parseAddress(args[0], 'translate VA [VCPU]');
    const only = args[1] === undefined ? undefined : Number(parseAddress(args[1], 'translate VA [VCPU]'));
    const cpus = this.zone.cpus.filter((c) => only === undefined || c.index === only);
    if (cpus.length === 0) throw new UsageError(`no vCPU ${only} (this zone has ${this.zone.cpus.length})`);
    return cpus
      .map((c) => {
        const gpa = c.debugTranslate(va, 'r');
        if (gpa === undefined) return `vcpu${c.index}: ${hex(va)} is not mapped by its current stage 1\n`;
        return `vcpu${c.index}: ${hex(va)} -> guest-physical ${hex(gpa)} -> ${this.stage2(gpa)}\n`;
      })
      .join('');
  }

  /** Where a guest-physical address leads: host RAM or a passed-through device, or an emulated one. */
  private stage2(gpa: number): string {
    const m = this.zone.config.memoryRegions.find((r) => gpa >= r.virtualStart && gpa < r.virtualStart + r.size && r.type !== 'virtio');
    const region = this.zone.memory.find(gpa);
    const what = region === undefined ? 'unmapped (stage-2 fault)' : region.kind === 'ram' ? `RAM ${region.name}` : `${region.device.name} ${region.name}`;
    return m === undefined ? what : `host-physical ${hex(gpa - m.virtualStart + m.physicalStart)} (${what})`;
  }

  private examinePhysical(args: string[]): string {
    const usage = 'xp ADDR [LEN]';
    const address = parseAddress(args[0], usage);
    const length = args[1] === undefined ? 64 : Number(parseAddress(args[1], usage));
    if (length < 1 || length > 4096) throw new UsageError(`xp: LEN ${length} outside 1..4096`);
    const bytes = this.zone.readMemory(1, address, length, true);
    if (bytes.length === 0) return `guest-physical ${hex(address)} is not readable (no RAM or device there)\n`;
    let out = '';
    for (let at = 0; at < bytes.length; at += 16) {
      const row = bytes.subarray(at, at + 16);
      const hexes = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      out += `${(address + BigInt(at)).toString(16).padStart(12, '0')}: ${hexes.padEnd(47)}  ${text}\n`;
    }
    if (bytes.length < length) out += `(${length - bytes.length} bytes after ${hex(address + BigInt(bytes.length))} are not readable)\n`;
    return out;
  }

  private describeMtree(): string {
    let out = '';
    for (const r of this.zone.memory.list()) {
      const span = `${hex(r.base).padStart(12)}-${hex(r.base + r.size - 1).padEnd(12)}`;
      const m = this.zone.config.memoryRegions.find((c) => r.base >= c.virtualStart && r.base < c.virtualStart + c.size && c.type !== 'virtio');
      const host = m === undefined ? 'emulated' : `host ${hex(r.base - m.virtualStart + m.physicalStart)}`;
      out += `${span} ${r.kind === 'ram' ? `RAM ${r.name}` : `${r.device.name} ${r.name}`} (${host})\n`;
    }
    return out;
  }

  private describeZone(): string {
    const z = this.zone;
    const c = z.crash;
    let out =
      `zone ${z.id} "${z.name}" (${z.config.source})\n` +
      `  state ${z.state}${z.halted ? ', halted by the debugger' : ''}; CPUs ${z.config.cpus.join(', ')}; ` +
      `interrupts ${z.config.interrupts.join(', ') || 'none'}\n` +
      `  virtual time ${z.now()} ticks at ${z.timerFrequency} Hz${z.clockFrozen ? ' (frozen)' : ''}; stage-2 faults ${z.stage2Faults}\n`;
    if (c !== undefined) out += `  crashed: vCPU ${c.vcpu} pc ${hex(c.pc)}: ${c.cause}${c.address !== undefined ? ` at ${hex(c.address)}` : ''}\n`;
    for (const f of z.recentFaults) out += `  ${f}\n`;
    return out;
  }

  private describePci(): string {
    for (const w of this.zone.deviceWindows) {
      if (w.pciReport !== undefined) return `virtual ECAM at ${hex(w.base)}\n` + w.pciReport();
    }
    return `zone ${this.zone.id} has no PCI functions (no alloc_pci_devs, or the board's PCI functions were not given with --pci)\n`;
  }

  private describeDevices(): string {
    let out = '';
    for (const r of this.zone.memory.list()) {
      const span = `[${hex(r.base)}, ${hex(r.base + r.size)})`;
      out += r.kind === 'ram' ? `${span} RAM ${r.name}\n` : `${span} ${r.device.name} ${r.name}\n`;
    }
    for (const h of this.zone.holes) out += `[${hex(h.base)}, ${hex(h.base + h.size)}) hole: ${h.why}\n`;
    return out;
  }
}
