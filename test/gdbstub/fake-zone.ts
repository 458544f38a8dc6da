import type { GdbTarget, ResumeAction, StopEvent, ThreadInfo, WatchpointKind } from '../../gdbstub/target.js';
import { CSR_BASE, PC, PRIV, RISCV64_DESCRIPTION } from './riscv64-description.js';

/**
 * A test zone for the stub: N riscv64-like vCPUs executing a small RV64I subset (enough for a
 * counting loop assembled by binutils) out of one RAM block, with breakpoints, watchpoints (reported
 * before the access), Ctrl-C and exit via `ecall` (a7 = 93). Runs in slices on the event loop so
 * the stub and gdb's socket stay live while the zone "runs".
 */
export const RAM_BASE = 0x8000_0000n;
/** A second virtual window onto the same RAM: readable through "translation", not physically. */
export const VIRTUAL_ALIAS = 0xffff_ffc0_0000_0000n;
const REGISTERS = CSR_BASE + 0x200;
const SIGILL = 4;

class Vcpu {
  readonly r = new BigUint64Array(REGISTERS);
  action: ResumeAction = 'stop';
  constructor(readonly id: number) {}
  get pc(): bigint {
    return this.r[PC]!;
  }
  set pc(v: bigint) {
    this.r[PC] = v;
  }
}

interface Watch {
  readonly address: bigint;
  readonly length: number;
  readonly kind: WatchpointKind;
}

export class FakeZone implements GdbTarget {
  readonly description = RISCV64_DESCRIPTION;
  readonly ram: Uint8Array;
  readonly vcpus: Vcpu[] = [];
  /** Breakpoint address → hardware (Z1) or software (Z0). */
  readonly breakpoints = new Map<bigint, boolean>();
  readonly watchpoints: Watch[] = [];
  /** Executed instructions, all vCPUs. */
  retired = 0;
  /** Every monitor command received, for assertions. */
  readonly monitorLog: string[] = [];
  kills = 0;
  /** resume() calls so far (tests wait for gdb's continue with it). */
  resumes = 0;
  /** Set by `monitor hold`: the resume of a detach leaves the zone halted, so tests can inspect it. */
  holdOnDetach = false;
  private running = false;
  private haltRequested = false;
  private listener: ((e: StopEvent) => void) | undefined;
  private timer: NodeJS.Immediate | undefined;
  private exited = false;

  constructor(
    readonly name: string,
    private readonly image: Uint8Array,
    private readonly entries: readonly bigint[],
    ramSize = 0x10000,
    /** Instructions per vCPU per event-loop slice. */
    private readonly slice = 2000,
  ) {
    this.ram = new Uint8Array(ramSize);
    entries.forEach((_, i) => this.vcpus.push(new Vcpu(i + 1)));
    this.reset();
  }

  reset(): void {
    this.ram.fill(0);
    this.ram.set(this.image);
    this.vcpus.forEach((v, i) => {
      v.r.fill(0n);
      v.pc = this.entries[i]!;
      v.r[PRIV] = 1n; // S-mode, as a zone sees itself
      v.r[10] = BigInt(i); // a0 = hart id, as SBI hands it over
    });
    this.exited = false;
  }

  // --- GdbTarget ----------------------------------------------------------------------------

  get halted(): boolean {
    return !this.running;
  }

  threads(): readonly ThreadInfo[] {
    return this.vcpus.map((v) => ({
      id: v.id,
      name: `${this.name}/vcpu${v.id - 1}`,
      extra: `S-mode, ${this.running ? 'running' : 'halted'}`,
    }));
  }

