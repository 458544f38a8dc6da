import { describe, expect, it } from 'vitest';
import type { StopEvent } from '../../gdbstub/target.js';
import { ImageError } from '../../src/loader/image-error.js';
import { Op, KERNEL_BASE } from './fake-cpu.js';
import { qemuVirtAarch64 } from './boards.js';
import { config, FakeHost, makeZone } from './zone-fixture.js';

const ENTRY0 = 0x40400000n;
const ENTRY1 = 0x50400000n;

describe('Zone: boot, isolation, crashes', () => {
  it('boots the first CPU at the entry point with x0 = dtb, others off; images land in the zone RAM', () => {
    const { machine } = qemuVirtAarch64();
    const { zone, cpus } = makeZone(machine, config(1), [[Op.Inc, 0], [Op.Jump, 0, ENTRY1]]);
    zone.start();
    expect(zone.state).toBe('running');
    expect(cpus[0]!.pc).toBe(ENTRY1);
    expect(cpus[0]!.bootArgs).toEqual([0x50000000n, 0n, 0n, 0n]);
    expect(cpus[0]!.powered).toBe(true);
    expect(cpus[1]!.powered).toBe(false);
    expect(machine.physical.read(0x50400000, 4)).toBe(BigInt(Op.Inc));
    expect(zone.threads().map((t) => t.name)).toEqual(['linux2/vcpu0 (cpu 2)', 'linux2/vcpu1 (cpu 3)']);
    zone.runSlice(100);
    expect(cpus[0]!.r[1]).toBe(50n);
  });

  it('refuses images outside the zone RAM', () => {
    const { machine } = qemuVirtAarch64();
    const { zone } = makeZone(machine, config(1, (j) => (j.kernel_load_paddr = '0x40400000')), [[Op.Nop, 0]]);
    expect(() => zone.start()).toThrow(new ImageError('kernel', '[0x40400000, 0x40400010) is not inside one of the RAM regions of zone 1 (linux2)'));
  });

  it('a guest probing another zone’s memory faults; only that zone stops, with zone, vCPU, pc, cause', () => {
    const { machine } = qemuVirtAarch64();
    const z0 = makeZone(machine, config(0), [[Op.Inc, 0], [Op.Jump, 0, ENTRY0]]);
    const z1 = makeZone(machine, config(1), [[Op.Nop, 0], [Op.Store, 0xbad, 0x40001000n]]);
    z0.zone.start();
    z1.zone.start();
    machine.physical.write(0x40001000, 4, 0x1234n);
    for (let i = 0; i < 5; i++) {
      z0.zone.runSlice(10);
      z1.zone.runSlice(10);
    }
    expect(z1.zone.state).toBe('crashed');
    expect(z1.zone.crash).toEqual({ zone: 1, vcpu: 0, pc: ENTRY1 + 16n, cause: 'data abort: stage-2 translation fault', address: 0x40001000n });
    expect(z1.log).toContain('zone 1 (linux2): stage-2 fault: vCPU 0 pc 0x50400010 write of 4 bytes at 0x40001000');
    expect(z1.log).toContain('zone 1 (linux2): crashed: vCPU 0 (CPU 2) pc 0x50400010: data abort: stage-2 translation fault at 0x40001000');
    expect(machine.physical.read(0x40001000, 4)).toBe(0x1234n);
    expect(z0.zone.state).toBe('running');
    expect(z0.cpus[0]!.r[1]).toBe(25n);
    expect(z1.zone.runSlice(10)).toEqual({ retired: 0, idle: true, wakeInMs: Infinity });
  });

  it('faults a guest survives are logged and counted; an emulator exception stops only its zone', () => {
    const { machine } = qemuVirtAarch64();
    const z = makeZone(machine, config(1), [[Op.StoreIgnoringFault, 1, 0x9000000n], [Op.Throw, 0]]);
    z.zone.start();
    z.zone.runSlice(10);
    expect(z.zone.stage2Faults).toBe(1);
    expect(z.zone.recentFaults).toEqual(['stage-2 fault: vCPU 0 pc 0x50400000 write of 4 bytes at 0x9000000']);
    expect(z.zone.crash).toEqual({ zone: 1, vcpu: 0, pc: ENTRY1 + 16n, cause: 'emulator error: fake core bug' });
  });

  it('PSCI-style CPU_ON, system off and reset', () => {
    const { machine } = qemuVirtAarch64();
    const second = 0x50400100n;
    const prog: [number, number, bigint?][] = [[Op.SetR1, 0, 0x77n], [Op.CpuOn, 1, second], [Op.CpuOn, 1, second], [Op.CpuOn, 5, second], [Op.WaitIrq, 0]];
    while (prog.length < 16) prog.push([Op.Nop, 0]);
    prog.push([Op.Inc, 0], [Op.SystemOff, 0]);
    const z = makeZone(machine, config(1), prog);
    const events: StopEvent[] = [];
    z.zone.onStop((e) => events.push(e));
    z.zone.start();
    z.zone.runSlice(10);
    // vCPU 0: ok, already-on, invalid; then it waits. vCPU 1 ran from `second` with x0 = 0x77 and powered off.
    expect(z.cpus[0]!.r[0]).toBe(1n);
    expect(z.cpus[0]!.retired).toBe(4);
    expect(z.cpus[1]!.bootArgs).toEqual([0x77n]);
    expect(z.cpus[1]!.r[1]).toBe(1n);
    expect(z.zone.state).toBe('stopped');
    expect(events).toEqual([{ kind: 'exited', code: 0 }]);
    z.zone.restart();
    expect(z.zone.state).toBe('running');
    expect(z.zone.vcpuState(1)).toBe('off');
    const r = makeZone(qemuVirtAarch64().machine, config(1), [[Op.Inc, 0], [Op.SystemReset, 0]]);
    r.zone.start();
    r.zone.runSlice(2);
    expect(r.log).toContain('zone 1 (linux2): restarting');
    expect(r.cpus[0]!.pc).toBe(ENTRY1);
  });

  it('realtime: idle vCPUs wait for their timer deadline; zone time is frozen while debug-halted', () => {
    const host = new FakeHost();
    const z = makeZone(qemuVirtAarch64().machine, config(1), [[Op.WaitTimer, 50], [Op.Inc, 0], [Op.Jump, 0, ENTRY1]], { timeMode: 'realtime', hostClock: host.clock });
    z.zone.start();
    expect(z.zone.runSlice(10)).toEqual({ retired: 0, idle: true, wakeInMs: 50 });
    host.ms = 20;
    expect(z.zone.runSlice(10).wakeInMs).toBe(30);
    z.zone.halt();
    host.ms = 1000;
    expect(z.zone.now()).toBe(20);
    z.zone.resume(new Map(), 'continue');
    host.ms = 1030;
    expect(z.zone.now()).toBe(50);
    expect(z.zone.runSlice(10)).toEqual({ retired: 3, idle: true, wakeInMs: 50 });
    expect(z.cpus[0]!.r[1]).toBe(1n);
  });

  it('warp mode jumps virtual time to the next deadline instead of sleeping', () => {
    const z = makeZone(qemuVirtAarch64().machine, config(1), [[Op.WaitTimer, 5000], [Op.Inc, 0], [Op.SystemOff, 0]], { timeMode: 'warp', hostClock: () => 0 });
    z.zone.start();
    expect(z.zone.runSlice(10).idle).toBe(false);
    z.zone.runSlice(10);
    expect(z.zone.state).toBe('stopped');
    expect(z.zone.now()).toBe(5000);
  });

  it('an interrupt kick wakes a vCPU waiting without a deadline; firmware console output goes to the zone console', () => {
    const z = makeZone(qemuVirtAarch64().machine, config(1), [[Op.WaitIrq, 0], [Op.Putc, 0x68], [Op.Putc, 0x69], [Op.WaitIrq, 0]]);
    let woken = 0;
    z.zone.onRunnable = () => woken++;
    z.zone.start();
    expect(z.zone.runSlice(10)).toEqual({ retired: 0, idle: true, wakeInMs: Infinity });
    z.cpus[0]!.setInterrupt(0, true);
    z.zone.kick(0);
    expect(woken).toBe(2); // start and kick
    z.zone.runSlice(10);
    expect(Buffer.from(z.console).toString()).toBe('hi');
  });
});

