import type { Zone } from './zone.js';

const HELP =
  'zone                  this zone: id, name, CPUs, state, stage-2 faults, crash report\n' +
  'regs                  every vCPU: privilege level, state, pc\n' +
  'tlb                   every vCPU: where its pc translates (guest-virtual → guest-physical)\n' +
  'devices               the stage-2 map: RAM, passed-through and emulated devices, holes\n' +
  'pci                   this zone\'s PCI functions (its virtual ECAM): ids, BARs, INTx, capabilities\n' +
  'reset                 restart this zone (images reloaded), halted\n' +
  'sstep [halted|run]    while one vCPU steps, the others stay halted (default) or run\n';

const hex = (n: number | bigint) => '0x' + n.toString(16);

/** The zone's `monitor …` commands (the stub itself handles `help` headers and `phys on|off`). */
export class ZoneMonitor {
  constructor(private readonly zone: Zone) {}

  run(command: string): string {
    const [word, ...rest] = command.trim().split(/\s+/);
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
      case 'reset':
        this.zone.resetHalted();
        return `zone ${this.zone.id} reset; halted at its entry point\n`;
      case 'sstep':
        if (rest[0] === 'halted' || rest[0] === 'run') this.zone.stepPolicy = rest[0];
        else if (rest.length > 0) return 'usage: sstep [halted|run]\n';
        return `while a vCPU single-steps, the others ${this.zone.stepPolicy === 'halted' ? 'stay halted' : 'run'}\n`;
      default:
        return `unknown monitor command "${word ?? ''}"; monitor help lists them\n`;
    }
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
