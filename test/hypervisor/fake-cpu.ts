import { Stops, guestErrorStop, watchpointStop, type Cpu, type RunResult, type VcpuHost, type WatchKind } from '../../src/arch/cpu.js';
import type { GdbArchDescription } from '../../gdbstub/arch-description.js';
import type { VcpuSpec } from '../../src/hypervisor/zone/zone.js';

/**
 * A test core with a tiny 16-byte instruction format read from guest memory through the zone's
 * stage-2 map: u32 opcode, u32 a, u64 b. Enough to exercise memory isolation, waits, power events,
 * hypercalls, breakpoints and watchpoints without a real ISA.
 */
export const Op = {
  Nop: 0,
  /** [b] = a (32-bit); a stage-2 fault is a guest error (no handler). */
  Store: 1,
  /** r0 = [b] (32-bit). */
  Load: 2,
  /** Wait for the timer: deadline now + a ticks. */
  WaitTimer: 3,
  Jump: 4,
  /** r0 = hypercall(a, [b, r1]). */
  Hvc: 5,
  SystemOff: 6,
  SystemReset: 7,
  /** startVcpu(a, entry b, arg r1). */
  CpuOn: 8,
  /** r1 += 1. */
  Inc: 9,
  /** consoleWrite(a as one byte). */
  Putc: 10,
  /** An emulator bug: throws. */
  Throw: 11,
  /** [b] = a, a fault is injected into the guest (which carries on). */
  StoreIgnoringFault: 12,
  /** Wait for an interrupt with no timer. */
  WaitIrq: 13,
  /** r1 = b. */
  SetR1: 14,
} as const;

export function encode(program: readonly [number, number, bigint?][]): Uint8Array {
  const out = new Uint8Array(program.length * 16);
  const view = new DataView(out.buffer);
  program.forEach(([op, a, b], i) => {
    view.setUint32(i * 16, op, true);
    view.setUint32(i * 16 + 4, a >>> 0, true);
    view.setBigUint64(i * 16 + 8, b ?? 0n, true);
  });
  return out;
}

/** Guest-virtual addresses at or above this are guest-physical + KERNEL_BASE (a fake stage 1). */
export const KERNEL_BASE = 0xffff_0000_0000_0000n;

export const fakeDescription: GdbArchDescription = {
  architecture: 'fake',
  features: [{ name: 'org.hvisor-ts.fake', file: 'fake.xml', registers: ['r0', 'r1', 'r2', 'r3', 'pc'].map((name, regno) => ({ regno, name, bits: 64 })) }],
  gPacketRegisters: 5,
  expedite: [4],
};

export class FakeCpu implements Cpu {
  readonly arch = 'riscv64' as const;
  readonly index: number;
  readonly physicalId: number;
  readonly gdb = fakeDescription;
  readonly r = new BigUint64Array(4);
  retired = 0;
  pc = 0n;
  powered = false;
  /** Set by `monitor sstep irq|noirq`. */
  interruptsInSteps = false;
  bootArgs: readonly bigint[] = [];
  readonly interrupts = new Map<number, boolean>();
  readonly invalidated: [number, number][] = [];
  private deadline = Infinity;
  private readonly breakpoints = new Set<bigint>();
  private readonly watchpoints = new Map<bigint, WatchKind>();
  private readonly host: VcpuHost;

  constructor(spec: VcpuSpec) {
    this.index = spec.index;
    this.physicalId = spec.physical.id;
    this.host = spec.host;
  }

  static factory(made: FakeCpu[] = []): (spec: VcpuSpec) => FakeCpu {
    return (spec) => {
      const c = new FakeCpu(spec);
      made.push(c);
      return c;
    };
  }

  reset(entry: bigint, args: readonly bigint[]): void {
    this.pc = entry;
    this.bootArgs = args;
    this.r.fill(0n);
    args.slice(0, 4).forEach((a, i) => (this.r[i] = a));
    this.deadline = Infinity;
    this.interrupts.clear();
  }