  readRegister(thread: number, regno: number): Uint8Array | undefined {
    const v = this.vcpus[thread - 1];
    if (!v || regno < 0 || regno >= REGISTERS) return undefined;
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, v.r[regno]!, true);
    const width = regno === CSR_BASE + 1 || regno === CSR_BASE + 2 || regno === CSR_BASE + 3 ? 4 : 8;
    return bytes.subarray(0, width);
  }

  writeRegister(thread: number, regno: number, value: Uint8Array): boolean {
    const v = this.vcpus[thread - 1];
    if (!v || regno <= 0 || regno >= REGISTERS) return regno === 0; // x0 stays zero
    const bytes = new Uint8Array(8);
    bytes.set(value.subarray(0, 8));
    v.r[regno] = new DataView(bytes.buffer).getBigUint64(0, true);
    return true;
  }

  readMemory(_thread: number, address: bigint, length: number, physical: boolean): Uint8Array {
    const offset = this.ramOffset(address, physical);
    if (offset < 0) return new Uint8Array(0);
    return this.ram.slice(offset, Math.min(offset + length, this.ram.length));
  }

  writeMemory(_thread: number, address: bigint, data: Uint8Array, physical: boolean): number {
    const offset = this.ramOffset(address, physical);
    if (offset < 0) return 0;
    const n = Math.min(data.length, this.ram.length - offset);
    this.ram.set(data.subarray(0, n), offset);
    return n;
  }

  setBreakpoint(address: bigint, hw: boolean, on: boolean): boolean {
    if (on) this.breakpoints.set(address, hw);
    else this.breakpoints.delete(address);
    return true;
  }

  setWatchpoint(address: bigint, length: number, kind: WatchpointKind, on: boolean): boolean {
    const i = this.watchpoints.findIndex((w) => w.address === address && w.length === length && w.kind === kind);
    if (on && i < 0) this.watchpoints.push({ address, length, kind });
    if (!on && i >= 0) this.watchpoints.splice(i, 1);
    return true;
  }

  halt(): void {
    if (!this.running) return;
    this.haltRequested = true;
  }

  resume(actions: ReadonlyMap<number, ResumeAction>, otherwise: ResumeAction): void {
    this.resumes++;
    if (this.exited) {
      queueMicrotask(() => this.stop({ kind: 'exited', code: 0 }));
      this.running = true;
      return;
    }
    if (this.holdOnDetach && actions.size === 0 && otherwise === 'continue') return;
    for (const v of this.vcpus) v.action = actions.get(v.id) ?? otherwise;
    this.running = true;
    this.haltRequested = false;
    this.schedule(true);
  }

  onStop(listener: ((event: StopEvent) => void) | undefined): void {
    this.listener = listener;
  }

  monitor(command: string): string | Promise<string> {
    this.monitorLog.push(command);
    const [verb] = command.split(/\s+/);
    switch (verb) {
      case 'help':
        return 'zone                  which zone this port debugs\nregs                  pc of every vCPU\n';
      case 'zone':
        return `${this.name}: ${this.vcpus.length} vCPUs, RAM ${RAM_BASE.toString(16)}+${this.ram.length.toString(16)}\n`;
      case 'regs':
        return this.vcpus.map((v) => `vcpu${v.id - 1} pc=${v.pc.toString(16)}\n`).join('');
      case 'hold':
        this.holdOnDetach = true;
        return 'the zone stays halted when the debugger detaches\n';
      case 'long':
        return '0123456789'.repeat(3000);
      case 'fail':
        throw new Error('the fake zone was asked to fail');
      case 'slow':
        // Longer than gdb's 2-second remote timeout.
        return new Promise((resolve) => setTimeout(() => resolve('slow answer after 5 s\n'), 5000));
      case 'slow-fail':
        return new Promise((_, reject) => setTimeout(() => reject(new Error('the slow command failed')), 3000));
      default:
        return `unknown command '${command}'; try 'monitor help'\n`;
    }
  }

  kill(): void {
    this.kills++;
    this.stopRunning();
    this.reset();
  }

  /** Stops the event-loop slices for good (test teardown). */
  dispose(): void {
    this.stopRunning();
    this.listener = undefined;
  }

  // --- execution ----------------------------------------------------------------------------

  private stopRunning(): void {
    this.running = false;
    this.haltRequested = false;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
  }

  private stop(event: StopEvent): void {
    this.stopRunning();
    this.listener?.(event);
  }

  private schedule(first: boolean): void {
    this.timer = setImmediate(() => this.runSlice(first));
  }

  private runSlice(first: boolean): void {
    this.timer = undefined;
    if (!this.running) return;
    if (this.haltRequested) {
      this.stop({ kind: 'interrupted', thread: this.vcpus[0]!.id });
      return;
    }
    // A step moves only the stepping vCPUs (the others stay put, for determinism).
    const stepping = this.vcpus.filter((v) => v.action === 'step');
    const runners = stepping.length > 0 ? stepping : this.vcpus.filter((v) => v.action === 'continue');
    const budget = stepping.length > 0 ? 1 : this.slice;
    for (let n = 0; n < budget; n++) {
      for (const v of runners) {
        // The first instruction of a resume executes even under a breakpoint/watchpoint: it is
        // the one the vCPU stopped on.
        const event = this.execute(v, first && n === 0);
        if (event) {
          this.stop(event);
          return;
        }
      }
    }
    if (stepping.length > 0) {
      this.stop({ kind: 'step', thread: stepping[0]!.id });
      return;
    }
    this.schedule(false);
  }

  private ramOffset(address: bigint, physical: boolean): number {
    const size = BigInt(this.ram.length);
    if (address >= RAM_BASE && address < RAM_BASE + size) return Number(address - RAM_BASE);
    if (!physical && address >= VIRTUAL_ALIAS && address < VIRTUAL_ALIAS + size) return Number(address - VIRTUAL_ALIAS);
    return -1;
  }

  private watchHit(address: bigint, length: number, write: boolean): Watch | undefined {
    for (const w of this.watchpoints) {
      if (address < w.address + BigInt(w.length) && w.address < address + BigInt(length)) {
        if (w.kind === 'access' || (w.kind === 'write') === write) return w;
      }
    }
    return undefined;
  }

  /** One instruction; returns a stop event instead of executing when a debug event fires first. */
  private execute(v: Vcpu, ignoreDebug: boolean): StopEvent | undefined {
    const pc = v.pc;
    const hw = ignoreDebug ? undefined : this.breakpoints.get(pc);
    if (hw !== undefined) return { kind: 'breakpoint', thread: v.id, hw };
    const off = this.ramOffset(pc, false);
    if (off < 0 || off + 4 > this.ram.length) return { kind: 'signal', thread: v.id, signal: 11, reason: `fetch fault at ${pc.toString(16)}` };
    const inst = (this.ram[off]! | (this.ram[off + 1]! << 8) | (this.ram[off + 2]! << 16) | (this.ram[off + 3]! << 24)) >>> 0;
    const r = v.r;
    const rd = (inst >> 7) & 31;
    const rs1 = (inst >> 15) & 31;
    const rs2 = (inst >> 20) & 31;
    const f3 = (inst >> 12) & 7;
    const immI = BigInt.asUintN(64, BigInt(inst >> 20));
    let next = pc + 4n;
    const set = (value: bigint) => {
      if (rd !== 0) r[rd] = value;
    };
    switch (inst & 0x7f) {
      case 0x37: // lui
        set(BigInt.asUintN(64, BigInt(inst & 0xfffff000) << 32n >> 32n));
        break;
      case 0x17: // auipc
        set(BigInt.asUintN(64, pc + BigInt.asIntN(32, BigInt(inst & 0xfffff000))));
        break;
      case 0x13: // addi / slli / andi / ori / xori
        if (f3 === 0) set(BigInt.asUintN(64, r[rs1]! + immI));
        else if (f3 === 1) set(BigInt.asUintN(64, r[rs1]! << BigInt(rs2 | ((inst >> 20) & 32))));
        else if (f3 === 7) set(r[rs1]! & immI);
        else if (f3 === 6) set(r[rs1]! | immI);
        else if (f3 === 4) set(r[rs1]! ^ immI);
        else return this.illegal(v, inst);
        break;
      case 0x33: // add / sub / xor / or / and
        if (f3 === 0) set(BigInt.asUintN(64, inst >>> 30 ? r[rs1]! - r[rs2]! : r[rs1]! + r[rs2]!));
        else if (f3 === 4) set(r[rs1]! ^ r[rs2]!);
        else if (f3 === 6) set(r[rs1]! | r[rs2]!);
        else if (f3 === 7) set(r[rs1]! & r[rs2]!);
        else return this.illegal(v, inst);
        break;
      case 0x03: {
        // ld / lw / lbu
        const size = f3 === 3 ? 8 : f3 === 2 ? 4 : f3 === 4 ? 1 : 0;
        if (!size) return this.illegal(v, inst);
        const address = BigInt.asUintN(64, r[rs1]! + immI);
        const w = ignoreDebug ? undefined : this.watchHit(address, size, false);
        if (w) return { kind: 'watchpoint', thread: v.id, watch: w.kind, address: w.address };
        const a = this.ramOffset(address, false);
        if (a < 0 || a + size > this.ram.length) return { kind: 'signal', thread: v.id, signal: 11, reason: `load fault at ${address.toString(16)}` };
        let value = 0n;
        for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.ram[a + i]!);
        set(size === 4 ? BigInt.asUintN(64, BigInt.asIntN(32, value)) : value);
        break;
      }
      case 0x23: {
        // sd / sw / sb
        const size = f3 === 3 ? 8 : f3 === 2 ? 4 : f3 === 0 ? 1 : 0;
        if (!size) return this.illegal(v, inst);
        const imm = BigInt.asUintN(64, BigInt(((inst >> 25) << 5) | ((inst >> 7) & 31)));
        const address = BigInt.asUintN(64, r[rs1]! + imm);
        const w = ignoreDebug ? undefined : this.watchHit(address, size, true);
        if (w) return { kind: 'watchpoint', thread: v.id, watch: w.kind, address: w.address };
        const a = this.ramOffset(address, false);
        if (a < 0 || a + size > this.ram.length) return { kind: 'signal', thread: v.id, signal: 11, reason: `store fault at ${address.toString(16)}` };
        let value = r[rs2]!;
        for (let i = 0; i < size; i++, value >>= 8n) this.ram[a + i] = Number(value & 0xffn);
        break;
      }
      case 0x6f: {
        // jal
        const imm = ((inst >> 31) << 20) | (((inst >> 12) & 0xff) << 12) | (((inst >> 20) & 1) << 11) | (((inst >> 21) & 0x3ff) << 1);
        set(pc + 4n);
        next = BigInt.asUintN(64, pc + BigInt(imm));
        break;
      }
      case 0x67: // jalr
        next = BigInt.asUintN(64, r[rs1]! + immI) & ~1n;
        set(pc + 4n);
        break;
      case 0x63: {
        const a = r[rs1]!;
        const b = r[rs2]!;
        const taken =
          f3 === 0 ? a === b : f3 === 1 ? a !== b : f3 === 4 ? BigInt.asIntN(64, a) < BigInt.asIntN(64, b) : f3 === 5 ? BigInt.asIntN(64, a) >= BigInt.asIntN(64, b) : f3 === 6 ? a < b : a >= b;
        if (taken) {
          const imm = ((inst >> 31) << 12) | (((inst >> 7) & 1) << 11) | (((inst >> 25) & 0x3f) << 5) | (((inst >> 8) & 0xf) << 1);
          next = BigInt.asUintN(64, pc + BigInt(imm));
        }
        break;
      }
      case 0x73:
        if (inst === 0x73 && r[17] === 93n) {
          // ecall exit(a0): the whole zone powers off.
          this.exited = true;
          v.pc = next;
          this.retired++;
          return { kind: 'exited', code: Number(r[10]! & 0xffn) };
        }
        if (inst === 0x10500073) break; // wfi: a no-op here
        return this.illegal(v, inst);
      default:
        return this.illegal(v, inst);
    }
    v.pc = next;
    this.retired++;
    return undefined;
  }

  private illegal(v: Vcpu, inst: number): StopEvent {
    return { kind: 'signal', thread: v.id, signal: SIGILL, reason: `illegal instruction ${inst.toString(16)} at ${v.pc.toString(16)}` };
  }
}