describe('Zone as a GdbTarget', () => {
  function debugZone() {
    const { machine } = qemuVirtAarch64();
    const z0 = makeZone(machine, config(0), [[Op.Inc, 0], [Op.Jump, 0, ENTRY0]]);
    const z1 = makeZone(machine, config(1), [[Op.Inc, 0], [Op.Inc, 0], [Op.Store, 7, 0x50001000n], [Op.Jump, 0, ENTRY1]]);
    z0.zone.start();
    z1.zone.start();
    const events: StopEvent[] = [];
    z1.zone.onStop((e) => events.push(e));
    return { machine, z0, z1, events };
  }

  it('halt stops this zone only; a breakpoint stops all its vCPUs, not the other zone', () => {
    const { z0, z1, events } = debugZone();
    z1.zone.halt();
    expect(events).toEqual([{ kind: 'interrupted', thread: 1 }]);
    expect(z1.zone.halted).toBe(true);
    z0.zone.runSlice(10);
    expect(z1.zone.runSlice(10).retired).toBe(0);
    expect(z0.cpus[0]!.r[1]).toBe(5n);
    expect(z1.zone.setBreakpoint(ENTRY1 + 32n, false, true)).toBe(true);
    z1.zone.resume(new Map(), 'continue');
    z1.zone.runSlice(100);
    expect(events[1]).toEqual({ kind: 'breakpoint', thread: 1, hw: false });
    expect(z1.cpus[0]!.pc).toBe(ENTRY1 + 32n);
    expect(z1.cpus[0]!.r[1]).toBe(2n);
    expect(z1.zone.threads()[0]!.extra).toBe('S-mode, halted');
    z0.zone.runSlice(10);
    expect(z0.cpus[0]!.r[1]).toBe(10n);
    z1.zone.setBreakpoint(ENTRY1 + 32n, false, false);
    z1.zone.setBreakpoint(ENTRY1, true, true);
    z1.zone.resume(new Map(), 'continue');
    z1.zone.runSlice(100);
    expect(events[2]).toEqual({ kind: 'breakpoint', thread: 1, hw: true });
  });

  it('single step reports step with time frozen; watchpoints report before the store', () => {
    const host = new FakeHost();
    const { machine } = qemuVirtAarch64();
    const z = makeZone(machine, config(1), [[Op.Inc, 0], [Op.Inc, 0], [Op.Store, 7, 0x50001000n], [Op.Jump, 0, ENTRY1]], { hostClock: host.clock });
    z.zone.start();
    const events: StopEvent[] = [];
    z.zone.onStop((e) => events.push(e));
    z.zone.halt();
    z.zone.resume(new Map([[1, 'step']]), 'stop');
    host.ms = 500;
    z.zone.runSlice(100);
    expect(events[1]).toEqual({ kind: 'step', thread: 1 });
    expect(z.cpus[0]!.pc).toBe(ENTRY1 + 16n);
    expect(z.zone.now()).toBe(0);
    z.zone.setWatchpoint(0x50001000n, 4, 'write', true);
    z.zone.resume(new Map(), 'continue');
    z.zone.runSlice(100);
    expect(events[2]).toEqual({ kind: 'watchpoint', thread: 1, watch: 'write', address: 0x50001000n });
    expect(machine.physical.read(0x50001000, 4)).toBe(0n);
  });

  it('memory through the vCPU translation or guest-physical; writes reach RAM only and drop decoded code', () => {
    const { machine, z1 } = debugZone();
    machine.physical.write(0x50002000, 4, 0xdeadbeefn);
    const viaVa = z1.zone.readMemory(1, KERNEL_BASE + 0x50002000n, 4, false);
    expect([...viaVa]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect([...z1.zone.readMemory(1, 0x50002000n, 4, true)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    // Another zone's RAM is not there; a read across the end of the zone's RAM is cut short.
    expect(z1.zone.readMemory(1, 0x40000000n, 4, true).length).toBe(0);
    expect(z1.zone.readMemory(1, 0x7ffffffen, 8, true).length).toBe(2);
    expect(z1.zone.writeMemory(1, KERNEL_BASE + 0x50002ffen, Uint8Array.of(1, 2, 3, 4), false)).toBe(4);
    expect(machine.physical.read(0x50002ffe, 4)).toBe(0x04030201n);
    expect(z1.cpus[0]!.invalidated).toContainEqual([0x50002ffe, 2]);
    expect(z1.cpus[0]!.invalidated).toContainEqual([0x50003000, 2]);
    expect(z1.zone.writeMemory(1, 0x9000000n, Uint8Array.of(1), true)).toBe(0);
    const regs = z1.zone.readRegister(1, 4)!;
    expect(new DataView(regs.buffer).getBigUint64(0, true)).toBe(ENTRY1);
  });

  it('monitor commands: zone, regs, tlb, devices, sstep, reset', () => {
    const { z1 } = debugZone();
    expect(z1.zone.monitor('help')).toContain('sstep [halted|run]');
    expect(z1.zone.monitor('zone')).toContain('zone 1 "linux2" (qemu-aarch64-zone1_linux_with_pci.json)\n  state running; CPUs 2, 3; interrupts 76, 78');
    expect(z1.zone.monitor('regs')).toBe('vcpu0 (cpu 2): pc 0x50400000 S-mode, running\nvcpu1 (cpu 3): pc 0x0 S-mode, off\n');
    expect(z1.zone.monitor('tlb')).toContain('vcpu0: pc 0x50400000 -> guest-physical 0x50400000');
    expect(z1.zone.monitor('devices')).toBe(
      '[0x50000000, 0x80000000) RAM ram@0x50000000\n[0xa000000, 0xa004000) hole: virtio window with no device served here\n',
    );
    expect(z1.zone.monitor('sstep run')).toBe(
      'while a vCPU single-steps, the others run; pending interrupts wait (noirq); time counts the stepped instructions (timer); ' +
        'a step over wfi moves time to the vCPU\'s next timer deadline (sleep)\n',
    );
    expect(z1.zone.monitor('sstep halted irq notimer nosleep')).toMatch(/the others stay halted; pending interrupts are taken \(irq\); time stands still \(notimer\); a step over wfi leaves time where it is \(nosleep\)\n$/);
    expect(z1.cpus.every((c) => c.interruptsInSteps === true)).toBe(true);
    z1.zone.monitor('sstep run noirq timer sleep');
    z1.zone.runSlice(10);
    expect(z1.zone.monitor('reset')).toBe('zone 1 reset; halted at its entry point\n');
    expect(z1.zone.halted).toBe(true);
    expect(z1.cpus[0]!.pc).toBe(ENTRY1);
    expect(z1.zone.monitor('frobnicate')).toBe('unknown monitor command "frobnicate"; monitor help lists them\n');
  });

  it('monitor translate, xp and mtree; every command refuses arguments it does not take', async () => {
    const { machine, z1 } = debugZone();
    machine.physical.write(0x50002000, 8, 0x0a6f6c6c6568n); // "hello\n"
    expect(z1.zone.monitor(`translate 0x${(KERNEL_BASE + 0x50002000n).toString(16)} 0`)).toBe(
      `vcpu0: 0x${(KERNEL_BASE + 0x50002000n).toString(16)} -> guest-physical 0x50002000 -> host-physical 0x50002000 (RAM ram@0x50000000)\n`,
    );
    expect(z1.zone.monitor('translate 0x50002000 7')).toBe('no vCPU 7 (this zone has 2)\n');
    expect(z1.zone.monitor('xp 0x50002000 8')).toMatch(/^000050002000: 68 65 6c 6c 6f 0a 00 00 {26}hello\.\.\.\n$/);
    expect(z1.zone.monitor('xp 0x7ffffffc 8')).toMatch(/^00007ffffffc: 00 00 00 00 +\.\.\.\.\n\(4 bytes after 0x80000000 are not readable\)\n$/);
    expect(z1.zone.monitor('xp 0x40000000')).toBe('guest-physical 0x40000000 is not readable (no RAM or device there)\n');
    expect(z1.zone.monitor('xp 0x50000000 5000')).toBe('xp: LEN 5000 outside 1..4096\n');
    expect(z1.zone.monitor('xp nowhere')).toBe('usage: xp ADDR [LEN] (numbers as 0x... or decimal)\n');
    expect(z1.zone.monitor('mtree')).toBe('  0x50000000-0x7fffffff   RAM ram@0x50000000 (host 0x50000000)\n');
    expect(z1.zone.monitor('zone now')).toBe('zone takes no arguments (got "now")\n');
    expect(z1.zone.monitor('regs a b')).toBe('regs takes no arguments (got "a b")\n');
    expect(z1.zone.monitor('sstep run now')).toBe('sstep: unknown setting "now"; usage: sstep [halted|run] [noirq|irq] [timer|notimer] [sleep|nosleep]\n');
    expect(z1.zone.monitor('sstep run irq timer sleep now')).toBe('sstep takes at most 4 argument (got "run irq timer sleep now")\n');
    expect(z1.zone.monitor('translate 1 2 3')).toBe('translate takes at most 2 argument (got "1 2 3")\n');
    expect(z1.zone.monitor('linux ps now')).toBe('linux ps takes no arguments\n');
    // Not a Linux kernel there (nor a kernel file): a promise that fails naming the problem.
    await expect(z1.zone.monitor('linux ps')).rejects.toThrow(/linux: the zone's kernel file .* cannot be read|not an arm64 or riscv64 kernel Image/);
  });

  it('kill resets this zone by default, or stops it by policy; a crash is a signal to the debugger', () => {
    const { z1, events } = debugZone();
    z1.zone.runSlice(3);
    z1.zone.kill();
    expect(z1.zone.state).toBe('running');
    expect(z1.cpus[0]!.pc).toBe(ENTRY1);
    const s = makeZone(qemuVirtAarch64().machine, config(1), [[Op.Nop, 0]], { killPolicy: 'stop' });
    s.zone.start();
    s.zone.kill();
    expect(s.zone.state).toBe('stopped');
    const c = makeZone(qemuVirtAarch64().machine, config(1), [[Op.Store, 1, 0x40000000n]]);
    const ev: StopEvent[] = [];
    c.zone.onStop((e) => ev.push(e));
    c.zone.start();
    c.zone.runSlice(10);
    expect(ev).toEqual([{ kind: 'signal', thread: 1, signal: 11, reason: 'data abort: stage-2 translation fault' }]);
    expect(c.zone.halted).toBe(true);
    expect(events).toEqual([]);
  });

  it('per-thread resume actions and the step policy for the other vCPUs (halted by default, or run)', () => {
    const { machine } = qemuVirtAarch64();
    const prog: [number, number, bigint?][] = [[Op.SetR1, 0, 0n], [Op.CpuOn, 1, ENTRY1 + 0x100n], [Op.Inc, 0], [Op.Jump, 0, ENTRY1 + 32n]];
    while (prog.length < 16) prog.push([Op.Nop, 0]);
    prog.push([Op.Inc, 0], [Op.Jump, 0, ENTRY1 + 0x100n]);
    const z = makeZone(machine, config(1), prog);
    const events: StopEvent[] = [];
    z.zone.onStop((e) => events.push(e));
    z.zone.start();
    z.zone.runSlice(10);
    z.zone.halt();
    const [a, b] = [z.cpus[0]!.retired, z.cpus[1]!.retired];
    // Only vCPU 1 (thread 2) runs.
    z.zone.resume(new Map([[2, 'continue']]), 'stop');
    z.zone.runSlice(10);
    expect([z.cpus[0]!.retired - a, z.cpus[1]!.retired - b]).toEqual([0, 10]);
    z.zone.halt();
    // Step thread 1: thread 2 stays halted by default...
    z.zone.resume(new Map([[1, 'step']]), 'continue');
    z.zone.runSlice(10);
    expect([z.cpus[0]!.retired - a, z.cpus[1]!.retired - b]).toEqual([1, 10]);
    expect(events.at(-1)).toEqual({ kind: 'step', thread: 1 });
    // ...or runs (one instruction alongside) with `monitor sstep run`.
    z.zone.monitor('sstep run');
    z.zone.resume(new Map([[1, 'step']]), 'continue');
    z.zone.runSlice(10);
    expect([z.cpus[0]!.retired - a, z.cpus[1]!.retired - b]).toEqual([2, 11]);
    expect(z.zone.halted).toBe(true);
  });
});