  run(budget: number, step = false): RunResult {
    if (!this.powered) return Stops.off;
    const mem = this.host.memory;
    for (let n = 0; n < budget; n++) {
      if (this.breakpoints.has(this.pc)) return Stops.breakpoint;
      const pa = Number(this.pc);
      const op = mem.read(pa, 4);
      const a = Number(mem.read(pa + 4, 4) ?? 0n);
      const b = mem.read(pa + 8, 8) ?? 0n;
      if (op === undefined) {
        return guestErrorStop({ pc: this.pc, cause: 'instruction fetch outside the zone', address: this.pc });
      }
      let next = this.pc + 16n;
      switch (Number(op)) {
        case Op.Nop:
          break;
        case Op.Store:
        case Op.StoreIgnoringFault: {
          const kind = this.watchpoints.get(b);
          if (kind === 'write' || kind === 'access') {
            return watchpointStop({ kind, address: b });
          }
          if (!mem.write(Number(b), 4, BigInt(a)) && Number(op) === Op.Store) {
            return guestErrorStop({ pc: this.pc, cause: 'data abort: stage-2 translation fault', address: b });
          }
          break;
        }
        case Op.Load:
          this.r[0] = mem.read(Number(b), 4) ?? 0n;
          break;
        case Op.WaitTimer:
          if (this.deadline === Infinity) this.deadline = this.host.now() + a;
          if (this.host.now() < this.deadline) return Stops.wait;
          this.deadline = Infinity;
          break;
        case Op.WaitIrq:
          if (!this.interrupts.get(0)) return Stops.wait;
          this.interrupts.set(0, false);
          break;
        case Op.Jump:
          next = b;
          break;
        case Op.Hvc:
          this.r[0] = this.host.hypercall(BigInt(a), [b, this.r[1]!]);
          break;
        case Op.SystemOff:
          this.retired++;
          return Stops.systemOff;
        case Op.SystemReset:
          this.retired++;
          return Stops.systemReset;
        case Op.CpuOn:
          this.r[0] = BigInt(['ok', 'invalid', 'already-on'].indexOf(this.host.startVcpu(a, b, this.r[1]!)));
          break;
        case Op.Inc:
          this.r[1]!++;
          break;
        case Op.Putc:
          this.host.consoleWrite(Uint8Array.of(a));
          break;
        case Op.Throw:
          throw new Error('fake core bug');
        case Op.SetR1:
          this.r[1] = b;
          break;
        default:
          return guestErrorStop({ pc: this.pc, cause: `undefined instruction ${op}` });
      }
      this.pc = next;
      this.retired++;
      if (step) return Stops.step;
    }
    return Stops.budget;
  }

  setInterrupt(line: number, level: boolean): void {
    this.interrupts.set(line, level);
  }

  nextTimerDeadline(): number {
    return this.deadline;
  }

  readRegister(regno: number): Uint8Array | undefined {
    const v = regno < 4 ? this.r[regno]! : regno === 4 ? this.pc : undefined;
    if (v === undefined) return undefined;
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, v, true);
    return out;
  }

  writeRegister(regno: number, value: Uint8Array): boolean {
    if (regno > 4 || value.length !== 8) return false;
    const v = new DataView(value.buffer, value.byteOffset).getBigUint64(0, true);
    if (regno === 4) this.pc = v;
    else this.r[regno] = v;
    return true;
  }

  debugTranslate(va: bigint): number | undefined {
    const gpa = va >= KERNEL_BASE ? va - KERNEL_BASE : va;
    return gpa < 1n << 48n ? Number(gpa) : undefined;
  }

  setBreakpoint(va: bigint, on: boolean): void {
    if (on) this.breakpoints.add(va);
    else this.breakpoints.delete(va);
  }

  setWatchpoint(va: bigint, _length: number, kind: WatchKind, on: boolean): void {
    if (on) this.watchpoints.set(va, kind);
    else this.watchpoints.delete(va);
  }

  invalidateCode(gpa: number, length: number): void {
    this.invalidated.push([gpa, length]);
  }

  /** Remote fences seen (the fake core has no TLB). */
  fences = 0;
  flushTranslations(): void {
    this.fences++;
  }

  describe(): string {
    return 'S-mode';
  }
}
