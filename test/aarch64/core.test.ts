/**
 * The hypervisor side and the debugger side of the core: PSCI and hvisor hypercalls through the
 * VcpuHost, the generic timer raising an IRQ, guests that cannot handle a fault, breakpoints,
 * watchpoints, single steps, gdb register access and self-modifying code.
 */
import { describe, expect, it } from 'vitest';
import { Stops, type RunResult } from '../../src/arch/cpu.js';
import { errorOf, hitOf } from '../helpers/run-result.js';
import { GDB_CPSR, GDB_PC, GDB_SYSREGS, GDB_V0 } from '../../src/arch/aarch64/gdb-registers.js';
import { zoneWith } from './test-host.js';
import { sysreg } from '../../src/arch/aarch64/system-register-hook.js';

const hvc = (fn: number): string => `movz x0, #0x${(fn & 0xffff).toString(16)}\n movk x0, #0x${(fn >>> 16).toString(16)}, lsl #16\n`;

function runUntilStop(cpu: { run(n: number): RunResult }): RunResult {
  let r: RunResult;
  let n = 0;
  do r = cpu.run(10_000);
  while (r === Stops.budget && ++n < 100);
  return r;
}

describe('PSCI and hypercalls', () => {
  it('answers VERSION, FEATURES, CPU_ON, AFFINITY_INFO, SMCCC_VERSION, the hvisor HVC and CPU_OFF', () => {
    const z = zoneWith(`
      ${hvc(0x84000000)} hvc #0
      mov x19, x0
      ${hvc(0x8400000a)} ${hvc(0xc4000003).replace('x0', 'x1').replace('x0', 'x1')} hvc #0
      mov x20, x0
      ${hvc(0x8400000a)} mov x1, #0x1234
      hvc #0
      mov x21, x0
      ${hvc(0xc4000003)} mov x1, #1
      ldr x2, =0x40090000
      mov x3, #0x77
      hvc #0
      mov x22, x0
      ${hvc(0xc4000004)} mov x1, #1
      mov x2, #0
      hvc #0
      mov x23, x0
      ${hvc(0xc4000004)} mov x1, #0
      mov x2, #0
      smc #0
      mov x24, x0
      ${hvc(0x80000000)} smc #0
      mov x25, x0
      mov x0, #3
      mov x1, #7
      mov x2, #8
      hvc #0x4856
      mov x26, x0
      ${hvc(0x84000002)} hvc #0
      b .`);
    expect(runUntilStop(z.cpu).kind).toBe('off');
    expect(z.cpu.powered).toBe(false);
    const r = z.cpu.r;
    expect(r[19]).toBe(0x10001n); // PSCI 1.1
    expect(r[20]).toBe(0n); // CPU_ON supported
    expect(r[21]).toBe(0xffffffffffffffffn); // NOT_SUPPORTED
    expect(r[22]).toBe(0n);
    expect(z.host.events).toContain('start 1 0x40090000 0x77');
    expect(r[23]).toBe(1n); // vCPU 1 is off
    expect(r[24]).toBe(0n); // vCPU 0 is on
    expect(r[25]).toBe(0x10001n); // SMCCC 1.1
    expect(z.host.hypercalls[0]!.slice(0, 3)).toEqual([3n, 7n, 8n]);
    expect(r[26]).toBe(0x1234n);
    expect(z.cpu.run(100).kind).toBe('off');
  });

  it('SYSTEM_RESET and SYSTEM_OFF stop the vCPU with a system event', () => {
    const z = zoneWith(`${hvc(0x84000009)} hvc #0\n b .`);
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    expect(z.host.events).toEqual(['reset']);
  });

  it('HVC from EL0 is UNDEFINED (the guest kernel sees EC 0)', () => {
    const z = zoneWith(`
      adr x0, vec
      msr vbar_el1, x0
      adr x0, el0
      msr elr_el1, x0
      msr spsr_el1, xzr
      eret
    el0: hvc #0
      b .
      .balign 2048
    vec: .space 0x400
      mrs x9, esr_el1
      ${hvc(0x84000008)} hvc #0`);
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    expect(z.cpu.r[9]! >> 26n).toBe(0n);
  });
});

