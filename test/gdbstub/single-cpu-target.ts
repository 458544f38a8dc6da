import type { Cpu } from '../../src/arch/cpu.js';
import type { AddressSpace } from '../../src/machine/address-space.js';
import type { GdbTarget, ResumeAction, StopEvent, ThreadInfo, WatchpointKind } from '../../gdbstub/target.js';

const PAGE = 0x1000;

/**
 * The smallest GdbTarget over one real core (any arch) and its guest-physical memory: enough to
 * put a real Cpu behind the stub in tests and benches without the hypervisor's Zone. Runs in
 * slices on the event loop; memory goes through the core's debug translation unless physical.
 */
export class SingleCpuTarget implements GdbTarget {
  readonly description;
  private running = false;
  private haltRequested = false;
  private listener: ((event: StopEvent) => void) | undefined;
  private timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private readonly hwBreakpoints = new Set<bigint>();
  /** Tests: keep the core where gdb left it when gdb detaches or quits. */
  holdOnDetach = false;
  kills = 0;

  constructor(
    readonly cpu: Cpu,
    readonly memory: AddressSpace,
    readonly name = 'zone0',
    private readonly entry: { pc: bigint; args: readonly bigint[] } = { pc: cpu.pc, args: [] },
    private readonly slice = 200_000,
  ) {
    this.description = cpu.gdb;
  }

  get halted(): boolean {
    return !this.running;
  }

  threads(): readonly ThreadInfo[] {
    return [{ id: 1, name: `${this.name}/vcpu0`, extra: this.cpu.describe() }];
  }

  readRegister(_thread: number, regno: number): Uint8Array | undefined {
    return this.cpu.readRegister(regno);
  }

  writeRegister(_thread: number, regno: number, value: Uint8Array): boolean {
    return this.cpu.writeRegister(regno, value);
  }

  readMemory(_thread: number, address: bigint, length: number, physical: boolean): Uint8Array {
    if (physical) return this.memory.readDebug(Number(address), length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const va = address + BigInt(done);
      const gpa = this.cpu.debugTranslate(va, 'r');
      if (gpa === undefined) break;
      const n = Math.min(length - done, PAGE - (gpa % PAGE));
      const part = this.memory.readDebug(gpa, n);
      out.set(part, done);
      done += part.length;
      if (part.length < n) break;
    }
    return out.subarray(0, done);
  }

  writeMemory(_thread: number, address: bigint, data: Uint8Array, physical: boolean): number {
    let done = 0;
    while (done < data.length) {
      const va = address + BigInt(done);
      const gpa = physical ? Number(va) : this.cpu.debugTranslate(va, 'w');
      if (gpa === undefined) break;
      const n = Math.min(data.length - done, PAGE - (gpa % PAGE));
      const written = this.memory.writeDebug(gpa, data.subarray(done, done + n));
      this.cpu.invalidateCode(gpa, written);
      done += written;
      if (written < n) break;
    }
    return done;
  }

  setBreakpoint(address: bigint, hw: boolean, on: boolean): boolean {
    this.cpu.setBreakpoint(address, on);
    if (hw && on) this.hwBreakpoints.add(address);
    else this.hwBreakpoints.delete(address);
    return true;
  }

  setWatchpoint(address: bigint, length: number, kind: WatchpointKind, on: boolean): boolean {
    this.cpu.setWatchpoint(address, length, kind, on);
    return true;
  }

  halt(): void {
    if (this.running) this.haltRequested = true;
  }

  resume(actions: ReadonlyMap<number, ResumeAction>, otherwise: ResumeAction): void {
    if (this.holdOnDetach && actions.size === 0 && otherwise === 'continue') return;
    const action = actions.get(1) ?? otherwise;
    if (action === 'stop') return;
    this.running = true;
    this.haltRequested = false;
    this.timer = setImmediate(() => this.runSlice(action === 'step'));
  }

  onStop(listener: ((event: StopEvent) => void) | undefined): void {
    this.listener = listener;
  }

  monitor(command: string): string {
    if (command === 'hold') {
      this.holdOnDetach = true;
      return 'the core stays halted when the debugger detaches\n';
    }
    if (command === 'help') return 'hold                  keep the core halted after detach\n';
    return `${this.cpu.describe()}, ${this.cpu.retired} instructions retired\n`;
  }

  kill(): void {
    this.kills++;
    this.stopRunning();
    this.cpu.reset(this.entry.pc, this.entry.args);
  }

  dispose(): void {
    this.stopRunning();
    this.listener = undefined;
  }

  private stopRunning(): void {
    this.running = false;
    this.haltRequested = false;
    if (this.timer) {
      clearImmediate(this.timer as NodeJS.Immediate);
      clearTimeout(this.timer as NodeJS.Timeout);
    }
    this.timer = undefined;
  }

  private stop(event: StopEvent): void {
    this.stopRunning();
    this.listener?.(event);
  }

  private runSlice(step: boolean): void {
    this.timer = undefined;
    if (!this.running) return;
    if (this.haltRequested) return this.stop({ kind: 'interrupted', thread: 1 });
    const reason = this.cpu.run(step ? 1 : this.slice, step);
    switch (reason.kind) {
      case 'budget':
      case 'yield':
      case 'stall':
        this.timer = setImmediate(() => this.runSlice(false));
        return;
      case 'wait':
        this.timer = setTimeout(() => this.runSlice(false), 1);
        return;
      case 'step':
        return this.stop({ kind: 'step', thread: 1 });
      case 'breakpoint':
        return this.stop({ kind: 'breakpoint', thread: 1, hw: this.hwBreakpoints.has(this.cpu.pc) });
      case 'watchpoint':
        return this.stop({ kind: 'watchpoint', thread: 1, watch: reason.hit.kind, address: reason.hit.address });
      case 'off':
      case 'system-event':
        return this.stop({ kind: 'exited', code: 0 });
      case 'guest-error':
        return this.stop({ kind: 'signal', thread: 1, signal: 11, reason: reason.report.cause });
    }
  }
}
