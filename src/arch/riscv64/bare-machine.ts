import { AddressSpace } from '../../machine/address-space.js';
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { Ram } from '../../machine/ram.js';
import { ByteSinkUart } from '../byte-sink-uart.js';
import { Stops, type RunResult } from '../cpu.js';
import { bareVcpuHost } from '../bare-vcpu-host.js';
import { Riscv64Cpu } from './riscv64-cpu.js';
import type { InterruptFile } from './interrupt-file.js';

/** QEMU's sifive_test finisher: 0x5555 = pass, 0x3333 | code << 16 = fail, 0x7777 = reset. */
class TestFinisher implements MmioDevice {
  readonly name = 'sifive-test';
  status: number | undefined;
  read(): number {
    return 0;
  }
  write(_offset: number, _size: AccessSize, value: number): void {
    this.status = value >>> 0;
  }
  reset(): void {
    this.status = undefined;
  }
}

/**
 * A one-hart bare machine laid out like QEMU virt for bare-metal programs (benches, tests):
 * RAM at 0x8000_0000, an output-only ns16550a at 0x1000_0000 and sifive_test at 0x10_0000.
 * Time advances with retired instructions (10 instructions per tick), so runs are deterministic; a
 * hart waiting for its timer skips ahead to it.
 */
export class BareRiscv64Machine {
  readonly memory = new AddressSpace();
  readonly ram: Ram;
  readonly uart = new ByteSinkUart();
  readonly finisher = new TestFinisher();
  readonly cpu: Riscv64Cpu;
  readonly console: number[] = [];
  /** The last system event (SBI SRST, legacy shutdown) a run through `run`/`runToEnd` stopped with. */
  systemEvent: 'off' | 'reset' | undefined;
  /** hvisor hypercalls the program made, and what they return. */
  readonly hypercalls: { code: bigint; args: readonly bigint[] }[] = [];
  hypercallResult = 0n;
  /** Ticks skipped while the hart waited for its timer. */
  private skipped = 0;

  /** `interruptFile`: the hart's IMSIC S file for AIA programs (map its doorbell into `memory` too). */
  constructor(ramSize = 64 << 20, ramBase = 0x8000_0000, interruptFile?: InterruptFile) {
    this.ram = new Ram(ramSize);
    this.memory.mapRam(ramBase, ramSize, this.ram, 0, 'ram');
    this.memory.mapMmio(0x1000_0000, 0x100, this.uart);
    this.memory.mapMmio(0x10_0000, 0x1000, this.finisher);
    const machine = this;
    const host = bareVcpuHost({
      memory: this.memory,
      now: () => machine.skipped + machine.cpu.retired / 10,
      timerFrequency: 10_000_000,
      ipi: (v) => { if (v === 0) machine.cpu.setInterrupt(1, true); },
      consoleWrite: (bytes) => { machine.console.push(...bytes); },
      hypercall: (code, args) => { machine.hypercalls.push({ code, args }); return machine.hypercallResult; },
    });
    this.cpu = new Riscv64Cpu(host, 0, 0, undefined, interruptFile);
  }

  output(): string {
    return String.fromCharCode(...this.uart.bytes, ...this.console);
  }

  /** Moves time forward to the hart's timer deadline; false when it has none. */
  warpToTimer(): boolean {
    const deadline = this.cpu.nextTimerDeadline();
    if (deadline === Infinity) return false;
    this.skipped += Math.max(0, deadline - (this.skipped + this.cpu.retired / 10));
    return true;
  }

  /** One run of the hart that records a system event it stops with. */
  run(budget: number, step = false): RunResult {
    const stop = this.cpu.run(budget, step);
    if (stop.kind === 'system-event') this.systemEvent = stop.event;
    return stop;
  }

  /**
   * Runs until the program writes the finisher, powers off, waits with no timer armed, or fails;
   * at most `maxInstructions`. Returns the last stop reason.
   */
  runToEnd(maxInstructions: number, slice = 1 << 24): RunResult {
    let stop: RunResult = Stops.budget;
    const start = this.cpu.retired;
    while (this.cpu.retired - start < maxInstructions) {
      stop = this.run(Math.min(slice, maxInstructions - (this.cpu.retired - start)));
      if (this.finisher.status !== undefined) break;
      if (stop === Stops.wait && this.warpToTimer()) continue;
      if (stop !== Stops.budget && stop !== Stops.yield) break;
    }
    return stop;
  }
}