describe('system-register hook (GICv3 CPU interface)', () => {
  it('MRS/MSR of registers the core does not own go to the hook; what the hook refuses is UNDEFINED', () => {
    const writes: string[] = [];
    const hook = {
      read: (vcpu: number, enc: number) => (enc === sysreg(3, 0, 12, 12, 0) ? 0x1bn + BigInt(vcpu) : undefined),
      write: (_vcpu: number, enc: number, v: bigint) => {
        if (enc !== sysreg(3, 0, 12, 12, 1)) return false;
        writes.push(`eoir ${v}`);
        return true;
      },
    };
    const z = zoneWith(`
      adr x0, vec
      msr vbar_el1, x0
      mrs x1, icc_iar1_el1
      msr icc_eoir1_el1, x1
      mrs x2, icc_hppir1_el1
      ${hvc(0x84000008)} hvc #0
      .balign 2048
    vec: .space 0x200
      mrs x9, esr_el1
      mrs x10, elr_el1
      add x10, x10, #4
      msr elr_el1, x10
      eret`, { systemRegisterHook: hook });
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    expect(z.cpu.r[1]).toBe(0x1bn);
    expect(writes).toEqual(['eoir 27']);
    expect(z.cpu.r[9]! >> 26n).toBe(0n); // ICC_HPPIR1_EL1 refused by the hook: UNDEFINED
    // ID_AA64PFR0_EL1.GIC advertises the system-register interface when a hook is present
    expect(z.cpu.readSystemRegister(sysreg(3, 0, 0, 4, 0))! >> 24n & 0xfn).toBe(1n);
  });
});

describe('TLB maintenance', () => {
  it('TLBI ...IS asks the zone to flush the other vCPUs; local TLBI does not', () => {
    const z = zoneWith(`
      tlbi vmalle1
      mov x1, #0x1000
      tlbi vae1is, x1
      ${hvc(0x84000008)} hvc #0`);
    const fenced: number[] = [];
    z.host.remoteFence = (v: number) => void fenced.push(v);
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    expect(fenced).toEqual([1]); // the test zone has vCPUs 0 and 1
  });
});

describe('generic timer and interrupts', () => {
  it('CNTV fires after TVAL ticks, the IRQ vector runs, WFI waits until then', () => {
    let zone: ReturnType<typeof zoneWith> | undefined;
    const levels: string[] = [];
    const z = zoneWith(
      `
      adr x0, vec
      msr vbar_el1, x0
      mrs x20, cntfrq_el0
      mov x0, #100
      msr cntv_tval_el0, x0
      mov x0, #1
      msr cntv_ctl_el0, x0
      msr daifclr, #2
    1: wfi
      b 1b
      .balign 2048
    vec: .space 0x280
      mrs x21, isr_el1
      mrs x22, cntv_ctl_el0
      mrs x23, cntvct_el0
      mov x0, #3
      msr cntv_ctl_el0, x0
      mrs x24, spsr_el1
      ${hvc(0x84000008)} hvc #0`,
      {
        timerOutput: (t, level) => {
          levels.push(`${t}:${level}`);
          zone?.cpu.setInterrupt(0, level);
        },
      },
    );
    zone = z;
    expect(runUntilStop(z.cpu).kind).toBe('wait');
    expect(z.cpu.describe()).toBe('EL1h, waiting for an interrupt (WFI)');
    expect(z.cpu.nextTimerDeadline()).toBe(100);
    z.host.ticks = 150;
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    const r = z.cpu.r;
    expect(r[20]).toBe(62_500_000n);
    expect(r[21]).toBe(0x80n); // ISR_EL1.I
    expect(r[22]).toBe(5n); // ENABLE | ISTATUS
    expect(r[23]).toBe(150n);
    expect(r[24]! & 0x3cfn).toBe(0x345n); // from EL1h with only IRQs unmasked
    expect(levels).toEqual(['virt:true', 'virt:false']);
  });
});

describe('guests that cannot handle a fault', () => {
  it('stop with a report naming the instruction, and stay stopped', () => {
    const z = zoneWith(`nop\n .word 0xffffffff`);
    const stop = runUntilStop(z.cpu);
    expect(stop.kind).toBe('guest-error');
    expect(errorOf(stop)?.pc).toBe(0x40080004n);
    expect(errorOf(stop)?.cause).toMatch(/undefined instruction 0xffffffff \(ESR 0x2000000\) at EL1/);
    expect(z.cpu.describe()).toMatch(/^EL1h, stopped/);
    expect(z.cpu.run(10).kind).toBe('guest-error');
  });

  it('report an instruction fetch from unmapped guest-physical memory', () => {
    const z = zoneWith(`mov x1, #0x10000000\n br x1`);
    const stop = runUntilStop(z.cpu);
    expect(stop.kind).toBe('guest-error');
    expect(errorOf(stop)?.pc).toBe(0x10000000n);
    expect(errorOf(stop)?.cause).toMatch(/instruction abort, synchronous external abort/);
    expect(errorOf(stop)?.address).toBe(0x10000000n);
  });

  it('report the unmapped guest-physical address of a load', () => {
    const z = zoneWith(`mov x1, #0x10000000\n ldr x0, [x1]`);
    const stop = runUntilStop(z.cpu);
    expect(stop.kind).toBe('guest-error');
    expect(errorOf(stop)?.address).toBe(0x10000000n);
    expect(errorOf(stop)?.cause).toMatch(/data abort, synchronous external abort/);
  });
});

