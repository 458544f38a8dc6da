import { AddressSpace } from '../../machine/address-space.js';
import type { AccessSize, MmioDevice } from '../../machine/mmio-device.js';
import { Ram } from '../../machine/ram.js';
import { ByteSinkUart } from '../byte-sink-uart.js';
import { Stops, type RunResult } from '../cpu.js';
import { bareVcpuHost } from '../bare-vcpu-host.js';
import { Loongarch64Cpu } from './loongarch64-cpu.js';

/** QEMU loongarch virt's ACPI GED sleep-control register: 0x34 (SLP_EN | SLP_TYP S5) powers off. */
class SleepControl implements MmioDevice {
  readonly name = 'ged-sleep-control';
  value: number | undefined;
  read(): number {
    return 0;
  }
  write(_offset: number, _size: AccessSize, value: number): void {
    this.value = value & 0xff;
  }
  reset(): void {
    this.value = undefined;
  }
}

/**
 * A one-core bare machine laid out like QEMU 7.2's loongarch64 virt for bare-metal programs (tests,
 * benches): RAM at 0, an output-only ns16550a at 0x1fe0_01e0 and the GED sleep control at
 * 0x100e_001c. Time advances with retired instructions (10 per tick of the 100 MHz constant timer);
 * a core waiting for its timer skips ahead to it.
 */
export class BareLoongarch64Machine {
  readonly memory = new AddressSpace();
  readonly ram: Ram;
  readonly uart = new ByteSinkUart();
  readonly sleep = new SleepControl();
  readonly cpu: Loongarch64Cpu;
  /** hvisor hypercalls the program made, and what they return. */
  readonly hypercalls: { code: bigint; args: readonly bigint[] }[] = [];
  hypercallResult = 0n;
  private skipped = 0;

  constructor(ramSize = 256 << 20) {
    this.ram = new Ram(ramSize);
    this.memory.mapRam(0, ramSize, this.ram, 0, 'ram');
    this.memory.mapMmio(0x1fe0_01e0, 0x8, this.uart);
    this.memory.mapMmio(0x100e_001c, 0x4, this.sleep);
    const machine = this;
    const host = bareVcpuHost({
      memory: this.memory,
      now: () => machine.skipped + machine.cpu.retired / 10,
      timerFrequency: 100_000_000,
      hypercall: (code, args) => { machine.hypercalls.push({ code, args }); return machine.hypercallResult; },
    });
    this.cpu = new Loongarch64Cpu(host, 0);
  }

  output(): string {
    return String.fromCharCode(...this.uart.bytes);
  }

  /** Moves time forward to the core's timer deadline; false when it has none. */
  warpToTimer(): boolean {
    const deadline = this.cpu.nextTimerDeadline();
    if (deadline === Infinity) return false;
    this.skipped += Math.max(0, deadline - (this.skipped + this.cpu.retired / 10));
    return true;
  }

  /** Runs until the program powers off, waits with no timer armed, or fails; at most `maxInstructions`. */
  runToEnd(maxInstructions: number, slice = 1 << 22): RunResult {
    let stop: RunResult = Stops.budget;
    const start = this.cpu.retired;
    while (this.cpu.retired - start < maxInstructions) {
      stop = this.cpu.run(Math.min(slice, maxInstructions - (this.cpu.retired - start)));
      if (this.sleep.value !== undefined) break;
      if (stop === Stops.wait && this.warpToTimer()) continue;
      if (stop !== Stops.budget) break;
    }
    return stop;
  }
}
