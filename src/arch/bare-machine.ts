import { AddressSpace } from '../machine/address-space.js';
import { Ram } from '../machine/ram.js';
import { ByteSinkUart } from './byte-sink-uart.js';
import { bareVcpuHost } from './bare-vcpu-host.js';
import { Stops, type Cpu, type RunResult, type VcpuHost } from './cpu.js';

/** Where a bare machine puts its RAM and output UART, and its timer's rate. */
export interface BareMachineLayout {
  readonly ramBase: number;
  readonly ramSize: number;
  readonly uartBase: number;
  readonly uartSize: number;
  readonly timerFrequency: number;
  /** Instructions per `run` call in runToEnd. */
  readonly slice: number;
}

/**
 * A one-core bare machine for bare-metal programs (tests, benches), shared by the arches' layouts
 * (riscv64/bare-machine.ts, loongarch64/bare-machine.ts): RAM, an output-only ns16550a, and a host
 * whose time advances with retired instructions (10 per timer tick), so runs are deterministic; a
 * core waiting for its timer skips ahead to it. An arch says how its core is made, how a program
 * ends (`finished`: its finisher or power-off device was written) and what a firmware IPI does.
 */
export abstract class BareMachine<C extends Cpu> {
  readonly memory = new AddressSpace();
  readonly ram: Ram;
  readonly uart = new ByteSinkUart();
  readonly cpu: C;
  /** Firmware console output (SBI putchar / DBCN). */
  readonly console: number[] = [];
  /** The last system event (power off, reset) a run through `run`/`runToEnd` stopped with. */
  systemEvent: 'off' | 'reset' | undefined;
  /** hvisor hypercalls the program made, and what they return. */
  readonly hypercalls: { code: bigint; args: readonly bigint[] }[] = [];
  hypercallResult = 0n;
  /** Ticks skipped while the core waited for its timer. */
  private skipped = 0;

  constructor(private readonly layout: BareMachineLayout, createCpu: (host: VcpuHost) => C) {
    this.ram = new Ram(layout.ramSize);
    this.memory.mapRam(layout.ramBase, layout.ramSize, this.ram, 0, 'ram');
    this.memory.mapMmio(layout.uartBase, layout.uartSize, this.uart);
    const machine = this;
    const host = bareVcpuHost({
      memory: this.memory,
      now: () => machine.skipped + machine.cpu.retired / 10,
      timerFrequency: layout.timerFrequency,
      ipi: (v) => { if (v === 0) machine.firmwareIpi(); },
      consoleWrite: (bytes) => { machine.console.push(...bytes); },
      hypercall: (code, args) => { machine.hypercalls.push({ code, args }); return machine.hypercallResult; },
    });
    this.cpu = createCpu(host);
  }

  /** The program has ended (wrote its finisher / power-off register). */
  protected abstract finished(): boolean;

  /** A firmware IPI to the core (SBI send_ipi); none by default. */
  protected firmwareIpi(): void {}

  output(): string {
    return String.fromCharCode(...this.uart.bytes, ...this.console);
  }

  /** Moves time forward to the core's timer deadline; false when it has none. */
  warpToTimer(): boolean {
    const deadline = this.cpu.nextTimerDeadline();
    if (deadline === Infinity) return false;
    this.skipped += Math.max(0, deadline - (this.skipped + this.cpu.retired / 10));
    return true;
  }

  /** One run of the core that records a system event it stops with. */
  run(budget: number, step = false): RunResult {
    const stop = this.cpu.run(budget, step);
    if (stop.kind === 'system-event') this.systemEvent = stop.event;
    return stop;
  }

  /**
   * Runs until the program ends, powers off, waits with no timer armed, or fails; at most
   * `maxInstructions`. Returns the last stop.
   */
  runToEnd(maxInstructions: number, slice = this.layout.slice): RunResult {
    let stop: RunResult = Stops.budget;
    const start = this.cpu.retired;
    while (this.cpu.retired - start < maxInstructions) {
      stop = this.run(Math.min(slice, maxInstructions - (this.cpu.retired - start)));
      if (this.finished()) break;
      if (stop === Stops.wait && this.warpToTimer()) continue;
      if (stop !== Stops.budget && stop !== Stops.yield) break;
    }
    return stop;
  }
}