describe('debugger view', () => {
  const loop = `
      mov x1, #0
    1: add x1, x1, #1
      ldr x2, =buf
      str x1, [x2]
    bp: cmp x1, #10
      b.ne 1b
      ${hvc(0x84000008)} hvc #0
      .balign 8
    buf: .quad 0`;

  it('stops at a breakpoint each time around a loop, and single-steps one instruction', () => {
    const z = zoneWith(loop);
    const bp = z.symbols.get('bp')!;
    z.cpu.setBreakpoint(bp, true);
    for (let i = 1; i <= 3; i++) {
      expect(runUntilStop(z.cpu).kind).toBe('breakpoint');
      expect(z.cpu.pc).toBe(bp);
      expect(z.cpu.r[1]).toBe(BigInt(i));
    }
    const before = z.cpu.retired;
    expect(z.cpu.run(1, true).kind).toBe('step');
    expect(z.cpu.retired).toBe(before + 1);
    expect(z.cpu.pc).toBe(bp + 4n);
    z.cpu.setBreakpoint(bp, false);
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    expect(z.cpu.r[1]).toBe(10n);
  });

  it('stops before a watched store completes, then lets it complete', () => {
    const z = zoneWith(loop);
    const buf = z.symbols.get('buf')!;
    z.cpu.setWatchpoint(buf, 8, 'write', true);
    const watched = runUntilStop(z.cpu);
    expect(watched.kind).toBe('watchpoint');
    expect(hitOf(watched)).toEqual({ kind: 'write', address: buf });
    expect(z.memory.read(Number(buf), 8)).toBe(0n);
    expect(z.cpu.pc).toBe(z.symbols.get('bp')! - 4n);
    expect(runUntilStop(z.cpu).kind).toBe('watchpoint');
    expect(z.memory.read(Number(buf), 8)).toBe(1n);
    z.cpu.setWatchpoint(buf, 8, 'write', false);
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
  });

  it('reads and writes registers by gdb number', () => {
    const z = zoneWith(`add x0, x5, #1\n ${hvc(0x84000008).replace(/x0/g, 'x9')} b .`);
    expect(z.cpu.gdb.gPacketRegisters).toBe(34);
    expect(z.cpu.gdb.features.map((f) => f.name)).toEqual([
      'org.gnu.gdb.aarch64.core', 'org.gnu.gdb.aarch64.fpu', 'org.hvisor.gdb.aarch64.sysregs',
    ]);
    expect(z.cpu.writeRegister(5, new Uint8Array([0x41, 0, 0, 0, 0, 0, 0, 0x80]))).toBe(true);
    expect(z.cpu.readRegister(GDB_PC)).toEqual(new Uint8Array([0, 0, 0x08, 0x40, 0, 0, 0, 0]));
    expect(z.cpu.readRegister(GDB_CPSR)).toEqual(new Uint8Array([0xc5, 0x03, 0, 0x40])); // EL1h, DAIF, Z
    expect(z.cpu.readRegister(GDB_V0)?.length).toBe(16);
    expect(z.cpu.readRegister(GDB_SYSREGS)).toEqual(new Uint8Array([0x38, 0x08, 0xc5, 0x00, 0, 0, 0, 0])); // SCTLR_EL1 (Cortex-A53 reset)
    expect(z.cpu.readRegister(999)).toBeUndefined();
    z.cpu.run(1, true);
    expect(z.cpu.readRegister(0)).toEqual(new Uint8Array([0x42, 0, 0, 0, 0, 0, 0, 0x80]));
    expect(z.cpu.debugTranslate(0x40080000n, 'x')).toBe(0x40080000);
  });
});

describe('self-modifying code', () => {
  it('a store over an executed instruction takes effect the next time it runs', () => {
    const z = zoneWith(`
      mov x3, #0
    again:
      bl patchme
      add x3, x3, #1
      cmp x3, #2
      b.eq done
      adr x0, patchme
      ldr w1, =0xd28000a4    // mov x4, #5
      str w1, [x0]
      b again
    done:
      ${hvc(0x84000008)} hvc #0
    patchme:
      mov x4, #1
      ret`);
    expect(runUntilStop(z.cpu).kind).toBe('system-event');
    expect(z.cpu.r[4]).toBe(5n);
  });
});
